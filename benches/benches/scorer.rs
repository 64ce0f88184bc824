//! The long-range run at the scale: a 30-day window with 100,000 RemoteIP-days
//! and 5,000,000 IoC-view flows, built in memory (5,000 RemoteIPs active 20 days of 30,
//! 50 flows each a day; 1,000 of them bots checking in to 10 relays, the rest clients of
//! 2,000 listed web servers). Every RemoteIP is analysed (`top_n` = 5,000), so all
//! 5 M flows go through patterns, roles, beacons, verdicts and families.
//!
//! `cargo bench -p iocflow-benches --bench scorer -- --test` runs a 1/20 scale once.

use std::hint::black_box;
use std::net::IpAddr;

use chrono::{Duration, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use flowmodel::{
    Direction, IocClass, IocDaySummary, IocFlow, RawFlow, RemoteDaySummary, RemoteIocLink, Role,
    ViewContext,
};
use scorer::{EvidenceSource, MemoryStore, ScorerConfig, analyze};

const DAYS: i64 = 30;
const FLOWS_PER_REMOTE_DAY: u32 = 50;

/// One stored flow, compact (the real stores keep documents; the scorer only streams).
#[derive(Clone, Copy)]
struct Stored {
    remote: u32,
    ioc: u32,
    day: u8,
    ms: u32,
    remote_port: u16,
    ioc_port: u16,
    octets: u32,
}

struct BenchSource {
    start: NaiveDate,
    remotes: Vec<IpAddr>,
    iocs: Vec<IpAddr>,
    /// Flows sorted by remote, then day.
    flows: Vec<Stored>,
    remote_summaries: Vec<RemoteDaySummary>,
    ioc_summaries: Vec<IocDaySummary>,
}

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

impl BenchSource {
    fn build(n_remotes: u32) -> Self {
        let start = NaiveDate::from_ymd_opt(2025, 9, 1).expect("date");
        let remotes: Vec<IpAddr> = (0..n_remotes)
            .map(|i| IpAddr::from([140, 112, (i >> 8) as u8, i as u8]))
            .collect();
        let n_bots = n_remotes / 5;
        let n_relays = 10u32;
        let n_web = (n_remotes * 2 / 5).max(1);
        let iocs: Vec<IpAddr> = (0..n_relays + n_web)
            .map(|i| IpAddr::from([45, 60 + (i >> 16) as u8, (i >> 8) as u8, i as u8]))
            .collect();
        let mut seed = 0x5eed_u64;
        let mut flows =
            Vec::with_capacity((n_remotes as usize) * 20 * FLOWS_PER_REMOTE_DAY as usize);
        let mut remote_summaries = Vec::new();
        for r in 0..n_remotes {
            let bot = r < n_bots;
            let ioc = if bot {
                r % n_relays
            } else {
                n_relays + r % n_web
            };
            for d in 0..DAYS as u32 {
                if (r + d) % 3 == 0 {
                    continue;
                }
                let period = 86_400_000 / FLOWS_PER_REMOTE_DAY;
                for k in 0..FLOWS_PER_REMOTE_DAY {
                    let x = xorshift(&mut seed);
                    let (ms, octets, ioc_port) = if bot {
                        (
                            k * period + (x % 600_000) as u32,
                            120 + (x % 16) as u32,
                            8443,
                        )
                    } else {
                        ((x % 86_400_000) as u32, 300 + (x % 20_000) as u32, 443)
                    };
                    flows.push(Stored {
                        remote: r,
                        ioc,
                        day: d as u8,
                        ms,
                        remote_port: 32768 + (x >> 32) as u16 % 28000,
                        ioc_port,
                        octets,
                    });
                }
                let date = start + Duration::days(i64::from(d));
                remote_summaries.push(RemoteDaySummary {
                    date,
                    remote_ip: remotes[r as usize],
                    iocs: vec![RemoteIocLink {
                        ioc_ip: iocs[ioc as usize],
                        class: if bot {
                            IocClass::CheckIn
                        } else {
                            IocClass::Candidate
                        },
                        role: Role::Client,
                        send_flows: 0,
                        rcv_flows: u64::from(FLOWS_PER_REMOTE_DAY),
                        packets: 100,
                        octets: 10_000,
                        ioc_ports: vec![(if bot { 8443 } else { 443 }, 50)],
                        remote_ports: vec![],
                        checkin: bot,
                        first_seen: 0,
                        last_seen: 0,
                    }],
                    roles: vec![Role::Client],
                    protocols: vec![6],
                    send_flows: 0,
                    rcv_flows: u64::from(FLOWS_PER_REMOTE_DAY),
                    send_packets: 0,
                    send_octets: 0,
                    rcv_packets: 100,
                    rcv_octets: 10_000,
                    first_seen: 0,
                    last_seen: 0,
                    watched: bot,
                });
            }
        }
        let ioc_summaries = (0..DAYS)
            .flat_map(|d| {
                let date = start + Duration::days(d);
                iocs.iter().enumerate().map(move |(i, ip)| IocDaySummary {
                    date,
                    ioc_ip: *ip,
                    class: if (i as u32) < n_relays {
                        IocClass::CheckIn
                    } else {
                        IocClass::Candidate
                    },
                    reasons: vec![],
                    detail: None,
                    total_flows: 100,
                    sampled_flows: 100,
                    remote_ips: 10,
                    send_flows: 0,
                    rcv_flows: 100,
                    send_packets: 0,
                    send_octets: 0,
                    rcv_packets: 200,
                    rcv_octets: 20_000,
                    top_ioc_ports: vec![],
                    top_remote_ports: vec![],
                    protocols: vec![6],
                    first_seen: None,
                    last_seen: None,
                })
            })
            .collect();
        Self {
            start,
            remotes,
            iocs,
            flows,
            remote_summaries,
            ioc_summaries,
        }
    }

    fn until(&self) -> NaiveDate {
        self.start + Duration::days(DAYS - 1)
    }
}

impl EvidenceSource for BenchSource {
    fn days(&self) -> scorer::Result<Vec<NaiveDate>> {
        Ok((0..DAYS).map(|d| self.start + Duration::days(d)).collect())
    }

    fn remote_summaries(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> scorer::Result<Vec<RemoteDaySummary>> {
        Ok(self
            .remote_summaries
            .iter()
            .filter(|s| s.date >= from && s.date <= to)
            .cloned()
            .collect())
    }

    fn ioc_summaries(&self, from: NaiveDate, to: NaiveDate) -> scorer::Result<Vec<IocDaySummary>> {
        Ok(self
            .ioc_summaries
            .iter()
            .filter(|s| s.date >= from && s.date <= to)
            .cloned()
            .collect())
    }

    fn visit_ioc_flows(
        &self,
        remotes: &[IpAddr],
        from: NaiveDate,
        to: NaiveDate,
        visit: &mut dyn FnMut(&IocFlow),
    ) -> scorer::Result<()> {
        let want: std::collections::HashSet<IpAddr> = remotes.iter().copied().collect();
        let ctxs: Vec<ViewContext> = (0..DAYS)
            .map(|d| ViewContext::new(self.start + Duration::days(d), "bench"))
            .collect();
        let template = RawFlow {
            src: self.remotes[0],
            dst: self.iocs[0],
            src_port: 0,
            dst_port: 0,
            protocol: 6,
            tcp_flags: 2,
            octets: 0,
            packets: 2,
            start_ms: 0,
            end_ms: None,
            exporter: None,
            src_as: 0,
            dst_as: 0,
            src_geo: None,
            dst_geo: None,
        };
        let mut rec = IocFlow::from_raw(&template, Direction::Rcv, 100, &ctxs[0]);
        let day0 = self
            .start
            .and_hms_opt(0, 0, 0)
            .expect("time")
            .and_utc()
            .timestamp_millis();
        for f in &self.flows {
            let remote = self.remotes[f.remote as usize];
            let date = self.start + Duration::days(i64::from(f.day));
            if date < from || date > to || !want.contains(&remote) {
                continue;
            }
            rec.remote_ip = remote;
            rec.ioc_ip = self.iocs[f.ioc as usize];
            rec.remote_port = f.remote_port;
            rec.ioc_port = f.ioc_port;
            rec.rcv_octets = u64::from(f.octets);
            rec.time_stamp = day0 + i64::from(f.day) * 86_400_000 + i64::from(f.ms);
            rec.date = date;
            visit(&rec);
        }
        Ok(())
    }

    fn raw_flows_of_hosts(
        &self,
        _hosts: &[IpAddr],
        _days: &[NaiveDate],
    ) -> scorer::Result<Vec<RawFlow>> {
        Ok(Vec::new())
    }
}

fn bench(c: &mut Criterion) {
    let quick = std::env::args().any(|a| a == "--test");
    let n_remotes = if quick { 250 } else { 5_000 };
    let src = BenchSource::build(n_remotes);
    let mut cfg = ScorerConfig::default();
    cfg.ranking.top_n = n_remotes as usize;
    let name = format!(
        "analyze_30d_{}_remote_days_{}_flows",
        src.remote_summaries.len(),
        src.flows.len()
    );
    let mut g = c.benchmark_group("scorer");
    g.sample_size(10);
    g.bench_function(name, |b| {
        b.iter(|| {
            let mut sink = MemoryStore::new();
            let r = analyze(src.until(), &cfg, &src, &mut sink).expect("analyze");
            assert_eq!(r.flows_read as usize, src.flows.len());
            black_box(r)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
