//! Exact totals, deterministic samples whatever the thread count, days, ES hits.

mod common;

use std::collections::HashSet;
use std::net::IpAddr;

use chrono::NaiveDate;
use flowmodel::FlowParser;
use flowsource::{Input, SampleMode, ScanOptions, ScanResult, scan};

const DAY0: i64 = 1_757_030_400_000; // 2025-09-05T00:00:00Z

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> Input {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    Input::Path(p)
}

fn with_threads(n: usize, f: impl FnOnce() -> ScanResult + Send) -> ScanResult {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
        .install(f)
}

/// One sampled flow, by its sequence port, start and source.
type FlowId = (u16, i64, String);

/// What the samples look like, compared across runs.
fn fingerprint(r: &ScanResult) -> Vec<(NaiveDate, IpAddr, u64, Vec<FlowId>)> {
    r.iocs
        .iter()
        .map(|((d, ip), h)| {
            let s = h
                .sample
                .iter()
                .map(|f| (f.raw.src_port, f.raw.start_ms, f.from_index.to_string()))
                .collect();
            (*d, *ip, h.total, s)
        })
        .collect()
}

#[test]
fn samples_do_not_depend_on_thread_count_in_either_mode() {
    let dir = tempfile::tempdir().unwrap();
    // Two files, the first spanning several blocks.
    let a = write(&dir, "a.jsonl", &common::jsonl(1, 50_000, 200, DAY0));
    let b = write(&dir, "b.jsonl", &common::jsonl(2, 5_000, 200, DAY0));
    let iocs: HashSet<IpAddr> = (0..20).map(common::pool_ip).collect();
    for mode in [SampleMode::First, SampleMode::Random { seed: 20250905 }] {
        let mut opts = ScanOptions::new(&iocs);
        opts.sample_cap = 25;
        opts.mode = mode;
        let inputs = [a.clone(), b.clone()];
        let one = with_threads(1, || scan(&inputs, &opts).unwrap());
        let two = with_threads(2, || scan(&inputs, &opts).unwrap());
        let four = with_threads(4, || scan(&inputs, &opts).unwrap());
        assert_eq!(fingerprint(&one), fingerprint(&two), "{mode:?}");
        assert_eq!(fingerprint(&one), fingerprint(&four), "{mode:?}");
    }
}

#[test]
fn totals_are_exact_and_first_mode_keeps_the_first_flows_in_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let t1 = common::jsonl(3, 40_000, 100, DAY0);
    let t2 = common::jsonl(4, 2_000, 100, DAY0);
    let inputs = [write(&dir, "one.jsonl", &t1), write(&dir, "two.jsonl", &t2)];
    let ioc = common::pool_ip(7);
    let iocs: HashSet<IpAddr> = [ioc].into();
    // The truth, by parsing every line.
    let parser = FlowParser::default();
    let mut expected = Vec::new();
    for (file, text) in [("one.jsonl", &t1), ("two.jsonl", &t2)] {
        for line in text.lines() {
            let f = parser.parse(line.as_bytes()).unwrap();
            if f.src == ioc || f.dst == ioc {
                expected.push((f.src_port, f.start_ms, file.to_owned()));
            }
        }
    }
    let mut opts = ScanOptions::new(&iocs);
    opts.sample_cap = 500;
    let r = with_threads(2, || scan(&inputs, &opts).unwrap());
    let hits = r.get("2025-09-05".parse().unwrap(), ioc).unwrap();
    assert_eq!(hits.total, expected.len() as u64);
    assert!(expected.len() > 500);
    let got: Vec<_> = hits
        .sample
        .iter()
        .map(|f| (f.raw.src_port, f.raw.start_ms, f.from_index.to_string()))
        .collect();
    assert_eq!(got, expected[..500].to_vec());
}

#[test]
fn random_mode_changes_with_the_seed_but_not_between_runs() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [write(&dir, "d.jsonl", &common::jsonl(9, 20_000, 50, DAY0))];
    let iocs: HashSet<IpAddr> = [common::pool_ip(1)].into();
    let run = |mode| {
        let mut opts = ScanOptions::new(&iocs);
        opts.sample_cap = 50;
        opts.mode = mode;
        fingerprint(&scan(&inputs, &opts).unwrap())
    };
    let day: NaiveDate = "2025-09-05".parse().unwrap();
    let a = run(SampleMode::random_for_date(day));
    assert_eq!(a, run(SampleMode::random_for_date(day)));
    assert_ne!(a, run(SampleMode::random_for_date(day.succ_opt().unwrap())));
    assert_ne!(a, run(SampleMode::First));
}

#[test]
fn a_flow_between_two_iocs_counts_for_both() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"{"sourceIPAddress":"198.51.100.1","destinationIPAddress":"198.51.100.2","flowStartMilliseconds":1757057835008}
{"sourceIPAddress":"198.51.100.1","destinationIPAddress":"10.1.1.1","flowStartMilliseconds":1757057835008}
{"sourceIPAddress":"198.51.100.1","destinationIPAddress":"198.51.100.1","flowStartMilliseconds":1757057835008}
"#;
    let inputs = [write(&dir, "x.jsonl", text)];
    let a: IpAddr = "198.51.100.1".parse().unwrap();
    let b: IpAddr = "198.51.100.2".parse().unwrap();
    let iocs: HashSet<IpAddr> = [a, b].into();
    let r = scan(&inputs, &ScanOptions::new(&iocs)).unwrap();
    let day = "2025-09-05".parse().unwrap();
    // A flow from an IoC to itself is one flow of that IoC, not two.
    assert_eq!(r.get(day, a).unwrap().total, 3);
    assert_eq!(r.get(day, b).unwrap().total, 1);
    assert_eq!(r.flows_matched, 3);
}

#[test]
fn date_filter_keeps_one_utc_day_and_counts_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = common::jsonl(21, 3_000, 30, DAY0);
    text.push_str(&common::jsonl(22, 2_000, 30, DAY0 + 86_400_000));
    let inputs = [write(&dir, "two-days.jsonl", &text)];
    let iocs: HashSet<IpAddr> = (0..30).map(common::pool_ip).collect();
    let all = scan(&inputs, &ScanOptions::new(&iocs)).unwrap();
    let d0: NaiveDate = "2025-09-05".parse().unwrap();
    let d1: NaiveDate = "2025-09-06".parse().unwrap();
    assert_eq!(all.days.iter().copied().collect::<Vec<_>>(), vec![d0, d1]);
    assert_eq!(all.flows_matched, 5_000);
    let mut opts = ScanOptions::new(&iocs);
    opts.date = Some(d1);
    let one = scan(&inputs, &opts).unwrap();
    assert_eq!((one.flows_matched, one.other_days), (2_000, 3_000));
    assert!(one.iocs.keys().all(|(d, _)| *d == d1));
    let per_day = |r: &ScanResult, d| {
        r.iocs
            .iter()
            .filter(|((x, _), _)| *x == d)
            .map(|(_, h)| h.total)
            .sum::<u64>()
    };
    assert_eq!(per_day(&one, d1), per_day(&all, d1));
}

#[test]
fn es_hits_carry_their_index_into_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"{"_index":"tanet-2025.09.05","_id":"a1","_source":{"sourceIPAddress":"163.26.171.228","destinationIPAddress":"134.122.129.10","destinationTransportPort":45,"flowStartMilliseconds":1757057835008}}
{"_index":"tanet-2025.09.05","_id":"a2","_source":{"sourceIPAddress":"163.26.171.229","destinationIPAddress":"10.0.0.1","flowStartMilliseconds":1757057835008}}
{"_index":"tanet-2025.09.04","_id":"a3","_source":{"sourceIPAddress":"134.122.129.10","destinationIPAddress":"10.0.0.1","flowStartMilliseconds":1757057835008}}
"#;
    let inputs = [write(&dir, "export.jsonl", text)];
    let ioc: IpAddr = "134.122.129.10".parse().unwrap();
    let iocs: HashSet<IpAddr> = [ioc].into();
    let r = scan(&inputs, &ScanOptions::new(&iocs)).unwrap();
    assert_eq!(r.formats[0].1, flowsource::Format::EsHits);
    let h = r.get("2025-09-05".parse().unwrap(), ioc).unwrap();
    let idx: Vec<&str> = h.sample.iter().map(|s| s.from_index.as_ref()).collect();
    assert_eq!(idx, vec!["tanet-2025.09.05", "tanet-2025.09.04"]);
    assert_eq!(h.sample[0].raw.dst_port, 45);
}

#[test]
fn ecs_field_map_is_honoured_for_nested_documents() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"{"@timestamp":"2025-09-05T07:37:15Z","source":{"ip":"10.0.0.1","port":5555},"destination":{"ip":"192.0.2.44","port":53},"network":{"transport":"udp","bytes":80}}
{"@timestamp":"2025-09-05T07:37:15Z","source":{"ip":"10.0.0.1","port":5555},"destination":{"ip":"192.0.2.45","port":53}}
"#;
    let inputs = [write(&dir, "ecs.jsonl", text)];
    let ioc: IpAddr = "192.0.2.44".parse().unwrap();
    let iocs: HashSet<IpAddr> = [ioc].into();
    let mut opts = ScanOptions::new(&iocs);
    opts.field_map = flowmodel::FieldMap::ecs();
    let r = scan(&inputs, &opts).unwrap();
    let h = r.get("2025-09-05".parse().unwrap(), ioc).unwrap();
    assert_eq!(h.total, 1);
    assert_eq!((h.sample[0].raw.protocol, h.sample[0].raw.octets), (17, 80));
}
