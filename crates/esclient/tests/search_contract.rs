//! httpmock contract tests for probing, `_search`, `_count`, aggregations and `_msearch`.

mod common;

use common::*;
use esclient::{
    Auth, Client, ClientConfig, MsearchItem, PitApi, Product, Relation, SearchBody, SearchOptions,
    Secret,
};
use httpmock::prelude::*;
use serde_json::{Value, json};

#[tokio::test]
async fn probe_tells_elasticsearch_8_from_opensearch_2_and_compat_mode() {
    let es = MockServer::start_async().await;
    es.mock_async(|w, t| {
        w.method(GET).path("/").header("accept", "application/json");
        t.status(200)
            .header("X-elastic-product", "Elasticsearch")
            .json_body(es8_root());
    })
    .await;
    let info = client_for(&es.base_url()).probe().await.unwrap();
    assert_eq!(
        (info.product, info.version, info.pit_api()),
        (Product::Elasticsearch, (8, 15), Some(PitApi::Elasticsearch))
    );
    assert!(
        !info.translog_512mb_is_default(),
        "ES 8.8+ defaults to 10gb"
    );

    let os = MockServer::start_async().await;
    os.mock_async(|w, t| {
        w.method(GET).path("/");
        t.status(200).json_body(os2_root());
    })
    .await;
    let info = client_for(&os.base_url()).probe().await.unwrap();
    assert_eq!(
        (info.product, info.version, info.pit_api()),
        (Product::OpenSearch, (2, 17), Some(PitApi::OpenSearch))
    );

    let mut compat = os2_root();
    compat["version"]["number"] = json!("7.10.2");
    compat["version"]
        .as_object_mut()
        .unwrap()
        .remove("distribution");
    let info = esclient::ServerInfo::from_root(compat.to_string().as_bytes()).unwrap();
    assert_eq!(
        (info.product, info.compat_mode),
        (Product::OpenSearch, true)
    );
    let mut os1 = os2_root();
    os1["version"]["number"] = json!("1.3.19");
    assert_eq!(
        esclient::ServerInfo::from_root(os1.to_string().as_bytes())
            .unwrap()
            .pit_api(),
        None
    );
}

#[tokio::test]
async fn typed_search_sends_exact_body_to_comma_joined_path_without_percent_encoding() {
    let s = MockServer::start_async().await;
    let body = json!({"size": 1000, "track_total_hits": true,
        "_source": ["sourceIPAddress", "destinationIPAddress", "flowStartMilliseconds"],
        "query": {"bool": {"filter": [{"range": {"flowStartMilliseconds": {"gte": 1757030400000u64, "lt": 1757116800000u64, "format": "epoch_millis"}}}],
                           "should": [{"terms": {"sourceIPAddress": ["163.26.171.228"]}}, {"terms": {"destinationIPAddress": ["163.26.171.228"]}}],
                           "minimum_should_match": 1}},
        "sort": [{"flowStartMilliseconds": "asc"}], "search_after": [1757057835007u64]});
    let m = s
        .mock_async(|w, t| {
            w.method(POST)
                .path("/tanet-2025.09.04,tanet-2025.09.*/_search")
                .query_param("ignore_unavailable", "true")
                .header("content-type", "application/json")
                .json_body(body.clone());
            t.status(200).json_body(search_resp(
                vec![hit("h8Qn2ZEBxV7kJ0mQp1aZ", 1757057835008, true)],
                Some(2),
            ));
        })
        .await;
    #[derive(serde::Deserialize)]
    struct Flow {
        #[serde(rename = "flowStartMilliseconds")]
        ts: u64,
    }
    let req = SearchBody {
        size: Some(1000),
        track_total_hits: Some(json!(true)),
        source: Some(body["_source"].clone()),
        query: Some(body["query"].clone()),
        sort: Some(vec![json!({"flowStartMilliseconds": "asc"})]),
        search_after: Some(vec![json!(1757057835007u64)]),
        ..SearchBody::default()
    };
    let idx = vec![
        "tanet-2025.09.04".to_string(),
        "tanet-2025.09.*".to_string(),
    ];
    let r = client_for(&s.base_url())
        .search::<Flow>(
            &idx,
            &req,
            &SearchOptions {
                ignore_unavailable: true,
            },
        )
        .await
        .unwrap();
    m.assert_async().await;
    let total = r.hits.total.unwrap();
    assert_eq!((total.value, total.relation), (2, Relation::Eq));
    assert_eq!(r.hits.hits[0].source.as_ref().unwrap().ts, 1757057835008);
    assert_eq!(
        r.hits.hits[0].sort.as_deref(),
        Some(&[json!(1757057835008u64)][..])
    );
}

#[tokio::test]
async fn missing_index_is_a_typed_404_not_a_decode_error() {
    let s = MockServer::start_async().await;
    s.mock_async(|w, t| {
        w.method(POST)
            .path("/tanet-2025.09.05/_search")
            .query_param_missing("ignore_unavailable");
        t.status(404).json_body(index_not_found("tanet-2025.09.05"));
    })
    .await;
    let err = client_for(&s.base_url())
        .search::<Value>(
            &["tanet-2025.09.05".into()],
            &SearchBody::default(),
            &SearchOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(err.is_index_not_found(), "{err}");
    assert_eq!(err.status(), Some(404));
    assert!(matches!(&err, esclient::Error::Api { index: Some(i), .. } if i == "tanet-2025.09.05"));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn non_json_error_bodies_and_string_errors_do_not_panic() {
    let s = MockServer::start_async().await;
    s.mock_async(|w, t| {
        w.method(POST).path("/a/_search");
        t.status(401).body("Unauthorized");
    })
    .await;
    s.mock_async(|w, t| {
        w.method(POST).path("/b/_search");
        t.status(406).json_body(
            json!({"error": "Content-Type header [text/plain] is not supported", "status": 406}),
        );
    })
    .await;
    s.mock_async(|w, t| {
        w.method(POST).path("/c/_search");
        t.status(200).body("{\"hits\": [1, 2");
    })
    .await;
    let c = client_for(&s.base_url());
    let e = c
        .search::<Value>(
            &["a".into()],
            &SearchBody::default(),
            &SearchOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, esclient::Error::Api { status: 401, error_type: None, reason: Some(r), .. } if r == "Unauthorized")
    );
    let e = c
        .search::<Value>(
            &["b".into()],
            &SearchBody::default(),
            &SearchOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, esclient::Error::Api { status: 406, reason: Some(r), .. } if r.starts_with("Content-Type header"))
    );
    let e = c
        .search::<Value>(
            &["c".into()],
            &SearchBody::default(),
            &SearchOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, esclient::Error::Decode { .. }));
}

#[tokio::test]
async fn retries_503_then_succeeds_and_gives_up_on_400() {
    let s = MockServer::start_async().await;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c2 = calls.clone();
    s.mock_async(move |w, t| {
        w.method(POST).path("/tanet-2025.09.05/_count").json_body(json!({"query": {"term": {"sourceIPAddress": "163.26.171.228"}}}));
        t.respond_with(move |_| {
            let n = c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n < 2 {
                httpmock::HttpMockResponse::builder()
                    .status(503)
                    .body(r#"{"error":{"root_cause":[{"type":"master_not_discovered_exception","reason":null}],"type":"master_not_discovered_exception","reason":null},"status":503}"#)
                    .build()
            } else {
                httpmock::HttpMockResponse::builder()
                    .status(200)
                    .body(r#"{"count": 1611, "_shards": {"total": 3, "successful": 3, "skipped": 0, "failed": 0}}"#)
                    .build()
            }
        });
    })
    .await;
    let n = client_for(&s.base_url())
        .count(
            &["tanet-2025.09.05".into()],
            Some(&json!({"term": {"sourceIPAddress": "163.26.171.228"}})),
            &SearchOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(n, 1611);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn basic_and_api_key_headers_are_sent_and_secrets_stay_out_of_debug() {
    let s = MockServer::start_async().await;
    let basic = s
        .mock_async(|w, t| {
            w.method(GET)
                .path("/")
                .header("authorization", "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==");
            t.status(200).json_body(es8_root());
        })
        .await;
    let mut cfg = ClientConfig::for_nodes([s.base_url()]);
    cfg.auth = Some(Auth::Basic {
        user: "elastic".into(),
        password: Secret::new("changeme"),
    });
    assert!(!format!("{cfg:?}").contains("changeme"));
    Client::new(cfg).unwrap().probe().await.unwrap();
    basic.assert_async().await;

    let s = MockServer::start_async().await;
    let key = s
        .mock_async(|w, t| {
            w.method(GET).path("/").header(
                "authorization",
                "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==",
            );
            t.status(200).json_body(es8_root());
        })
        .await;
    let mut cfg = ClientConfig::for_nodes([s.base_url()]);
    cfg.auth = Some(Auth::ApiKeyPair {
        id: "VuaCfGcBCdbkQm-e5aOx".into(),
        api_key: Secret::new("ui2lp2axTNmsyakw9tvNnw"),
    });
    Client::new(cfg).unwrap().probe().await.unwrap();
    key.assert_async().await;
}

#[tokio::test]
async fn dead_node_is_skipped_and_the_live_one_answers() {
    let s = MockServer::start_async().await;
    let m = s
        .mock_async(|w, t| {
            w.method(POST).path("/_count");
            t.status(200).json_body(json!({"count": 7, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}}));
        })
        .await;
    // Port 9 on loopback: nothing listens, connection refused.
    let mut cfg = ClientConfig::for_nodes(["http://127.0.0.1:9".to_string(), s.base_url()]);
    cfg.retry.initial_backoff_ms = 1;
    cfg.retry.max_backoff_ms = 2;
    let c = Client::new(cfg).unwrap();
    for _ in 0..4 {
        assert_eq!(
            c.count(&[], None, &SearchOptions::default()).await.unwrap(),
            7
        );
    }
    m.assert_calls_async(4).await;
}

#[tokio::test]
async fn msearch_sends_ndjson_with_final_newline_and_keeps_item_errors_per_item() {
    let s = MockServer::start_async().await;
    let expected = "{\"ignore_unavailable\":true,\"index\":\"tanet-2025.09.05\"}\n{\"size\":100,\"query\":{\"term\":{\"sourceIPAddress\":\"163.26.171.228\"}}}\n{\"index\":\"tanet-2025.09.06\"}\n{\"size\":100,\"query\":{\"term\":{\"sourceIPAddress\":\"163.26.171.228\"}}}\n";
    let m = s
        .mock_async(|w, t| {
            w.method(POST)
                .path("/_msearch")
                .query_param("max_concurrent_searches", "2")
                .header("content-type", "application/x-ndjson")
                .body(expected);
            let mut ok = search_resp(vec![hit("a", 1, false)], Some(57));
            ok["status"] = json!(200);
            let mut err = index_not_found("tanet-2025.09.06");
            err["status"] = json!(404);
            t.status(200)
                .json_body(json!({"took": 31, "responses": [ok, err]}));
        })
        .await;
    let q = json!({"term": {"sourceIPAddress": "163.26.171.228"}});
    let items = vec![
        MsearchItem {
            indices: vec!["tanet-2025.09.05".into()],
            ignore_unavailable: true,
            body: SearchBody {
                size: Some(100),
                query: Some(q.clone()),
                ..Default::default()
            },
        },
        MsearchItem {
            indices: vec!["tanet-2025.09.06".into()],
            ignore_unavailable: false,
            body: SearchBody {
                size: Some(100),
                query: Some(q),
                ..Default::default()
            },
        },
    ];
    assert_eq!(esclient::msearch_body(&items).last(), Some(&b'\n'));
    let r = client_for(&s.base_url())
        .msearch::<Value>(&items)
        .await
        .unwrap();
    m.assert_async().await;
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].as_ref().unwrap().hits.total.unwrap().value, 57);
    assert!(r[1].as_ref().unwrap_err().is_index_not_found());
}

#[tokio::test]
async fn terms_include_counts_and_absent_ips_mean_zero() {
    let s = MockServer::start_async().await;
    let include = vec!["163.26.171.228".to_string(), "134.122.129.10".to_string()];
    let m = s
        .mock_async(|w, t| {
            w.method(POST).path("/tanet-2025.09.05/_search").json_body(json!({
                "size": 0,
                "query": {"range": {"flowStartMilliseconds": {"gte": 1757030400000u64, "lt": 1757116800000u64}}},
                "aggs": {"counts": {"terms": {"field": "sourceIPAddress", "include": ["163.26.171.228", "134.122.129.10"], "size": 2}}}}));
            t.status(200).json_body(json!({"took": 40, "timed_out": false,
                "_shards": {"total": 3, "successful": 3, "skipped": 0, "failed": 0},
                "hits": {"total": {"value": 10000, "relation": "gte"}, "max_score": null, "hits": []},
                "aggregations": {"counts": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0,
                    "buckets": [{"key": "163.26.171.228", "doc_count": 1523}]}}}));
        })
        .await;
    let counts = client_for(&s.base_url())
        .terms_counts(&["tanet-2025.09.05".into()], "sourceIPAddress", &include,
            Some(&json!({"range": {"flowStartMilliseconds": {"gte": 1757030400000u64, "lt": 1757116800000u64}}})), &SearchOptions::default())
        .await
        .unwrap();
    m.assert_async().await;
    assert_eq!(counts.get("163.26.171.228"), Some(&1523));
    assert_eq!(counts.get("134.122.129.10"), None);
}

#[tokio::test]
async fn composite_pages_with_after_key_until_an_empty_page() {
    let s = MockServer::start_async().await;
    let q = json!({"terms": {"sourceIPAddress": ["163.26.171.228", "134.122.129.10"]}});
    let p1 = s
        .mock_async(|w, t| {
            w.method(POST).path("/tanet-2025.09.05/_search").json_body(json!({"size": 0, "query": q,
                "aggs": {"per_key": {"composite": {"size": 1, "sources": [{"key": {"terms": {"field": "sourceIPAddress"}}}]}}}}));
            t.status(200).json_body(json!({"hits": {"hits": []}, "aggregations": {"per_key": {"after_key": {"key": "134.122.129.10"},
                "buckets": [{"key": {"key": "134.122.129.10"}, "doc_count": 3}]}}}));
        })
        .await;
    let p2 = s
        .mock_async(|w, t| {
            w.method(POST).path("/tanet-2025.09.05/_search").json_body(json!({"size": 0, "query": q,
                "aggs": {"per_key": {"composite": {"size": 1, "after": {"key": "134.122.129.10"}, "sources": [{"key": {"terms": {"field": "sourceIPAddress"}}}]}}}}));
            t.status(200).json_body(json!({"hits": {"hits": []}, "aggregations": {"per_key": {"after_key": {"key": "163.26.171.228"},
                "buckets": [{"key": {"key": "163.26.171.228"}, "doc_count": 1523}]}}}));
        })
        .await;
    let p3 = s
        .mock_async(|w, t| {
            w.method(POST).path("/tanet-2025.09.05/_search").json_body(json!({"size": 0, "query": q,
                "aggs": {"per_key": {"composite": {"size": 1, "after": {"key": "163.26.171.228"}, "sources": [{"key": {"terms": {"field": "sourceIPAddress"}}}]}}}}));
            t.status(200).json_body(json!({"hits": {"hits": []}, "aggregations": {"per_key": {"buckets": []}}}));
        })
        .await;
    let all = client_for(&s.base_url())
        .composite_counts(
            &["tanet-2025.09.05".into()],
            "sourceIPAddress",
            Some(&q),
            1,
            &SearchOptions::default(),
        )
        .await
        .unwrap();
    for m in [p1, p2, p3] {
        m.assert_async().await;
    }
    assert_eq!(
        all,
        vec![
            ("134.122.129.10".to_string(), 3),
            ("163.26.171.228".to_string(), 1523)
        ]
    );
}
