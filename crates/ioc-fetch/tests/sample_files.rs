//! Every real list in `shared/data/blocklists/` parsed with its counts asserted. The
//! expected figures were counted independently with grep/awk and Python's `ipaddress`.

use std::path::PathBuf;

use ioc_fetch::{ParseOptions, ParsedList, SetAsideReason, SpecialRange, parse_blocklist};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/blocklists")
}

fn parse(name: &str) -> ParsedList {
    let bytes = std::fs::read(data_dir().join(name)).expect("sample file is readable");
    parse_blocklist(&bytes, &ParseOptions::default()).expect("sample file parses")
}

/// (file, parsed, usable entries, usable networks, set aside, bad lines). No file has
/// duplicates or host names; Spamhaus DROP has 23 networks nested in wider ones.
const EXPECTED: &[(&str, usize, usize, usize, usize, usize)] = &[
    ("spamhaus-drop-2025-01-17.txt", 1385, 1348, 1348, 14, 0),
    ("spamhaus-dropv6-2025-01-15.txt", 78, 50, 50, 28, 0),
    (
        "feodo-ipblocklist_recommended-2022-07-08.txt",
        244,
        244,
        0,
        0,
        0,
    ),
    ("feodo-ipblocklist-2024-04-04.csv", 28, 28, 0, 0, 0),
    ("et-compromised-ips-2023.txt", 653, 653, 0, 0, 0),
    ("firehol-2016-12/bambenek_c2.ipset", 272, 272, 0, 0, 0),
    ("firehol-2016-12/dshield.netset", 19, 19, 19, 0, 0),
    ("firehol-2016-12/et_botcc.ipset", 559, 559, 0, 0, 0),
    ("firehol-2016-12/et_compromised.ipset", 1368, 1368, 0, 0, 0),
    ("firehol-2016-12/feodo.ipset", 714, 714, 0, 0, 0),
    (
        "firehol-2016-12/firehol_level1.netset",
        17257,
        17193,
        4627,
        64,
        0,
    ),
    ("firehol-2016-12/spamhaus_drop.netset", 788, 758, 758, 30, 0),
];

#[test]
fn every_sample_file_parses_with_the_counted_entries() {
    let mut failures = Vec::new();
    for &(name, parsed, entries, networks, set_aside, bad) in EXPECTED {
        let l = parse(name);
        let got = (
            l.parsed,
            l.entries.len(),
            l.network_count(),
            l.set_aside.len(),
            l.bad_lines.len(),
        );
        if got != (parsed, entries, networks, set_aside, bad) || !l.unsupported.is_empty() {
            failures.push(format!("{name}: got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn spamhaus_drop_nested_networks_are_merged_into_the_wider_entry() {
    let l = parse("spamhaus-drop-2025-01-17.txt");
    assert_eq!(l.covered, 23);
    assert_eq!(l.duplicates, 0);
    assert_eq!(l.comments, 5, "4 header lines and `; EOF`");
    // Too-wide entries are reported with their line numbers.
    assert!(l.set_aside.iter().all(|s| matches!(
        s.reason,
        SetAsideReason::TooWide {
            widest_allowed: 16,
            ..
        }
    )));
    assert!(
        l.set_aside
            .iter()
            .all(|s| s.entry.prefix_len() < 16 && s.line > 4)
    );
}

#[test]
fn firehol_level1_private_space_does_not_make_the_campus_a_suspect() {
    let l = parse("firehol-2016-12/firehol_level1.netset");
    let matcher = ioc_fetch::Matcher::from_list(&l);
    for internal in [
        "10.1.2.3",
        "192.168.1.1",
        "172.20.0.5",
        "127.0.0.1",
        "169.254.1.1",
        "100.64.0.1",
    ] {
        assert_eq!(
            matcher.lookup(internal.parse().unwrap()),
            None,
            "{internal}"
        );
    }
    let ten = l
        .set_aside
        .iter()
        .find(|s| s.entry.to_string() == "10.0.0.0/8")
        .expect("10/8 set aside");
    assert!(matches!(
        ten.reason,
        SetAsideReason::Special {
            category: SpecialRange::Private,
            ..
        }
    ));
    // 192.0.2.0/24 is not wide: it is set aside only because it is documentation space.
    let doc = l
        .set_aside
        .iter()
        .find(|s| s.entry.to_string() == "192.0.2.0/24")
        .expect("TEST-NET-1 set aside");
    assert!(matches!(
        doc.reason,
        SetAsideReason::Special {
            category: SpecialRange::Documentation,
            ..
        }
    ));
    // The CTU-13 scenario 11 C&C network the README mentions is still matched.
    assert_eq!(
        matcher.lookup("91.212.135.7".parse().unwrap()),
        Some("91.212.135.0/24".parse().unwrap())
    );
}

#[test]
fn feodo_crlf_list_keeps_the_google_resolver_unless_allow_listed() {
    let bytes =
        std::fs::read(data_dir().join("feodo-ipblocklist_recommended-2022-07-08.txt")).unwrap();
    let plain = parse_blocklist(&bytes, &ParseOptions::default()).unwrap();
    let google: ipnet::IpNet = "8.8.8.8/32".parse().unwrap();
    assert!(plain.entries.contains(&google));
    let opts = ParseOptions::default()
        .with_allow_list_bytes(b"8.8.8.8\n1.1.1.1\n")
        .unwrap();
    let allowed = parse_blocklist(&bytes, &opts).unwrap();
    assert_eq!(allowed.entries.len(), 243);
    assert_eq!(allowed.allow_listed.len(), 1);
    assert_eq!(allowed.allow_listed[0].entry, google);
    assert_eq!(
        allowed.allow_listed[0].line, 10,
        "first data line after the 9-line header"
    );
}

#[test]
fn feodo_csv_takes_dst_ip_by_name_and_keeps_the_last_line_without_newline() {
    let l = parse("feodo-ipblocklist-2024-04-04.csv");
    assert_eq!(
        l.format,
        Some(ioc_fetch::Format::Csv {
            column: 1,
            header: Some("dst_ip".into())
        })
    );
    assert!(l.entries.contains(&"192.9.135.73/32".parse().unwrap()));
    assert!(
        l.entries.contains(&"172.233.221.61/32".parse().unwrap()),
        "last data row"
    );
    // 8 header comment lines, the CSV header row and `# END 28 entries`.
    assert_eq!(l.comments, 10);
}

#[test]
fn dropv6_wider_than_32_is_set_aside_and_ipv6_matches() {
    let l = parse("spamhaus-dropv6-2025-01-15.txt");
    assert!(l.entries.iter().all(|e| e.prefix_len() >= 32));
    let matcher = ioc_fetch::Matcher::from_list(&l);
    assert_eq!(
        matcher.lookup("2001:678:6c4::1".parse().unwrap()),
        Some("2001:678:6c4::/48".parse().unwrap())
    );
}
