//! Per-IoC flow lookup for the daily run: exact totals for all IoCs in few requests,
//! samples in `_msearch` batches, bounded concurrency.

use crate::client::{Client, backoff};
use crate::error::{Error, Result};
use crate::search::{MsearchItem, SearchBody, SearchOptions, SearchResponse};
use flowmodel::FieldMap;
use futures::stream::{self, StreamExt, TryStreamExt};
use ipnet::IpNet;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::collections::HashMap;

/// How the sample of a busy IoC is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleMode {
    /// The first flows of the day, by start time (the published system's behaviour).
    First,
    /// A `random_score` with this seed (derive it from the date): spread over the
    /// whole day, and a re-run picks the same flows.
    Random {
        /// The seed.
        seed: u64,
    },
}

/// Sample documents of one IoC: `(index, id, raw _source)`.
type Docs = Vec<(String, String, Box<RawValue>)>;

/// What to look up. Build it with struct syntax; see the field docs.
#[derive(Clone, Debug)]
pub struct IocLookup<'a> {
    /// Addresses or CIDRs (a `term` on an `ip` field accepts CIDR).
    pub iocs: &'a [IpNet],
    /// Where the address and start-time fields are.
    pub fields: &'a FieldMap,
    /// Indices to search (missing ones are skipped: `ignore_unavailable`).
    pub indices: &'a [String],
    /// Documents kept per IoC (at most 10,000, `index.max_result_window`).
    pub sample_cap: usize,
    /// How samples are chosen.
    pub mode: SampleMode,
    /// IoCs per totals request (a `filters` aggregation) and at most this many
    /// `_msearch` items per sample request.
    pub batch_size: usize,
    /// Requests in flight at once (default in [`IocLookup::DEFAULT_CONCURRENCY`]).
    pub concurrency: usize,
    /// Optional `[start, end)` in epoch ms on the primary start field.
    pub day_range: Option<(i64, i64)>,
}

impl IocLookup<'_> {
    /// The default number of requests in flight.
    pub const DEFAULT_CONCURRENCY: usize = 2;
    /// Upper bound of sample documents per sample `_msearch` request.
    pub const SAMPLE_DOCS_PER_REQUEST: usize = 20_000;
}

/// The flows of one IoC.
#[derive(Clone, Debug)]
pub struct IocFlows {
    /// The IoC, as given.
    pub ioc: IpNet,
    /// Exact number of matching flows.
    pub total: u64,
    /// Up to `sample_cap` documents: `(index, id, raw _source)`.
    pub docs: Vec<(String, String, Box<RawValue>)>,
}

/// The term value for an IoC: a bare address for a host route, else the CIDR.
pub fn ioc_term(ioc: &IpNet) -> String {
    if ioc.prefix_len() == ioc.max_prefix_len() {
        ioc.addr().to_string()
    } else {
        ioc.to_string()
    }
}

fn range_filter(l: &IocLookup<'_>) -> Result<Vec<Value>> {
    Ok(match l.day_range {
        Some((gte, lt)) => {
            let field = l
                .fields
                .primary_start_field()
                .ok_or_else(|| Error::Config("field map has no start field".into()))?;
            vec![json!({"range": {field: {"gte": gte, "lt": lt, "format": "epoch_millis"}}})]
        }
        None => Vec::new(),
    })
}

/// `bool` query: the range filter, and `should` one clause per address field.
fn ioc_query(l: &IocLookup<'_>, filter: &[Value], terms: &[String]) -> Value {
    let should: Vec<Value> = l
        .fields
        .address_fields()
        .map(|f| match terms {
            [one] => json!({"term": {f: one}}),
            many => json!({"terms": {f: many}}),
        })
        .collect();
    json!({"bool": {"filter": filter, "should": should, "minimum_should_match": 1}})
}

impl Client {
    /// For each IoC: its exact total and up to `sample_cap` documents.
    ///
    /// Requests: `ceil(n / batch_size)` totals searches (`size: 0`, one named filter
    /// per IoC), then `_msearch` sample requests only for IoCs with flows, at most
    /// `batch_size` items and [`IocLookup::SAMPLE_DOCS_PER_REQUEST`] documents each;
    /// never more than `concurrency` in flight. Results come in the order of `iocs`.
    pub async fn lookup_iocs(&self, l: &IocLookup<'_>) -> Result<Vec<IocFlows>> {
        if l.batch_size == 0 || l.concurrency == 0 {
            return Err(Error::Config(
                "batch_size and concurrency must be at least 1".into(),
            ));
        }
        if l.sample_cap > 10_000 {
            return Err(Error::Config(
                "sample_cap above 10,000 exceeds index.max_result_window".into(),
            ));
        }
        if l.fields.address_fields().next().is_none() {
            return Err(Error::Config("field map has no address fields".into()));
        }
        let filter = range_filter(l)?;
        let terms: Vec<String> = l.iocs.iter().map(ioc_term).collect();
        let opts = SearchOptions {
            ignore_unavailable: true,
        };

        // 1. Totals: one filters aggregation per batch.
        let totals: Vec<Vec<u64>> = stream::iter(terms.chunks(l.batch_size))
            .map(|chunk| {
                let filter = &filter;
                let opts = &opts;
                async move {
                    let filters: serde_json::Map<String, Value> = chunk
                        .iter()
                        .enumerate()
                        .map(|(i, t)| {
                            (
                                format!("ioc_{i}"),
                                ioc_query(l, &[], std::slice::from_ref(t)),
                            )
                        })
                        .collect();
                    let body = SearchBody {
                        size: Some(0),
                        track_total_hits: Some(json!(false)),
                        query: Some(ioc_query(l, filter, chunk)),
                        aggs: Some(json!({"per_ioc": {"filters": {"filters": filters}}})),
                        ..SearchBody::default()
                    };
                    let resp: SearchResponse<serde::de::IgnoredAny> =
                        self.search(l.indices, &body, opts).await?;
                    resp.require_complete("IoC totals")?;
                    #[derive(Deserialize)]
                    struct Bucket {
                        doc_count: u64,
                    }
                    let buckets = resp
                        .aggregations
                        .as_ref()
                        .and_then(|a| a.pointer("/per_ioc/buckets"))
                        .ok_or_else(|| Error::Protocol {
                            context: "IoC totals",
                            detail: "no per_ioc buckets".into(),
                        })?;
                    (0..chunk.len())
                        .map(|i| {
                            let b =
                                buckets
                                    .get(format!("ioc_{i}"))
                                    .ok_or_else(|| Error::Protocol {
                                        context: "IoC totals",
                                        detail: format!("bucket ioc_{i} missing"),
                                    })?;
                            Bucket::deserialize(b)
                                .map(|b| b.doc_count)
                                .map_err(|source| Error::Decode {
                                    context: "IoC totals",
                                    source,
                                })
                        })
                        .collect::<Result<Vec<u64>>>()
                }
            })
            .buffered(l.concurrency)
            .try_collect()
            .await?;
        let totals: Vec<u64> = totals.into_iter().flatten().collect();

        // 2. Samples for IoCs with flows, in msearch batches cut by items and documents.
        let mut batches: Vec<Vec<usize>> = Vec::new();
        let mut docs_in_batch = 0;
        for (i, &t) in totals.iter().enumerate() {
            let want = (t as usize).min(l.sample_cap);
            if want == 0 {
                continue;
            }
            let full = batches.last().is_none_or(|b| {
                b.len() >= l.batch_size || docs_in_batch + want > IocLookup::SAMPLE_DOCS_PER_REQUEST
            });
            if full {
                batches.push(Vec::new());
                docs_in_batch = 0;
            }
            docs_in_batch += want;
            if let Some(b) = batches.last_mut() {
                b.push(i);
            }
        }
        let sort_field = l.fields.primary_start_field().map(str::to_owned);
        let samples: Vec<Vec<(usize, Docs)>> = stream::iter(batches)
            .map(|batch| {
                let filter = &filter;
                let terms = &terms;
                let totals = &totals;
                let sort_field = &sort_field;
                async move {
                    let items: Vec<MsearchItem> = batch
                        .iter()
                        .map(|&i| {
                            let q = ioc_query(l, filter, std::slice::from_ref(&terms[i]));
                            let (query, sort) = match l.mode {
                                SampleMode::First => (q, sort_field.as_ref().map(|f| vec![json!({f.as_str(): "asc"})])),
                                SampleMode::Random { seed } => (
                                    json!({"function_score": {"query": q, "random_score": {"seed": seed, "field": "_seq_no"}, "boost_mode": "replace"}}),
                                    None,
                                ),
                            };
                            MsearchItem {
                                indices: l.indices.to_vec(),
                                ignore_unavailable: true,
                                body: SearchBody {
                                    size: Some((totals[i] as usize).min(l.sample_cap)),
                                    track_total_hits: Some(json!(false)),
                                    query: Some(query),
                                    sort,
                                    ..SearchBody::default()
                                },
                            }
                        })
                        .collect();
                    self.sample_batch(batch, items).await
                }
            })
            .buffer_unordered(l.concurrency)
            .try_collect()
            .await?;
        let mut by_ioc: HashMap<usize, Docs> = samples.into_iter().flatten().collect();
        Ok(l.iocs
            .iter()
            .zip(totals)
            .enumerate()
            .map(|(i, (ioc, total))| IocFlows {
                ioc: *ioc,
                total,
                docs: by_ioc.remove(&i).unwrap_or_default(),
            })
            .collect())
    }

    /// One sample `_msearch`, resending only items that failed with a retryable status.
    async fn sample_batch(
        &self,
        mut ids: Vec<usize>,
        mut items: Vec<MsearchItem>,
    ) -> Result<Vec<(usize, Docs)>> {
        let mut out = Vec::new();
        let mut attempt = 0;
        loop {
            let responses = self.msearch::<Box<RawValue>>(&items).await?;
            let mut retry_ids = Vec::new();
            let mut retry_items = Vec::new();
            for ((id, item), resp) in ids.into_iter().zip(items).zip(responses) {
                match resp {
                    Ok(r) => {
                        r.require_complete("IoC sample")?;
                        let docs = r
                            .hits
                            .hits
                            .into_iter()
                            .filter_map(|h| h.source.map(|s| (h.index, h.id, s)))
                            .collect();
                        out.push((id, docs));
                    }
                    Err(e) if e.is_retryable() && attempt < self.inner.retry.max_retries => {
                        retry_ids.push(id);
                        retry_items.push(item);
                    }
                    Err(e) => return Err(e),
                }
            }
            if retry_ids.is_empty() {
                return Ok(out);
            }
            tokio::time::sleep(backoff(&self.inner.retry, attempt)).await;
            attempt += 1;
            ids = retry_ids;
            items = retry_items;
        }
    }
}
