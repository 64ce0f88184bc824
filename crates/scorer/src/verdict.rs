//! The decayed score and the verdict bookkeeping (detection-anchors.md §9.8).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::NaiveDate;

use crate::config::VerdictConfig;
use crate::records::{DayEvidence, Evidence, LabelSpan, Level, Subject, Verdict};

/// The score at day `at` from per-day evidence:
/// `S = S_strong + min(S_weak, weak_cap) + (S_strong ≥ strong_min ? weak_cap : 0)` where
/// each part is `Σ_{d ≤ at} D(d)·2^(−(at−d)/h)`. Evidence after `at` is ignored. A pure
/// function of the stored evidence, so re-running a day never counts it twice.
pub fn score_at(
    evidence: &BTreeMap<NaiveDate, DayEvidence>,
    at: NaiveDate,
    cfg: &VerdictConfig,
) -> f64 {
    let (mut strong, mut weak) = (0.0, 0.0);
    for (d, e) in evidence.range(..=at) {
        let age = (at - *d).num_days() as f64;
        let w = if cfg.half_life_days > 0.0 {
            (-age / cfg.half_life_days).exp2()
        } else {
            1.0
        };
        strong += (e.points - e.weak_points).max(0.0) * w;
        weak += e.weak_points.max(0.0) * w;
    }
    let bonus = if strong >= cfg.strong_min {
        cfg.weak_cap
    } else {
        0.0
    };
    strong + weak.min(cfg.weak_cap) + bonus
}

/// The level of a score.
pub fn level_of(score: f64, cfg: &VerdictConfig) -> Level {
    if score >= cfg.high {
        Level::High
    } else if score >= cfg.suspicious {
        Level::Suspicious
    } else if score >= cfg.watch {
        Level::Watch
    } else {
        Level::None
    }
}

/// An empty verdict.
pub fn empty_verdict(ip: IpAddr, subject: Subject, at: NaiveDate) -> Verdict {
    Verdict {
        ip,
        subject,
        score: 0.0,
        level: Level::None,
        labels: Vec::new(),
        label_dates: BTreeMap::new(),
        first_seen: None,
        last_seen: None,
        days_seen: 0,
        related: Vec::new(),
        family: None,
        scored_at: at,
        evidence: BTreeMap::new(),
    }
}

/// Replaces the evidence of the days `from ..= to` with `fresh` (days without fresh
/// evidence are removed), then recomputes everything derived from the evidence.
pub fn replace_days(
    v: &mut Verdict,
    from: NaiveDate,
    to: NaiveDate,
    fresh: BTreeMap<NaiveDate, Vec<Evidence>>,
    at: NaiveDate,
    cfg: &VerdictConfig,
) {
    let stale: Vec<NaiveDate> = v.evidence.range(from..=to).map(|(d, _)| *d).collect();
    for d in stale {
        v.evidence.remove(&d);
    }
    for (d, items) in fresh {
        if items.is_empty() {
            continue;
        }
        let mut day = DayEvidence {
            items,
            points: 0.0,
            weak_points: 0.0,
        };
        day.recompute();
        v.evidence.insert(d, day);
    }
    refresh(v, at, cfg);
}

/// Recomputes the score, level, labels, dates and related addresses from the evidence.
pub fn refresh(v: &mut Verdict, at: NaiveDate, cfg: &VerdictConfig) {
    v.scored_at = at;
    v.score = score_at(&v.evidence, at, cfg);
    v.level = level_of(v.score, cfg);
    v.label_dates.clear();
    let mut related = BTreeSet::new();
    for (d, day) in &v.evidence {
        for e in &day.items {
            let span = v.label_dates.entry(e.label).or_insert(LabelSpan {
                first: *d,
                last: *d,
            });
            span.first = span.first.min(*d);
            span.last = span.last.max(*d);
            if let Some(p) = e.peer {
                related.insert(p);
            }
        }
    }
    v.labels = v.label_dates.keys().copied().collect();
    v.first_seen = v.evidence.keys().next().copied();
    v.last_seen = v.evidence.keys().next_back().copied();
    v.days_seen = v.evidence.len();
    v.related = related.into_iter().collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Label;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Duration::days(n)
    }

    fn steady(label: Label, c: f64, days: i64) -> BTreeMap<NaiveDate, DayEvidence> {
        (0..days)
            .map(|n| {
                let mut d = DayEvidence {
                    items: vec![Evidence::new(label, c, None)],
                    ..Default::default()
                };
                d.recompute();
                (day(n), d)
            })
            .collect()
    }

    #[test]
    fn steady_evidence_converges_instead_of_growing() {
        let cfg = VerdictConfig {
            weak_cap: 0.0,
            ..Default::default()
        };
        let ev = steady(Label::CheckInClient, 0.8, 400);
        let d = 0.5 * 0.8;
        let s100 = score_at(&ev, day(99), &cfg);
        let s399 = score_at(&ev, day(399), &cfg);
        let limit = d / (1.0 - (-1.0f64 / 14.0).exp2());
        assert!((s399 - limit).abs() < 1e-6, "{s399} vs {limit}");
        assert!((s399 - s100) < 0.01 * limit);
        // The anchors' figure: 0.4 a day reaches ≈ 4.14 after 14 days (within rounding).
        let s14 = score_at(&ev, day(13), &cfg);
        assert!((s14 - 4.14).abs() < 0.15, "{s14}");
    }

    #[test]
    fn steady_scanning_never_outranks_one_relay_checkin() {
        let cfg = VerdictConfig::default();
        let scanner = steady(Label::Scanner, 0.5, 365);
        let bot = steady(Label::C2CheckIn, 0.3, 1);
        let s_scan = score_at(&scanner, day(364), &cfg);
        let s_bot = score_at(&bot, day(0), &cfg);
        assert!(s_scan <= cfg.weak_cap + 1e-9);
        assert!(s_bot > s_scan, "{s_bot} vs {s_scan}");
        assert!(level_of(s_scan, &cfg) < Level::Suspicious);
    }

    #[test]
    fn blocklist_presence_alone_scores_nothing() {
        let cfg = VerdictConfig::default();
        let listed = steady(Label::BlocklistHit, 1.0, 60);
        assert_eq!(score_at(&listed, day(59), &cfg), 0.0);
        assert_eq!(level_of(0.0, &cfg), Level::None);
    }

    #[test]
    fn rerunning_a_day_replaces_it_instead_of_adding() {
        let cfg = VerdictConfig::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let mut v = empty_verdict(ip, Subject::Remote, day(0));
        let fresh = || BTreeMap::from([(day(0), vec![Evidence::new(Label::C2CheckIn, 0.9, None)])]);
        replace_days(&mut v, day(0), day(0), fresh(), day(0), &cfg);
        let once = v.score;
        replace_days(&mut v, day(0), day(0), fresh(), day(0), &cfg);
        assert_eq!(v.score, once);
        assert_eq!(v.days_seen, 1);
        assert_eq!(v.labels, vec![Label::C2CheckIn]);
    }
}
