//! The long-range run on hand-built evidence: each test names the trap it guards.

use std::net::IpAddr;

use chrono::{Duration, NaiveDate};
use flowmodel::{
    Direction, IocClass, IocDaySummary, IocFlow, RawFlow, RemoteDaySummary, RemoteIocLink, Role,
    ViewContext,
};
use scorer::{Label, Level, MemoryStore, ScorerConfig, Subject, analyze};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 1).expect("date") + Duration::days(n)
}

#[allow(clippy::too_many_arguments)]
fn flow(
    d: NaiveDate,
    src: IpAddr,
    dst: IpAddr,
    sp: u16,
    dp: u16,
    ms: i64,
    octets: u64,
    dir: Direction,
) -> IocFlow {
    let raw = RawFlow {
        src,
        dst,
        src_port: sp,
        dst_port: dp,
        protocol: 6,
        tcp_flags: 2,
        octets,
        packets: 2,
        start_ms: d
            .and_hms_opt(0, 0, 0)
            .expect("time")
            .and_utc()
            .timestamp_millis()
            + ms,
        end_ms: None,
        exporter: None,
        src_as: 0,
        dst_as: 0,
        src_geo: None,
        dst_geo: None,
    };
    IocFlow::from_raw(&raw, dir, 100, &ViewContext::new(d, "t"))
}

fn summary(
    d: NaiveDate,
    remote: IpAddr,
    ioc: IpAddr,
    class: IocClass,
    checkin: bool,
    flows: u64,
) -> RemoteDaySummary {
    RemoteDaySummary {
        date: d,
        remote_ip: remote,
        iocs: vec![RemoteIocLink {
            ioc_ip: ioc,
            class,
            role: Role::Unknown,
            send_flows: 0,
            rcv_flows: flows,
            packets: 2 * flows,
            octets: 100 * flows,
            ioc_ports: vec![],
            remote_ports: vec![],
            checkin,
            first_seen: 0,
            last_seen: 0,
        }],
        roles: vec![],
        protocols: vec![6],
        send_flows: 0,
        rcv_flows: flows,
        send_packets: 0,
        send_octets: 0,
        rcv_packets: 2 * flows,
        rcv_octets: 100 * flows,
        first_seen: 0,
        last_seen: 0,
        watched: checkin,
    }
}

fn ioc_summary(d: NaiveDate, ioc: IpAddr, class: IocClass) -> IocDaySummary {
    IocDaySummary {
        date: d,
        ioc_ip: ioc,
        class,
        reasons: vec![],
        detail: None,
        total_flows: 10,
        sampled_flows: 10,
        remote_ips: 1,
        send_flows: 0,
        rcv_flows: 0,
        send_packets: 0,
        send_octets: 0,
        rcv_packets: 0,
        rcv_octets: 0,
        top_ioc_ports: vec![],
        top_remote_ports: vec![],
        protocols: vec![6],
        first_seen: None,
        last_seen: None,
    }
}

fn add(
    store: &mut MemoryStore,
    d: NaiveDate,
    iocs: Vec<IocDaySummary>,
    remotes: Vec<RemoteDaySummary>,
    flows: Vec<IocFlow>,
) {
    store.ioc.entry(d).or_default().extend(iocs);
    store.remote.entry(d).or_default().extend(remotes);
    store.flows.entry(d).or_default().extend(flows);
}

/// An IoC connecting to one internal host's SSH port every day for a week: AptTarget on
/// the host, Attacker on the IoC; the check-in label does not appear.
#[test]
fn repeated_ioc_connections_to_a_server_port_are_apt_targeting_not_checkins() {
    let (attacker, target) = (ip("45.61.1.9"), ip("140.112.5.5"));
    let mut s = MemoryStore::new();
    for k in 0..7 {
        let d = day(k);
        let flows: Vec<IocFlow> = (0..6)
            .map(|i| {
                flow(
                    d,
                    attacker,
                    target,
                    40000 + (k * 10 + i) as u16,
                    22,
                    i * 600_000,
                    300,
                    Direction::Send,
                )
            })
            .collect();
        add(
            &mut s,
            d,
            vec![ioc_summary(d, attacker, IocClass::Candidate)],
            vec![summary(d, target, attacker, IocClass::Candidate, false, 6)],
            flows,
        );
    }
    let input = s.clone();
    analyze(day(6), &ScorerConfig::default(), &input, &mut s).expect("analyze");
    let v = &s.verdicts[&target];
    assert!(v.labels.contains(&Label::AptTarget), "{:?}", v.labels);
    assert!(!v.labels.contains(&Label::C2CheckIn));
    assert_eq!(v.label_dates[&Label::AptTarget].first, day(0));
    let a = &s.verdicts[&attacker];
    assert_eq!(a.subject, Subject::Ioc);
    assert!(a.labels.contains(&Label::Attacker));
    assert_eq!(a.related, vec![target]);
}

/// Three hosts checking in to one relay: the IoC becomes a `Relay` naming its clients.
#[test]
fn an_ioc_with_several_checkin_clients_is_a_relay() {
    let relay = ip("91.200.1.1");
    let bots = [ip("140.112.9.1"), ip("140.112.9.2"), ip("140.112.9.3")];
    let mut s = MemoryStore::new();
    for k in 0..10 {
        let d = day(k);
        let mut flows = Vec::new();
        let mut sums = Vec::new();
        for (b, bot) in bots.iter().enumerate() {
            for i in 0..4 {
                let port = 49152 + (k * 40 + b as i64 * 4 + i) as u16;
                flows.push(flow(
                    d,
                    *bot,
                    relay,
                    port,
                    8443,
                    i * 3_600_000,
                    120,
                    Direction::Rcv,
                ));
            }
            sums.push(summary(d, *bot, relay, IocClass::Candidate, false, 4));
        }
        add(
            &mut s,
            d,
            vec![ioc_summary(d, relay, IocClass::Candidate)],
            sums,
            flows,
        );
    }
    let input = s.clone();
    let report = analyze(day(9), &ScorerConfig::default(), &input, &mut s).expect("analyze");
    let r = &s.verdicts[&relay];
    assert!(r.labels.contains(&Label::Relay), "{:?}", r.labels);
    assert_eq!(r.related, bots.to_vec());
    for b in bots {
        assert!(s.verdicts[&b].labels.contains(&Label::C2CheckIn));
        assert!(
            s.verdicts[&b].level >= Level::Suspicious,
            "{}",
            s.verdicts[&b].score
        );
    }
    assert_eq!(report.top_iocs[0].ip, relay);
}

/// A watched RemoteIP seen on one day only is analysed even when 300 busier hosts
/// fill the top-N list.
#[test]
fn watched_remotes_are_analysed_beyond_the_top_n() {
    let (relay, web) = (ip("91.200.1.1"), ip("91.200.2.2"));
    let mut s = MemoryStore::new();
    for k in 0..5 {
        let d = day(k);
        let sums: Vec<RemoteDaySummary> = (0..300u32)
            .map(|i| {
                summary(
                    d,
                    IpAddr::from([140, 113, (i / 200) as u8, (i % 200) as u8]),
                    web,
                    IocClass::Candidate,
                    false,
                    3,
                )
            })
            .collect();
        add(&mut s, d, vec![], sums, vec![]);
    }
    let bot = ip("140.112.77.7");
    let d = day(4);
    let flows: Vec<IocFlow> = (0..6)
        .map(|i| {
            flow(
                d,
                bot,
                relay,
                50000 + i as u16,
                443,
                i * 1_800_000,
                90,
                Direction::Rcv,
            )
        })
        .collect();
    add(
        &mut s,
        d,
        vec![ioc_summary(d, relay, IocClass::CheckIn)],
        vec![summary(d, bot, relay, IocClass::CheckIn, true, 6)],
        flows,
    );
    let input = s.clone();
    let report = analyze(day(4), &ScorerConfig::default(), &input, &mut s).expect("analyze");
    assert_eq!(report.analysed_remotes, 201);
    let v = &s.verdicts[&bot];
    assert!(v.labels.contains(&Label::CheckInClient));
    assert!(v.labels.contains(&Label::C2CheckIn));
}

/// Flows of an IoC classified Scan that day never produce check-ins, even when the
/// hosts' replies come from ephemeral-looking ports.
#[test]
fn scan_days_are_noise_not_checkins() {
    let scanner = ip("80.82.77.1");
    let host = ip("140.112.8.8");
    let mut s = MemoryStore::new();
    for k in 0..8 {
        let d = day(k);
        let flows = vec![
            flow(d, scanner, host, 51000, 23, 1000, 60, Direction::Send),
            flow(d, host, scanner, 23, 51000, 1100, 60, Direction::Rcv),
        ];
        add(
            &mut s,
            d,
            vec![ioc_summary(d, scanner, IocClass::Scan)],
            vec![summary(d, host, scanner, IocClass::Candidate, false, 1)],
            flows,
        );
    }
    let input = s.clone();
    let report = analyze(day(7), &ScorerConfig::default(), &input, &mut s).expect("analyze");
    assert_eq!(report.flows_noise, 16);
    assert!(s.verdicts.get(&host).is_none_or(|v| v.labels.is_empty()));
    let sc = &s.verdicts[&scanner];
    assert!(sc.labels.contains(&Label::Scanner));
    assert!(sc.score <= ScorerConfig::default().verdict.weak_cap + 1e-9);
}

/// A later run with a shorter window keeps older days' evidence, and re-running the
/// same day twice gives identical verdicts.
#[test]
fn older_evidence_survives_a_shorter_window_and_reruns_are_idempotent() {
    let relay = ip("91.200.1.1");
    let bot = ip("140.112.9.1");
    let mut s = MemoryStore::new();
    for k in 0..20 {
        let d = day(k);
        let flows: Vec<IocFlow> = (0..4)
            .map(|i| {
                flow(
                    d,
                    bot,
                    relay,
                    49152 + (k * 4 + i) as u16,
                    8443,
                    i * 3_600_000,
                    120,
                    Direction::Rcv,
                )
            })
            .collect();
        add(
            &mut s,
            d,
            vec![],
            vec![summary(d, bot, relay, IocClass::Candidate, false, 4)],
            flows,
        );
    }
    let input = s.clone();
    analyze(day(19), &ScorerConfig::default(), &input, &mut s).expect("analyze");
    let full = s.verdicts[&bot].clone();
    assert_eq!(full.days_seen, 20);
    let short = ScorerConfig {
        window_days: 3,
        ..ScorerConfig::default()
    };
    analyze(day(19), &short, &input, &mut s).expect("analyze");
    let after = s.verdicts[&bot].clone();
    assert_eq!(after.days_seen, 20);
    assert_eq!(after.first_seen, Some(day(0)));
    analyze(day(19), &short, &input, &mut s).expect("analyze");
    assert_eq!(s.verdicts[&bot], after);
}

/// Absurd configurations are refused with the key named, never a panic on date maths.
#[test]
fn absurd_windows_are_refused_not_panicking() {
    let mut s = MemoryStore::new();
    let input = s.clone();
    for w in [0usize, usize::MAX] {
        let cfg = ScorerConfig {
            window_days: w,
            ..ScorerConfig::default()
        };
        let e = analyze(day(0), &cfg, &input, &mut s).expect_err("refused");
        assert!(e.to_string().contains("window_days"), "{e}");
    }
    let r = analyze(NaiveDate::MIN, &ScorerConfig::default(), &input, &mut s);
    assert!(r.is_err() || r.is_ok_and(|r| r.verdicts_written == 0));
}
