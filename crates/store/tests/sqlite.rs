//! The embedded store keeps one day's records exactly once, however often it is written.

use std::net::IpAddr;

use flowmodel::{
    Direction, IocClass, IocDaySummary, IocFlow, RawFlow, RemoteDaySummary, ViewContext,
};
use store::{DayRecords, SqliteStore, StoreError, VerdictRow};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn raw(src: &str, dst: &str, ts: i64) -> RawFlow {
    RawFlow {
        src: ip(src),
        dst: ip(dst),
        src_port: 40000,
        dst_port: 6667,
        protocol: 6,
        tcp_flags: 24,
        octets: 120,
        packets: 2,
        start_ms: ts,
        end_ms: None,
        exporter: None,
        src_as: 0,
        dst_as: 0,
        src_geo: None,
        dst_geo: None,
    }
}

fn ioc_summary(date: chrono::NaiveDate, ioc: &str, class: IocClass) -> IocDaySummary {
    IocDaySummary {
        date,
        ioc_ip: ip(ioc),
        class,
        reasons: vec![],
        detail: None,
        total_flows: 1,
        sampled_flows: 1,
        remote_ips: 1,
        send_flows: 0,
        rcv_flows: 1,
        send_packets: 0,
        send_octets: 0,
        rcv_packets: 2,
        rcv_octets: 120,
        top_ioc_ports: vec![(6667, 1)],
        top_remote_ports: vec![(40000, 1)],
        protocols: vec![6],
        first_seen: Some(1),
        last_seen: Some(1),
    }
}

fn day(date: &str) -> DayRecords {
    let date: chrono::NaiveDate = date.parse().unwrap();
    let ctx = ViewContext::new(date, "test");
    let r = raw("10.0.0.5", "192.0.2.1", 1_757_030_500_000);
    let flow = IocFlow::from_raw(&r, Direction::Rcv, 1, &ctx);
    let remote = RemoteDaySummary {
        date,
        remote_ip: ip("10.0.0.5"),
        iocs: vec![],
        roles: vec![],
        protocols: vec![6],
        send_flows: 0,
        rcv_flows: 1,
        send_packets: 0,
        send_octets: 0,
        rcv_packets: 2,
        rcv_octets: 120,
        first_seen: 1,
        last_seen: 1,
        watched: true,
    };
    DayRecords {
        date,
        flows: vec![flow],
        iocs: vec![ioc_summary(date, "192.0.2.1", IocClass::CheckIn)],
        remotes: vec![remote],
        watched_raw: vec![raw("10.0.0.5", "203.0.113.9", 1_757_030_600_000)],
    }
}

#[test]
fn rerun_of_a_day_replaces_it_and_never_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = SqliteStore::open(dir.path()).unwrap();
    let d1 = day("2025-09-05");
    db.write_day(&d1).unwrap();
    let first = db.counts().unwrap();
    db.write_day(&d1).unwrap();
    assert_eq!(db.counts().unwrap(), first);
    db.write_day(&day("2025-09-06")).unwrap();
    let date = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    assert_eq!(
        db.days().unwrap(),
        vec![date("2025-09-05"), date("2025-09-06")]
    );
    let flows = db
        .ioc_flows_of_remotes(&[ip("10.0.0.5")], date("2025-09-01"), date("2025-09-30"))
        .unwrap();
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0], d1.flows[0]);
    let remotes = db
        .remote_summaries(date("2025-09-06"), date("2025-09-06"))
        .unwrap();
    assert_eq!(remotes.len(), 1);
    assert!(remotes[0].watched);
    let raws = db
        .raw_flows_of_hosts(&[ip("203.0.113.9")], &[date("2025-09-05")])
        .unwrap();
    assert_eq!(raws, d1.watched_raw);
}

#[test]
fn verdicts_are_upserted_and_filtered_by_network() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteStore::open(dir.path()).unwrap();
    let row = |addr: &str, score: f64| VerdictRow {
        ip: ip(addr),
        score,
        level: "watch".into(),
        doc: serde_json::json!({ "ip": addr, "score": score }),
    };
    db.upsert_verdicts(&[
        row("10.1.2.3", 1.0),
        row("10.9.0.1", 5.0),
        row("2001:db8::5", 3.0),
    ])
    .unwrap();
    db.upsert_verdicts(&[row("10.1.2.3", 2.5)]).unwrap();
    let all = db.verdicts(None).unwrap();
    assert_eq!(
        all.iter().map(|v| v.ip.to_string()).collect::<Vec<_>>(),
        ["10.9.0.1", "2001:db8::5", "10.1.2.3"]
    );
    assert_eq!(all[2].score, 2.5);
    let net: ipnet::IpNet = "10.1.0.0/16".parse().unwrap();
    let within = db.verdicts(Some(&net)).unwrap();
    assert_eq!(within.len(), 1);
    assert_eq!(within[0].ip, ip("10.1.2.3"));
    let v6: ipnet::IpNet = "2001:db8::/32".parse().unwrap();
    assert_eq!(db.verdicts(Some(&v6)).unwrap().len(), 1);
    assert!(db.verdict(ip("10.9.0.1")).unwrap().is_some());
    assert!(db.verdict(ip("10.9.0.2")).unwrap().is_none());
}

#[test]
fn a_database_from_a_newer_iocflow_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let c = rusqlite_conn(dir.path());
        c.pragma_update(None, "user_version", 99).unwrap();
    }
    match SqliteStore::open(dir.path()) {
        Err(StoreError::TooNew { found, .. }) => assert_eq!(found, 99),
        other => panic!("expected TooNew, got {other:?}"),
    }
}

fn rusqlite_conn(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("iocflow.db")).unwrap()
}
