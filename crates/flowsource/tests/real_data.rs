//! The scanner on the real samples in `shared/data`: nfdump JSON vs CSV of the same
//! captures, CTU-13's binetflow, and a real nfcapd CSV with its `Summary` footer.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::PathBuf;

use chrono::NaiveDate;
use flowmodel::{IocFlow, ViewContext, ioc_view};
use flowsource::{Format, Input, ScanOptions, ScanResult, scan};

fn data(rel: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    root.join(rel)
}

fn ips(list: &[&str]) -> HashSet<IpAddr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

fn run(path: PathBuf, iocs: &HashSet<IpAddr>) -> ScanResult {
    let opts = ScanOptions::new(iocs);
    scan(&[Input::Path(path)], &opts).unwrap()
}

/// The IoC views of a scan, built the way the daily run builds them, with the time cut
/// to whole seconds (nfdump's CSV prints seconds only).
fn views(r: &ScanResult, iocs: &HashSet<IpAddr>) -> Vec<IocFlow> {
    let mut out = Vec::new();
    for ((day, ioc), hits) in &r.iocs {
        let ctx = ViewContext::new(*day, "same-for-both");
        for s in &hits.sample {
            for mut v in ioc_view(&s.raw, iocs, |_| hits.total, &ctx) {
                if v.ioc_ip == *ioc {
                    v.time_stamp = v.time_stamp.div_euclid(1000) * 1000;
                    out.push(v);
                }
            }
        }
    }
    out
}

#[test]
fn nfdump_json_and_csv_of_one_capture_give_the_same_ioc_views() {
    let cases = [
        ("slips-ssh-bruteforce", ["147.32.80.40", "147.32.80.37"]),
        ("slips-icmp-portscan", ["192.168.1.109", "192.168.1.1"]),
    ];
    for (scenario, list) in cases {
        let iocs = ips(&list);
        for v in ["v5", "v9", "v10", "v10b"] {
            let dir = format!("softflowd-exports/{scenario}/{v}");
            let j = run(data(&format!("{dir}/flows.json")), &iocs);
            let c = run(data(&format!("{dir}/flows.csv")), &iocs);
            assert_eq!(j.formats[0].1, Format::NfdumpJson);
            assert_eq!(c.formats[0].1, Format::NfdumpCsv);
            assert_eq!(
                (j.malformed, c.malformed),
                (0, 0),
                "{dir}: {:?}",
                c.bad_lines
            );
            assert!(j.flows_matched > 0, "{dir}: nothing matched");
            assert_eq!(j.flows_matched, c.flows_matched, "{dir}");
            let totals = |r: &ScanResult| {
                r.iocs
                    .iter()
                    .map(|(k, h)| (*k, h.total))
                    .collect::<Vec<_>>()
            };
            assert_eq!(totals(&j), totals(&c), "{dir}");
            assert_eq!(views(&j, &iocs), views(&c, &iocs), "{dir}");
        }
    }
}

#[test]
fn bidirectional_ipfix_records_give_both_directions() {
    // v10b holds 67 biflows for the 134 one-way records of v10.
    let iocs = ips(&["147.32.80.40"]);
    let bi = run(
        data("softflowd-exports/slips-ssh-bruteforce/v10b/flows.json"),
        &iocs,
    );
    let uni = run(
        data("softflowd-exports/slips-ssh-bruteforce/v10/flows.json"),
        &iocs,
    );
    let total = |r: &ScanResult| r.iocs.values().map(|h| h.total).sum::<u64>();
    assert_eq!(total(&bi), 134);
    assert_eq!(total(&uni), 134);
    let packets = |r: &ScanResult| {
        r.iocs
            .values()
            .flat_map(|h| &h.sample)
            .map(|s| s.raw.packets)
            .sum::<u64>()
    };
    assert_eq!(packets(&bi), packets(&uni));
}

#[test]
fn ctu13_rows_become_one_way_flows_with_the_cc_servers_as_iocs() {
    let iocs = ips(&["78.40.125.4", "216.155.130.130", "38.229.70.20"]);
    let r = run(
        data("ctu13-scenario11-rbot/capture20110818-2.binetflow"),
        &iocs,
    );
    assert_eq!(r.formats[0].1, Format::Binetflow);
    assert_eq!(r.lines, 107_252);
    assert_eq!(r.malformed, 0, "{:?}", r.bad_lines);
    // Three rows of non-IP frames carry MAC addresses: skipped, not malformed.
    assert_eq!(r.non_ip, 3);
    let day: NaiveDate = "2011-08-18".parse().unwrap();
    assert_eq!(r.days.iter().copied().collect::<Vec<_>>(), vec![day]);
    // 78.40.125.4: the `?>` tail row with no reverse bytes (one flow), the bot's IRC
    // session (two) and the server's ident call back (two).
    let cc = r.get(day, "78.40.125.4".parse().unwrap()).unwrap();
    assert_eq!(cc.total, 5);
    assert_eq!(
        r.get(day, "216.155.130.130".parse().unwrap())
            .unwrap()
            .total,
        5
    );
    assert_eq!(
        r.get(day, "38.229.70.20".parse().unwrap()).unwrap().total,
        4
    );

    // The tail row: only the server's side was seen.
    let tail = &cc.sample[0].raw;
    assert_eq!(tail.src, "78.40.125.4".parse::<IpAddr>().unwrap());
    assert_eq!((tail.src_port, tail.dst_port), (6667, 1026));
    assert_eq!((tail.packets, tail.octets), (3, 997));
    assert_eq!(tail.tcp_flags, 0x01 | 0x08 | 0x10); // FPA

    // Bot 3's IRC session: 47 packets, 12,045 bytes, 1,549 from the bot.
    let fwd = &cc.sample[1].raw;
    let rev = &cc.sample[2].raw;
    assert_eq!(fwd.src, "147.32.84.192".parse::<IpAddr>().unwrap());
    assert_eq!((fwd.src_port, fwd.dst_port, fwd.protocol), (1037, 6667, 6));
    assert_eq!((fwd.octets, rev.octets), (1549, 12_045 - 1549));
    assert_eq!(fwd.packets + rev.packets, 47);
    assert_eq!((fwd.packets, rev.packets), (6, 41));
    assert_eq!((rev.src_port, rev.dst_port), (6667, 1037));
    let start =
        chrono::NaiveDateTime::parse_from_str("2011-08-18 15:48:43.345", "%Y-%m-%d %H:%M:%S%.3f")
            .unwrap()
            .and_utc()
            .timestamp_millis();
    assert_eq!(fwd.start_ms, start);
    assert_eq!(fwd.end_ms, Some(start + 416_847));
    assert_eq!(
        cc.sample[1].from_index.as_ref(),
        "capture20110818-2.binetflow"
    );
}

#[test]
fn nfdump_csv_summary_footer_is_not_a_flow_nor_malformed() {
    let text = std::fs::read_to_string(data("nfcapd-files/slips-test1-malicious.csv")).unwrap();
    let victim = "147.32.82.62";
    let expected = text
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f.len() > 4 && (f[3] == victim || f[4] == victim)
        })
        .count() as u64;
    let iocs = ips(&[victim]);
    let r = run(data("nfcapd-files/slips-test1-malicious.csv"), &iocs);
    assert_eq!(r.malformed, 0, "{:?}", r.bad_lines);
    assert_eq!(r.lines, text.lines().count() as u64);
    let total: u64 = r.iocs.values().map(|h| h.total).sum();
    assert!(expected > 4000, "{expected}");
    assert_eq!(total, expected);
}
