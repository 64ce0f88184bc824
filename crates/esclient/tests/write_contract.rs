//! httpmock contract tests for PIT/scroll paging, `_bulk`, index lifecycle and upserts.

mod common;

use common::*;
use esclient::{
    BulkDoc, BulkOptions, CreateOutcome, ScanMode, ScanOptions, SearchBody, UpdateResult, VecSink,
};
use futures::StreamExt;
use httpmock::prelude::*;
use serde_json::{Value, json};

fn pit_page(pit: &str, hits: Vec<Value>) -> Value {
    let mut r = search_resp(hits, None);
    r["pit_id"] = json!(pit);
    r
}

#[tokio::test]
async fn es8_pit_stream_over_three_pages_sends_newest_id_and_releases_the_pit() {
    let s = MockServer::start_async().await;
    s.mock_async(|w, t| {
        w.method(GET).path("/");
        t.status(200).json_body(es8_root());
    })
    .await;
    let open = s
        .mock_async(|w, t| {
            w.method(POST)
                .path("/tanet-2025.09.05/_pit")
                .query_param("keep_alive", "5m");
            t.status(200).json_body(json!({"id": "P0"}));
        })
        .await;
    let q = json!({"bool": {"filter": [{"terms": {"sourceIPAddress": ["163.26.171.228"]}}]}});
    let base = |id: &str| {
        json!({"size": 2, "query": q, "pit": {"id": id, "keep_alive": "5m"},
                                 "sort": [{"flowStartMilliseconds": "asc"}], "track_total_hits": false})
    };
    let mut b2 = base("P1");
    b2["search_after"] = json!([2, 11]);
    let mut b3 = base("P2");
    b3["search_after"] = json!([4, 13]);
    let with_tb = |id: &str, ts: u64, tb: u64| {
        let mut h = hit(id, ts, false);
        h["sort"] = json!([ts, tb]);
        h
    };
    let p1 = s
        .mock_async(|w, t| {
            w.method(POST)
                .path("/_search")
                .query_param_missing("ignore_unavailable")
                .json_body(base("P0"));
            t.status(200).json_body(pit_page(
                "P1",
                vec![with_tb("a", 1, 10), with_tb("b", 2, 11)],
            ));
        })
        .await;
    let p2 = s
        .mock_async(|w, t| {
            w.method(POST).path("/_search").json_body(b2.clone());
            t.status(200).json_body(pit_page(
                "P2",
                vec![with_tb("c", 3, 12), with_tb("d", 4, 13)],
            ));
        })
        .await;
    let p3 = s
        .mock_async(|w, t| {
            w.method(POST).path("/_search").json_body(b3.clone());
            t.status(200)
                .json_body(pit_page("P3", vec![with_tb("e", 5, 14)]));
        })
        .await;
    let close = s
        .mock_async(|w, t| {
            w.method(DELETE)
                .path("/_pit")
                .header("content-type", "application/json")
                .json_body(json!({"id": "P3"}));
            t.status(200)
                .json_body(json!({"succeeded": true, "num_freed": 1}));
        })
        .await;
    let body = SearchBody {
        query: Some(q.clone()),
        sort: Some(vec![json!({"flowStartMilliseconds": "asc"})]),
        ..Default::default()
    };
    let opts = ScanOptions {
        page_size: 2,
        ..ScanOptions::default()
    };
    let pages: Vec<_> = client_for(&s.base_url())
        .scan::<Value>(vec!["tanet-2025.09.05".into()], body, opts)
        .collect()
        .await;
    let ids: Vec<Vec<String>> = pages
        .into_iter()
        .map(|p| p.unwrap().into_iter().map(|h| h.id).collect())
        .collect();
    assert_eq!(ids, vec![vec!["a", "b"], vec!["c", "d"], vec!["e"]]);
    for m in [open, p1, p2, p3, close] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn os2_pit_uses_its_own_endpoints_and_is_released_when_a_page_fails() {
    let s = MockServer::start_async().await;
    s.mock_async(|w, t| {
        w.method(GET).path("/");
        t.status(200).json_body(os2_root());
    })
    .await;
    let open = s.mock_async(|w, t| {
        w.method(POST).path("/tanet-2025.09.05/_search/point_in_time").query_param("keep_alive", "5m");
        t.status(200).json_body(json!({"pit_id": "O1", "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}, "creation_time": 1658146050064u64}));
    }).await;
    let page = s.mock_async(|w, t| {
        w.method(POST).path("/_search").body_includes("\"pit\":{\"id\":\"O1\"");
        t.status(400).json_body(json!({"error": {"root_cause": [], "type": "action_request_validation_exception", "reason": "Validation Failed: 1: [indices] cannot be used with point in time;"}, "status": 400}));
    }).await;
    let close = s
        .mock_async(|w, t| {
            w.method(DELETE)
                .path("/_search/point_in_time")
                .json_body(json!({"pit_id": ["O1"]}));
            t.status(200)
                .json_body(json!({"pits": [{"successful": true, "pit_id": "O1"}]}));
        })
        .await;
    let body = SearchBody {
        sort: Some(vec![
            json!({"flowStartMilliseconds": "asc"}),
            json!({"flowId": "asc"}),
        ]),
        ..Default::default()
    };
    let opts = ScanOptions {
        unique_sort: true,
        ..ScanOptions::default()
    };
    let pages: Vec<_> = client_for(&s.base_url())
        .scan::<Value>(vec!["tanet-2025.09.05".into()], body, opts)
        .collect()
        .await;
    assert_eq!(pages.len(), 1);
    assert_eq!(
        pages[0].as_ref().unwrap_err().error_type(),
        Some("action_request_validation_exception")
    );
    for m in [open, page, close] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn scroll_fallback_pages_until_empty_and_clears_the_scroll() {
    let s = MockServer::start_async().await;
    let start = s
        .mock_async(|w, t| {
            w.method(POST)
                .path("/tanet-2025.09.05/_search")
                .query_param("scroll", "5m")
                .query_param("ignore_unavailable", "true")
                .json_body(json!({"size": 5000, "sort": ["_doc"]}));
            let mut r = search_resp(vec![hit("a", 1, true)], Some(1));
            r["_scroll_id"] = json!("S1");
            t.status(200).json_body(r);
        })
        .await;
    let next = s
        .mock_async(|w, t| {
            w.method(POST)
                .path("/_search/scroll")
                .json_body(json!({"scroll": "5m", "scroll_id": "S1"}));
            let mut r = search_resp(vec![], Some(1));
            r["_scroll_id"] = json!("S2");
            t.status(200).json_body(r);
        })
        .await;
    let clear = s
        .mock_async(|w, t| {
            w.method(DELETE)
                .path("/_search/scroll")
                .json_body(json!({"scroll_id": ["S2"]}));
            t.status(404)
                .json_body(json!({"succeeded": true, "num_freed": 0}));
        })
        .await;
    let opts = ScanOptions {
        page_size: 5000,
        mode: ScanMode::Scroll,
        ignore_unavailable: true,
        ..ScanOptions::default()
    };
    let pages: Vec<_> = client_for(&s.base_url())
        .scan::<Value>(vec!["tanet-2025.09.05".into()], SearchBody::default(), opts)
        .collect()
        .await;
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].as_ref().unwrap().len(), 1);
    for m in [start, next, clear] {
        m.assert_async().await;
    }
}

fn flow_doc(id: &str, ip: &str) -> BulkDoc {
    BulkDoc::new(
        "iocflow-flows-2025.09.05",
        id,
        &json!({"IocIP": ip, "Direction": "Send"}),
    )
    .unwrap()
}

fn line(id: &str, ip: &str) -> String {
    format!(
        "{{\"index\":{{\"_index\":\"iocflow-flows-2025.09.05\",\"_id\":\"{id}\"}}}}\n{{\"Direction\":\"Send\",\"IocIP\":\"{ip}\"}}\n"
    )
}

fn item(id: &str, status: u16, error: Option<Value>) -> Value {
    let mut i = json!({"_index": "iocflow-flows-2025.09.05", "_id": id, "status": status});
    match error {
        Some(e) => i["error"] = e,
        None => {
            i["result"] = json!("created");
            i["_version"] = json!(1);
        }
    }
    json!({ "index": i })
}

#[tokio::test]
async fn bulk_retries_only_429_items_and_dead_letters_the_mapping_error() {
    let s = MockServer::start_async().await;
    let first_body = format!(
        "{}{}{}",
        line("a", "163.26.171.228"),
        line("b", "134.122.129.10"),
        line("c", "not-an-ip")
    );
    let rejected = json!({"type": "es_rejected_execution_exception", "reason": "rejected execution of processing of [119310915][indices:data/write/bulk[s][p]] on EsThreadPoolExecutor[name = node03/write, queue capacity = 200]"});
    let mapping = json!({"type": "mapper_parsing_exception", "reason": "failed to parse field [IocIP] of type [ip] in document with id 'c'",
                         "caused_by": {"type": "illegal_argument_exception", "reason": "'not-an-ip' is not an IP string literal."}});
    let first = s.mock_async(|w, t| {
        w.method(POST).path("/_bulk").header("content-type", "application/x-ndjson").body(first_body.clone());
        t.status(200).json_body(json!({"took": 30, "errors": true, "items": [item("a", 201, None), item("b", 429, Some(rejected.clone())), item("c", 400, Some(mapping.clone()))]}));
    }).await;
    let retry = s
        .mock_async(|w, t| {
            w.method(POST)
                .path("/_bulk")
                .header("content-type", "application/x-ndjson")
                .body(line("b", "134.122.129.10"));
            t.status(200)
                .json_body(json!({"took": 3, "errors": false, "items": [item("b", 201, None)]}));
        })
        .await;
    let mut sink = VecSink::default();
    let docs = vec![
        flow_doc("a", "163.26.171.228"),
        flow_doc("b", "134.122.129.10"),
        flow_doc("c", "not-an-ip"),
    ];
    let stats = client_for(&s.base_url())
        .bulk_index(docs, &mut sink, &BulkOptions::default())
        .await
        .unwrap();
    first.assert_async().await;
    retry.assert_async().await;
    assert_eq!(
        (stats.indexed, stats.retried, stats.failed, stats.requests),
        (2, 1, 1, 2)
    );
    assert_eq!(
        stats.bytes as usize,
        first_body.len() + line("b", "134.122.129.10").len()
    );
    assert_eq!(sink.0.len(), 1);
    assert_eq!(sink.0[0].0.id, "c");
    assert!(
        sink.0[0].1.contains("mapper_parsing_exception"),
        "{}",
        sink.0[0].1
    );
}

#[tokio::test]
async fn bulk_413_splits_the_batch_and_resends_the_halves() {
    let s = MockServer::start_async().await;
    let whole = format!("{}{}", line("a", "1.1.1.1"), line("b", "2.2.2.2"));
    let big = s
        .mock_async(|w, t| {
            w.method(POST).path("/_bulk").body(whole.clone());
            t.status(413).header("content-length", "0");
        })
        .await;
    let h1 = s
        .mock_async(|w, t| {
            w.method(POST).path("/_bulk").body(line("a", "1.1.1.1"));
            t.status(200)
                .json_body(json!({"took": 1, "errors": false, "items": [item("a", 201, None)]}));
        })
        .await;
    let h2 = s
        .mock_async(|w, t| {
            w.method(POST).path("/_bulk").body(line("b", "2.2.2.2"));
            t.status(200)
                .json_body(json!({"took": 1, "errors": false, "items": [item("b", 201, None)]}));
        })
        .await;
    let mut sink = VecSink::default();
    let stats = client_for(&s.base_url())
        .bulk_index(
            vec![flow_doc("a", "1.1.1.1"), flow_doc("b", "2.2.2.2")],
            &mut sink,
            &BulkOptions::default(),
        )
        .await
        .unwrap();
    for m in [big, h1, h2] {
        m.assert_calls_async(1).await;
    }
    assert_eq!((stats.indexed, stats.failed, stats.requests), (2, 0, 3));
    assert!(sink.0.is_empty());
}

#[tokio::test]
async fn create_existing_index_is_not_an_error_and_load_mode_follows_the_version_note() {
    for (root, translog) in [(es8_root(), false), (os2_root(), true)] {
        let s = MockServer::start_async().await;
        s.mock_async(|w, t| {
            w.method(GET).path("/");
            t.status(200).json_body(root.clone());
        })
        .await;
        let mapping = json!({"settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"}},
                             "mappings": {"dynamic": false, "properties": {"IocIP": {"type": "ip"}}}});
        let create = s.mock_async(|w, t| {
            w.method(PUT).path("/iocflow-flows-2025.09.05").json_body(mapping.clone());
            t.status(400).json_body(json!({"error": {"root_cause": [], "type": "resource_already_exists_exception",
                "reason": "index [iocflow-flows-2025.09.05/2-uwbMVcTWKYL3xkPRnH0Q] already exists", "index": "iocflow-flows-2025.09.05"}, "status": 400}));
        }).await;
        let mut load = json!({"index": {"refresh_interval": "-1", "number_of_replicas": 0}});
        let mut restore = json!({"index": {"refresh_interval": null, "number_of_replicas": 1}});
        if translog {
            load["index"]["translog.flush_threshold_size"] = json!("512mb");
            restore["index"]["translog.flush_threshold_size"] = Value::Null;
        }
        let set = s
            .mock_async(|w, t| {
                w.method(PUT)
                    .path("/iocflow-flows-2025.09.05/_settings")
                    .json_body(load.clone());
                t.status(200).json_body(json!({"acknowledged": true}));
            })
            .await;
        let reset = s
            .mock_async(|w, t| {
                w.method(PUT)
                    .path("/iocflow-flows-2025.09.05/_settings")
                    .json_body(restore.clone());
                t.status(200).json_body(json!({"acknowledged": true}));
            })
            .await;
        let refresh = s
            .mock_async(|w, t| {
                w.method(POST).path("/iocflow-flows-2025.09.05/_refresh");
                t.status(200)
                    .json_body(json!({"_shards": {"total": 2, "successful": 1, "failed": 0}}));
            })
            .await;
        let c = client_for(&s.base_url());
        assert_eq!(
            c.create_index("iocflow-flows-2025.09.05", &mapping)
                .await
                .unwrap(),
            CreateOutcome::AlreadyExists
        );
        let mode = c
            .set_load_mode("iocflow-flows-2025.09.05", true)
            .await
            .unwrap();
        assert_eq!(mode.translog_set, translog);
        c.restore_after_load(&mode, 1).await.unwrap();
        c.refresh("iocflow-flows-2025.09.05").await.unwrap();
        for m in [create, set, reset, refresh] {
            m.assert_async().await;
        }
    }
}

#[tokio::test]
async fn template_and_upserts_send_the_documented_bodies_and_report_results() {
    let s = MockServer::start_async().await;
    let tpl = json!({"index_patterns": ["iocflow-flows-*"], "priority": 100,
        "template": {"settings": {"index": {"number_of_shards": 1}}, "mappings": {"properties": {"IocIP": {"type": "ip"}}}, "aliases": {"iocflow-flows": {}}}});
    let t1 = s
        .mock_async(|w, t| {
            w.method(PUT)
                .path("/_index_template/iocflow-flows")
                .json_body(tpl.clone());
            t.status(200).json_body(json!({"acknowledged": true}));
        })
        .await;
    let doc = json!({"ip": "163.26.171.228", "labels": ["Relay"], "last_seen": "2025-09-05"});
    let up = s.mock_async(|w, t| {
        w.method(POST).path("/iocflow-verdicts/_update/163.26.171.228").query_param("retry_on_conflict", "3")
            .json_body(json!({"doc": doc, "doc_as_upsert": true}));
        t.status(201).json_body(json!({"_index": "iocflow-verdicts", "_id": "163.26.171.228", "_version": 1, "result": "created",
            "_shards": {"total": 2, "successful": 1, "failed": 0}, "_seq_no": 0, "_primary_term": 1}));
    }).await;
    let src = "ctx._source.evidence[params.day] = params.ev;";
    let params = json!({"ip": "2001:db8::1", "day": "2025-09-05", "ev": {"score": 7.5}});
    let sc = s.mock_async(|w, t| {
        w.method(POST).path("/iocflow-verdicts/_update/2001:db8::1").query_param("retry_on_conflict", "3")
            .json_body(json!({"scripted_upsert": true, "script": {"lang": "painless", "source": src, "params": params}, "upsert": {}}));
        t.status(200).json_body(json!({"_index": "iocflow-verdicts", "_id": "2001:db8::1", "_version": 2, "result": "noop",
            "_shards": {"total": 0, "successful": 0, "failed": 0}}));
    }).await;
    let c = client_for(&s.base_url());
    c.put_index_template("iocflow-flows", &tpl).await.unwrap();
    assert_eq!(
        c.upsert_doc("iocflow-verdicts", "163.26.171.228", &doc, 3)
            .await
            .unwrap(),
        UpdateResult::Created
    );
    assert_eq!(
        c.scripted_upsert(
            "iocflow-verdicts",
            "2001:db8::1",
            src,
            &params,
            &json!({}),
            3
        )
        .await
        .unwrap(),
        UpdateResult::Noop
    );
    for m in [t1, up, sc] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn delete_index_reports_whether_there_was_one() {
    let s = MockServer::start_async().await;
    let gone = s
        .mock_async(|w, t| {
            w.method(DELETE)
                .path("/iocflow-flows-2025.09.05")
                .query_param_count(".*", ".*", 0);
            t.status(200).json_body(json!({"acknowledged": true}));
        })
        .await;
    let missing = s
        .mock_async(|w, t| {
            w.method(DELETE).path("/iocflow-flows-2025.09.06");
            t.status(404).json_body(json!({"error": {"root_cause": [{"type": "index_not_found_exception",
                "reason": "no such index [iocflow-flows-2025.09.06]", "index": "iocflow-flows-2025.09.06"}],
                "type": "index_not_found_exception", "reason": "no such index [iocflow-flows-2025.09.06]",
                "index": "iocflow-flows-2025.09.06"}, "status": 404}));
        })
        .await;
    let denied = s
        .mock_async(|w, t| {
            w.method(DELETE).path("/iocflow-verdicts");
            t.status(403).json_body(
                json!({"error": {"root_cause": [], "type": "security_exception",
                "reason": "action [indices:admin/delete] is unauthorized"}, "status": 403}),
            );
        })
        .await;
    let c = client_for(&s.base_url());
    assert!(c.delete_index("iocflow-flows-2025.09.05").await.unwrap());
    assert!(!c.delete_index("iocflow-flows-2025.09.06").await.unwrap());
    let e = c.delete_index("iocflow-verdicts").await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    gone.assert_async().await;
    missing.assert_async().await;
    denied.assert_async().await;
}
