//! Patterns, roles and periodicity of (RemoteIP, IoC) pairs over a window
//! (design.md §2 steps 2–3; detection-anchors.md §9.5–9.7).

use std::net::IpAddr;

use chrono::NaiveDate;
use flowmodel::{Direction, IocFlow, Role};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::ScorerConfig;
use crate::stats::{cv, dispersion_score, harmonic_share, mad, mad_score, median, sorted};

/// One IoC-view flow reduced to what the long-range analysis needs (48 bytes instead of
/// an [`IocFlow`]'s ~200).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompactFlow {
    /// The IoC.
    pub ioc: IpAddr,
    /// The RemoteIP.
    pub remote: IpAddr,
    /// Flow start, epoch ms.
    pub ts: i64,
    /// Octets.
    pub octets: u64,
    /// Day (days since 1970-01-01).
    pub day: i32,
    /// Packets (saturated at u32::MAX).
    pub packets: u32,
    /// IoC port.
    pub ioc_port: u16,
    /// RemoteIP port.
    pub remote_port: u16,
    /// RemoteIP → IoC.
    pub rcv: bool,
    /// IP protocol.
    pub protocol: u8,
}

impl CompactFlow {
    /// Reduces one IoC-view record.
    pub fn of(f: &IocFlow) -> Self {
        Self {
            ioc: f.ioc_ip,
            remote: f.remote_ip,
            ts: f.time_stamp,
            octets: f.octets(),
            day: day_number(f.date),
            packets: u32::try_from(f.packets()).unwrap_or(u32::MAX),
            ioc_port: f.ioc_port,
            remote_port: f.remote_port,
            rcv: f.direction == Direction::Rcv,
            protocol: f.protocol,
        }
    }
}

/// Days since 1970-01-01.
pub fn day_number(d: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a date");
    i32::try_from((d - epoch).num_days()).unwrap_or(i32::MAX)
}

/// The date of a day number.
pub fn day_date(n: i32) -> NaiveDate {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a date");
    epoch + chrono::Duration::days(i64::from(n))
}

/// One (IoC port class, RemotePort class) pattern of a pair: `None` is the ephemeral
/// class `E`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    /// IoC port, or `None` when ephemeral.
    pub ioc_port: Option<u16>,
    /// RemoteIP port, or `None` when ephemeral.
    pub remote_port: Option<u16>,
    /// Modal IP protocol.
    pub protocol: u8,
    /// Flows.
    pub flows: u64,
    /// RemoteIP → IoC flows.
    pub rcv_flows: u64,
    /// IoC → RemoteIP flows.
    pub send_flows: u64,
    /// Distinct days.
    pub days: usize,
    /// Median packets per flow.
    pub packets_median: f64,
    /// Median octets per flow.
    pub octets_median: f64,
    /// 90th percentile of octets per flow.
    pub octets_p90: f64,
    /// MAD of octets per flow.
    pub octets_mad: f64,
    /// Median bytes per packet.
    pub bpp_median: f64,
    /// Modal IoC port and its share of the pattern's flows.
    pub ioc_modal: (u16, f64),
    /// Modal RemoteIP port and its share.
    pub remote_modal: (u16, f64),
    /// Distinct IoC ports.
    pub ioc_ports: usize,
    /// Distinct RemoteIP ports.
    pub remote_ports: usize,
    /// The RemoteIP's role in this pattern.
    pub role: Role,
    /// How sure the role is (1 stable port, 0.9 ephemeral range, 0.7 service port,
    /// 0.3 lower port).
    pub role_confidence: f64,
}

/// The inter-day periodicity of a pair (detection-anchors.md §9.5).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DailyBeacon {
    /// Active days ÷ days from the first active day to the end of the window (at most
    /// the days with data in the window).
    pub coverage: f64,
    /// Longest run of consecutive days ÷ the ideal run (capped at the window).
    pub consistency: f64,
    /// RITA TS on the gaps between active days (≥ 4 days, else 0).
    pub gap_score: f64,
    /// Share of consecutive gap pairs within a ratio of 1.3.
    pub gap_ratio_score: f64,
    /// MAD score of the daily median octets per flow (0.5 with one day).
    pub size_score: f64,
    /// 1 − CV of the daily flow counts (0.5 with one day).
    pub volume_score: f64,
    /// `0.2·(coverage + consistency + max(gap, gap_ratio) + size + volume)`.
    pub score: f64,
}

/// Everything measured about one (RemoteIP, IoC) pair over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairReport {
    /// The RemoteIP.
    pub remote: IpAddr,
    /// The IoC.
    pub ioc: IpAddr,
    /// Flows.
    pub flows: u64,
    /// Active days, sorted.
    pub days: Vec<NaiveDate>,
    /// Patterns, most flows first.
    pub patterns: Vec<Pattern>,
    /// The RemoteIP's role: the role carrying most of the pair's flows (ties: Client).
    pub role: Role,
    /// Confidence of that role.
    pub role_confidence: f64,
    /// The server side's port in the role's largest pattern.
    pub server_port: Option<u16>,
    /// Modal protocol of the role's largest pattern.
    pub protocol: u8,
    /// Median bytes per packet of the role's largest pattern.
    pub bpp_median: f64,
    /// Share of the pair's flows in the top pattern.
    pub top_pattern_share: f64,
    /// Inter-day periodicity.
    pub daily: DailyBeacon,
    /// Mean intra-day beacon score over the days with enough timestamps.
    pub intraday: Option<f64>,
    /// Days the RemoteIP initiated towards the IoC's server port (check-in days).
    pub client_days: Vec<NaiveDate>,
    /// Days the IoC initiated towards the RemoteIP's server port.
    pub ioc_initiated_days: Vec<NaiveDate>,
}

/// Decides the RemoteIP's role in a pattern (§9.6) and how sure that is: port
/// stability first (1.0), then the ephemeral ranges (0.9), then known service ports
/// (0.7), then the lower port (0.3).
fn pattern_role(p: &Pattern, cfg: &ScorerConfig) -> (Role, f64) {
    let r = &cfg.roles;
    let varied_min = ((p.flows as f64) / 2.0).clamp(2.0, 5.0);
    let ioc_stable = p.ioc_modal.1 >= r.port_stability && p.remote_ports as f64 >= varied_min;
    let remote_stable = p.remote_modal.1 >= r.port_stability && p.ioc_ports as f64 >= varied_min;
    match (ioc_stable, remote_stable) {
        (true, false) => return (Role::Client, 1.0),
        (false, true) => return (Role::Server, 1.0),
        _ => {}
    }
    let (ip, rp) = (p.ioc_modal.0, p.remote_modal.0);
    match (r.is_ephemeral(ip), r.is_ephemeral(rp)) {
        (false, true) => return (Role::Client, 0.9),
        (true, false) => return (Role::Server, 0.9),
        _ => {}
    }
    match (r.service_ports.contains(&ip), r.service_ports.contains(&rp)) {
        (true, false) => return (Role::Client, 0.7),
        (false, true) => return (Role::Server, 0.7),
        _ => {}
    }
    match ip.cmp(&rp) {
        std::cmp::Ordering::Less => (Role::Client, 0.3),
        std::cmp::Ordering::Greater => (Role::Server, 0.3),
        std::cmp::Ordering::Equal => (Role::Unknown, 0.0),
    }
}

fn modal(ports: &mut [u16]) -> ((u16, f64), usize) {
    ports.sort_unstable();
    let (mut best, mut best_n, mut distinct) = (0u16, 0usize, 0usize);
    let mut i = 0;
    while i < ports.len() {
        let mut j = i;
        while j < ports.len() && ports[j] == ports[i] {
            j += 1;
        }
        distinct += 1;
        if j - i > best_n {
            best_n = j - i;
            best = ports[i];
        }
        i = j;
    }
    let share = if ports.is_empty() {
        0.0
    } else {
        best_n as f64 / ports.len() as f64
    };
    ((best, share), distinct)
}

fn build_pattern(flows: &[&CompactFlow], ioc_c: Option<u16>, rem_c: Option<u16>) -> Pattern {
    let n = flows.len();
    let octets = sorted(flows.iter().map(|f| f.octets as f64));
    let mut ioc_ports: Vec<u16> = flows.iter().map(|f| f.ioc_port).collect();
    let mut rem_ports: Vec<u16> = flows.iter().map(|f| f.remote_port).collect();
    let (ioc_modal, ioc_n) = modal(&mut ioc_ports);
    let (remote_modal, rem_n) = modal(&mut rem_ports);
    let mut protos: Vec<u16> = flows.iter().map(|f| u16::from(f.protocol)).collect();
    let ((proto, _), _) = modal(&mut protos);
    let mut days: Vec<i32> = flows.iter().map(|f| f.day).collect();
    days.sort_unstable();
    days.dedup();
    let rcv = flows.iter().filter(|f| f.rcv).count() as u64;
    Pattern {
        ioc_port: ioc_c,
        remote_port: rem_c,
        protocol: u8::try_from(proto).unwrap_or(0),
        flows: n as u64,
        rcv_flows: rcv,
        send_flows: n as u64 - rcv,
        days: days.len(),
        packets_median: median(flows.iter().map(|f| f64::from(f.packets))),
        octets_median: crate::stats::quantile_sorted(&octets, 0.5),
        octets_p90: crate::stats::quantile_sorted(&octets, 0.9),
        octets_mad: mad(&octets),
        bpp_median: median(
            flows
                .iter()
                .filter(|f| f.packets > 0)
                .map(|f| f.octets as f64 / f64::from(f.packets)),
        ),
        ioc_modal,
        remote_modal,
        ioc_ports: ioc_n,
        remote_ports: rem_n,
        role: Role::Unknown,
        role_confidence: 0.0,
    }
}

fn daily_beacon(
    days: &[i32],
    flows: &[&CompactFlow],
    window_days: usize,
    end_day: i32,
    cfg: &ScorerConfig,
) -> DailyBeacon {
    let (Some(&first), n) = (days.first(), days.len()) else {
        return DailyBeacon::default();
    };
    // Coverage counts from the first contact: a bot infected a week ago that checked in
    // every day since is fully covered.
    let span = usize::try_from(end_day - first + 1)
        .unwrap_or(1)
        .clamp(1, window_days.max(1));
    let w = window_days.max(1);
    let coverage = (n as f64 / span as f64).min(1.0);
    let mut longest = 1usize;
    let mut run = 1usize;
    for pair in days.windows(2) {
        if pair[1] - pair[0] == 1 {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 1;
        }
    }
    let ideal = cfg.beacon.ideal_run_days.min(w).max(1);
    let consistency = (longest as f64 / ideal as f64).min(1.0);
    let gaps: Vec<f64> = days.windows(2).map(|p| f64::from(p[1] - p[0])).collect();
    let gap_score = if n >= 4 {
        dispersion_score(&gaps, 1.0)
    } else {
        0.0
    };
    let gap_ratio_score = if gaps.len() >= 2 {
        let ok = gaps
            .windows(2)
            .filter(|g| (g[1] / g[0]).max(g[0] / g[1]) <= 1.3)
            .count();
        ok as f64 / (gaps.len() - 1) as f64
    } else {
        0.0
    };
    // Per-day medians of octets per flow and flow counts (flows are sorted by time).
    let mut per_day_oct: Vec<f64> = Vec::with_capacity(n);
    let mut per_day_n: Vec<f64> = Vec::with_capacity(n);
    let mut i = 0;
    while i < flows.len() {
        let mut j = i;
        while j < flows.len() && flows[j].day == flows[i].day {
            j += 1;
        }
        per_day_oct.push(median(flows[i..j].iter().map(|f| f.octets as f64)));
        per_day_n.push((j - i) as f64);
        i = j;
    }
    let (size_score, volume_score) = if per_day_n.len() >= 2 {
        (
            mad_score(&per_day_oct),
            (1.0 - cv(&per_day_n)).clamp(0.0, 1.0),
        )
    } else {
        (0.5, 0.5)
    };
    let score =
        0.2 * (coverage + consistency + gap_score.max(gap_ratio_score) + size_score + volume_score);
    DailyBeacon {
        coverage,
        consistency,
        gap_score,
        gap_ratio_score,
        size_score,
        volume_score,
        score,
    }
}

/// Intra-day beacon (§9.5): per day with enough distinct timestamps,
/// `0.5·(max(ts, harmonic) + ds)`; the mean over those days.
fn intraday_beacon(flows: &[&CompactFlow], cfg: &ScorerConfig) -> Option<f64> {
    let mut scores = Vec::new();
    let mut i = 0;
    while i < flows.len() {
        let mut j = i;
        while j < flows.len() && flows[j].day == flows[i].day {
            j += 1;
        }
        let day = &flows[i..j];
        let mut ts: Vec<i64> = day.iter().map(|f| f.ts).collect();
        ts.dedup();
        if ts.len() >= cfg.beacon.min_timestamps {
            let gaps: Vec<f64> = ts
                .windows(2)
                .map(|p| (p[1] - p[0]) as f64 / 1000.0)
                .filter(|g| *g > 0.0)
                .collect();
            let t = dispersion_score(&gaps, 10.0).max(harmonic_share(&gaps));
            let sizes: Vec<f64> = day.iter().map(|f| f.octets as f64).collect();
            let d = dispersion_score(&sizes, 0.0);
            scores.push(0.5 * (t + d));
        }
        i = j;
    }
    (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
}

/// Analyses one pair; `flows` are the pair's flows sorted by (day, time).
pub fn analyze_pair(
    flows: &[&CompactFlow],
    window_days: usize,
    end: NaiveDate,
    cfg: &ScorerConfig,
) -> Option<PairReport> {
    let first = flows.first()?;
    let eph = |p: u16| {
        if cfg.roles.is_ephemeral(p) {
            None
        } else {
            Some(p)
        }
    };
    // Group by (IoC port class, RemotePort class).
    let mut keyed: Vec<(Option<u16>, Option<u16>, &CompactFlow)> = flows
        .iter()
        .map(|f| (eph(f.ioc_port), eph(f.remote_port), *f))
        .collect();
    keyed.sort_by_key(|k| (k.0, k.1, k.2.ts));
    let mut patterns = Vec::new();
    let mut members: Vec<Vec<&CompactFlow>> = Vec::new();
    let mut i = 0;
    while i < keyed.len() {
        let mut j = i;
        while j < keyed.len() && (keyed[j].0, keyed[j].1) == (keyed[i].0, keyed[i].1) {
            j += 1;
        }
        let group: Vec<&CompactFlow> = keyed[i..j].iter().map(|k| k.2).collect();
        let mut p = build_pattern(&group, keyed[i].0, keyed[i].1);
        (p.role, p.role_confidence) = pattern_role(&p, cfg);
        patterns.push(p);
        members.push(group);
        i = j;
    }
    let mut order: Vec<usize> = (0..patterns.len()).collect();
    order.sort_by(|&a, &b| patterns[b].flows.cmp(&patterns[a].flows).then(a.cmp(&b)));
    let patterns: Vec<Pattern> = order.iter().map(|&k| patterns[k].clone()).collect();
    let members: Vec<Vec<&CompactFlow>> = order.iter().map(|&k| members[k].clone()).collect();
    let total = flows.len() as u64;
    let top_share = patterns.first()?.flows as f64 / total.max(1) as f64;
    // The pair's role: the one carrying the most flows (a tie goes to Client: an IRC
    // session and the server's ident callback weigh the same, and the session is what
    // the RemoteIP chose to do); its main pattern is that role's largest.
    let weight = |r: Role| {
        patterns
            .iter()
            .filter(|p| p.role == r)
            .map(|p| p.flows)
            .sum::<u64>()
    };
    let (wc, ws) = (weight(Role::Client), weight(Role::Server));
    let role = if wc == 0 && ws == 0 {
        Role::Unknown
    } else if wc >= ws {
        Role::Client
    } else {
        Role::Server
    };
    let top = patterns
        .iter()
        .find(|p| p.role == role)
        .or_else(|| patterns.first())?;

    let mut days: Vec<i32> = flows.iter().map(|f| f.day).collect();
    days.dedup();
    let mut client_days: Vec<i32> = Vec::new();
    let mut ioc_days: Vec<i32> = Vec::new();
    for (p, m) in patterns.iter().zip(&members) {
        match p.role {
            Role::Client => client_days.extend(m.iter().filter(|f| f.rcv).map(|f| f.day)),
            Role::Server => ioc_days.extend(m.iter().filter(|f| !f.rcv).map(|f| f.day)),
            Role::Unknown => {}
        }
    }
    for v in [&mut client_days, &mut ioc_days] {
        v.sort_unstable();
        v.dedup();
    }
    let server_port = match top.role {
        Role::Client => Some(top.ioc_modal.0),
        Role::Server => Some(top.remote_modal.0),
        Role::Unknown => None,
    };
    Some(PairReport {
        remote: first.remote,
        ioc: first.ioc,
        flows: total,
        days: days.iter().map(|d| day_date(*d)).collect(),
        role,
        role_confidence: top.role_confidence,
        server_port,
        protocol: top.protocol,
        bpp_median: top.bpp_median,
        top_pattern_share: top_share,
        daily: daily_beacon(&days, flows, window_days, day_number(end), cfg),
        intraday: intraday_beacon(flows, cfg),
        client_days: client_days.into_iter().map(day_date).collect(),
        ioc_initiated_days: ioc_days.into_iter().map(day_date).collect(),
        patterns,
    })
}

/// Analyses every pair of `flows` (sorted here) over the window ending at `end`, in parallel; the output is sorted by
/// (RemoteIP, IoC) whatever the thread count.
pub fn analyze_pairs(
    mut flows: Vec<CompactFlow>,
    window_days: usize,
    end: NaiveDate,
    cfg: &ScorerConfig,
) -> Vec<PairReport> {
    flows.par_sort_unstable_by(|a, b| {
        (a.remote, a.ioc, a.day, a.ts).cmp(&(b.remote, b.ioc, b.day, b.ts))
    });
    let mut bounds = Vec::new();
    let mut i = 0;
    while i < flows.len() {
        let mut j = i;
        while j < flows.len() && flows[j].remote == flows[i].remote && flows[j].ioc == flows[i].ioc
        {
            j += 1;
        }
        bounds.push((i, j));
        i = j;
    }
    bounds
        .par_iter()
        .filter_map(|&(a, b)| {
            let refs: Vec<&CompactFlow> = flows[a..b].iter().collect();
            analyze_pair(&refs, window_days, end, cfg)
        })
        .collect()
}
