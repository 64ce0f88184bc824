//! CTU-13 scenario 11 (Rbot, IRC C&C): the real capture, the three C&C servers as the
//! blocklist. The capture is read by the production reader (`flowsource`), the lists by
//! `ioc_fetch`.

mod support;

use std::collections::HashSet;
use std::net::IpAddr;

use classifier::{ClassifierConfig, DayOutcome, accumulate, classify_day};
use flowmodel::{IocClass, Role, ViewContext, ioc_view};
use ioc_fetch::Matcher;
use support::*;

const DIR: &str = "ctu13-scenario11-rbot";

struct Ctu {
    day: DayOutcome,
    normal_hosts: HashSet<IpAddr>,
}

fn run(blocklist: &Matcher) -> Ctu {
    let capture = data_dir().join(DIR).join("capture20110818-2.binetflow");
    let (scan, flows) = scan_binetflow(&capture, blocklist);
    // Every IP row read: the file has a header and 107,251 rows; only its RARP (2) and
    // IPX/SPX (1) rows have MAC addresses instead of an IP pair (its 54 ARP rows have
    // IP addresses and are read as protocol 0).
    assert_eq!(
        (scan.lines, scan.non_ip, scan.malformed),
        (1 + 107_251, 2 + 1, 0),
        "every IP row read (only RARP and IPX/SPX rows have no IP pair)"
    );
    let date = "2011-08-18".parse().expect("date");
    let ctx = ViewContext::new(date, "ctu13-scenario11");
    let total = |ip| scan.get(date, ip).map_or(0, |h| h.total);
    let recs: Vec<_> = (flows.iter())
        .flat_map(|f| ioc_view(f, blocklist, total, &ctx))
        .collect();
    let accs = accumulate(&recs);
    Ctu {
        day: classify_day(date, &accs, &ClassifierConfig::default()),
        normal_hosts: normal_hosts(&capture),
    }
}

fn cc_blocklist() -> Matcher {
    blocklist(&data_dir().join(DIR).join("cc-blocklist-derived.txt"))
}

#[test]
fn each_irc_cc_has_its_bot_as_client_even_with_xp_ports_and_ident_callbacks() {
    let ctu = run(&cc_blocklist());
    let pairs = [
        ("78.40.125.4", "147.32.84.192"),
        ("216.155.130.130", "147.32.84.191"),
        ("38.229.70.20", "147.32.84.165"),
    ];
    assert_eq!(ctu.day.iocs.len(), 3);
    for (cc, bot) in pairs {
        let s = ctu
            .day
            .iocs
            .iter()
            .find(|s| s.ioc_ip == ip(cc))
            .expect("C&C summary");
        assert_eq!(
            s.class,
            IocClass::Candidate,
            "{cc}: one bot is not a scan, DoS or relay crowd"
        );
        let r = ctu
            .day
            .remotes
            .iter()
            .find(|r| r.remote_ip == ip(bot))
            .expect("bot summary");
        let link = r
            .iocs
            .iter()
            .find(|l| l.ioc_ip == ip(cc))
            .expect("bot→C&C link");
        assert_eq!(
            link.role,
            Role::Client,
            "{bot} is the client of {cc}:6667 despite its ident port 113 being called"
        );
        assert!(link.ioc_ports.iter().any(|p| p.0 == 6667));
    }
}

#[test]
fn no_normal_host_is_watched_and_tail_sessions_of_206_208_are_clients() {
    let ctu = run(&cc_blocklist());
    assert!(!ctu.normal_hosts.is_empty());
    for r in &ctu.day.remotes {
        assert!(
            !(r.watched && ctu.normal_hosts.contains(&r.remote_ip)),
            "normal host {} watched",
            r.remote_ip
        );
        // A single bot per C&C is not a check-in crowd: nobody is watched from one day.
        assert!(!r.watched, "{} watched", r.remote_ip);
    }
    // IRC server port 6667 → low Windows XP client ports 1026/1027, FIN: the tail of an
    // IRC session opened before the capture, the same port pattern as the labelled bots.
    for (cc, host) in [
        ("78.40.125.4", "147.32.84.206"),
        ("216.155.130.130", "147.32.84.208"),
    ] {
        let r = ctu
            .day
            .remotes
            .iter()
            .find(|r| r.remote_ip == ip(host))
            .expect("tail host");
        let link = r.iocs.iter().find(|l| l.ioc_ip == ip(cc)).expect("link");
        assert_eq!(
            (link.role, link.send_flows, link.rcv_flows),
            (Role::Client, 1, 0)
        );
    }
}

#[test]
fn firehol_level1_matches_are_never_watched_or_relays() {
    // A real 2016 list that does not contain the C&Cs, read with the production
    // hygiene (private, multicast and too-wide entries set aside): 20 of its addresses
    // appear in the capture.
    let firehol = blocklist(&data_dir().join("blocklists/firehol-2016-12/firehol_level1.netset"));
    let ctu = run(&firehol);
    assert_eq!(
        ctu.day.iocs.len(),
        20,
        "every matched FireHOL address is an IoC"
    );
    assert!(ctu.day.iocs.iter().all(|s| s.class != IocClass::CheckIn));
    assert!(ctu.day.remotes.iter().all(|r| !r.watched));
}
