//! The Elasticsearch / OpenSearch result store (design.md §7): daily write-once indices
//! with explicit mappings, loaded in load mode and refreshed once; verdicts upserted;
//! deterministic `_id`s everywhere, so a re-run overwrites instead of duplicating.

use std::net::IpAddr;
use std::path::PathBuf;

use chrono::NaiveDate;
use esclient::{BulkDoc, BulkOptions, Client, ScanOptions, SearchBody};
use flowmodel::{IocDaySummary, IocFlow, RawFlow, RemoteDaySummary};
use futures::StreamExt as _;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use store::{DayRecords, VerdictRow};

use crate::config::StoreConfig;
use crate::sink::WriteOutcome;

/// Index names of one prefix (default `iocflow`).
#[derive(Debug, Clone)]
pub struct IndexNames {
    prefix: String,
}

impl IndexNames {
    /// Names under `prefix`.
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }
    fn daily(&self, kind: &str, d: NaiveDate) -> String {
        format!("{}-{kind}-{}", self.prefix, d.format("%Y.%m.%d"))
    }
    /// `iocflow-flows-YYYY.MM.DD`.
    pub fn flows(&self, d: NaiveDate) -> String {
        self.daily("flows", d)
    }
    /// `iocflow-ioc-YYYY.MM.DD`.
    pub fn ioc(&self, d: NaiveDate) -> String {
        self.daily("ioc", d)
    }
    /// `iocflow-remote-YYYY.MM.DD`.
    pub fn remote(&self, d: NaiveDate) -> String {
        self.daily("remote", d)
    }
    /// `iocflow-watched-YYYY.MM.DD` (raw flows of watched hosts).
    pub fn watched(&self, d: NaiveDate) -> String {
        self.daily("watched", d)
    }
    /// `iocflow-verdicts`.
    pub fn verdicts(&self) -> String {
        format!("{}-verdicts", self.prefix)
    }
    fn single(&self, kind: &str) -> String {
        format!("{}-{kind}", self.prefix)
    }
    fn pattern(&self, kind: &str) -> String {
        format!("{}-{kind}-*", self.prefix)
    }
}

fn geo_mapping() -> Value {
    json!({ "properties": { "coordinates": { "type": "geo_point" }, "location": { "type": "geo_point" } } })
}

/// Mapping of the IoC-view flow indices.
pub fn flows_mapping() -> Value {
    json!({ "mappings": { "dynamic": false, "properties": {
        "IocIP": {"type": "ip"}, "RemoteIP": {"type": "ip"}, "Exporter": {"type": "ip"},
        "TotalFlows": {"type": "long"},
        "RcvPackets": {"type": "long"}, "RcvOctets": {"type": "long"},
        "SendPackets": {"type": "long"}, "SendOctets": {"type": "long"},
        "IocPort": {"type": "long"}, "RemotePort": {"type": "long"},
        "Direction": {"type": "keyword"},
        "TimeStamp": {"type": "date", "format": "epoch_millis"},
        "IocAsName": {"type": "keyword"}, "IocAsNumber": {"type": "long"},
        "RemoteAsName": {"type": "keyword"}, "RemoteAsNumber": {"type": "long"},
        "IocGeoip": geo_mapping(), "RemoteGeoip": geo_mapping(),
        "TcpControlBits": {"type": "long"}, "Protocol": {"type": "long"},
        "IpVersion": {"type": "long"}, "FromIndex": {"type": "keyword"},
        "Date": {"type": "date", "format": "yyyy-MM-dd"}
    }}})
}

/// Mapping of the daily IoC summary indices.
pub fn ioc_mapping() -> Value {
    json!({ "mappings": { "dynamic": false, "properties": {
        "Date": {"type": "date", "format": "yyyy-MM-dd"}, "IocIP": {"type": "ip"},
        "Class": {"type": "keyword"}, "Detail": {"type": "keyword"},
        "Reasons": {"type": "object", "enabled": false},
        "TotalFlows": {"type": "long"}, "SampledFlows": {"type": "long"},
        "RemoteIps": {"type": "long"}, "SendFlows": {"type": "long"}, "RcvFlows": {"type": "long"},
        "SendPackets": {"type": "long"}, "SendOctets": {"type": "long"},
        "RcvPackets": {"type": "long"}, "RcvOctets": {"type": "long"},
        "FirstSeen": {"type": "date", "format": "epoch_millis"},
        "LastSeen": {"type": "date", "format": "epoch_millis"}
    }}})
}

/// Mapping of the daily RemoteIP summary indices.
pub fn remote_mapping() -> Value {
    json!({ "mappings": { "dynamic": false, "properties": {
        "Date": {"type": "date", "format": "yyyy-MM-dd"}, "RemoteIP": {"type": "ip"},
        "Watched": {"type": "boolean"},
        "Iocs": {"properties": {"IocIP": {"type": "ip"}, "Class": {"type": "keyword"}, "Role": {"type": "keyword"}}},
        "Roles": {"type": "keyword"}, "Protocols": {"type": "long"},
        "SendFlows": {"type": "long"}, "RcvFlows": {"type": "long"},
        "SendPackets": {"type": "long"}, "SendOctets": {"type": "long"},
        "RcvPackets": {"type": "long"}, "RcvOctets": {"type": "long"},
        "FirstSeen": {"type": "date", "format": "epoch_millis"},
        "LastSeen": {"type": "date", "format": "epoch_millis"}
    }}})
}

/// Mapping of the watched-host raw flow indices (IPFIX names).
pub fn watched_mapping() -> Value {
    json!({ "mappings": { "dynamic": false, "properties": {
        "sourceIPAddress": {"type": "ip"}, "destinationIPAddress": {"type": "ip"},
        "destinationTransportPort": {"type": "long"}, "protocolIdentifier": {"type": "long"},
        "flowStartMilliseconds": {"type": "date", "format": "epoch_millis"}
    }}})
}

/// Mapping of the verdict index.
pub fn verdicts_mapping() -> Value {
    json!({ "mappings": { "dynamic": false, "properties": {
        "ip": {"type": "ip"}, "subject": {"type": "keyword"}, "score": {"type": "double"},
        "level": {"type": "keyword"}, "labels": {"type": "keyword"},
        "first_seen": {"type": "date", "format": "yyyy-MM-dd"},
        "last_seen": {"type": "date", "format": "yyyy-MM-dd"},
        "days_seen": {"type": "long"}, "related": {"type": "ip"}, "family": {"type": "keyword"},
        "scored_at": {"type": "date", "format": "yyyy-MM-dd"},
        "label_dates": {"type": "object", "enabled": false},
        "evidence": {"type": "object", "enabled": false}
    }}})
}

/// Index settings of a fresh daily index while it is loaded: no periodic refresh, and
/// no replicas when a replica count is restored after the load.
fn load_settings(zero_replicas: bool) -> Value {
    if zero_replicas {
        json!({"index": {"refresh_interval": "-1", "number_of_replicas": 0}})
    } else {
        json!({"index": {"refresh_interval": "-1"}})
    }
}

/// Writes dead letters as JSON Lines to a file beside the run's data.
struct FileDeadLetters {
    path: PathBuf,
    count: u64,
    file: Option<std::fs::File>,
}

impl esclient::DeadLetterSink for FileDeadLetters {
    fn dead_letter(&mut self, doc: &BulkDoc, err: &esclient::Error) -> std::io::Result<()> {
        use std::io::Write as _;
        if self.file.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            self.file = Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?,
            );
        }
        self.count += 1;
        let line = json!({"index": doc.index, "id": doc.id, "error": err.to_string(), "document": doc.source});
        match self.file.as_mut() {
            Some(f) => writeln!(f, "{line}"),
            None => Ok(()),
        }
    }
}

/// The cluster as a result store.
pub struct EsStore {
    client: Client,
    names: IndexNames,
    bulk: BulkOptions,
    replicas: Option<u32>,
    dead_letter_dir: PathBuf,
    rt: tokio::runtime::Handle,
}

fn store_err(e: impl std::fmt::Display) -> scorer::ScorerError {
    scorer::ScorerError::Store(e.to_string().into())
}

impl EsStore {
    /// A store on `client` with the names and batch sizes of `cfg`; dead letters go
    /// under `data_dir/dead-letters/`.
    pub fn new(
        client: Client,
        cfg: &StoreConfig,
        data_dir: PathBuf,
        rt: tokio::runtime::Handle,
    ) -> Self {
        Self {
            client,
            names: IndexNames::new(&cfg.index_prefix),
            bulk: BulkOptions {
                max_batch_bytes: cfg.bulk_bytes,
                ..BulkOptions::default()
            },
            replicas: cfg.replicas,
            dead_letter_dir: data_dir.join("dead-letters"),
            rt,
        }
    }

    /// A line saying where results are.
    pub fn describe(&self) -> String {
        format!(
            "cluster {} (indices {}-*)",
            self.client.config().nodes.join(","),
            self.names.prefix
        )
    }

    /// Writes one day: creates the three daily indices (and the watched-flow index),
    /// loads them in load mode with deterministic ids, restores, refreshes once.
    pub async fn write_day(&mut self, day: &DayRecords) -> anyhow::Result<WriteOutcome> {
        let d = day.date;
        let targets = [
            (self.names.flows(d), flows_mapping()),
            (self.names.ioc(d), ioc_mapping()),
            (self.names.remote(d), remote_mapping()),
            (self.names.watched(d), watched_mapping()),
        ];
        // Replicas are dropped for the load only when a count to restore is configured.
        let zero_replicas = self.replicas.is_some();
        let mut modes = Vec::new();
        for (index, mapping) in &targets {
            // The day's indices are write-once: a re-run replaces them whole, so nothing
            // of an earlier run with other input is left behind.
            if self.client.delete_index(index).await? {
                tracing::info!(%index, "replacing the index of an earlier run of this day");
            }
            // Load settings go into the create call (elasticsearch-api.md §6.1); only an
            // index created meanwhile by another writer needs `_settings` for load mode.
            let mut body = mapping.clone();
            body["settings"] = load_settings(zero_replicas);
            let mode = match self.client.create_index(index, &body).await? {
                esclient::CreateOutcome::Created => esclient::LoadMode {
                    index: index.clone(),
                    zero_replicas,
                    translog_set: false,
                },
                esclient::CreateOutcome::AlreadyExists => {
                    self.client.set_load_mode(index, zero_replicas).await?
                }
            };
            modes.push(mode);
        }
        let mut docs: Vec<BulkDoc> =
            Vec::with_capacity(day.flows.len() + day.iocs.len() + day.remotes.len());
        let mut seq: rustc_hash::FxHashMap<IpAddr, u64> = Default::default();
        for f in &day.flows {
            let n = seq.entry(f.ioc_ip).or_default();
            docs.push(BulkDoc::new(
                &targets[0].0,
                format!("{}-{}", f.ioc_ip, n),
                f,
            )?);
            *n += 1;
        }
        for s in &day.iocs {
            docs.push(BulkDoc::new(&targets[1].0, s.ioc_ip.to_string(), s)?);
        }
        for s in &day.remotes {
            docs.push(BulkDoc::new(&targets[2].0, s.remote_ip.to_string(), s)?);
        }
        for (i, f) in day.watched_raw.iter().enumerate() {
            docs.push(BulkDoc::new(&targets[3].0, format!("w{i}"), f)?);
        }
        let mut dead = FileDeadLetters {
            path: self.dead_letter_dir.join(format!("{d}.jsonl")),
            count: 0,
            file: None,
        };
        let stats = self.client.bulk_index(docs, &mut dead, &self.bulk).await?;
        tracing::info!(
            indexed = stats.indexed,
            retried = stats.retried,
            failed = stats.failed,
            bytes = stats.bytes,
            "bulk load done"
        );
        for mode in &modes {
            self.client
                .restore_after_load(mode, self.replicas.unwrap_or(1))
                .await?;
        }
        for (index, _) in &targets {
            self.client.refresh(index).await?;
        }
        Ok(WriteOutcome {
            dead_lettered: dead.count,
            dead_letter_file: (dead.count > 0).then(|| dead.path.display().to_string()),
        })
    }

    /// Stores a run report (`iocflow-runs`, `_id` = the date).
    pub fn put_run_report(&self, date: NaiveDate, report: &Value) -> anyhow::Result<()> {
        let index = self.names.single("runs");
        self.rt.block_on(async {
            self.client
                .create_index(&index, &json!({"mappings": {"dynamic": false, "properties": {"date": {"type": "date", "format": "yyyy-MM-dd"}}}}))
                .await?;
            let mut doc = report.clone();
            doc["date"] = json!(date.to_string());
            self.client.upsert_doc(&index, &date.to_string(), &doc, 3).await?;
            anyhow::Ok(())
        })
    }

    fn scan_all<T: DeserializeOwned + Send + 'static>(
        &self,
        indices: Vec<String>,
        query: Value,
        sort_field: &str,
    ) -> anyhow::Result<Vec<T>> {
        let body = SearchBody {
            query: Some(query),
            sort: Some(vec![json!({ sort_field: "asc" })]),
            ..SearchBody::default()
        };
        let opts = ScanOptions {
            ignore_unavailable: true,
            ..ScanOptions::default()
        };
        self.rt.block_on(async {
            let mut out = Vec::new();
            let mut pages = std::pin::pin!(self.client.scan::<T>(indices, body, opts));
            while let Some(page) = pages.next().await {
                out.extend(page?.into_iter().filter_map(|h| h.source));
            }
            anyhow::Ok(out)
        })
    }

    /// Verdict rows, highest score first, optionally inside a network.
    pub fn verdict_rows(&self, within: Option<&ipnet::IpNet>) -> anyhow::Result<Vec<VerdictRow>> {
        let query = match within {
            Some(n) => json!({"term": {"ip": n.to_string()}}),
            None => json!({"match_all": {}}),
        };
        let docs: Vec<Value> = self.scan_all(vec![self.names.verdicts()], query, "ip")?;
        let mut rows: Vec<VerdictRow> = docs
            .into_iter()
            .filter_map(|doc| {
                let ip = doc.get("ip")?.as_str()?.parse().ok()?;
                Some(VerdictRow {
                    ip,
                    score: doc.get("score").and_then(Value::as_f64).unwrap_or(0.0),
                    level: doc
                        .get("level")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    doc,
                })
            })
            .collect();
        rows.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.ip.cmp(&b.ip)));
        Ok(rows)
    }

    /// Families (`true`) or relay candidates (`false`).
    pub fn list_docs(&self, families: bool) -> anyhow::Result<Vec<Value>> {
        let index = self
            .names
            .single(if families { "families" } else { "relays" });
        self.scan_all(vec![index], json!({"match_all": {}}), "_doc")
    }

    fn replace_collection(&self, kind: &str, docs: Vec<(String, Value)>) -> anyhow::Result<()> {
        let index = self.names.single(kind);
        self.rt.block_on(async {
            // The collection is recomputed whole by every analysis: drop the old one so
            // families and candidates that went away do not linger.
            self.client.delete_index(&index).await?;
            self.client
                .create_index(
                    &index,
                    &json!({"mappings": {"dynamic": false, "properties": {}}}),
                )
                .await?;
            let bulk: Vec<BulkDoc> = docs
                .iter()
                .map(|(id, d)| BulkDoc::new(&index, id.clone(), d))
                .collect::<Result<_, _>>()?;
            let mut dead = esclient::VecSink::default();
            let stats = self.client.bulk_index(bulk, &mut dead, &self.bulk).await?;
            if stats.failed > 0 {
                anyhow::bail!("{} documents of {index} could not be written", stats.failed);
            }
            self.client.refresh(&index).await?;
            anyhow::Ok(())
        })
    }

    fn range_query(field: &str, from: NaiveDate, to: NaiveDate) -> Value {
        json!({"range": {field: {"gte": from.to_string(), "lte": to.to_string(), "format": "yyyy-MM-dd"}}})
    }
}

impl scorer::EvidenceSource for EsStore {
    fn days(&self) -> scorer::Result<Vec<NaiveDate>> {
        // One composite aggregation over the IoC summaries' `Date` instead of reading
        // every summary: the cluster answers with one bucket per day.
        let opts = esclient::SearchOptions {
            ignore_unavailable: true,
        };
        let buckets = self
            .rt
            .block_on(self.client.composite_counts(
                &[self.names.pattern("ioc")],
                "Date",
                None,
                1000,
                &opts,
            ))
            .map_err(store_err)?;
        let mut days = Vec::with_capacity(buckets.len());
        for (key, _) in buckets {
            // A `date` field's key is epoch milliseconds; accept the text form too.
            let day = key.parse::<NaiveDate>().ok().or_else(|| {
                key.parse::<i64>()
                    .ok()
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|t| t.date_naive())
            });
            match day {
                Some(d) => days.push(d),
                None => return Err(store_err(format!("unexpected Date bucket key {key:?}"))),
            }
        }
        days.sort();
        days.dedup();
        Ok(days)
    }

    fn remote_summaries(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> scorer::Result<Vec<RemoteDaySummary>> {
        self.scan_all(
            vec![self.names.pattern("remote")],
            Self::range_query("Date", from, to),
            "Date",
        )
        .map_err(store_err)
    }

    fn ioc_summaries(&self, from: NaiveDate, to: NaiveDate) -> scorer::Result<Vec<IocDaySummary>> {
        self.scan_all(
            vec![self.names.pattern("ioc")],
            Self::range_query("Date", from, to),
            "Date",
        )
        .map_err(store_err)
    }

    fn visit_ioc_flows(
        &self,
        remotes: &[IpAddr],
        from: NaiveDate,
        to: NaiveDate,
        visit: &mut dyn FnMut(&IocFlow),
    ) -> scorer::Result<()> {
        for chunk in remotes.chunks(1000) {
            let terms: Vec<String> = chunk.iter().map(|ip| ip.to_string()).collect();
            let query = json!({"bool": {"filter": [
                {"terms": {"RemoteIP": terms}},
                Self::range_query("Date", from, to),
            ]}});
            let flows: Vec<IocFlow> = self
                .scan_all(vec![self.names.pattern("flows")], query, "TimeStamp")
                .map_err(store_err)?;
            for f in &flows {
                visit(f);
            }
        }
        Ok(())
    }

    fn raw_flows_of_hosts(
        &self,
        hosts: &[IpAddr],
        days: &[NaiveDate],
    ) -> scorer::Result<Vec<RawFlow>> {
        let parser = flowmodel::FlowParser::default();
        let indices: Vec<String> = days.iter().map(|d| self.names.watched(*d)).collect();
        if indices.is_empty() || hosts.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for chunk in hosts.chunks(1000) {
            let terms: Vec<String> = chunk.iter().map(|ip| ip.to_string()).collect();
            let query = json!({"bool": {"should": [
                {"terms": {"sourceIPAddress": terms}},
                {"terms": {"destinationIPAddress": terms}},
            ], "minimum_should_match": 1}});
            let docs: Vec<Value> = self
                .scan_all(indices.clone(), query, "flowStartMilliseconds")
                .map_err(store_err)?;
            for d in docs {
                out.push(parser.parse_value(&d).map_err(store_err)?);
            }
        }
        Ok(out)
    }
}

impl scorer::VerdictSink for &EsStore {
    fn load_verdicts(&self, ips: &[IpAddr]) -> scorer::Result<Vec<scorer::Verdict>> {
        let mut out = Vec::new();
        for chunk in ips.chunks(1000) {
            let terms: Vec<String> = chunk.iter().map(|ip| ip.to_string()).collect();
            let docs: Vec<scorer::Verdict> = self
                .scan_all(
                    vec![self.names.verdicts()],
                    json!({"terms": {"ip": terms}}),
                    "ip",
                )
                .map_err(store_err)?;
            out.extend(docs);
        }
        Ok(out)
    }

    fn upsert_verdicts(&mut self, verdicts: &[scorer::Verdict]) -> scorer::Result<()> {
        let index = self.names.verdicts();
        self.rt
            .block_on(async {
                self.client
                    .create_index(&index, &verdicts_mapping())
                    .await?;
                // The whole verdict is recomputed from its evidence on every analysis, so
                // indexing it by `_id` = IP is the upsert.
                let docs: Vec<BulkDoc> = verdicts
                    .iter()
                    .map(|v| BulkDoc::new(&index, v.ip.to_string(), v))
                    .collect::<Result<_, _>>()?;
                let mut dead = esclient::VecSink::default();
                let stats = self.client.bulk_index(docs, &mut dead, &self.bulk).await?;
                if stats.failed > 0 {
                    anyhow::bail!("{} verdicts could not be written", stats.failed);
                }
                self.client.refresh(&index).await?;
                anyhow::Ok(())
            })
            .map_err(store_err)
    }

    fn load_families(&self) -> scorer::Result<Vec<scorer::Family>> {
        let index = self.names.single("families");
        self.scan_all(vec![index], json!({"match_all": {}}), "_doc")
            .map_err(store_err)
    }

    fn replace_families(&mut self, families: &[scorer::Family]) -> scorer::Result<()> {
        let docs = families
            .iter()
            .map(|f| Ok((f.id.clone(), serde_json::to_value(f)?)))
            .collect::<Result<Vec<_>, serde_json::Error>>()
            .map_err(store_err)?;
        self.replace_collection("families", docs).map_err(store_err)
    }

    fn replace_relay_candidates(&mut self, c: &[scorer::RelayCandidate]) -> scorer::Result<()> {
        let docs = c
            .iter()
            .map(|r| Ok((r.ip.to_string(), serde_json::to_value(r)?)))
            .collect::<Result<Vec<_>, serde_json::Error>>()
            .map_err(store_err)?;
        self.replace_collection("relays", docs).map_err(store_err)
    }
}
