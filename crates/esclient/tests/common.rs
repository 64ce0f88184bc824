//! Shared helpers for the contract tests.
#![allow(dead_code)]

use esclient::{Client, ClientConfig, RetryConfig};
use serde_json::{Value, json};

pub fn client_for(url: &str) -> Client {
    let mut cfg = ClientConfig::for_nodes([url.to_string()]);
    cfg.retry = RetryConfig {
        max_retries: 3,
        initial_backoff_ms: 1,
        max_backoff_ms: 5,
    };
    Client::new(cfg).expect("client")
}

pub fn es8_root() -> Value {
    json!({"name": "es-node-1", "cluster_name": "noc", "cluster_uuid": "zk-HjQtYQGyL3NFSSu7InA",
           "version": {"number": "8.15.1", "build_flavor": "default", "build_type": "docker",
                       "build_hash": "253e8544a65ad44581194068936f2a5d57c2c051",
                       "build_date": "2024-09-02T22:04:47.310170297Z", "build_snapshot": false,
                       "lucene_version": "9.11.1", "minimum_wire_compatibility_version": "7.17.0",
                       "minimum_index_compatibility_version": "7.0.0"},
           "tagline": "You Know, for Search"})
}

pub fn os2_root() -> Value {
    json!({"name": "opensearch-cluster-master-0", "cluster_name": "opensearch-cluster",
           "cluster_uuid": "4ebJRnOKQvW7WbwXyAu_Rw",
           "version": {"distribution": "opensearch", "number": "2.17.1", "build_type": "tar",
                       "build_hash": "1893d20797e30110e5877170e44d42275ce5951e",
                       "build_date": "2024-09-26T21:59:32.078798875Z", "build_snapshot": false,
                       "lucene_version": "9.11.1", "minimum_wire_compatibility_version": "7.10.0",
                       "minimum_index_compatibility_version": "7.0.0"},
           "tagline": "The OpenSearch Project: https://opensearch.org/"})
}

pub fn index_not_found(index: &str) -> Value {
    json!({"error": {"root_cause": [{"type": "index_not_found_exception", "reason": format!("no such index [{index}]"),
            "resource.type": "index_or_alias", "resource.id": index, "index_uuid": "_na_", "index": index}],
           "type": "index_not_found_exception", "reason": format!("no such index [{index}]"),
           "resource.type": "index_or_alias", "resource.id": index, "index_uuid": "_na_", "index": index},
           "status": 404})
}

pub fn hit(id: &str, ts: u64, es7: bool) -> Value {
    let mut h = json!({"_index": "tanet-2025.09.05", "_id": id, "_score": null,
        "_source": {"sourceIPAddress": "163.26.171.228", "destinationIPAddress": "134.122.129.10",
                    "flowStartMilliseconds": ts},
        "sort": [ts]});
    if es7 {
        h["_type"] = json!("_doc");
    }
    h
}

pub fn search_resp(hits: Vec<Value>, total: Option<u64>) -> Value {
    let mut h = json!({"max_score": null, "hits": hits});
    if let Some(t) = total {
        h["total"] = json!({"value": t, "relation": "eq"});
    }
    json!({"took": 12, "timed_out": false,
           "_shards": {"total": 3, "successful": 3, "skipped": 0, "failed": 0}, "hits": h})
}
