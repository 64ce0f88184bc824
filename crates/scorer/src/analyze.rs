//! The long-range run: [`analyze`] ranks, analyses, labels, scores, groups families and
//! looks for moved relays, then writes everything through a [`VerdictSink`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{Duration, NaiveDate};
use flowmodel::{IocClass, Role};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::config::ScorerConfig;
use crate::error::{Result, ScorerError};
use crate::family::{FamilyNode, group_families};
use crate::migration::{find_stop, relay_candidates};
use crate::patterns::{CompactFlow, PairReport, analyze_pairs, day_number};
use crate::records::{Evidence, Family, Label, Level, RelayCandidate, Subject, Verdict};
use crate::store::{EvidenceSource, VerdictSink};
use crate::verdict::{empty_verdict, replace_days};

/// One line of the report's suspect lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suspect {
    /// The address.
    pub ip: IpAddr,
    /// Its score.
    pub score: f64,
    /// Its level.
    pub level: Level,
    /// Its labels.
    pub labels: Vec<Label>,
    /// Days with evidence.
    pub days_seen: usize,
    /// Related addresses.
    pub related: Vec<IpAddr>,
}

impl Suspect {
    fn of(v: &Verdict) -> Self {
        Self {
            ip: v.ip,
            score: v.score,
            level: v.level,
            labels: v.labels.clone(),
            days_seen: v.days_seen,
            related: v.related.clone(),
        }
    }
}

/// What one long-range run did and found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisReport {
    /// First day of the window.
    pub from: NaiveDate,
    /// Last day of the window.
    pub until: NaiveDate,
    /// Days of the window that had data.
    pub data_days: usize,
    /// Distinct RemoteIPs in the window's summaries.
    pub remote_ips_seen: usize,
    /// RemoteIPs analysed (top N plus watched).
    pub analysed_remotes: usize,
    /// IoC-view flows read.
    pub flows_read: u64,
    /// Flows left out because their IoC was wide, scanning or DoS that day.
    pub flows_noise: u64,
    /// (RemoteIP, IoC) pairs analysed.
    pub pairs: usize,
    /// Verdicts written.
    pub verdicts_written: usize,
    /// RemoteIPs by score, highest first (at most 50).
    pub top_suspects: Vec<Suspect>,
    /// IoCs by score, highest first (at most 50).
    pub top_iocs: Vec<Suspect>,
    /// Families found.
    pub families: Vec<Family>,
    /// Suspected new relays (never part of the blocklist).
    pub relay_candidates: Vec<RelayCandidate>,
}

type EvMap = BTreeMap<IpAddr, BTreeMap<NaiveDate, Vec<Evidence>>>;

fn push(map: &mut EvMap, ip: IpAddr, d: NaiveDate, e: Evidence) {
    map.entry(ip).or_default().entry(d).or_default().push(e);
}

/// Reads the window ending at `until` from `src`, decides, and writes verdicts, families
/// and relay candidates to `sink`. Idempotent: running it twice for the same `until`
/// leaves the same documents.
pub fn analyze(
    until: NaiveDate,
    cfg: &ScorerConfig,
    src: &dyn EvidenceSource,
    sink: &mut dyn VerdictSink,
) -> Result<AnalysisReport> {
    cfg.validate()?;
    let back = |n: i64| {
        until.checked_sub_signed(Duration::days(n)).ok_or_else(|| {
            ScorerError::Config(format!(
                "until {until} minus {n} days is out of the calendar"
            ))
        })
    };
    let from = back(cfg.window_days as i64 - 1)?;
    let mig = &cfg.migration;
    let mig_back = (7 + mig.stop_days + mig.after_days + 2) as i64;
    let lookback = back(cfg.window_days as i64 + 6)?.min(back(mig_back)?);
    let all_days: BTreeSet<NaiveDate> = src.days()?.into_iter().collect();
    let data_days = all_days.range(from..=until).count();
    let w_eff = data_days.max(1);

    // 1. Ranking by days seen, ties by flows.
    let summaries = src.remote_summaries(lookback, until)?;
    let mut rank: FxHashMap<IpAddr, (usize, u64, bool)> = FxHashMap::default();
    let mut checkin_days: FxHashMap<(IpAddr, IpAddr), BTreeSet<NaiveDate>> = FxHashMap::default();
    let mut touched: FxHashMap<(IpAddr, NaiveDate), Vec<IpAddr>> = FxHashMap::default();
    for s in &summaries {
        touched
            .entry((s.remote_ip, s.date))
            .or_default()
            .extend(s.iocs.iter().map(|l| l.ioc_ip));
        for l in s.iocs.iter().filter(|l| l.checkin) {
            checkin_days
                .entry((s.remote_ip, l.ioc_ip))
                .or_default()
                .insert(s.date);
        }
        if s.date < from {
            continue;
        }
        let r = rank.entry(s.remote_ip).or_insert((0, 0, false));
        r.0 += 1;
        r.1 += s.send_flows + s.rcv_flows;
        r.2 |= s.watched || s.iocs.iter().any(|l| l.checkin);
    }
    let mut ranked: Vec<(IpAddr, (usize, u64, bool))> =
        rank.iter().map(|(k, v)| (*k, *v)).collect();
    ranked.sort_by(|a, b| {
        b.1.0
            .cmp(&a.1.0)
            .then(b.1.1.cmp(&a.1.1))
            .then(a.0.cmp(&b.0))
    });
    let mut selected: Vec<IpAddr> = ranked
        .iter()
        .enumerate()
        .filter(|(i, r)| *i < cfg.ranking.top_n || r.1.2)
        .map(|(_, r)| r.0)
        .collect();
    selected.sort();

    // 2. IoC days: noise classes and the IoCs' daily evidence.
    let mut ioc_ev: EvMap = BTreeMap::new();
    let mut remote_ev: EvMap = BTreeMap::new();
    let mut noise: FxHashSet<(IpAddr, i32)> = FxHashSet::default();
    for s in src.ioc_summaries(from, until)? {
        if s.class == IocClass::NoData {
            continue;
        }
        push(
            &mut ioc_ev,
            s.ioc_ip,
            s.date,
            Evidence::new(Label::BlocklistHit, 1.0, None),
        );
        match s.class {
            IocClass::Wide | IocClass::DoS => {
                noise.insert((s.ioc_ip, day_number(s.date)));
                push(
                    &mut ioc_ev,
                    s.ioc_ip,
                    s.date,
                    Evidence::new(Label::NoiseClass, 1.0, None),
                );
            }
            IocClass::Scan => {
                noise.insert((s.ioc_ip, day_number(s.date)));
                let margin = s
                    .reasons
                    .iter()
                    .find(|r| r.feature.contains("trw") || r.feature.contains("margin"))
                    .map(|r| r.value);
                let c = margin.map_or(0.5, |m| 0.5 * (m / 8.0).clamp(0.0, 1.0));
                let e =
                    Evidence::new(Label::Scanner, c, None).with("remote_ips", s.remote_ips as f64);
                push(&mut ioc_ev, s.ioc_ip, s.date, e);
            }
            IocClass::CheckIn => {
                let e =
                    Evidence::new(Label::Relay, 0.5, None).with("remote_ips", s.remote_ips as f64);
                push(&mut ioc_ev, s.ioc_ip, s.date, e);
            }
            _ => {}
        }
    }

    // 3. Daily check-ins from the classifier.
    for s in summaries.iter().filter(|s| s.date >= from) {
        for l in s.iocs.iter().filter(|l| l.checkin) {
            let prior = checkin_days.get(&(s.remote_ip, l.ioc_ip)).map_or(0, |set| {
                set.range(
                    s.date
                        .checked_sub_signed(Duration::days(7))
                        .unwrap_or(NaiveDate::MIN)..s.date,
                )
                .count()
            });
            let share = prior as f64 / 7.0;
            let e = Evidence::new(Label::CheckInClient, 0.5 + 0.5 * share, Some(l.ioc_ip))
                .with("prior_checkin_share", share);
            push(&mut remote_ev, s.remote_ip, s.date, e);
        }
    }

    // 4. Patterns and roles of the selected RemoteIPs.
    let mut compact = Vec::new();
    let skip_bogons = !cfg.roles.label_non_global;
    let (mut flows_read, mut flows_noise) = (0u64, 0u64);
    src.visit_ioc_flows(&selected, from, until, &mut |f| {
        flows_read += 1;
        let c = CompactFlow::of(f);
        if noise.contains(&(c.ioc, c.day)) || (skip_bogons && !is_global_unicast(c.ioc)) {
            flows_noise += 1;
        } else {
            compact.push(c);
        }
    })?;
    let pairs = analyze_pairs(compact, w_eff, until, cfg);
    label_pairs(&pairs, &rank, w_eff, cfg, &mut remote_ev, &mut ioc_ev);

    // 5. Families.
    let fam_from = back(cfg.family.window_days as i64 - 1)?;
    let nodes = family_nodes(&pairs, fam_from, &rank, cfg);
    let previous = sink.load_families()?;
    let mut families = group_families(&nodes, &previous, &cfg.family);
    let act_days: Vec<NaiveDate> = all_days.range(lookback..=until).copied().collect();
    for f in &mut families {
        f.activity = activity(f, &act_days, &touched);
    }
    let mut family_of: FxHashMap<IpAddr, String> = FxHashMap::default();
    for f in &families {
        for m in &f.members {
            family_of.insert(*m, f.id.clone());
        }
        for n in nodes
            .iter()
            .filter(|n| f.members.binary_search(&n.ip).is_ok())
        {
            for d in &n.days {
                let e = Evidence::new(Label::FamilyMember, f.cohesion, None)
                    .with("family_size", f.members.len() as f64);
                push(&mut remote_ev, n.ip, *d, e);
            }
        }
    }

    // 6. Relay migration: current families and recent previous ones that vanished.
    let mut watch_list: Vec<Family> = families.clone();
    for p in &previous {
        if !families.iter().any(|f| f.id == p.id) && p.last_day >= fam_from {
            let mut p = p.clone();
            p.activity = activity(&p, &act_days, &touched);
            watch_list.push(p);
        }
    }
    let control = control_sample(&ranked, cfg.migration.control_sample);
    let mut candidates = Vec::new();
    for f in &watch_list {
        if let Some(stop) = find_stop(&f.activity, until, &cfg.migration) {
            candidates.extend(relay_candidates(
                src,
                f,
                stop,
                until,
                &control,
                &cfg.migration,
            )?);
        }
    }

    // 7. Verdicts.
    let mut ips: BTreeSet<IpAddr> = selected.iter().copied().collect();
    ips.extend(remote_ev.keys().copied());
    ips.extend(ioc_ev.keys().copied());
    let ips: Vec<IpAddr> = ips.into_iter().collect();
    let mut existing: FxHashMap<IpAddr, Verdict> = sink
        .load_verdicts(&ips)?
        .into_iter()
        .map(|v| (v.ip, v))
        .collect();
    let mut out = Vec::new();
    for ip in ips {
        let mut fresh: BTreeMap<NaiveDate, Vec<Evidence>> = BTreeMap::new();
        let is_ioc = ioc_ev.contains_key(&ip);
        for m in [remote_ev.remove(&ip), ioc_ev.remove(&ip)]
            .into_iter()
            .flatten()
        {
            for (d, items) in m {
                fresh.entry(d).or_default().extend(items);
            }
        }
        let had = existing.contains_key(&ip);
        if fresh.is_empty() && !had {
            continue;
        }
        let subject = if is_ioc {
            Subject::Ioc
        } else {
            Subject::Remote
        };
        let mut v = existing
            .remove(&ip)
            .unwrap_or_else(|| empty_verdict(ip, subject, until));
        if is_ioc {
            v.subject = Subject::Ioc;
        }
        replace_days(&mut v, from, until, fresh, until, &cfg.verdict);
        if v.subject == Subject::Remote {
            v.family = family_of.get(&ip).cloned();
        }
        out.push(v);
    }
    sink.upsert_verdicts(&out)?;
    sink.replace_families(&families)?;
    sink.replace_relay_candidates(&candidates)?;

    let ranked_of = |s: Subject| {
        let mut v: Vec<&Verdict> = out
            .iter()
            .filter(|v| v.subject == s && v.score > 0.0)
            .collect();
        v.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.ip.cmp(&b.ip)));
        v.into_iter().take(50).map(Suspect::of).collect::<Vec<_>>()
    };
    Ok(AnalysisReport {
        from,
        until,
        data_days,
        remote_ips_seen: rank.len(),
        analysed_remotes: selected.len(),
        flows_read,
        flows_noise,
        pairs: pairs.len(),
        verdicts_written: out.len(),
        top_suspects: ranked_of(Subject::Remote),
        top_iocs: ranked_of(Subject::Ioc),
        families,
        relay_candidates: candidates,
    })
}

/// Turns pair reports into `C2CheckIn`, `Relay`, `AptTarget` and `Attacker` evidence.
fn label_pairs(
    pairs: &[PairReport],
    rank: &FxHashMap<IpAddr, (usize, u64, bool)>,
    w_eff: usize,
    cfg: &ScorerConfig,
    remote_ev: &mut EvMap,
    ioc_ev: &mut EvMap,
) {
    // RemoteIP-level compactness.
    let mut per_remote: FxHashMap<IpAddr, (usize, u64, u64)> = FxHashMap::default();
    for p in pairs {
        let e = per_remote.entry(p.remote).or_insert((0, 0, 0));
        e.0 += p.patterns.len();
        e.1 = e.1.max(p.patterns.first().map_or(0, |x| x.flows));
        e.2 += p.flows;
    }
    let rk = &cfg.ranking;
    let repetitive = |ip: &IpAddr| {
        let (count, top, total) = per_remote.get(ip).copied().unwrap_or((0, 0, 0));
        let days = rank.get(ip).map_or(0, |r| r.0);
        count <= rk.repetitive_max_patterns
            && top as f64 >= rk.repetitive_top_share * total.max(1) as f64
            && days >= rk.min_days.min(w_eff)
    };
    // IoC targets per (IoC, server port, day) for the APT rule.
    let mut targets: FxHashMap<(IpAddr, u16, NaiveDate), usize> = FxHashMap::default();
    for p in pairs.iter().filter(|p| p.role == Role::Server) {
        for d in &p.ioc_initiated_days {
            *targets
                .entry((p.ioc, p.server_port.unwrap_or(0), *d))
                .or_insert(0) += 1;
        }
    }
    let mut relay_clients: BTreeMap<IpAddr, Vec<&PairReport>> = BTreeMap::new();
    for p in pairs {
        let pattern_count = p.patterns.len() as f64;
        match p.role {
            Role::Client if !p.client_days.is_empty() => {
                let rep = repetitive(&p.remote);
                let c = checkin_confidence(p, rep);
                for d in &p.client_days {
                    let mut e = Evidence::new(Label::C2CheckIn, c, Some(p.ioc))
                        .with("daily_beacon", p.daily.score)
                        .with("coverage", p.daily.coverage)
                        .with("consistency", p.daily.consistency)
                        .with("pattern_count", pattern_count)
                        .with("top_pattern_share", p.top_pattern_share)
                        .with("repetitive", if rep { 1.0 } else { 0.0 })
                        .with("server_port", f64::from(p.server_port.unwrap_or(0)));
                    if let Some(b) = p.intraday {
                        e = e.with("intraday_beacon", b);
                    }
                    push(remote_ev, p.remote, *d, e);
                }
                relay_clients.entry(p.ioc).or_default().push(p);
            }
            Role::Server if p.ioc_initiated_days.len() >= cfg.roles.apt_min_days => {
                if p.patterns.len() > rk.repetitive_max_patterns {
                    continue;
                }
                let port = p.server_port.unwrap_or(0);
                let few = p.ioc_initiated_days.iter().all(|d| {
                    targets.get(&(p.ioc, port, *d)).copied().unwrap_or(0)
                        <= cfg.roles.apt_max_targets
                });
                if !few {
                    continue;
                }
                let c = p.top_pattern_share
                    * (p.ioc_initiated_days.len() as f64 / 7.0).min(1.0)
                    * p.role_confidence;
                for d in &p.ioc_initiated_days {
                    let e = Evidence::new(Label::AptTarget, c, Some(p.ioc))
                        .with("contact_days", p.ioc_initiated_days.len() as f64)
                        .with("server_port", f64::from(port))
                        .with("pattern_count", pattern_count);
                    push(remote_ev, p.remote, *d, e);
                    let e = Evidence::new(Label::Attacker, c, Some(p.remote))
                        .with("server_port", f64::from(port));
                    push(ioc_ev, p.ioc, *d, e);
                }
            }
            _ => {}
        }
    }
    for (ioc, clients) in relay_clients {
        if clients.len() < cfg.roles.relay_min_clients {
            continue;
        }
        let c = clients.iter().map(|p| p.daily.score).sum::<f64>() / clients.len() as f64;
        let mut by_day: BTreeMap<NaiveDate, Vec<IpAddr>> = BTreeMap::new();
        for p in &clients {
            for d in &p.client_days {
                by_day.entry(*d).or_default().push(p.remote);
            }
        }
        for (d, remotes) in by_day {
            for r in &remotes {
                let e =
                    Evidence::new(Label::Relay, c, Some(*r)).with("clients", clients.len() as f64);
                push(ioc_ev, ioc, d, e);
            }
        }
    }
}

/// `C2CheckIn` confidence: the inter-day beacon, × 0.7 unless the RemoteIP is
/// repetitive (§9.8), × a regularity factor when the pair had enough timestamps for an
/// intra-day beacon score `b`: `clamp((b − 0.5)/0.4, 0.1, 1)`, i.e. RITA's "no beacon"
/// bucket (< 0.5) counts a tenth and 0.9 or more counts fully (check-ins are regular;
/// people browsing a listed web server are not), × the role's confidence.
fn checkin_confidence(p: &PairReport, repetitive: bool) -> f64 {
    let regular = p
        .intraday
        .map_or(1.0, |b| ((b - 0.5) / 0.4).clamp(0.1, 1.0));
    p.daily.score * if repetitive { 1.0 } else { 0.7 } * regular * p.role_confidence
}

/// Family nodes: RemoteIPs with check-in days in the family window, whose check-in
/// evidence reaches `family.min_confidence` (or that the classifier saw checking in).
fn family_nodes(
    pairs: &[PairReport],
    fam_from: NaiveDate,
    rank: &FxHashMap<IpAddr, (usize, u64, bool)>,
    cfg: &ScorerConfig,
) -> Vec<FamilyNode> {
    let mut by_remote: BTreeMap<IpAddr, Vec<&PairReport>> = BTreeMap::new();
    for p in pairs.iter().filter(|p| p.role == Role::Client) {
        let watched = rank.get(&p.remote).is_some_and(|r| r.2);
        let strong = checkin_confidence(p, false) >= cfg.family.min_confidence;
        if (watched || strong) && p.client_days.iter().any(|d| *d >= fam_from) {
            by_remote.entry(p.remote).or_default().push(p);
        }
    }
    by_remote
        .into_iter()
        .filter_map(|(ip, ps)| {
            let main = ps
                .iter()
                .max_by(|a, b| a.flows.cmp(&b.flows).then(b.ioc.cmp(&a.ioc)))?;
            let top = main.patterns.first()?;
            let mut targets: Vec<(IpAddr, u16)> = ps
                .iter()
                .map(|p| (p.ioc, p.server_port.unwrap_or(0)))
                .collect();
            targets.sort();
            targets.dedup();
            let mut days: Vec<NaiveDate> = ps
                .iter()
                .flat_map(|p| p.client_days.iter().copied().filter(|d| *d >= fam_from))
                .collect();
            days.sort();
            days.dedup();
            let remote_class = if cfg.roles.is_ephemeral(top.remote_modal.0) {
                None
            } else {
                Some(top.remote_modal.0)
            };
            Some(FamilyNode {
                ip,
                targets,
                days,
                sig: (main.protocol, main.server_port.unwrap_or(0), remote_class),
                bpp: main.bpp_median,
            })
        })
        .collect()
}

/// Share of members touching the family's relays on each data day.
fn activity(
    f: &Family,
    days: &[NaiveDate],
    touched: &FxHashMap<(IpAddr, NaiveDate), Vec<IpAddr>>,
) -> BTreeMap<NaiveDate, f64> {
    let n = f.members.len().max(1) as f64;
    days.iter()
        .map(|d| {
            let k = f
                .members
                .iter()
                .filter(|m| {
                    touched
                        .get(&(**m, *d))
                        .is_some_and(|iocs| iocs.iter().any(|i| f.relays.binary_search(i).is_ok()))
                })
                .count();
            (*d, k as f64 / n)
        })
        .collect()
}

/// Whether `ip` can be a real server on the Internet: not private, loopback,
/// link-local, multicast, broadcast, shared (100.64/10), documentation, reserved or
/// unspecified. Blocklists such as FireHOL level 1 carry those bogon ranges.
pub fn is_global_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            !(v.is_private()
                || v.is_loopback()
                || v.is_link_local()
                || v.is_multicast()
                || v.is_broadcast()
                || v.is_unspecified()
                || v.is_documentation()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (o[1] & 0xc0) == 64))
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            !(v.is_loopback()
                || v.is_unspecified()
                || v.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8))
        }
    }
}

/// An evenly spaced, deterministic sample of the ranked RemoteIPs.
fn control_sample(ranked: &[(IpAddr, (usize, u64, bool))], n: usize) -> Vec<IpAddr> {
    if n == 0 || ranked.is_empty() {
        return Vec::new();
    }
    let step = ranked.len().div_ceil(n).max(1);
    ranked.iter().step_by(step).map(|r| r.0).collect()
}
