//! Data access: [`EvidenceSource`] (what the daily runs stored), [`VerdictSink`] (what
//! the scorer writes) and [`MemoryStore`], an in-memory implementation of both.
//!
//! Both traits are synchronous and object-safe; the embedded store and the
//! Elasticsearch store implement them in the pipeline.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::NaiveDate;
use flowmodel::{IocDaySummary, IocFlow, RawFlow, RemoteDaySummary};
use rustc_hash::FxHashSet;

use crate::error::Result;
use crate::records::{Family, RelayCandidate, Verdict};

/// Reads the evidence of the daily runs. Every range is inclusive (`from ..= to`).
pub trait EvidenceSource {
    /// The days that have summaries (sorted).
    fn days(&self) -> Result<Vec<NaiveDate>>;
    /// Every RemoteIP summary of the days in range.
    fn remote_summaries(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<RemoteDaySummary>>;
    /// Every IoC summary of the days in range.
    fn ioc_summaries(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<IocDaySummary>>;
    /// Calls `visit` for every stored IoC-view flow of the given RemoteIPs in range (a
    /// stream, so 5 M flows need not sit in memory twice).
    fn visit_ioc_flows(
        &self,
        remotes: &[IpAddr],
        from: NaiveDate,
        to: NaiveDate,
        visit: &mut dyn FnMut(&IocFlow),
    ) -> Result<()>;
    /// Raw flows (either direction) of the given hosts on the given days, for the
    /// relay-migration look-ups.
    fn raw_flows_of_hosts(&self, hosts: &[IpAddr], days: &[NaiveDate]) -> Result<Vec<RawFlow>>;

    /// The IoC-view flows of the given RemoteIPs in range, collected.
    fn ioc_flows_of_remotes(
        &self,
        remotes: &[IpAddr],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<IocFlow>> {
        let mut out = Vec::new();
        self.visit_ioc_flows(remotes, from, to, &mut |f| out.push(f.clone()))?;
        Ok(out)
    }
}

/// Keeps what the scorer decides.
pub trait VerdictSink {
    /// The stored verdicts of these IPs (absent ones are skipped).
    fn load_verdicts(&self, ips: &[IpAddr]) -> Result<Vec<Verdict>>;
    /// Inserts or replaces verdicts by `ip`.
    fn upsert_verdicts(&mut self, verdicts: &[Verdict]) -> Result<()>;
    /// The families of the previous run (for stable ids and migration).
    fn load_families(&self) -> Result<Vec<Family>>;
    /// Replaces the stored families.
    fn replace_families(&mut self, families: &[Family]) -> Result<()>;
    /// Replaces the stored relay candidates.
    fn replace_relay_candidates(&mut self, candidates: &[RelayCandidate]) -> Result<()>;
}

/// Everything in memory: the evidence of the daily runs and the scorer's output.
/// For tests, demos and benchmarks.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    /// RemoteIP summaries by day.
    pub remote: BTreeMap<NaiveDate, Vec<RemoteDaySummary>>,
    /// IoC summaries by day.
    pub ioc: BTreeMap<NaiveDate, Vec<IocDaySummary>>,
    /// IoC-view flows by day.
    pub flows: BTreeMap<NaiveDate, Vec<IocFlow>>,
    /// Raw flows by day.
    pub raw: BTreeMap<NaiveDate, Vec<RawFlow>>,
    /// Verdicts by IP.
    pub verdicts: BTreeMap<IpAddr, Verdict>,
    /// Families.
    pub families: Vec<Family>,
    /// Relay candidates.
    pub candidates: Vec<RelayCandidate>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores one day of the daily run's output, replacing what that day held (like a
    /// re-run of the day).
    pub fn put_day(
        &mut self,
        date: NaiveDate,
        iocs: Vec<IocDaySummary>,
        remotes: Vec<RemoteDaySummary>,
        flows: Vec<IocFlow>,
        raw: Vec<RawFlow>,
    ) {
        self.ioc.insert(date, iocs);
        self.remote.insert(date, remotes);
        self.flows.insert(date, flows);
        self.raw.insert(date, raw);
    }

    /// Verdicts sorted by score, highest first (ties by IP).
    pub fn ranked_verdicts(&self) -> Vec<&Verdict> {
        let mut v: Vec<&Verdict> = self.verdicts.values().collect();
        v.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.ip.cmp(&b.ip)));
        v
    }
}

impl EvidenceSource for MemoryStore {
    fn days(&self) -> Result<Vec<NaiveDate>> {
        let mut d: Vec<NaiveDate> = self.remote.keys().chain(self.ioc.keys()).copied().collect();
        d.sort();
        d.dedup();
        Ok(d)
    }

    fn remote_summaries(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<RemoteDaySummary>> {
        if from > to {
            return Ok(Vec::new());
        }
        Ok(self
            .remote
            .range(from..=to)
            .flat_map(|(_, v)| v.iter().cloned())
            .collect())
    }

    fn ioc_summaries(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<IocDaySummary>> {
        if from > to {
            return Ok(Vec::new());
        }
        Ok(self
            .ioc
            .range(from..=to)
            .flat_map(|(_, v)| v.iter().cloned())
            .collect())
    }

    fn visit_ioc_flows(
        &self,
        remotes: &[IpAddr],
        from: NaiveDate,
        to: NaiveDate,
        visit: &mut dyn FnMut(&IocFlow),
    ) -> Result<()> {
        if from > to {
            return Ok(());
        }
        let want: FxHashSet<IpAddr> = remotes.iter().copied().collect();
        for (_, flows) in self.flows.range(from..=to) {
            for f in flows.iter().filter(|f| want.contains(&f.remote_ip)) {
                visit(f);
            }
        }
        Ok(())
    }

    fn raw_flows_of_hosts(&self, hosts: &[IpAddr], days: &[NaiveDate]) -> Result<Vec<RawFlow>> {
        let want: FxHashSet<IpAddr> = hosts.iter().copied().collect();
        let mut out = Vec::new();
        for d in days {
            if let Some(flows) = self.raw.get(d) {
                out.extend(
                    flows
                        .iter()
                        .filter(|f| want.contains(&f.src) || want.contains(&f.dst))
                        .cloned(),
                );
            }
        }
        Ok(out)
    }
}

impl VerdictSink for MemoryStore {
    fn load_verdicts(&self, ips: &[IpAddr]) -> Result<Vec<Verdict>> {
        Ok(ips
            .iter()
            .filter_map(|ip| self.verdicts.get(ip).cloned())
            .collect())
    }

    fn upsert_verdicts(&mut self, verdicts: &[Verdict]) -> Result<()> {
        for v in verdicts {
            self.verdicts.insert(v.ip, v.clone());
        }
        Ok(())
    }

    fn load_families(&self) -> Result<Vec<Family>> {
        Ok(self.families.clone())
    }

    fn replace_families(&mut self, families: &[Family]) -> Result<()> {
        self.families = families.to_vec();
        Ok(())
    }

    fn replace_relay_candidates(&mut self, candidates: &[RelayCandidate]) -> Result<()> {
        self.candidates = candidates.to_vec();
        Ok(())
    }
}
