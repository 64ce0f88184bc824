//! A whole day: accumulate records per IoC, classify every IoC, and aggregate the
//! RemoteIPs of the IoCs that feed RemoteIP summaries (design.md §1 stages 4–5).

use std::net::IpAddr;

use chrono::NaiveDate;
use flowmodel::acc::ProtoSet;
use flowmodel::{
    DirStats, IocClass, IocDayAcc, IocDaySummary, IocFlow, RemoteDaySummary, RemoteIocLink, Role,
};
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::config::ClassifierConfig;
use crate::role::{PortPeers, pair_role};
use crate::rules::{Verdict, decide, summary};

/// One day's output: every IoC's summary and every RemoteIP's summary, each sorted by
/// IP, so the result never depends on the thread count.
#[derive(Debug, Clone, PartialEq)]
pub struct DayOutcome {
    /// One summary per IoC, sorted by `IocIP`.
    pub iocs: Vec<IocDaySummary>,
    /// One summary per RemoteIP of a `CheckIn` or `Candidate` IoC, sorted by `RemoteIP`.
    pub remotes: Vec<RemoteDaySummary>,
}

/// Classifies one IoC's day. `total_flows` is the exact total (both directions); `acc`
/// holds the sample. A total of 0 (with an empty sample) is `NoData`; a total below the
/// sample's own flow count (a stale or missing total) is raised to that count, since
/// the sample is evidence of traffic.
pub fn classify(
    ioc: IpAddr,
    total_flows: u64,
    acc: &IocDayAcc,
    date: NaiveDate,
    cfg: &ClassifierConfig,
) -> IocDaySummary {
    let v = decide(total_flows, acc, cfg);
    summary(date, ioc, total_flows, acc, &v, cfg)
}

/// One link of a RemoteIP with its protocol counts (kept until the RemoteIP's summary
/// is assembled).
struct Link {
    remote: IpAddr,
    link: RemoteIocLink,
    send: DirStats,
    rcv: DirStats,
    protocols: ProtoSet,
}

fn links_of(ioc: IpAddr, acc: &IocDayAcc, v: &Verdict, cfg: &ClassifierConfig) -> Vec<Link> {
    if !v.class.feeds_remote_summaries() {
        return Vec::new();
    }
    let peers = PortPeers::of(acc.pairs.values());
    let server = |p: u16| !cfg.is_ephemeral(p);
    let mut out = Vec::with_capacity(acc.pairs.len());
    for (remote, p) in &acc.pairs {
        let role = pair_role(p, &peers, cfg);
        let checkin = v.class == IocClass::CheckIn
            && role == Role::Client
            && v.features
                .checkin_port
                .is_some_and(|port| p.rcv_ioc_ports.get(port) > 0)
            && p.rcv.flows > p.reply_flows(server);
        let mut ioc_ports = p.send_ioc_ports.clone();
        ioc_ports.merge(&p.rcv_ioc_ports);
        let mut remote_ports = p.send_remote_ports.clone();
        remote_ports.merge(&p.rcv_remote_ports);
        out.push(Link {
            remote: *remote,
            link: RemoteIocLink {
                ioc_ip: ioc,
                class: v.class,
                role,
                send_flows: p.send.flows,
                rcv_flows: p.rcv.flows,
                packets: p.packets(),
                octets: p.octets(),
                ioc_ports: ioc_ports.top(cfg.top_ports),
                remote_ports: remote_ports.top(cfg.top_ports),
                checkin,
                first_seen: p.first_ms,
                last_seen: p.last_ms,
            },
            send: p.send,
            rcv: p.rcv,
            protocols: p.protocols,
        });
    }
    out
}

fn remote_summary(date: NaiveDate, links: &mut [Link]) -> RemoteDaySummary {
    links.sort_unstable_by_key(|l| l.link.ioc_ip);
    let mut send = DirStats::default();
    let mut rcv = DirStats::default();
    let mut protocols = ProtoSet::default();
    let mut roles: Vec<Role> = Vec::new();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    let mut watched = false;
    for l in links.iter() {
        send += l.send;
        rcv += l.rcv;
        protocols.merge(l.protocols);
        if !roles.contains(&l.link.role) {
            roles.push(l.link.role);
        }
        first = first.min(l.link.first_seen);
        last = last.max(l.link.last_seen);
        watched |= l.link.checkin;
    }
    roles.sort_unstable();
    RemoteDaySummary {
        date,
        remote_ip: links[0].remote,
        iocs: links.iter().map(|l| l.link.clone()).collect(),
        roles,
        protocols: protocols.to_vec(),
        send_flows: send.flows,
        rcv_flows: rcv.flows,
        send_packets: send.packets,
        send_octets: send.octets,
        rcv_packets: rcv.packets,
        rcv_octets: rcv.octets,
        first_seen: first,
        last_seen: last,
        watched,
    }
}

/// Classifies every IoC of a day and aggregates the RemoteIPs of the `CheckIn` and
/// `Candidate` IoCs, in parallel (rayon). Each entry is (IoC, exact total, sample
/// accumulator); list each IoC once. Both outputs are sorted by IP.
pub fn classify_day(
    date: NaiveDate,
    iocs: &[(IpAddr, u64, IocDayAcc)],
    cfg: &ClassifierConfig,
) -> DayOutcome {
    let per_ioc: Vec<(IocDaySummary, Vec<Link>)> = iocs
        .par_iter()
        .map(|(ioc, total, acc)| {
            let v = decide(*total, acc, cfg);
            let links = links_of(*ioc, acc, &v, cfg);
            (summary(date, *ioc, *total, acc, &v, cfg), links)
        })
        .collect();
    let mut summaries = Vec::with_capacity(per_ioc.len());
    let mut links = Vec::new();
    for (s, l) in per_ioc {
        summaries.push(s);
        links.extend(l);
    }
    summaries.par_sort_unstable_by_key(|s| s.ioc_ip);
    links.par_sort_unstable_by_key(|l| (l.remote, l.link.ioc_ip));
    let remotes = links
        .par_chunk_by_mut(|a, b| a.remote == b.remote)
        .map(|group| remote_summary(date, group))
        .collect();
    DayOutcome {
        iocs: summaries,
        remotes,
    }
}

/// Accumulates a day's IoC-view records per IoC, in parallel: returns (IoC, exact
/// total, accumulator) sorted by IoC, ready for [`classify_day`]. The exact total is
/// the largest `TotalFlows` carried by the IoC's records, or the number of records
/// when that is larger (records built before the total was known carry 0).
///
/// Each worker scans every record but keeps only the IoCs of its hash partition, so no
/// accumulator is ever merged or cloned and the result does not depend on the thread
/// count.
pub fn accumulate(records: &[IocFlow]) -> Vec<(IpAddr, u64, IocDayAcc)> {
    let parts = (rayon::current_num_threads() * 2).clamp(1, 256);
    // One byte per record: which partition owns its IoC (computed once, in parallel).
    let owner: Vec<u8> = records
        .par_iter()
        .with_min_len(4096)
        .map(|r| partition(r.ioc_ip, parts as u64) as u8)
        .collect();
    let mut out: Vec<(IpAddr, u64, IocDayAcc)> = (0..parts)
        .into_par_iter()
        .flat_map_iter(|part| {
            let mut map: FxHashMap<IpAddr, (u64, IocDayAcc)> = FxHashMap::default();
            for (r, _) in records
                .iter()
                .zip(&owner)
                .filter(|(_, o)| **o as usize == part)
            {
                let e = map.entry(r.ioc_ip).or_default();
                e.0 = e.0.max(r.total_flows);
                e.1.add(r);
            }
            map.into_iter()
                .map(|(ip, (t, acc))| (ip, t.max(acc.flows()), acc))
        })
        .collect();
    out.par_sort_unstable_by_key(|e| e.0);
    out
}

fn partition(ip: IpAddr, parts: u64) -> u64 {
    use std::hash::BuildHasher;
    FxBuildHasher.hash_one(ip) % parts
}
