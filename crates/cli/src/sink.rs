//! The result store of a command: the embedded SQLite store (default) or the
//! Elasticsearch/OpenSearch cluster (`--store-es`).

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use chrono::NaiveDate;
use rustc_hash::FxHashSet;
use store::{DayRecords, SqliteStore};

use crate::UsageError;
use crate::args::StoreArgs;
use crate::config::Config;
use crate::esstore::EsStore;

/// The tokio runtime every network call of a command runs on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// A client for `url`, with the connection settings of the config and the secrets of
/// the environment.
pub fn es_client(url: &str, cfg: &Config) -> anyhow::Result<esclient::Client> {
    let mut c = cfg.es.clone();
    c.nodes = url.split(',').map(|s| s.trim().to_owned()).collect();
    let password = crate::secrets::from_env("IOCFLOW_ES_PASSWORD")?;
    let api_key = crate::secrets::from_env("IOCFLOW_ES_API_KEY")?;
    let user = std::env::var("IOCFLOW_ES_USER").ok();
    c.auth = match (api_key, password) {
        (Some(k), _) => Some(esclient::Auth::ApiKey {
            encoded: esclient::Secret::new(k.expose().to_owned()),
        }),
        (None, Some(p)) => Some(esclient::Auth::Basic {
            user: user.unwrap_or_else(|| "elastic".into()),
            password: esclient::Secret::new(p.expose().to_owned()),
        }),
        (None, None) => c.auth,
    };
    esclient::Client::new(c)
        .map_err(|e| anyhow::Error::new(UsageError(format!("Elasticsearch client: {e}"))))
}

/// What writing a day did.
#[derive(Debug, Default)]
pub struct WriteOutcome {
    /// Documents that failed after retries (Elasticsearch only).
    pub dead_lettered: u64,
    /// Where they went.
    pub dead_letter_file: Option<String>,
}

/// The result store of a command.
pub enum Results {
    /// The embedded store.
    Sqlite(SqliteStore),
    /// The cluster.
    Es(Box<EsStore>),
}

impl Results {
    /// Opens the store the flags (or the config) name.
    pub fn open(a: &StoreArgs, cfg: &Config, rt: &tokio::runtime::Runtime) -> anyhow::Result<Self> {
        // `--data-dir` on the command line wins over a cluster named in the config.
        let es = a.store_es.as_deref().or(if a.data_dir.is_none() {
            cfg.store.es.as_deref()
        } else {
            None
        });
        if let Some(url) = es {
            let client = es_client(url, cfg)?;
            let dir = a
                .data_dir
                .clone()
                .unwrap_or_else(|| cfg.store.data_dir.clone());
            return Ok(Self::Es(Box::new(EsStore::new(
                client,
                &cfg.store,
                dir,
                rt.handle().clone(),
            ))));
        }
        let dir: PathBuf = a
            .data_dir
            .clone()
            .unwrap_or_else(|| cfg.store.data_dir.clone());
        Ok(Self::Sqlite(SqliteStore::open(&dir).with_context(
            || format!("embedded store in {}", dir.display()),
        )?))
    }

    /// A line saying where results are.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(s) => format!("embedded store {}", s.path().display()),
            Self::Es(e) => e.describe(),
        }
    }

    /// Replaces one day's records.
    pub fn write_day(
        &mut self,
        day: &DayRecords,
        rt: &tokio::runtime::Runtime,
    ) -> anyhow::Result<WriteOutcome> {
        match self {
            Self::Sqlite(s) => {
                s.write_day(day)?;
                Ok(WriteOutcome::default())
            }
            Self::Es(e) => rt.block_on(e.write_day(day)),
        }
    }

    /// RemoteIPs watched on any of the `days` days before `date`.
    pub fn watched_hosts_before(
        &self,
        date: NaiveDate,
        days: i64,
    ) -> anyhow::Result<FxHashSet<IpAddr>> {
        let from = date - chrono::Duration::days(days.max(0));
        let to = date - chrono::Duration::days(1);
        if to < from {
            return Ok(FxHashSet::default());
        }
        let summaries = match self {
            Self::Sqlite(s) => s.remote_summaries(from, to)?,
            Self::Es(e) => scorer::EvidenceSource::remote_summaries(e.as_ref(), from, to)?,
        };
        Ok(summaries
            .into_iter()
            .filter(|r| r.watched)
            .map(|r| r.remote_ip)
            .collect())
    }

    /// Stores a run report.
    pub fn put_run_report(
        &mut self,
        date: NaiveDate,
        report: &serde_json::Value,
    ) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(s) => Ok(s.put_run_report(date, report)?),
            Self::Es(e) => e.put_run_report(date, report),
        }
    }

    /// The scorer's view of the store.
    pub fn source(&self) -> &dyn scorer::EvidenceSource {
        match self {
            Self::Sqlite(s) => s,
            Self::Es(e) => e.as_ref(),
        }
    }
}
