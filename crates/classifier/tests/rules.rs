//! Each rule on hand-built days sitting just inside and just outside its thresholds.

mod support;

use std::net::IpAddr;

use classifier::{ClassifierConfig, classify, classify_day};
use flowmodel::{IocClass, IocDayAcc, IocDaySummary, Role};
use support::*;

const SYN: u16 = 0x02;
const SYNACK: u16 = 0x12;
const PA: u16 = 0x18;
const SPA: u16 = 0x1a;

fn ioc() -> IpAddr {
    ip("198.51.100.9")
}

/// A day from (remote index, record) pairs.
fn day(recs: impl IntoIterator<Item = (u32, Rec)>) -> IocDayAcc {
    let mut acc = IocDayAcc::new();
    for (i, r) in recs {
        acc.add(&r.build(ioc(), host(i)));
    }
    acc
}

fn class_of(acc: &IocDayAcc) -> IocDaySummary {
    classify(
        ioc(),
        acc.flows(),
        acc,
        "2025-09-05".parse().unwrap(),
        &ClassifierConfig::default(),
    )
}

/// `n` bots, one check-in each to tcp/8443 from an ephemeral port.
fn checkins(n: u32, pk: u64, oct: u64) -> Vec<(u32, Rec)> {
    (0..n)
        .map(|i| (i, Rec::rcv(8443, 49_200 + i as u16, 6, SPA, pk, oct)))
        .collect()
}

/// The IoC probes `n` hosts on tcp/23 with one SYN each (44 bytes); every 4th answers.
fn scan(n: u32, probe_octets: u64) -> Vec<(u32, Rec)> {
    let mut v = Vec::new();
    for i in 0..n {
        v.push((i, Rec::send(40_000 + i as u16, 23, 6, SYN, 1, probe_octets)));
        if i % 4 == 0 {
            v.push((i, Rec::rcv(40_000 + i as u16, 23, 6, SYNACK, 1, 44)));
        }
    }
    v
}

#[test]
fn zero_total_is_nodata_but_a_sample_beats_a_stale_zero_total() {
    let empty = IocDayAcc::new();
    assert_eq!(class_of(&empty).class, IocClass::NoData);
    let one = day(checkins(1, 2, 120));
    let s = classify(
        ioc(),
        0,
        &one,
        "2025-09-05".parse().unwrap(),
        &ClassifierConfig::default(),
    );
    assert_eq!((s.class, s.total_flows), (IocClass::Candidate, 1));
}

#[test]
fn wide_starts_above_the_limit_not_at_it() {
    let acc = day(checkins(3, 2, 120));
    let cfg = ClassifierConfig::default();
    let d = "2025-09-05".parse().unwrap();
    assert_ne!(classify(ioc(), 10_000, &acc, d, &cfg).class, IocClass::Wide);
    let s = classify(ioc(), 10_001, &acc, d, &cfg);
    assert_eq!(s.class, IocClass::Wide);
    let r = &s.reasons[0];
    assert_eq!(
        (
            r.rule.as_str(),
            r.value,
            r.op.as_str(),
            r.threshold,
            r.passed
        ),
        ("wide", 10_001.0, ">", 10_000.0, true)
    );
}

#[test]
fn horizontal_scan_needs_twenty_hosts_and_counts_its_replies_as_its_own() {
    let s = class_of(&day(scan(20, 44)));
    assert_eq!(
        (s.class, s.detail.as_deref()),
        (IocClass::Scan, Some("horizontal"))
    );
    assert!(
        s.reasons
            .iter()
            .any(|r| r.feature == "n_remote" && r.value == 20.0 && r.passed)
    );
    assert_ne!(class_of(&day(scan(19, 44))).class, IocClass::Scan);
}

#[test]
fn probes_with_payload_are_not_a_scan() {
    // 76 B/packet is a probe (≤ 80), 100 B/packet carries data.
    assert_eq!(class_of(&day(scan(40, 76))).class, IocClass::Scan);
    let s = class_of(&day(scan(40, 100)));
    assert_ne!(s.class, IocClass::Scan);
    assert!(
        s.reasons
            .iter()
            .any(|r| r.rule == "scan.horizontal" && r.feature == "bpp_median" && !r.passed)
    );
}

#[test]
fn scan_replies_are_not_checkins() {
    // 15 hosts (too few for a scan) all answer SYN|ACK from their server port to the
    // IoC's fixed source port: that is a crowd of replies, not a crowd of clients.
    let mut v = Vec::new();
    for i in 0..15 {
        v.push((i, Rec::send(61_000, 22, 6, SYN, 1, 44)));
        v.push((i, Rec::rcv(61_000, 22, 6, SYNACK, 1, 44)));
    }
    let acc = day(v);
    let s = class_of(&acc);
    assert_eq!(s.class, IocClass::Candidate);
    let out = classify_day(
        "2025-09-05".parse().unwrap(),
        &[(ioc(), acc.flows(), acc)],
        &ClassifierConfig::default(),
    );
    assert!(
        out.remotes
            .iter()
            .all(|r| !r.watched && r.iocs[0].role == Role::Server)
    );
}

#[test]
fn vertical_scan_needs_five_probed_ports_on_few_hosts() {
    let probe = |ports: u16| {
        (0..ports)
            .map(|k| (0u32, Rec::send(50_000, 20 + k, 6, SYN, 1, 44)))
            .collect::<Vec<_>>()
    };
    let s = class_of(&day(probe(5)));
    assert_eq!(
        (s.class, s.detail.as_deref()),
        (IocClass::Scan, Some("vertical"))
    );
    assert_eq!(class_of(&day(probe(4))).class, IocClass::Candidate);
}

#[test]
fn a_server_answering_one_clients_many_connections_is_not_a_vertical_scan() {
    // One host opens 8 connections to the IoC's tcp/443; the IoC answers each
    // ephemeral port: 8 destination ports, none of them probed.
    let mut v = Vec::new();
    for k in 0..8u16 {
        v.push((0, Rec::rcv(443, 51_000 + k, 6, SPA, 6, 900)));
        v.push((0, Rec::send(443, 51_000 + k, 6, PA, 8, 9_000)));
    }
    assert_eq!(class_of(&day(v)).class, IocClass::Candidate);
}

#[test]
fn backscatter_needs_twenty_victims() {
    let bs = |n: u32| {
        (0..n)
            .map(|i| (i, Rec::send(80, 1_024 + i as u16, 6, SYNACK, 1, 44)))
            .collect::<Vec<_>>()
    };
    let s = class_of(&day(bs(20)));
    assert_eq!(
        (s.class, s.detail.as_deref()),
        (IocClass::DoS, Some("backscatter"))
    );
    assert_ne!(class_of(&day(bs(19))).class, IocClass::DoS);
}

#[test]
fn reflection_victim_needs_five_reflectors_of_large_replies() {
    let refl = |n: u32, oct: u64| {
        (0..n)
            .map(|i| (i, Rec::rcv(443, 123, 17, 0, 10, oct)))
            .collect::<Vec<_>>()
    };
    let s = class_of(&day(refl(5, 4_680)));
    assert_eq!(
        (s.class, s.detail.as_deref()),
        (IocClass::DoS, Some("reflection"))
    );
    assert_ne!(class_of(&day(refl(4, 4_680))).class, IocClass::DoS);
    // NTP-sized answers (48 B/packet) are not amplification.
    assert_ne!(class_of(&day(refl(5, 480))).class, IocClass::DoS);
}

#[test]
fn syn_flood_on_one_pair_needs_ten_flows() {
    let fl = |n: u16| {
        (0..n)
            .map(|k| (0u32, Rec::rcv(80, 30_000 + k, 6, SYN, 1, 40)))
            .collect::<Vec<_>>()
    };
    let s = class_of(&day(fl(10)));
    assert_eq!(
        (s.class, s.detail.as_deref()),
        (IocClass::DoS, Some("flood"))
    );
    assert_ne!(class_of(&day(fl(9))).class, IocClass::DoS);
}

#[test]
fn spoofed_syn_flood_is_dos_not_a_crowd_of_checkins() {
    let fl = |n: u32| {
        (0..n)
            .map(|i| (i, Rec::rcv(80, 33_000 + (i % 30_000) as u16, 6, SYN, 1, 40)))
            .collect::<Vec<_>>()
    };
    let s = class_of(&day(fl(1_000)));
    assert_eq!(
        (s.class, s.detail.as_deref()),
        (IocClass::DoS, Some("syn_flood"))
    );
    assert_eq!(class_of(&day(fl(999))).class, IocClass::CheckIn);
}

#[test]
fn checkin_needs_ten_clients() {
    assert_eq!(
        class_of(&day(checkins(10, 2, 120))).class,
        IocClass::CheckIn
    );
    let s = class_of(&day(checkins(9, 2, 120)));
    assert_eq!(s.class, IocClass::Candidate);
    assert!(
        s.reasons
            .iter()
            .any(|r| r.rule == "checkin" && r.feature == "n_remote" && r.value == 9.0 && !r.passed)
    );
}

#[test]
fn checkin_packets_must_be_small() {
    // bpp buckets are 8 B wide: 144 B/packet → 148 ≤ 150; 160 B/packet → 164 > 150.
    assert_eq!(
        class_of(&day(checkins(12, 2, 288))).class,
        IocClass::CheckIn
    );
    assert_eq!(
        class_of(&day(checkins(12, 2, 320))).class,
        IocClass::Candidate
    );
    // Median octets per RemoteIP: 1,000 passes, 1,100 (in 10 packets) does not.
    assert_eq!(
        class_of(&day(checkins(12, 10, 1_000))).class,
        IocClass::CheckIn
    );
    assert_eq!(
        class_of(&day(checkins(12, 10, 1_100))).class,
        IocClass::Candidate
    );
}

#[test]
fn windows_xp_clients_below_32768_still_check_in() {
    // Ports 1025–5000 are not ephemeral by the 32768 rule, but they vary per client.
    let v: Vec<_> = (0..12u32)
        .map(|i| (i, Rec::rcv(6667, 1_025 + 7 * i as u16, 6, SPA, 2, 120)))
        .collect();
    let acc = day(v);
    assert_eq!(class_of(&acc).class, IocClass::CheckIn);
    let out = classify_day(
        "2025-09-05".parse().unwrap(),
        &[(ioc(), acc.flows(), acc)],
        &ClassifierConfig::default(),
    );
    assert_eq!(out.remotes.len(), 12);
    assert!(
        out.remotes
            .iter()
            .all(|r| r.watched && r.roles == vec![Role::Client])
    );
}

#[test]
fn relay_answers_do_not_spoil_a_checkin_and_contacted_hosts_are_not_watched() {
    let mut v = checkins(20, 2, 120);
    for i in 0..20u32 {
        v.push((i, Rec::send(8443, 49_200 + i as u16, 6, SYNACK, 1, 60)));
    }
    // The relay also reaches out to two hosts' web servers: contacted, not clients.
    v.push((100, Rec::send(55_001, 80, 6, SYN, 1, 60)));
    v.push((101, Rec::send(55_002, 80, 6, SYN, 1, 60)));
    let acc = day(v);
    let out = classify_day(
        "2025-09-05".parse().unwrap(),
        &[(ioc(), acc.flows(), acc)],
        &ClassifierConfig::default(),
    );
    assert_eq!(out.iocs[0].class, IocClass::CheckIn);
    let watched: Vec<_> = out
        .remotes
        .iter()
        .filter(|r| r.watched)
        .map(|r| r.remote_ip)
        .collect();
    assert_eq!(watched.len(), 20);
    for contacted in [host(100), host(101)] {
        let r = out
            .remotes
            .iter()
            .find(|r| r.remote_ip == contacted)
            .unwrap();
        assert!(!r.watched);
        assert_eq!(r.iocs[0].role, Role::Server);
    }
}

#[test]
fn one_way_checkins_from_one_stable_remote_port_are_not_clients() {
    // Twelve hosts sending from their port 53 to the IoC's port 8443: replies of
    // resolvers, not check-ins (the RemoteIP side is the stable one).
    let v: Vec<_> = (0..12u32)
        .map(|i| (i, Rec::rcv(8443, 53, 17, 0, 1, 90)))
        .collect();
    assert_eq!(class_of(&day(v)).class, IocClass::Candidate);
}

#[test]
fn config_reads_from_toml_with_defaults_and_rejects_bad_shares() {
    let cfg: ClassifierConfig = toml::from_str("wide_min_flows = 5000\nephemeral_ranges = [[1025, 5000], [49152, 65535]]\n[checkin]\nmin_remote = 3\n").unwrap();
    assert_eq!(cfg.wide_min_flows, 5000);
    assert!(cfg.is_ephemeral(1030) && !cfg.is_ephemeral(6667));
    assert_eq!(cfg.checkin.min_remote, 3);
    assert_eq!(cfg.checkin.bpp_max, 150.0);
    let mut bad = cfg.clone();
    bad.scan.le2_share = 1.5;
    assert!(
        bad.validate()
            .unwrap_err()
            .to_string()
            .contains("scan.le2_share")
    );
    assert!(
        toml::from_str::<ClassifierConfig>("wide_min_flow = 1").is_err(),
        "typos are errors, not silent defaults"
    );
    let json = serde_json::to_string(&ClassifierConfig::default()).unwrap();
    assert_eq!(
        serde_json::from_str::<ClassifierConfig>(&json).unwrap(),
        ClassifierConfig::default()
    );
}
