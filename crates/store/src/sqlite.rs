//! The SQLite implementation.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use flowmodel::{IocDaySummary, IocFlow, RawFlow, RemoteDaySummary};
use ipnet::IpNet;
use rusqlite::{Connection, OptionalExtension, params};

/// The schema version this code writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "iocflow.db";

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created or read.
    #[error("data directory {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("SQLite ({path}): {source}")]
    Sql {
        /// The database file.
        path: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
    /// A stored document could not be read back.
    #[error("corrupt {table} row in {path}: {reason}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// The table.
        table: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The database was written by a newer iocflow.
    #[error("{path} has schema version {found}; this iocflow understands up to {SCHEMA_VERSION}")]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its version.
        found: i64,
    },
}

/// Everything one daily run writes for one day.
#[derive(Debug, Clone, Default)]
pub struct DayRecords {
    /// The day.
    pub date: NaiveDate,
    /// IoC-view flows (the kept samples).
    pub flows: Vec<IocFlow>,
    /// One summary per IoC.
    pub iocs: Vec<IocDaySummary>,
    /// One summary per RemoteIP.
    pub remotes: Vec<RemoteDaySummary>,
    /// Raw flows of watched hosts to non-IoC peers (for relay-migration look-ups).
    pub watched_raw: Vec<RawFlow>,
}

/// A verdict as stored: the indexed columns and the whole document.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictRow {
    /// The IP (`_id`).
    pub ip: IpAddr,
    /// Its score.
    pub score: f64,
    /// Its level (`watch`, `suspicious`, `high`, or empty below `watch`).
    pub level: String,
    /// The whole verdict document (JSON).
    pub doc: serde_json::Value,
}

/// A 16-byte sort key for an address: IPv4 as `::ffff:a.b.c.d`, IPv6 as is, so one
/// network is one contiguous key range.
pub fn ip_key(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

fn net_range(net: &IpNet) -> ([u8; 16], [u8; 16]) {
    (ip_key(net.network()), ip_key(net.broadcast()))
}

/// The embedded store.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS ioc_flows (
    date      TEXT NOT NULL,
    ioc       TEXT NOT NULL,
    remote    TEXT NOT NULL,
    remote_key BLOB NOT NULL,
    ts        INTEGER NOT NULL,
    doc       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ioc_flows_date ON ioc_flows(date, ioc);
CREATE INDEX IF NOT EXISTS ioc_flows_remote ON ioc_flows(remote_key, date);
CREATE TABLE IF NOT EXISTS ioc_days (
    date   TEXT NOT NULL,
    ioc    TEXT NOT NULL,
    class  TEXT NOT NULL,
    total  INTEGER NOT NULL,
    doc    TEXT NOT NULL,
    PRIMARY KEY (date, ioc)
);
CREATE TABLE IF NOT EXISTS remote_days (
    date       TEXT NOT NULL,
    remote     TEXT NOT NULL,
    remote_key BLOB NOT NULL,
    watched    INTEGER NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (date, remote)
);
CREATE INDEX IF NOT EXISTS remote_days_key ON remote_days(remote_key, date);
CREATE TABLE IF NOT EXISTS watched_raw (
    date     TEXT NOT NULL,
    src_key  BLOB NOT NULL,
    dst_key  BLOB NOT NULL,
    doc      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS watched_raw_src ON watched_raw(src_key, date);
CREATE INDEX IF NOT EXISTS watched_raw_dst ON watched_raw(dst_key, date);
CREATE TABLE IF NOT EXISTS verdicts (
    ip      TEXT PRIMARY KEY,
    ip_key  BLOB NOT NULL,
    score   REAL NOT NULL,
    level   TEXT NOT NULL,
    doc     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_key ON verdicts(ip_key);
CREATE INDEX IF NOT EXISTS verdicts_score ON verdicts(score);
CREATE TABLE IF NOT EXISTS families (
    id   TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS relay_candidates (
    ip   TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    date   TEXT PRIMARY KEY,
    report TEXT NOT NULL
);
"#;

/// A record as the JSON document a row stores.
fn to_doc<T: serde::Serialize>(
    path: &Path,
    table: &'static str,
    record: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(|e| StoreError::Corrupt {
        path: path.to_owned(),
        table,
        reason: e.to_string(),
    })
}

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

impl SqliteStore {
    /// Opens (creating if needed) `dir/iocflow.db` and brings its schema up to date.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(|source| StoreError::Sql {
            path: path.clone(),
            source,
        })?;
        let mut s = Self { conn, path };
        s.migrate()?;
        Ok(s)
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    fn corrupt(&self, table: &'static str, reason: impl ToString) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            table,
            reason: reason.to_string(),
        }
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.sql(e))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
            });
        }
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| self.sql(e))?;
        if version < SCHEMA_VERSION {
            let tx = self.conn.transaction().map_err(|e| StoreError::Sql {
                path: self.path.clone(),
                source: e,
            })?;
            tx.execute_batch(SCHEMA)
                .and_then(|_| tx.pragma_update(None, "user_version", SCHEMA_VERSION))
                .and_then(|_| tx.commit())
                .map_err(|e| StoreError::Sql {
                    path: self.path.clone(),
                    source: e,
                })?;
        }
        Ok(())
    }

    /// Replaces everything stored for `day.date` with `day`, in one transaction.
    pub fn write_day(&mut self, day: &DayRecords) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        let date = day_text(day.date);
        let tx = self.conn.transaction().map_err(err)?;
        for table in ["ioc_flows", "ioc_days", "remote_days", "watched_raw"] {
            tx.execute(&format!("DELETE FROM {table} WHERE date = ?1"), [&date])
                .map_err(err)?;
        }
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO ioc_flows (date, ioc, remote, remote_key, ts, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(err)?;
            for f in &day.flows {
                let doc = to_doc(&path, "ioc_flows", f)?;
                st.execute(params![
                    date,
                    f.ioc_ip.to_string(),
                    f.remote_ip.to_string(),
                    &ip_key(f.remote_ip)[..],
                    f.time_stamp,
                    doc
                ])
                .map_err(err)?;
            }
            let mut st = tx
                .prepare("INSERT OR REPLACE INTO ioc_days (date, ioc, class, total, doc) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(err)?;
            for s in &day.iocs {
                let doc = to_doc(&path, "ioc_days", s)?;
                st.execute(params![
                    date,
                    s.ioc_ip.to_string(),
                    s.class.as_str(),
                    s.total_flows as i64,
                    doc
                ])
                .map_err(err)?;
            }
            let mut st = tx
                .prepare("INSERT OR REPLACE INTO remote_days (date, remote, remote_key, watched, doc) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(err)?;
            for s in &day.remotes {
                let doc = to_doc(&path, "remote_days", s)?;
                st.execute(params![
                    date,
                    s.remote_ip.to_string(),
                    &ip_key(s.remote_ip)[..],
                    s.watched,
                    doc
                ])
                .map_err(err)?;
            }
            let mut st = tx
                .prepare(
                    "INSERT INTO watched_raw (date, src_key, dst_key, doc) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(err)?;
            for f in &day.watched_raw {
                let doc = to_doc(&path, "watched_raw", f)?;
                st.execute(params![date, &ip_key(f.src)[..], &ip_key(f.dst)[..], doc])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Days that have IoC summaries, ascending.
    pub fn days(&self) -> Result<Vec<NaiveDate>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT DISTINCT date FROM ioc_days ORDER BY date")
            .map_err(|e| self.sql(e))?;
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for r in rows {
            let text = r.map_err(|e| self.sql(e))?;
            out.push(
                text.parse()
                    .map_err(|e| self.corrupt("ioc_days", format!("date {text:?}: {e}")))?,
            );
        }
        Ok(out)
    }

    fn docs<T: serde::de::DeserializeOwned>(
        &self,
        table: &'static str,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<T>, StoreError> {
        let mut st = self.conn.prepare_cached(sql).map_err(|e| self.sql(e))?;
        let rows = st
            .query_map(params, |r| r.get::<_, String>(0))
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for r in rows {
            let text = r.map_err(|e| self.sql(e))?;
            out.push(serde_json::from_str(&text).map_err(|e| self.corrupt(table, e))?);
        }
        Ok(out)
    }

    /// IoC summaries with `from <= date <= to`, by date then IoC.
    pub fn ioc_summaries(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<IocDaySummary>, StoreError> {
        self.docs(
            "ioc_days",
            "SELECT doc FROM ioc_days WHERE date BETWEEN ?1 AND ?2 ORDER BY date, ioc",
            params![day_text(from), day_text(to)],
        )
    }

    /// RemoteIP summaries with `from <= date <= to`, by date then RemoteIP.
    pub fn remote_summaries(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<RemoteDaySummary>, StoreError> {
        self.docs(
            "remote_days",
            "SELECT doc FROM remote_days WHERE date BETWEEN ?1 AND ?2 ORDER BY date, remote_key",
            params![day_text(from), day_text(to)],
        )
    }

    /// IoC-view flows of the given RemoteIPs over a date range.
    pub fn ioc_flows_of_remotes(
        &self,
        remotes: &[IpAddr],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<IocFlow>, StoreError> {
        let mut out = Vec::new();
        self.visit_flows_of_remotes(remotes, from, to, &mut |f| out.push(f.clone()))?;
        Ok(out)
    }

    /// Calls `visit` for every IoC-view flow of the given RemoteIPs over a date range,
    /// without collecting them.
    pub fn visit_flows_of_remotes(
        &self,
        remotes: &[IpAddr],
        from: NaiveDate,
        to: NaiveDate,
        visit: &mut dyn FnMut(&IocFlow),
    ) -> Result<(), StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT doc FROM ioc_flows WHERE remote_key = ?1 AND date BETWEEN ?2 AND ?3 ORDER BY date, ts",
            )
            .map_err(|e| self.sql(e))?;
        let (from, to) = (day_text(from), day_text(to));
        for ip in remotes {
            let rows = st
                .query_map(params![&ip_key(*ip)[..], from, to], |r| {
                    r.get::<_, String>(0)
                })
                .map_err(|e| self.sql(e))?;
            for r in rows {
                let text = r.map_err(|e| self.sql(e))?;
                let flow: IocFlow =
                    serde_json::from_str(&text).map_err(|e| self.corrupt("ioc_flows", e))?;
                visit(&flow);
            }
        }
        Ok(())
    }

    /// IoC-view flows of one day (all IoCs), in insertion order.
    pub fn ioc_flows_of_day(&self, date: NaiveDate) -> Result<Vec<IocFlow>, StoreError> {
        self.docs(
            "ioc_flows",
            "SELECT doc FROM ioc_flows WHERE date = ?1 ORDER BY rowid",
            params![day_text(date)],
        )
    }

    /// Raw flows stored for watched hosts, where `hosts` is the source or destination,
    /// on the given days.
    pub fn raw_flows_of_hosts(
        &self,
        hosts: &[IpAddr],
        days: &[NaiveDate],
    ) -> Result<Vec<RawFlow>, StoreError> {
        let parser = flowmodel::FlowParser::default();
        let mut out = Vec::new();
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT doc FROM watched_raw WHERE date = ?1 AND (src_key = ?2 OR dst_key = ?2) ORDER BY rowid",
            )
            .map_err(|e| self.sql(e))?;
        for d in days {
            for h in hosts {
                let rows = st
                    .query_map(params![day_text(*d), &ip_key(*h)[..]], |r| {
                        r.get::<_, String>(0)
                    })
                    .map_err(|e| self.sql(e))?;
                for r in rows {
                    let text = r.map_err(|e| self.sql(e))?;
                    out.push(
                        parser
                            .parse(text.as_bytes())
                            .map_err(|e| self.corrupt("watched_raw", e))?,
                    );
                }
            }
        }
        Ok(out)
    }

    /// Inserts or replaces verdicts (one row per IP), in one transaction.
    pub fn upsert_verdicts(&self, rows: &[VerdictRow]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.unchecked_transaction().map_err(err)?;
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO verdicts (ip, ip_key, score, level, doc) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(ip) DO UPDATE SET score = excluded.score, level = excluded.level, doc = excluded.doc",
                )
                .map_err(err)?;
            for v in rows {
                st.execute(params![
                    v.ip.to_string(),
                    &ip_key(v.ip)[..],
                    v.score,
                    v.level,
                    v.doc.to_string()
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Verdicts, highest score first; only those inside `within` when given.
    pub fn verdicts(&self, within: Option<&IpNet>) -> Result<Vec<VerdictRow>, StoreError> {
        let (lo, hi) = match within {
            Some(n) => net_range(n),
            None => ([0u8; 16], [0xffu8; 16]),
        };
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT ip, score, level, doc FROM verdicts WHERE ip_key BETWEEN ?1 AND ?2 ORDER BY score DESC, ip_key",
            )
            .map_err(|e| self.sql(e))?;
        let rows = st
            .query_map(params![&lo[..], &hi[..]], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, f64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for r in rows {
            let (ip, score, level, doc) = r.map_err(|e| self.sql(e))?;
            out.push(VerdictRow {
                ip: ip
                    .parse()
                    .map_err(|e| self.corrupt("verdicts", format!("ip {ip:?}: {e}")))?,
                score,
                level,
                doc: serde_json::from_str(&doc).map_err(|e| self.corrupt("verdicts", e))?,
            });
        }
        Ok(out)
    }

    /// One IP's verdict.
    pub fn verdict(&self, ip: IpAddr) -> Result<Option<VerdictRow>, StoreError> {
        let net = IpNet::from(ip);
        Ok(self.verdicts(Some(&net))?.into_iter().next())
    }

    /// Replaces a whole keyed collection (`families` or `relay_candidates`).
    fn replace_keyed(
        &self,
        table: &'static str,
        rows: &[(String, serde_json::Value)],
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.unchecked_transaction().map_err(err)?;
        tx.execute(&format!("DELETE FROM {table}"), [])
            .map_err(err)?;
        {
            let key = if table == "families" { "id" } else { "ip" };
            let mut st = tx
                .prepare(&format!(
                    "INSERT OR REPLACE INTO {table} ({key}, doc) VALUES (?1, ?2)"
                ))
                .map_err(err)?;
            for (k, doc) in rows {
                st.execute(params![k, doc.to_string()]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Replaces the families (key = family id).
    pub fn replace_families(&self, rows: &[(String, serde_json::Value)]) -> Result<(), StoreError> {
        self.replace_keyed("families", rows)
    }

    /// Replaces the relay-migration candidates (key = candidate IP).
    pub fn replace_relay_candidates(
        &self,
        rows: &[(String, serde_json::Value)],
    ) -> Result<(), StoreError> {
        self.replace_keyed("relay_candidates", rows)
    }

    fn all_docs(&self, table: &'static str) -> Result<Vec<serde_json::Value>, StoreError> {
        self.docs(
            table,
            &format!("SELECT doc FROM {table} ORDER BY rowid"),
            [],
        )
    }

    /// The stored families.
    pub fn families(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        self.all_docs("families")
    }

    /// The stored relay-migration candidates.
    pub fn relay_candidates(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        self.all_docs("relay_candidates")
    }

    /// Stores the report of a daily run.
    pub fn put_run_report(
        &mut self,
        date: NaiveDate,
        report: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO runs (date, report) VALUES (?1, ?2)",
                params![day_text(date), report.to_string()],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// The report of the daily run of `date`, if any.
    pub fn run_report(&self, date: NaiveDate) -> Result<Option<serde_json::Value>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT report FROM runs WHERE date = ?1",
                [day_text(date)],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| self.corrupt("runs", e)))
            .transpose()
    }

    /// Row counts per table (for reports and tests).
    pub fn counts(&self) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let mut out = Vec::new();
        for t in [
            "ioc_flows",
            "ioc_days",
            "remote_days",
            "watched_raw",
            "verdicts",
            "families",
            "relay_candidates",
            "runs",
        ] {
            let n: i64 = self
                .conn
                .query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))
                .map_err(|e| self.sql(e))?;
            out.push((t, n as u64));
        }
        Ok(out)
    }
}
