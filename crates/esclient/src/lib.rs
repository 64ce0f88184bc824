//! A paginated Elasticsearch / OpenSearch client built to read from and write to a busy
//! flow cluster without hurting it: typed search, point-in-time and scroll pagination,
//! `_msearch`, aggregations, byte-sized bulk loads with dead-lettering, index lifecycle
//! and upserts. The wire contract is `shared/docs/elasticsearch-api.md`; it covers
//! Elasticsearch 7/8 and OpenSearch 1/2.
//!
//! # Brief overview
//!
//! - [`ClientConfig`] (serde, read from TOML) → [`Client::new`] → [`Client`]: round-robin
//!   nodes with dead-node cooldown, Basic / API-key auth ([`Auth`], secrets in
//!   [`Secret`], never in `Debug`), extra CA file, timeouts, optional gzip, retries with
//!   jittered backoff on 429/502/503/504 and connection errors. [`Client::probe`] reads
//!   `GET /` into a [`ServerInfo`] (product, version, PIT API).
//! - Reading: [`Client::search`] (typed `_source`, [`SearchBody`], [`Total`]),
//!   [`Client::scan`] (a stream of pages over PIT + `search_after` or scroll, always
//!   released), [`Client::msearch`] (per-item results), [`Client::count`],
//!   [`Client::terms_counts`], [`Client::composite_counts`].
//! - The daily run: [`Client::lookup_iocs`] with an [`IocLookup`] returns an
//!   [`IocFlows`] per IoC (exact total + sample), in few requests.
//! - Writing: [`Client::bulk_index`] of [`BulkDoc`]s with a [`DeadLetterSink`], returning
//!   [`BulkStats`]; [`Client::create_index`], [`Client::set_load_mode`] /
//!   [`Client::restore_after_load`], [`Client::refresh`], [`Client::put_index_template`];
//!   [`Client::upsert_doc`] and [`Client::scripted_upsert`] → [`UpdateResult`].
//! - Every failure is one [`Error`] (HTTP status, ES `type`/`reason`, index).
//!
//! # Example: a search, a paginated stream and a bulk load
//!
//! ```
//! # use httpmock::prelude::*;
//! # use serde_json::json;
//! use esclient::{BulkDoc, BulkOptions, Client, ClientConfig, ScanMode, ScanOptions,
//!                SearchBody, SearchOptions, VecSink};
//! use futures::TryStreamExt;
//!
//! #[derive(serde::Deserialize)]
//! struct Flow { #[serde(rename = "sourceIPAddress")] src: String }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), esclient::Error> {
//! # let server = MockServer::start_async().await;
//! # let hit = json!({"_index": "tanet-2025.09.05", "_id": "h8Qn", "_score": null,
//! #                  "_source": {"sourceIPAddress": "163.26.171.228"}, "sort": [1757057835008u64]});
//! # server.mock(|w, t| { w.method(POST).path("/tanet-2025.09.05/_search").query_param_missing("scroll");
//! #     t.status(200).json_body(json!({"took": 1, "timed_out": false,
//! #         "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
//! #         "hits": {"total": {"value": 1, "relation": "eq"}, "max_score": null, "hits": [hit]}})); });
//! # server.mock(|w, t| { w.method(POST).path("/tanet-2025.09.05/_search").query_param("scroll", "5m");
//! #     t.status(200).json_body(json!({"_scroll_id": "S1", "hits": {"hits": [hit]}})); });
//! # server.mock(|w, t| { w.method(POST).path("/_search/scroll");
//! #     t.status(200).json_body(json!({"_scroll_id": "S1", "hits": {"hits": []}})); });
//! # let clear = server.mock(|w, t| { w.method(DELETE).path("/_search/scroll").json_body(json!({"scroll_id": ["S1"]}));
//! #     t.status(200).json_body(json!({"succeeded": true, "num_freed": 1})); });
//! # server.mock(|w, t| { w.method(POST).path("/_bulk");
//! #     t.status(200).json_body(json!({"took": 3, "errors": false, "items": [
//! #         {"index": {"_index": "iocflow-flows-2025.09.05", "_id": "a", "status": 201, "result": "created"}}]})); });
//! # let url = server.base_url();
//! let client = Client::new(ClientConfig::for_nodes([url]))?;
//! let index = vec!["tanet-2025.09.05".to_string()];
//!
//! // A typed search.
//! let body = SearchBody {
//!     size: Some(10),
//!     track_total_hits: Some(json!(true)),
//!     query: Some(json!({"term": {"sourceIPAddress": "163.26.171.228"}})),
//!     sort: Some(vec![json!({"flowStartMilliseconds": "asc"})]),
//!     ..SearchBody::default()
//! };
//! let resp = client.search::<Flow>(&index, &body, &SearchOptions::default()).await?;
//! assert_eq!(resp.hits.total.map(|t| t.value), Some(1));
//! assert_eq!(resp.hits.hits[0].source.as_ref().map(|f| f.src.as_str()), Some("163.26.171.228"));
//!
//! // Every hit, page by page (scroll here; PIT + search_after where the server has it).
//! let opts = ScanOptions { mode: ScanMode::Scroll, ..ScanOptions::default() };
//! let pages: Vec<_> = client.scan::<Flow>(index.clone(), body, opts).try_collect().await?;
//! assert_eq!(pages.len(), 1);
//! # clear.assert_async().await;
//!
//! // A bulk load; rejected documents would land in the sink.
//! let mut dead = VecSink::default();
//! let docs = vec![BulkDoc::new("iocflow-flows-2025.09.05", "a", &json!({"IocIP": "163.26.171.228"}))?];
//! let stats = client.bulk_index(docs, &mut dead, &BulkOptions::default()).await?;
//! assert_eq!((stats.indexed, stats.failed), (1, 0));
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod admin;
mod bulk;
mod client;
mod config;
mod error;
mod lookup;
mod scan;
mod search;

pub use admin::{CreateOutcome, LoadMode, UpdateResult};
pub use bulk::{
    BulkDoc, BulkOptions, BulkStats, DeadLetterSink, VecSink, bulk_body, write_bulk_index,
};
pub use client::{Client, PitApi, Product, ServerInfo};
pub use config::{Auth, ClientConfig, RetryConfig, Secret};
pub use error::{Error, Result};
pub use lookup::{IocFlows, IocLookup, SampleMode, ioc_term};
pub use scan::{ScanMode, ScanOptions};
pub use search::{
    Hit, Hits, MsearchItem, PitRef, Relation, SearchBody, SearchOptions, SearchResponse, Shards,
    Total, msearch_body,
};
