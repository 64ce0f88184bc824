//! CTU-13 scenario 11 (Rbot, IRC C&C; one capture, one day): the three C&C servers plus
//! a real 2016 FireHOL level-1 list as the blocklist, run through the classifier and a
//! one-day analysis.

mod support;

use std::collections::HashSet;
use std::net::IpAddr;

use classifier::ClassifierConfig;
use flowmodel::IocSet;
use ioc_fetch::Matcher;
use scorer::{Label, MemoryStore, ScorerConfig, Subject, analyze};
use support::*;

const DIR: &str = "ctu13-scenario11-rbot";
const BOTS: [(&str, &str); 3] = [
    ("147.32.84.165", "38.229.70.20"),
    ("147.32.84.191", "216.155.130.130"),
    ("147.32.84.192", "78.40.125.4"),
];

struct Run {
    store: MemoryStore,
    normal: HashSet<IpAddr>,
    cc_contact: HashSet<IpAddr>,
}

fn run() -> Run {
    let dir = data_dir().join(DIR);
    let cc_list = blocklist(&dir.join("cc-blocklist-derived.txt"));
    let cc = Matcher::from_list(&cc_list);
    let firehol = blocklist(&data_dir().join("blocklists/firehol-2016-12/firehol_level1.netset"));
    let list = Matcher::new(&[cc_list.entries, firehol.entries].concat());
    let capture = dir.join("capture20110818-2.binetflow");
    let (scan, flows) = scan_binetflow(&capture, &list);
    let mut cc_contact = HashSet::new();
    for f in &flows {
        if cc.contains(f.src) {
            cc_contact.insert(f.dst);
        }
        if cc.contains(f.dst) {
            cc_contact.insert(f.src);
        }
    }
    let rows = scan.lines - scan.non_ip - scan.malformed;
    assert!(rows > 107_000, "the whole capture was read ({rows} rows)");
    let date = "2011-08-18".parse().expect("date");
    let mut store = MemoryStore::new();
    load_day(&mut store, date, flows, &list, &ClassifierConfig::default());
    let input = store.clone();
    // One capture, one day: every RemoteIP is analysed (the default top 200 by days
    // seen is meant for weeks of data).
    let mut cfg = ScorerConfig {
        window_days: 1,
        ..ScorerConfig::default()
    };
    cfg.ranking.top_n = 100_000;
    analyze(date, &cfg, &input, &mut store).expect("analyze");
    Run {
        store,
        normal: normal_hosts(&capture),
        cc_contact,
    }
}

#[test]
fn infected_hosts_check_in_and_outrank_every_host_without_cc_contact() {
    let r = run();
    let mut lowest_bot = f64::INFINITY;
    for (bot, cc) in BOTS {
        let v = r
            .store
            .verdicts
            .get(&ip(bot))
            .unwrap_or_else(|| panic!("{bot} has a verdict"));
        assert!(
            v.labels.contains(&Label::C2CheckIn),
            "{bot}: {:?}",
            v.labels
        );
        assert!(v.related.contains(&ip(cc)), "{bot} → {cc}: {:?}", v.related);
        lowest_bot = lowest_bot.min(v.score);
    }
    let others: Vec<(IpAddr, f64)> = r
        .store
        .verdicts
        .values()
        .filter(|v| v.subject == Subject::Remote && !r.cc_contact.contains(&v.ip))
        .map(|v| (v.ip, v.score))
        .collect();
    assert!(
        !others.is_empty(),
        "FireHOL matches give hosts without C&C contact"
    );
    for (host, score) in others {
        assert!(lowest_bot > score, "bot {lowest_bot} vs {host} {score}");
    }
}

#[test]
fn no_normal_host_gets_a_label() {
    let r = run();
    assert!(r.normal.len() >= 6);
    for n in &r.normal {
        if let Some(v) = r.store.verdicts.get(n) {
            assert!(v.labels.is_empty(), "{n}: {:?}", v.labels);
        }
    }
}

#[test]
fn hosts_merely_contacted_by_a_cc_are_not_checkins() {
    // The C&C servers send one flow each to .206 and .208 (Argus saw no reply).
    let r = run();
    for host in ["147.32.84.206", "147.32.84.208"] {
        if let Some(v) = r.store.verdicts.get(&ip(host)) {
            assert!(
                !v.labels.contains(&Label::C2CheckIn),
                "{host}: {:?}",
                v.labels
            );
        }
    }
}

#[test]
fn ident_callbacks_are_not_apt_targeting() {
    // Each C&C connects back to its bot's tcp/113 once: one day is not "repeatedly".
    let r = run();
    for (bot, _) in BOTS {
        let v = &r.store.verdicts[&ip(bot)];
        assert!(
            !v.labels.contains(&Label::AptTarget),
            "{bot}: {:?}",
            v.labels
        );
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}
