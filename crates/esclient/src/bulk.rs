//! `_bulk` indexing: byte-sized NDJSON batches, per-item checks, retries, dead letters.

use crate::client::{Body, Client, backoff, decode};
use crate::error::{Error, Result};
use futures::stream::{self, StreamExt};
use reqwest::Method;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;

/// One document to `index` (create or overwrite): a re-run with the same `_id`
/// replaces the document instead of duplicating it.
#[derive(Clone, Debug)]
pub struct BulkDoc {
    /// Target index.
    pub index: String,
    /// Deterministic document id.
    pub id: String,
    /// The document, already serialised.
    pub source: Box<RawValue>,
}

impl BulkDoc {
    /// Serialise `doc` into a [`BulkDoc`].
    pub fn new(
        index: impl Into<String>,
        id: impl Into<String>,
        doc: &impl serde::Serialize,
    ) -> Result<BulkDoc> {
        let source = serde_json::value::to_raw_value(doc).map_err(|source| Error::Decode {
            context: "bulk document",
            source,
        })?;
        Ok(BulkDoc {
            index: index.into(),
            id: id.into(),
            source,
        })
    }
}

/// Where documents that failed for good go (the CLI writes them to a file).
pub trait DeadLetterSink: Send {
    /// Store one rejected document with the error that rejected it.
    fn dead_letter(&mut self, doc: &BulkDoc, error: &Error) -> std::io::Result<()>;
}

/// A sink that keeps dead letters in memory (tests, small jobs).
#[derive(Debug, Default)]
pub struct VecSink(pub Vec<(BulkDoc, String)>);

impl DeadLetterSink for VecSink {
    fn dead_letter(&mut self, doc: &BulkDoc, error: &Error) -> std::io::Result<()> {
        self.0.push((doc.clone(), error.to_string()));
        Ok(())
    }
}

/// Counts of a bulk load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BulkStats {
    /// Documents the cluster accepted.
    pub indexed: u64,
    /// Item retries (one document retried twice counts 2).
    pub retried: u64,
    /// Documents handed to the dead-letter sink.
    pub failed: u64,
    /// Request body bytes sent (before gzip), retries and splits included.
    pub bytes: u64,
    /// `_bulk` requests sent.
    pub requests: u64,
}

impl BulkStats {
    fn add(&mut self, o: &BulkStats) {
        self.indexed += o.indexed;
        self.retried += o.retried;
        self.failed += o.failed;
        self.bytes += o.bytes;
        self.requests += o.requests;
    }
}

/// Options of [`Client::bulk_index`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkOptions {
    /// Cut batches at this many body bytes (default 10 MiB). A single larger document
    /// goes alone.
    pub max_batch_bytes: usize,
    /// Bulk requests in flight (default 2). Memory: one batch per worker.
    pub concurrency: usize,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            max_batch_bytes: 10 * 1024 * 1024,
            concurrency: 2,
        }
    }
}

/// Append one `index` action and its document to an NDJSON body.
pub fn write_bulk_index(out: &mut Vec<u8>, doc: &BulkDoc) {
    #[derive(serde::Serialize)]
    struct Meta<'a> {
        _index: &'a str,
        _id: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Action<'a> {
        index: Meta<'a>,
    }
    // Two &str fields always serialise.
    serde_json::to_writer(
        &mut *out,
        &Action {
            index: Meta {
                _index: &doc.index,
                _id: &doc.id,
            },
        },
    )
    .expect("action line serialises");
    out.push(b'\n');
    let src = doc.source.get();
    if src.contains('\n') {
        // A pretty-printed raw document would break NDJSON: re-serialise compactly.
        match serde_json::from_str::<serde_json::Value>(src) {
            Ok(v) => serde_json::to_writer(&mut *out, &v).expect("value serialises"),
            Err(_) => out.extend_from_slice(src.replace('\n', " ").as_bytes()),
        }
    } else {
        out.extend_from_slice(src.as_bytes());
    }
    out.push(b'\n');
}

/// The NDJSON `_bulk` body for `docs` (every line ends in `\n`).
pub fn bulk_body(docs: &[BulkDoc]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        docs.iter()
            .map(|d| d.source.get().len() + d.id.len() + d.index.len() + 40)
            .sum(),
    );
    for d in docs {
        write_bulk_index(&mut out, d);
    }
    out
}

fn approx_len(d: &BulkDoc) -> usize {
    d.source.get().len() + d.id.len() + d.index.len() + 32
}

/// Cuts an iterator of documents into batches of at most `max` bytes, lazily.
struct Batches<I: Iterator> {
    docs: std::iter::Peekable<I>,
    max: usize,
}

impl<I: Iterator<Item = BulkDoc>> Iterator for Batches<I> {
    type Item = Vec<BulkDoc>;
    fn next(&mut self) -> Option<Vec<BulkDoc>> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        while let Some(d) = self.docs.peek() {
            let len = approx_len(d);
            if !batch.is_empty() && bytes + len > self.max {
                break;
            }
            bytes += len;
            if let Some(d) = self.docs.next() {
                batch.push(d);
            }
        }
        (!batch.is_empty()).then_some(batch)
    }
}

#[derive(Deserialize)]
struct BulkResponse {
    items: Vec<HashMap<String, Item>>,
}

#[derive(Deserialize)]
struct Item {
    status: u16,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

type Outcome = (BulkStats, Vec<(BulkDoc, Error)>);

impl Client {
    /// Index `docs` with `_bulk`, in byte-sized batches, `opts.concurrency` requests
    /// in flight. Every item is checked: 429 (and 503) items are resent with backoff,
    /// other failures go to `sink` with their error; a 413 splits the batch in halves.
    /// Fails only when a whole request fails for good (e.g. 401) or the sink fails.
    pub async fn bulk_index(
        &self,
        docs: impl IntoIterator<Item = BulkDoc>,
        sink: &mut dyn DeadLetterSink,
        opts: &BulkOptions,
    ) -> Result<BulkStats> {
        let batches = Batches {
            docs: docs.into_iter().peekable(),
            max: opts.max_batch_bytes.max(1),
        };
        let mut results = stream::iter(batches)
            .map(|batch| self.bulk_batch(batch))
            .buffer_unordered(opts.concurrency.max(1));
        let mut stats = BulkStats::default();
        while let Some(res) = results.next().await {
            let (s, dead) = res?;
            stats.add(&s);
            for (doc, err) in &dead {
                sink.dead_letter(doc, err).map_err(Error::DeadLetter)?;
            }
        }
        Ok(stats)
    }

    fn bulk_batch(&self, docs: Vec<BulkDoc>) -> futures::future::BoxFuture<'_, Result<Outcome>> {
        Box::pin(async move {
            let mut stats = BulkStats::default();
            let mut dead = Vec::new();
            let mut pending = docs;
            let mut attempt = 0u32;
            loop {
                let body = bulk_body(&pending);
                stats.bytes += body.len() as u64;
                stats.requests += 1;
                let answer = match self
                    .send(Method::POST, "/_bulk", &[], Body::Ndjson(body))
                    .await
                {
                    Ok(a) => a,
                    Err(e) if e.status() == Some(413) => {
                        if pending.len() == 1 {
                            stats.failed += 1;
                            if let Some(d) = pending.pop() {
                                dead.push((d, e));
                            }
                            return Ok((stats, dead));
                        }
                        let second = pending.split_off(pending.len() / 2);
                        tracing::debug!(
                            docs = pending.len() + second.len(),
                            "413: splitting bulk batch"
                        );
                        for half in [pending, second] {
                            let (s, d) = self.bulk_batch(half).await?;
                            stats.add(&s);
                            dead.extend(d);
                        }
                        return Ok((stats, dead));
                    }
                    Err(e) => return Err(e),
                };
                let resp: BulkResponse = decode("_bulk", &answer.body)?;
                if resp.items.len() != pending.len() {
                    return Err(Error::Protocol {
                        context: "_bulk",
                        detail: format!(
                            "{} items for {} documents",
                            resp.items.len(),
                            pending.len()
                        ),
                    });
                }
                let mut retry = Vec::new();
                for (item, doc) in resp.items.into_iter().zip(pending) {
                    let Some(item) = item.into_values().next() else {
                        return Err(Error::Protocol {
                            context: "_bulk",
                            detail: "empty item".into(),
                        });
                    };
                    if (200..300).contains(&item.status) {
                        stats.indexed += 1;
                        continue;
                    }
                    let err = Error::from_response(
                        item.status,
                        &serde_json::to_vec(&serde_json::json!({ "error": item.error }))
                            .unwrap_or_default(),
                    );
                    if matches!(item.status, 429 | 503) && err.is_retryable() {
                        retry.push((doc, err));
                    } else {
                        stats.failed += 1;
                        dead.push((doc, err));
                    }
                }
                if retry.is_empty() {
                    return Ok((stats, dead));
                }
                if attempt >= self.inner.retry.max_retries {
                    stats.failed += retry.len() as u64;
                    dead.extend(retry);
                    return Ok((stats, dead));
                }
                tokio::time::sleep(backoff(&self.inner.retry, attempt)).await;
                attempt += 1;
                stats.retried += retry.len() as u64;
                pending = retry.into_iter().map(|(d, _)| d).collect();
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(i: usize, pad: usize) -> BulkDoc {
        BulkDoc::new(
            "iocflow-flows-2025.09.05",
            format!("id-{i}"),
            &serde_json::json!({"IocIP": "163.26.171.228", "pad": "x".repeat(pad)}),
        )
        .unwrap()
    }

    #[test]
    fn batches_are_cut_by_bytes_not_lines() {
        let docs: Vec<_> = (0..100).map(|i| doc(i, 900)).collect();
        let batches: Vec<_> = Batches {
            docs: docs.into_iter().peekable(),
            max: 10_000,
        }
        .collect();
        assert!(batches.len() >= 10, "{} batches", batches.len());
        for b in &batches {
            assert!(
                bulk_body(b).len() <= 10_000,
                "batch of {} bytes",
                bulk_body(b).len()
            );
        }
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 100);
    }

    #[test]
    fn oversized_document_goes_alone_instead_of_looping() {
        let docs = vec![doc(0, 10), doc(1, 50_000), doc(2, 10)];
        let sizes: Vec<_> = Batches {
            docs: docs.into_iter().peekable(),
            max: 1_000,
        }
        .map(|b| b.len())
        .collect();
        assert_eq!(sizes, vec![1, 1, 1]);
    }

    #[test]
    fn pretty_printed_source_does_not_break_ndjson() {
        let raw = RawValue::from_string("{\n  \"a\": 1\n}".into()).unwrap();
        let body = bulk_body(&[BulkDoc {
            index: "i".into(),
            id: "1".into(),
            source: raw,
        }]);
        assert_eq!(
            body,
            b"{\"index\":{\"_index\":\"i\",\"_id\":\"1\"}}\n{\"a\":1}\n"
        );
    }
}
