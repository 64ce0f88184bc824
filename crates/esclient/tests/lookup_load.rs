//! The per-IoC lookup against a counting loopback server: requests grow with batches,
//! not with IoCs, and never exceed the configured concurrency.

mod common;

use esclient::{IocLookup, SampleMode};
use flowmodel::FieldMap;
use ipnet::IpNet;
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// Flows of an IoC in the fake cluster: even addresses have `n % 37 + 1`, odd ones none.
fn flows_of(ip: &str) -> u64 {
    let n = u32::from(ip.parse::<Ipv4Addr>().unwrap());
    if n % 2 == 0 { u64::from(n % 37) + 1 } else { 0 }
}

#[derive(Default)]
struct Stats {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    paths: Mutex<Vec<String>>,
}

fn answer(path: &str, body: &str) -> Value {
    if path.ends_with("/_search") {
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["size"], 0);
        assert_eq!(v["query"]["bool"]["minimum_should_match"], 1);
        let filters = v["aggs"]["per_ioc"]["filters"]["filters"]
            .as_object()
            .unwrap();
        let buckets: serde_json::Map<String, Value> = filters
            .iter()
            .map(|(k, f)| {
                let should = f["bool"]["should"].as_array().unwrap();
                assert_eq!(should.len(), 6, "one term per IPFIX address field");
                let ip = should[0]["term"]["sourceIPAddress"].as_str().unwrap();
                (k.clone(), json!({"doc_count": flows_of(ip)}))
            })
            .collect();
        json!({"took": 5, "timed_out": false, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
               "hits": {"max_score": null, "hits": []}, "aggregations": {"per_ioc": {"buckets": buckets}}})
    } else {
        assert!(body.ends_with('\n'));
        let lines: Vec<&str> = body.lines().collect();
        let responses: Vec<Value> = lines
            .chunks(2)
            .map(|pair| {
                let b: Value = serde_json::from_str(pair[1]).unwrap();
                let q = match b["query"].get("function_score") {
                    Some(fs) => {
                        assert_eq!(fs["random_score"], json!({"seed": 20250905, "field": "_seq_no"}));
                        assert!(b.get("sort").is_none());
                        &fs["query"]
                    }
                    None => {
                        assert_eq!(b["sort"], json!([{"flowStartMilliseconds": "asc"}]));
                        &b["query"]
                    }
                };
                let ip = q["bool"]["should"][0]["term"]["sourceIPAddress"].as_str().unwrap().to_owned();
                assert!(flows_of(&ip) > 0, "sample asked for an IoC without flows: {ip}");
                let size = b["size"].as_u64().unwrap();
                let hits: Vec<Value> = (0..size)
                    .map(|i| json!({"_index": "tanet-2025.09.05", "_id": format!("{ip}-{i}"), "_score": null,
                                     "_source": {"sourceIPAddress": ip, "flowStartMilliseconds": 1757057835008u64 + i}}))
                    .collect();
                json!({"took": 1, "timed_out": false, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                       "hits": {"max_score": null, "hits": hits}, "status": 200})
            })
            .collect();
        json!({"took": 3, "responses": responses})
    }
}

async fn serve(listener: tokio::net::TcpListener, stats: Arc<Stats>) {
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            return;
        };
        let stats = stats.clone();
        tokio::spawn(async move {
            let mut r = BufReader::new(sock);
            loop {
                let mut request_line = String::new();
                if r.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                    return;
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .split('?')
                    .next()
                    .unwrap_or("")
                    .to_owned();
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    r.read_line(&mut h).await.unwrap();
                    if h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                r.read_exact(&mut body).await.unwrap();
                let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
                stats.paths.lock().unwrap().push(path.clone());
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                let out = answer(&path, std::str::from_utf8(&body).unwrap()).to_string();
                stats.in_flight.fetch_sub(1, Ordering::SeqCst);
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{out}",
                    out.len()
                );
                r.get_mut().write_all(resp.as_bytes()).await.unwrap();
            }
        });
    }
}

async fn run(
    concurrency: usize,
    mode: SampleMode,
) -> (Vec<esclient::IocFlows>, Arc<Stats>, Vec<IpNet>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stats = Arc::new(Stats::default());
    tokio::spawn(serve(listener, stats.clone()));
    let iocs: Vec<IpNet> = (0..3000u32)
        .map(|i| IpNet::from(IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + i))))
        .collect();
    let fields = FieldMap::ipfix();
    let indices = vec!["tanet-2025.09.05".to_string()];
    let lookup = IocLookup {
        iocs: &iocs,
        fields: &fields,
        indices: &indices,
        sample_cap: 20,
        mode,
        batch_size: 500,
        concurrency,
        day_range: Some((1757030400000, 1757116800000)),
    };
    let out = common::client_for(&url).lookup_iocs(&lookup).await.unwrap();
    (out, stats, iocs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_thousand_iocs_cost_requests_per_batch_not_per_ioc_within_concurrency() {
    let (out, stats, iocs) = run(2, SampleMode::First).await;
    let paths = stats.paths.lock().unwrap().clone();
    let totals = paths.iter().filter(|p| p.ends_with("/_search")).count();
    let samples = paths.iter().filter(|p| *p == "/_msearch").count();
    // 3,000 IoCs / 500 per batch = 6 totals; 1,500 with flows / 500 items = 3 msearch.
    assert_eq!((totals, samples), (6, 3), "{paths:?}");
    assert_eq!(
        stats.max_in_flight.load(Ordering::SeqCst),
        2,
        "concurrency 2 must be used and never exceeded"
    );
    assert_eq!(out.len(), 3000);
    let with_flows = out.iter().filter(|f| f.total > 0).count();
    assert_eq!(with_flows, 1500);
    for (f, ioc) in out.iter().zip(&iocs) {
        assert_eq!(f.ioc, *ioc, "results keep the input order");
        let ip = f.ioc.addr().to_string();
        assert_eq!(f.total, flows_of(&ip));
        assert_eq!(f.docs.len() as u64, f.total.min(20));
        assert!(
            f.docs
                .iter()
                .all(|(index, _, src)| index == "tanet-2025.09.05" && src.get().contains(&ip))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_one_serialises_every_request() {
    let (_, stats, _) = run(1, SampleMode::Random { seed: 20250905 }).await;
    assert_eq!(stats.max_in_flight.load(Ordering::SeqCst), 1);
    assert_eq!(stats.paths.lock().unwrap().len(), 9);
}
