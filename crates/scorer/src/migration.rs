//! Relay migration (detection-anchors.md §9.10): when an active family falls quiet,
//! the peers its members started to contact on the quiet days, ranked by support,
//! rarity among other hosts and port coherence.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{Duration, NaiveDate};
use flowmodel::RawFlow;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::config::MigrationConfig;
use crate::error::Result;
use crate::records::{Family, RelayCandidate};
use crate::stats::median;
use crate::store::EvidenceSource;

/// The first day of the latest stop of a family whose activity is known per day, or
/// `None`. A stop is `stop_days` consecutive data days with activity below
/// `stop_ratio ×` the median of the 7 data days before, after a non-quiet day; only
/// stops whose quiet run ends by `until` and began at most `after_days + stop_days`
/// days before `until` are reported (so a move is reported on the runs that follow it).
pub fn find_stop(
    activity: &BTreeMap<NaiveDate, f64>,
    until: NaiveDate,
    cfg: &MigrationConfig,
) -> Option<NaiveDate> {
    let days: Vec<(NaiveDate, f64)> = activity.range(..=until).map(|(d, a)| (*d, *a)).collect();
    let earliest = minus(until, (cfg.after_days + cfg.stop_days) as i64);
    let mut found = None;
    for i in 1..days.len() {
        let (s, _) = days[i];
        if s < earliest || i + cfg.stop_days > days.len() {
            continue;
        }
        let lo = i.saturating_sub(7);
        let base = median(days[lo..i].iter().map(|x| x.1));
        if base <= 0.0 {
            continue;
        }
        let quiet = |k: usize| days[k].1 < cfg.stop_ratio * base;
        if !quiet(i - 1) && (i..i + cfg.stop_days).all(quiet) {
            found = Some(s);
        }
    }
    found
}

/// `d − n` days, saturating at the first representable date.
fn minus(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_sub_signed(Duration::days(n))
        .unwrap_or(NaiveDate::MIN)
}

fn day_range(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|d| *d <= to).collect()
}

/// (peer, peer port, protocol, member, start ms) of every flow of a member.
fn contacts<'a>(
    flows: &'a [RawFlow],
    members: &'a FxHashSet<IpAddr>,
) -> impl Iterator<Item = (IpAddr, u16, u8, IpAddr, i64)> + 'a {
    flows.iter().filter_map(move |f| {
        if members.contains(&f.src) && !members.contains(&f.dst) {
            Some((f.dst, f.dst_port, f.protocol, f.src, f.start_ms))
        } else if members.contains(&f.dst) && !members.contains(&f.src) {
            Some((f.src, f.src_port, f.protocol, f.dst, f.start_ms))
        } else {
            None
        }
    })
}

/// Looks for the new relays of `family` after its stop on `stop`; `control` are
/// non-member hosts used as the popularity control.
pub fn relay_candidates(
    src: &dyn EvidenceSource,
    family: &Family,
    stop: NaiveDate,
    until: NaiveDate,
    control: &[IpAddr],
    cfg: &MigrationConfig,
) -> Result<Vec<RelayCandidate>> {
    let after = day_range(
        minus(stop, 1),
        stop.checked_add_signed(Duration::days(cfg.after_days as i64))
            .unwrap_or(NaiveDate::MAX)
            .min(until),
    );
    let base_from = minus(stop, 1 + cfg.baseline_days as i64);
    let baseline = day_range(base_from, minus(stop, 2));
    let members: FxHashSet<IpAddr> = family.members.iter().copied().collect();
    let known: FxHashSet<IpAddr> = src
        .raw_flows_of_hosts(&family.members, &baseline)?
        .iter()
        .map(|f| {
            if members.contains(&f.src) {
                f.dst
            } else {
                f.src
            }
        })
        .collect();
    let after_flows = src.raw_flows_of_hosts(&family.members, &after)?;
    // peer → (member → first contact), port counts, protocol counts.
    struct Peer {
        first: BTreeMap<IpAddr, i64>,
        ports: BTreeMap<(u16, u8), u64>,
    }
    let mut peers: BTreeMap<IpAddr, Peer> = BTreeMap::new();
    let mut active: BTreeSet<IpAddr> = BTreeSet::new();
    for (peer, port, proto, member, ts) in contacts(&after_flows, &members) {
        active.insert(member);
        if known.contains(&peer) || family.relays.contains(&peer) {
            continue;
        }
        let p = peers.entry(peer).or_insert_with(|| Peer {
            first: BTreeMap::new(),
            ports: BTreeMap::new(),
        });
        let e = p.first.entry(member).or_insert(ts);
        *e = (*e).min(ts);
        *p.ports.entry((port, proto)).or_insert(0) += 1;
    }
    if active.is_empty() || peers.is_empty() {
        return Ok(Vec::new());
    }
    // Popularity among non-members.
    let control: Vec<IpAddr> = control
        .iter()
        .copied()
        .filter(|c| !members.contains(c))
        .collect();
    let ctl_set: FxHashSet<IpAddr> = control.iter().copied().collect();
    let mut bg: FxHashMap<IpAddr, FxHashSet<IpAddr>> = FxHashMap::default();
    if !control.is_empty() {
        for f in src.raw_flows_of_hosts(&control, &after)? {
            if ctl_set.contains(&f.src) {
                bg.entry(f.dst).or_default().insert(f.src);
            }
            if ctl_set.contains(&f.dst) {
                bg.entry(f.src).or_default().insert(f.dst);
            }
        }
    }
    let stop_ms = stop
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0);
    let mut out = Vec::new();
    for (ip, p) in peers {
        let n = p.first.len();
        let support = n as f64 / active.len() as f64;
        if support < cfg.min_support || n < cfg.min_members {
            continue;
        }
        let bg_share = if control.is_empty() {
            0.0
        } else {
            bg.get(&ip).map_or(0, |s| s.len()) as f64 / control.len() as f64
        };
        let specificity = (1.0 - bg_share / support.max(1e-9)).clamp(0.0, 1.0);
        let total: u64 = p.ports.values().sum();
        let (&(port, protocol), &top) = p
            .ports
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .expect("a peer has at least one contact");
        let port_coherence = top as f64 / total.max(1) as f64;
        let first_med = median(p.first.values().map(|t| *t as f64));
        let onset = if (first_med - stop_ms as f64).abs() <= 48.0 * 3_600_000.0 {
            1.0
        } else {
            0.5
        };
        let score = support * specificity * port_coherence * onset;
        if score < cfg.min_score {
            continue;
        }
        out.push(RelayCandidate {
            ip,
            port,
            protocol,
            family_id: family.id.clone(),
            old_relays: family.relays.clone(),
            stop_day: stop,
            detected_on: until,
            members: n,
            support,
            specificity,
            port_coherence,
            onset,
            score,
            rank: 0,
        });
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.members.cmp(&a.members))
            .then(a.ip.cmp(&b.ip))
    });
    out.truncate(cfg.max_candidates);
    for (i, c) in out.iter_mut().enumerate() {
        c.rank = i + 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 5, 1).unwrap() + Duration::days(n)
    }

    #[test]
    fn stop_is_found_after_two_quiet_days_and_not_before() {
        let cfg = MigrationConfig::default();
        let mut a: BTreeMap<NaiveDate, f64> = (0..10).map(|k| (d(k), 0.9)).collect();
        a.insert(d(10), 0.05);
        assert_eq!(
            find_stop(&a, d(10), &cfg),
            None,
            "one quiet day is not a stop"
        );
        a.insert(d(11), 0.0);
        assert_eq!(find_stop(&a, d(11), &cfg), Some(d(10)));
        // Still reported on the following runs, then forgotten.
        a.insert(d(12), 0.0);
        assert_eq!(find_stop(&a, d(12), &cfg), Some(d(10)));
        for k in 13..30 {
            a.insert(d(k), 0.0);
        }
        assert_eq!(find_stop(&a, d(29), &cfg), None);
    }

    #[test]
    fn a_dip_that_recovers_is_not_a_stop() {
        let cfg = MigrationConfig::default();
        let mut a: BTreeMap<NaiveDate, f64> = (0..10).map(|k| (d(k), 0.9)).collect();
        a.insert(d(10), 0.05);
        a.insert(d(11), 0.8);
        assert_eq!(find_stop(&a, d(11), &cfg), None);
    }
}
