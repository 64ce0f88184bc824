//! Bad input: a gzip stream cut in the middle, malformed lines, unknown formats.

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::net::IpAddr;

use flate2::Compression;
use flate2::write::GzEncoder;
use flowsource::{Format, Input, ScanError, ScanOptions, scan};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn all_pool(n: u64) -> HashSet<IpAddr> {
    (0..n).map(common::pool_ip).collect()
}

#[test]
fn gzip_cut_in_the_middle_keeps_what_was_read_and_reports_the_file() {
    let text = common::jsonl(7, 20_000, 50, 1_757_030_400_000);
    let gz = gzip(text.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("day.jsonl.gz");
    std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
    let iocs = all_pool(50);
    let r = scan(&[Input::Path(path.clone())], &ScanOptions::new(&iocs)).unwrap();
    assert_eq!(r.read_errors.len(), 1, "{:?}", r.read_errors);
    assert!(!r.is_complete());
    assert_eq!(r.read_errors[0].file, path.display().to_string());
    // Part of the content was read and scanned before the cut, not all of it.
    assert!(r.lines > 1000 && r.lines < 20_000, "{}", r.lines);
    assert!(r.bytes > 0 && r.bytes < text.len() as u64);
    // Every whole line read touched an IoC (the whole pool is listed): each flow is
    // counted once per distinct IoC end, and only a cut last line may be malformed.
    assert!(r.malformed <= 1);
    assert_eq!(r.flows_matched + r.malformed, r.lines);
}

#[test]
fn gzip_and_plain_copies_of_one_file_scan_alike() {
    let text = common::jsonl(11, 3000, 40, 1_757_030_400_000);
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("a.jsonl");
    let gz = dir.path().join("a.jsonl.also"); // the name does not say gzip; the bytes do
    std::fs::write(&plain, &text).unwrap();
    std::fs::write(&gz, gzip(text.as_bytes())).unwrap();
    let iocs: HashSet<IpAddr> = [common::pool_ip(3)].into();
    let opts = ScanOptions::new(&iocs);
    let a = scan(&[Input::Path(plain)], &opts).unwrap();
    let b = scan(&[Input::Path(gz)], &opts).unwrap();
    assert!(a.flows_matched > 0);
    assert_eq!(a.iocs.len(), b.iocs.len());
    for (k, h) in &a.iocs {
        let hb = &b.iocs[k];
        assert_eq!(h.total, hb.total);
        let raws =
            |s: &[flowsource::SampledFlow]| s.iter().map(|f| f.raw.clone()).collect::<Vec<_>>();
        assert_eq!(raws(&h.sample), raws(&hb.sample));
    }
}

#[test]
fn malformed_lines_are_counted_with_file_line_and_reason_and_the_scan_goes_on() {
    let good = r#"{"sourceIPAddress":"10.0.0.1","destinationIPAddress":"203.0.113.9","flowStartMilliseconds":1757057835008}"#;
    let lines = [
        good,
        r#"{"sourceIPAddress":"10.0.0.1","destinationIPAddress":"203.0.113.9","flowStartMilliseconds":"yesterday"}"#,
        "this is not json",
        good,
        r#"{"sourceIPAddress":"10.0.0.1","destinationIPAddress":"203.0.1"#,
        r#"{"destinationIPAddress":"203.0.113.9"}"#,
        "",
        good,
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let iocs: HashSet<IpAddr> = ["203.0.113.9".parse().unwrap()].into();
    let r = scan(&[Input::Path(path.clone())], &ScanOptions::new(&iocs)).unwrap();
    assert_eq!(r.lines, 8);
    assert_eq!(r.flows_matched, 3);
    assert_eq!(r.malformed, 4);
    let at: Vec<(u64, &str)> = r
        .bad_lines
        .iter()
        .map(|b| (b.line, b.reason.as_str()))
        .collect();
    assert_eq!(at.iter().map(|a| a.0).collect::<Vec<_>>(), vec![2, 3, 5, 6]);
    assert!(at[0].1.contains("time"), "{}", at[0].1);
    assert!(at[3].1.contains("src_addr"), "{}", at[3].1);
    assert!(
        r.bad_lines
            .iter()
            .all(|b| b.file == path.display().to_string())
    );
}

#[test]
fn bad_line_numbers_are_exact_across_blocks_and_threads() {
    // Enough lines for several 4 MiB blocks; bad lines at known places.
    let text = common::jsonl(5, 60_000, 1000, 1_757_030_400_000);
    let mut lines: Vec<&str> = text.lines().collect();
    for at in [0usize, 17_000, 59_999] {
        lines[at] = "{broken";
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 9 << 20);
    let iocs: HashSet<IpAddr> = [common::pool_ip(1)].into();
    let r = scan(&[Input::Path(path)], &ScanOptions::new(&iocs)).unwrap();
    assert_eq!(r.lines, 60_000);
    let nums: Vec<u64> = r.bad_lines.iter().map(|b| b.line).collect();
    assert_eq!(nums, vec![1, 17_001, 60_000]);
}

#[test]
fn unknown_format_is_an_error_naming_the_file_unless_format_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weird.txt");
    std::fs::write(&path, "hello,world\n1,2\n").unwrap();
    let iocs: HashSet<IpAddr> = HashSet::new();
    let err = scan(&[Input::Path(path.clone())], &ScanOptions::new(&iocs)).unwrap_err();
    assert!(
        matches!(&err, ScanError::UnknownFormat { file } if file.ends_with("weird.txt")),
        "{err}"
    );
    // Forcing a CSV format on it fails on the header, naming the missing column.
    let mut opts = ScanOptions::new(&iocs);
    opts.format = Some(Format::NfdumpCsv);
    let err = scan(&[Input::Path(path)], &opts).unwrap_err();
    assert!(
        matches!(err, ScanError::MissingColumn { column: "sa", .. }),
        "{err}"
    );
    assert!("parquet".parse::<Format>().is_err());
    assert_eq!("es-hits".parse::<Format>().unwrap(), Format::EsHits);
}

#[test]
fn missing_file_is_an_open_error() {
    let iocs: HashSet<IpAddr> = HashSet::new();
    let err = scan(
        &[Input::from_arg("/nonexistent/flows.jsonl")],
        &ScanOptions::new(&iocs),
    )
    .unwrap_err();
    assert!(matches!(err, ScanError::Open { .. }), "{err}");
}

#[test]
fn broken_nfdump_json_object_is_reported_by_its_position_in_the_array() {
    let text = "[\n{\n\t\"src4_addr\" : \"192.0.2.1\",\n\t\"dst4_addr\" : \"192.0.2.2\",\n\t\"first\" : \"2026-03-22T22:47:21.677\"\n},\n{\n\t\"src4_addr\" : \"192.0.2.1\",\n\t\"dst4_addr\" : \"192.0.2.2\",\n\t\"first\" : \"not a time\"\n},\n{\n\t\"src4_addr\" : \"192.0.2.1\",\n\t\"dst4_addr\" : \"192.0.2.3\",\n\t\"first\" : \"2026-03-22T22:47:22.000\"\n}]\n";
    let data = flowsource::Input::Memory {
        name: "flows.json".into(),
        data: gzip(text.as_bytes()).into(),
    };
    let iocs: HashSet<IpAddr> = ["192.0.2.1".parse().unwrap()].into();
    let r = scan(&[data], &ScanOptions::new(&iocs)).unwrap();
    assert_eq!(r.formats[0].1, Format::NfdumpJson);
    assert_eq!(r.flows_matched, 2);
    assert_eq!(r.malformed, 1);
    assert_eq!(r.bad_lines[0].file, "flows.json");
    assert_eq!(r.bad_lines[0].line, 2);
    assert!(
        r.bad_lines[0].reason.contains("first"),
        "{}",
        r.bad_lines[0].reason
    );
}
