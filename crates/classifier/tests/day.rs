//! The day-level contract: output sorted by IP and identical whatever the thread count.

mod support;

use std::collections::HashSet;
use std::net::IpAddr;

use classifier::{ClassifierConfig, DayOutcome, accumulate, classify_day};
use flowgen::{GenConfig, Generator};
use flowmodel::{IocClass, ViewContext};
use support::view_all;

fn run_with_threads(threads: usize) -> DayOutcome {
    let g = Generator::new(GenConfig {
        flows_per_day: 60_000,
        ..GenConfig::small(5, 1)
    })
    .expect("generator");
    let date = g.date(0).expect("date");
    let flows = g.day_flows(0).expect("flows");
    let bl: HashSet<IpAddr> = g.blocklist(0).expect("blocklist").into_iter().collect();
    let recs = view_all(&flows, &bl, &ViewContext::new(date, "gen"));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    pool.install(|| {
        let accs = accumulate(&recs);
        classify_day(date, &accs, &ClassifierConfig::default())
    })
}

#[test]
fn result_does_not_depend_on_thread_count() {
    let one = run_with_threads(1);
    let four = run_with_threads(4);
    assert!(one.remotes.len() > 50 && one.iocs.len() > 20);
    assert_eq!(one, four);
}

#[test]
fn outputs_are_sorted_and_hold_only_checkin_and_candidate_iocs() {
    let out = run_with_threads(2);
    assert!(out.iocs.windows(2).all(|w| w[0].ioc_ip < w[1].ioc_ip));
    assert!(
        out.remotes
            .windows(2)
            .all(|w| w[0].remote_ip < w[1].remote_ip)
    );
    for r in &out.remotes {
        assert!(
            r.iocs
                .iter()
                .all(|l| matches!(l.class, IocClass::CheckIn | IocClass::Candidate))
        );
        assert!(r.iocs.windows(2).all(|w| w[0].ioc_ip < w[1].ioc_ip));
        assert_eq!(r.watched, r.iocs.iter().any(|l| l.checkin));
        let flows: u64 = r.iocs.iter().map(|l| l.send_flows + l.rcv_flows).sum();
        assert_eq!(flows, r.send_flows + r.rcv_flows);
        assert!(r.first_seen <= r.last_seen);
    }
    // Scans and DoS were classified but kept out of the RemoteIP summaries.
    assert!(out.iocs.iter().any(|s| s.class == IocClass::Scan));
    let scanners: HashSet<IpAddr> = out
        .iocs
        .iter()
        .filter(|s| s.class == IocClass::Scan)
        .map(|s| s.ioc_ip)
        .collect();
    assert!(
        out.remotes
            .iter()
            .all(|r| r.iocs.iter().all(|l| !scanners.contains(&l.ioc_ip)))
    );
}
