//! `_search`, `_count`, `_msearch` and aggregations.

use crate::client::{Body, Client, decode, index_path, to_json};
use crate::error::{Error, Result};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;

/// A search body. Every field is optional and left out of the JSON when `None`.
///
/// `query`, `sort`, `_source` and `aggs` are plain JSON so any Query DSL fits.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SearchBody {
    /// Hits to return (ES default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<usize>,
    /// `true`, `false` or a number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_total_hits: Option<Value>,
    /// `_source` filtering: `false`, a list of fields, or `{"includes", "excludes"}`.
    #[serde(rename = "_source", skip_serializing_if = "Option::is_none")]
    pub source: Option<Value>,
    /// The query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<Value>,
    /// Sort entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<Vec<Value>>,
    /// The previous page's last `sort` array, verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_after: Option<Vec<Value>>,
    /// Aggregations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggs: Option<Value>,
    /// Per-shard time budget, e.g. `"30s"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Point in time (set by [`Client::scan`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pit: Option<PitRef>,
}

/// `"pit": {"id", "keep_alive"}` in a search body.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PitRef {
    /// The newest PIT id.
    pub id: String,
    /// How long to keep it, e.g. `"5m"`.
    pub keep_alive: String,
}

/// URL options of a search.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchOptions {
    /// `ignore_unavailable=true`: skip missing or closed concrete indices instead of 404.
    pub ignore_unavailable: bool,
}

impl SearchOptions {
    fn query(&self) -> Vec<(&'static str, String)> {
        if self.ignore_unavailable {
            vec![("ignore_unavailable", "true".to_owned())]
        } else {
            Vec::new()
        }
    }
}

/// `hits.total`: exact (`eq`) or a lower bound (`gte`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Total {
    /// The count.
    pub value: u64,
    /// Whether `value` is exact.
    pub relation: Relation,
}

/// `hits.total.relation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// Exact.
    Eq,
    /// Lower bound.
    Gte,
}

impl<'de> Deserialize<'de> for Total {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Obj { value: u64, relation: Relation },
            Int(u64),
        }
        Ok(match Repr::deserialize(d)? {
            Repr::Obj { value, relation } => Total { value, relation },
            Repr::Int(value) => Total {
                value,
                relation: Relation::Eq,
            },
        })
    }
}

/// One hit. `T` is the `_source` type (`Box<RawValue>` keeps it unparsed).
#[derive(Clone, Debug, Deserialize)]
pub struct Hit<T> {
    /// The index the document lives in.
    #[serde(rename = "_index")]
    pub index: String,
    /// Document id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Score (`null` when sorted by a field).
    #[serde(rename = "_score", default)]
    pub score: Option<f64>,
    /// The document (absent with `_source: false`).
    #[serde(rename = "_source", default = "none")]
    pub source: Option<T>,
    /// Sort values, to pass back as `search_after`.
    #[serde(default)]
    pub sort: Option<Vec<Value>>,
}

fn none<T>() -> Option<T> {
    None
}

/// `hits`.
#[derive(Clone, Debug, Deserialize)]
pub struct Hits<T> {
    /// Absent with `track_total_hits: false`.
    #[serde(default)]
    pub total: Option<Total>,
    /// The page of hits.
    #[serde(default = "Vec::new")]
    pub hits: Vec<Hit<T>>,
}

/// `_shards`, with failures when some shards failed.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Shards {
    /// Shards searched.
    #[serde(default)]
    pub total: u64,
    /// Shards that answered.
    #[serde(default)]
    pub successful: u64,
    /// Shards that failed.
    #[serde(default)]
    pub failed: u64,
    /// Failure details (`shard`, `index`, `reason`, …), kept raw.
    #[serde(default)]
    pub failures: Vec<Value>,
}

/// A `_search` response.
#[derive(Clone, Debug, Deserialize)]
pub struct SearchResponse<T> {
    /// Milliseconds the server spent.
    #[serde(default)]
    pub took: u64,
    /// True when a shard ran out of its `timeout`: results may be partial.
    #[serde(default)]
    pub timed_out: bool,
    /// Shard statistics.
    #[serde(rename = "_shards", default)]
    pub shards: Shards,
    /// The hits.
    pub hits: Hits<T>,
    /// Aggregation results, raw.
    #[serde(default)]
    pub aggregations: Option<Value>,
    /// Newest PIT id, in PIT searches.
    #[serde(default)]
    pub pit_id: Option<String>,
    /// Newest scroll id, in scroll searches.
    #[serde(rename = "_scroll_id", default)]
    pub scroll_id: Option<String>,
}

impl<T> SearchResponse<T> {
    /// Error unless the result is complete: not timed out and no failed shards.
    pub fn require_complete(&self, context: &'static str) -> Result<()> {
        if self.timed_out {
            return Err(Error::Protocol {
                context,
                detail: "search timed out; results are partial".into(),
            });
        }
        if self.shards.failed > 0 {
            return Err(Error::Protocol {
                context,
                detail: format!(
                    "{} of {} shards failed: {}",
                    self.shards.failed,
                    self.shards.total,
                    self.shards
                        .failures
                        .first()
                        .map(Value::to_string)
                        .unwrap_or_default()
                ),
            });
        }
        Ok(())
    }
}

/// One `_msearch` item: the header line and the body line.
#[derive(Clone, Debug, PartialEq)]
pub struct MsearchItem {
    /// Indices for this item (`"index"` in the header).
    pub indices: Vec<String>,
    /// `"ignore_unavailable": true` in the header.
    pub ignore_unavailable: bool,
    /// The search body.
    pub body: SearchBody,
}

/// Serialise `_msearch` items as NDJSON (every line, the last too, ends in `\n`).
pub fn msearch_body(items: &[MsearchItem]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        let mut header = serde_json::Map::new();
        let index = match item.indices.as_slice() {
            [one] => json!(one),
            many => json!(many),
        };
        header.insert("index".into(), index);
        if item.ignore_unavailable {
            header.insert("ignore_unavailable".into(), json!(true));
        }
        out.extend_from_slice(&to_json(&header));
        out.push(b'\n');
        out.extend_from_slice(&to_json(&item.body));
        out.push(b'\n');
    }
    out
}

pub(crate) fn search_path(indices: &[String], endpoint: &str) -> String {
    if indices.is_empty() {
        format!("/{endpoint}")
    } else {
        format!("/{}/{endpoint}", index_path(indices))
    }
}

impl Client {
    /// `POST /{indices}/_search`, decoding `_source` into `T`.
    ///
    /// An empty `indices` searches `/_search` (all indices). A missing concrete index is
    /// [`Error::Api`] with `index_not_found_exception` unless
    /// `opts.ignore_unavailable`.
    pub async fn search<T: DeserializeOwned>(
        &self,
        indices: &[String],
        body: &SearchBody,
        opts: &SearchOptions,
    ) -> Result<SearchResponse<T>> {
        let a = self
            .send(
                Method::POST,
                &search_path(indices, "_search"),
                &opts.query(),
                Body::Json(to_json(body)),
            )
            .await?;
        decode("_search", &a.body)
    }

    /// `POST /{indices}/_count` with an optional query; always exact.
    pub async fn count(
        &self,
        indices: &[String],
        query: Option<&Value>,
        opts: &SearchOptions,
    ) -> Result<u64> {
        #[derive(Deserialize)]
        struct CountResp {
            count: u64,
        }
        let body = match query {
            Some(q) => Body::Json(to_json(&json!({ "query": q }))),
            None => Body::None,
        };
        let a = self
            .send(
                Method::POST,
                &search_path(indices, "_count"),
                &opts.query(),
                body,
            )
            .await?;
        Ok(decode::<CountResp>("_count", &a.body)?.count)
    }

    /// `POST /_msearch` with an NDJSON body. The outer `Result` fails only when the
    /// whole call fails; each item gets its own `Result`, in request order, with item
    /// errors (`{"error": …, "status": N}`) kept per item.
    pub async fn msearch<T: DeserializeOwned>(
        &self,
        items: &[MsearchItem],
    ) -> Result<Vec<Result<SearchResponse<T>>>> {
        #[derive(Deserialize)]
        struct Outer {
            responses: Vec<Box<serde_json::value::RawValue>>,
        }
        #[derive(Deserialize)]
        struct Probe {
            #[serde(default)]
            error: Option<Value>,
            #[serde(default)]
            status: Option<u16>,
        }
        let query = [(
            "max_concurrent_searches",
            self.inner
                .config
                .msearch_max_concurrent_searches
                .max(1)
                .to_string(),
        )];
        let a = self
            .send(
                Method::POST,
                "/_msearch",
                &query,
                Body::Ndjson(msearch_body(items)),
            )
            .await?;
        let outer: Outer = decode("_msearch", &a.body)?;
        if outer.responses.len() != items.len() {
            return Err(Error::Protocol {
                context: "_msearch",
                detail: format!(
                    "{} responses for {} requests",
                    outer.responses.len(),
                    items.len()
                ),
            });
        }
        Ok(outer
            .responses
            .iter()
            .map(|raw| {
                let probe: Probe = decode("_msearch item", raw.get().as_bytes())?;
                if let Some(err) = probe.error {
                    let status = probe.status.unwrap_or(500);
                    let body = to_json(&json!({ "error": err }));
                    return Err(Error::from_response(status, &body));
                }
                decode("_msearch item", raw.get().as_bytes())
            })
            .collect())
    }

    /// Count documents per value of `field` for the values in `include` (a `terms`
    /// aggregation with an include list, `size` = the list length). Values without
    /// documents are absent from the map (count 0). Errors when the counts are not
    /// exact (`doc_count_error_upper_bound` ≠ 0, partial results).
    pub async fn terms_counts(
        &self,
        indices: &[String],
        field: &str,
        include: &[String],
        query: Option<&Value>,
        opts: &SearchOptions,
    ) -> Result<HashMap<String, u64>> {
        let mut body = SearchBody {
            size: Some(0),
            aggs: Some(
                json!({"counts": {"terms": {"field": field, "include": include, "size": include.len().max(1)}}}),
            ),
            ..SearchBody::default()
        };
        body.query = query.cloned();
        let resp: SearchResponse<serde::de::IgnoredAny> = self.search(indices, &body, opts).await?;
        resp.require_complete("terms aggregation")?;
        #[derive(Deserialize)]
        struct Agg {
            #[serde(default)]
            doc_count_error_upper_bound: i64,
            buckets: Vec<Bucket>,
        }
        #[derive(Deserialize)]
        struct Bucket {
            key: Value,
            doc_count: u64,
        }
        let agg: Agg = match resp.aggregations.as_ref().and_then(|a| a.get("counts")) {
            Some(v) => Agg::deserialize(v).map_err(|source| Error::Decode {
                context: "terms aggregation",
                source,
            })?,
            None => {
                return Err(Error::Protocol {
                    context: "terms aggregation",
                    detail: "no aggregations in response".into(),
                });
            }
        };
        if agg.doc_count_error_upper_bound != 0 {
            return Err(Error::Protocol {
                context: "terms aggregation",
                detail: format!(
                    "counts not exact (doc_count_error_upper_bound {})",
                    agg.doc_count_error_upper_bound
                ),
            });
        }
        Ok(agg
            .buckets
            .into_iter()
            .map(|b| (key_string(&b.key), b.doc_count))
            .collect())
    }

    /// Every bucket of a one-source `composite` aggregation over `field`, paging with
    /// `after_key` until a page comes back empty. Returns `(key, doc_count)` pairs.
    pub async fn composite_counts(
        &self,
        indices: &[String],
        field: &str,
        query: Option<&Value>,
        page_size: usize,
        opts: &SearchOptions,
    ) -> Result<Vec<(String, u64)>> {
        #[derive(Deserialize)]
        struct Agg {
            #[serde(default)]
            after_key: Option<Value>,
            buckets: Vec<Bucket>,
        }
        #[derive(Deserialize)]
        struct Bucket {
            key: HashMap<String, Value>,
            doc_count: u64,
        }
        let mut out = Vec::new();
        let mut after: Option<Value> = None;
        loop {
            let mut composite = json!({"size": page_size.max(1), "sources": [{"key": {"terms": {"field": field}}}]});
            if let Some(a) = &after {
                composite["after"] = a.clone();
            }
            let body = SearchBody {
                size: Some(0),
                query: query.cloned(),
                aggs: Some(json!({"per_key": {"composite": composite}})),
                ..SearchBody::default()
            };
            let resp: SearchResponse<serde::de::IgnoredAny> =
                self.search(indices, &body, opts).await?;
            resp.require_complete("composite aggregation")?;
            let agg: Agg = match resp.aggregations.as_ref().and_then(|a| a.get("per_key")) {
                Some(v) => Agg::deserialize(v).map_err(|source| Error::Decode {
                    context: "composite aggregation",
                    source,
                })?,
                None => {
                    return Err(Error::Protocol {
                        context: "composite aggregation",
                        detail: "no aggregations in response".into(),
                    });
                }
            };
            if agg.buckets.is_empty() {
                return Ok(out);
            }
            for b in agg.buckets {
                let key = b.key.get("key").map(key_string).unwrap_or_default();
                out.push((key, b.doc_count));
            }
            match agg.after_key {
                Some(a) => after = Some(a),
                None => return Ok(out),
            }
        }
    }
}

/// A bucket key as text: strings as they are (IP keys are canonical strings), numbers
/// in decimal.
fn key_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
