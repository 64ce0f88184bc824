//! Quality bars on multi-week data from the generator (flowgen), run through the
//! classifier as the daily pipeline would: bots outrank every benign host, families are
//! recovered, the planted migration is reported in time, re-runs are idempotent.

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::OnceLock;

use chrono::{Duration, NaiveDate};
use classifier::ClassifierConfig;
use flowgen::{GenConfig, Generator, GroundTruth};
use scorer::{AnalysisReport, Label, MemoryStore, RelayCandidate, ScorerConfig, analyze};
use support::*;

const DAYS: u32 = 20;

struct World {
    truth: GroundTruth,
    /// The store after analysing every day in turn.
    store: MemoryStore,
    /// The input only (no verdicts yet).
    input: MemoryStore,
    reports: BTreeMap<NaiveDate, AnalysisReport>,
    /// Candidates as reported by each day's run.
    candidates: BTreeMap<NaiveDate, Vec<RelayCandidate>>,
    /// Each bot's score after each day's run.
    bot_scores: BTreeMap<NaiveDate, HashMap<IpAddr, f64>>,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let g = Generator::new(GenConfig::small(7, DAYS)).expect("generator");
        let truth = g.truth();
        let ccfg = ClassifierConfig::default();
        let mut input = MemoryStore::new();
        for d in 0..DAYS {
            let date = g.date(d).expect("date");
            let list: HashSet<IpAddr> = g.blocklist(d).expect("blocklist").into_iter().collect();
            load_day(
                &mut input,
                date,
                g.day_flows(d).expect("flows"),
                &list,
                &ccfg,
            );
        }
        let cfg = ScorerConfig::default();
        let mut store = input.clone();
        let mut reports = BTreeMap::new();
        let mut candidates = BTreeMap::new();
        let mut bot_scores = BTreeMap::new();
        for d in 0..DAYS {
            let until = g.date(d).expect("date");
            let r = analyze(until, &cfg, &input, &mut store).expect("analyze");
            candidates.insert(until, store.candidates.clone());
            bot_scores.insert(
                until,
                truth
                    .bots
                    .iter()
                    .map(|b| (b.ip, store.verdicts.get(&b.ip).map_or(0.0, |v| v.score)))
                    .collect(),
            );
            reports.insert(until, r);
        }
        World {
            truth,
            store,
            input,
            reports,
            candidates,
            bot_scores,
        }
    })
}

#[test]
fn planted_bots_outrank_every_benign_host() {
    let w = world();
    let bots: HashSet<IpAddr> = w.truth.bots.iter().map(|b| b.ip).collect();
    let targets: HashSet<IpAddr> = w.truth.apt.iter().map(|a| a.target).collect();
    let iocs: HashSet<IpAddr> = w.truth.iocs.iter().map(|i| i.ip).collect();
    let lowest_bot = w
        .truth
        .bots
        .iter()
        .map(|b| (w.store.verdicts.get(&b.ip).map_or(0.0, |v| v.score), b.ip))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .expect("bots");
    let top_benign = w
        .store
        .verdicts
        .values()
        .filter(|v| !bots.contains(&v.ip) && !targets.contains(&v.ip) && !iocs.contains(&v.ip))
        .map(|v| (v.score, v.ip, v.labels.clone()))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some(top) = top_benign {
        eprintln!("lowest bot {lowest_bot:?}, top benign {top:?}");
        assert!(
            lowest_bot.0 > top.0,
            "lowest bot {lowest_bot:?} vs benign {top:?}"
        );
    }
    assert!(lowest_bot.0 > 0.0);
}

#[test]
fn contacted_only_hosts_get_no_checkin_label() {
    let w = world();
    for ip in &w.truth.contacted_only {
        if let Some(v) = w.store.verdicts.get(ip) {
            assert!(
                !v.labels.contains(&Label::C2CheckIn) && !v.labels.contains(&Label::CheckInClient),
                "{ip}: {:?}",
                v.labels
            );
        }
    }
}

#[test]
fn families_are_recovered_with_adjusted_rand_index_at_least_0_9() {
    let w = world();
    // Truth over the bots active in the last family window; prediction from the last run.
    let last = w.store.families.clone();
    let mut pred: HashMap<IpAddr, u64> = HashMap::new();
    for (i, f) in last.iter().enumerate() {
        for m in &f.members {
            pred.insert(*m, i as u64);
        }
    }
    let (mut t, mut p) = (Vec::new(), Vec::new());
    for (k, b) in w.truth.bots.iter().enumerate() {
        t.push(u64::from(b.family_id));
        p.push(pred.get(&b.ip).copied().unwrap_or(1_000_000 + k as u64));
    }
    // Predicted members that are not bots count as errors too.
    let bots: HashSet<IpAddr> = w.truth.bots.iter().map(|b| b.ip).collect();
    for (ip, fam) in &pred {
        if !bots.contains(ip) {
            t.push(2_000_000 + t.len() as u64);
            p.push(*fam);
        }
    }
    let ari = adjusted_rand_index(&t, &p);
    eprintln!("ARI {ari:.3}");
    assert!(
        ari >= 0.9,
        "ARI {ari:.3} with {} families: {:?}",
        last.len(),
        last.iter().map(|f| f.members.len()).collect::<Vec<_>>()
    );
}

#[test]
fn planted_migration_is_reported_within_two_days_with_the_new_relay_on_top() {
    let w = world();
    let fam = w
        .truth
        .families
        .iter()
        .find(|f| f.migration.is_some())
        .expect("a migration");
    let m = fam.migration.as_ref().expect("migration");
    let found = w
        .candidates
        .iter()
        .filter(|(d, _)| **d >= m.day && **d <= m.day + Duration::days(2))
        .find_map(|(d, c)| {
            c.iter()
                .find(|c| c.rank == 1 && c.ip == m.new_relay)
                .map(|c| (*d, c.clone()))
        });
    let (day, c) = found.unwrap_or_else(|| {
        panic!(
            "new relay {} not top within 2 days: {:?}",
            m.new_relay,
            w.candidates.range(m.day..).take(3).collect::<Vec<_>>()
        )
    });
    eprintln!("migration on {} reported on {day}: {c:?}", m.day);
    assert!(c.old_relays.contains(&m.old_relay));
    assert_eq!(c.port, fam.relay_port);
    assert!(c.support >= 0.5, "{c:?}");
    assert!(day <= m.day + Duration::days(2));
    // Never mixed into the blocklist evidence: the new relay has no verdict of its own.
    assert!(!w.store.verdicts.contains_key(&m.new_relay));
}

#[test]
fn steady_bot_score_growth_slows_down() {
    let w = world();
    let days: Vec<&NaiveDate> = w.bot_scores.keys().collect();
    let (a, b, c) = (days[5], days[12], days[19]);
    let migrated: HashSet<IpAddr> = w
        .truth
        .families
        .iter()
        .filter(|f| f.migration.is_some())
        .flat_map(|f| f.members.iter().copied())
        .collect();
    let steady: Vec<&IpAddr> = w
        .truth
        .bots
        .iter()
        .filter(|bt| !migrated.contains(&bt.ip) && bt.active_days.len() == DAYS as usize)
        .map(|bt| &bt.ip)
        .collect();
    assert!(!steady.is_empty());
    for ip in steady {
        let (sa, sb, sc) = (
            w.bot_scores[a][ip],
            w.bot_scores[b][ip],
            w.bot_scores[c][ip],
        );
        assert!(sb - sa > sc - sb, "{ip}: {sa} {sb} {sc}");
        // Bounded by (max daily points) · h / ln 2 plus the weak-evidence lift.
        assert!(sc < 1.8 * 14.0 / std::f64::consts::LN_2 + 1.5);
    }
}

#[test]
fn rerunning_the_last_day_changes_nothing() {
    let w = world();
    let mut again = w.store.clone();
    let until = *w.reports.keys().next_back().expect("days");
    analyze(until, &ScorerConfig::default(), &w.input, &mut again).expect("analyze");
    assert_eq!(again.verdicts, w.store.verdicts);
    assert_eq!(again.families, w.store.families);
}
