//! The scorer's view of the embedded store: evidence in, verdicts out.

use std::net::IpAddr;

use chrono::NaiveDate;
use flowmodel::{IocDaySummary, IocFlow, RawFlow, RemoteDaySummary};
use scorer::{EvidenceSource, Family, RelayCandidate, ScorerError, Verdict, VerdictSink};

use crate::sqlite::{SqliteStore, VerdictRow};

fn se(e: impl std::error::Error + Send + Sync + 'static) -> ScorerError {
    ScorerError::store(e)
}

impl EvidenceSource for SqliteStore {
    fn days(&self) -> scorer::Result<Vec<NaiveDate>> {
        SqliteStore::days(self).map_err(se)
    }

    fn remote_summaries(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> scorer::Result<Vec<RemoteDaySummary>> {
        SqliteStore::remote_summaries(self, from, to).map_err(se)
    }

    fn ioc_summaries(&self, from: NaiveDate, to: NaiveDate) -> scorer::Result<Vec<IocDaySummary>> {
        SqliteStore::ioc_summaries(self, from, to).map_err(se)
    }

    fn visit_ioc_flows(
        &self,
        remotes: &[IpAddr],
        from: NaiveDate,
        to: NaiveDate,
        visit: &mut dyn FnMut(&IocFlow),
    ) -> scorer::Result<()> {
        self.visit_flows_of_remotes(remotes, from, to, visit)
            .map_err(se)
    }

    fn raw_flows_of_hosts(
        &self,
        hosts: &[IpAddr],
        days: &[NaiveDate],
    ) -> scorer::Result<Vec<RawFlow>> {
        SqliteStore::raw_flows_of_hosts(self, hosts, days).map_err(se)
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> scorer::Result<serde_json::Value> {
    serde_json::to_value(v).map_err(se)
}

/// Verdicts are written through a shared reference: the scorer reads evidence and
/// writes verdicts through the same store, and SQLite serialises both.
impl VerdictSink for &SqliteStore {
    fn load_verdicts(&self, ips: &[IpAddr]) -> scorer::Result<Vec<Verdict>> {
        let mut out = Vec::new();
        for ip in ips {
            if let Some(row) = self.verdict(*ip).map_err(se)? {
                out.push(serde_json::from_value(row.doc).map_err(se)?);
            }
        }
        Ok(out)
    }

    fn upsert_verdicts(&mut self, verdicts: &[Verdict]) -> scorer::Result<()> {
        let rows = verdicts
            .iter()
            .map(|v| {
                let doc = to_json(v)?;
                Ok(VerdictRow {
                    ip: v.ip,
                    score: v.score,
                    level: doc
                        .get("level")
                        .and_then(|l| l.as_str())
                        .unwrap_or("")
                        .to_owned(),
                    doc,
                })
            })
            .collect::<scorer::Result<Vec<_>>>()?;
        SqliteStore::upsert_verdicts(self, &rows).map_err(se)
    }

    fn load_families(&self) -> scorer::Result<Vec<Family>> {
        self.families()
            .map_err(se)?
            .into_iter()
            .map(|d| serde_json::from_value(d).map_err(se))
            .collect()
    }

    fn replace_families(&mut self, families: &[Family]) -> scorer::Result<()> {
        let rows = families
            .iter()
            .map(|f| Ok((f.id.clone(), to_json(f)?)))
            .collect::<scorer::Result<Vec<_>>>()?;
        SqliteStore::replace_families(self, &rows).map_err(se)
    }

    fn replace_relay_candidates(&mut self, candidates: &[RelayCandidate]) -> scorer::Result<()> {
        let rows = candidates
            .iter()
            .map(|c| Ok((c.ip.to_string(), to_json(c)?)))
            .collect::<scorer::Result<Vec<_>>>()?;
        SqliteStore::replace_relay_candidates(self, &rows).map_err(se)
    }
}
