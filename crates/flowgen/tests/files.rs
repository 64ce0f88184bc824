//! The files a run writes: deterministic bytes, documents the pipeline parses, gzip
//! that decodes, blocklists and truth that agree.

use std::collections::HashSet;
use std::io::Read;
use std::net::IpAddr;

use flate2::read::MultiGzDecoder;
use flowgen::{GenConfig, Generator, GroundTruth};
use flowmodel::{FieldMap, FlowParser, IocClass};
use serde_json::Value;

fn cfg(seed: u64) -> GenConfig {
    GenConfig {
        flows_per_day: 30_000,
        iocs: 40,
        ..GenConfig::small(seed, 2)
    }
}

fn jsonl(g: &Generator, day: u32, gzip: bool) -> Vec<u8> {
    let mut v = Vec::new();
    g.write_day_jsonl(day, &mut v, gzip).unwrap();
    v
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_does_not() {
    let a = Generator::new(cfg(9)).unwrap();
    let b = Generator::new(cfg(9)).unwrap();
    let c = Generator::new(cfg(10)).unwrap();
    assert_eq!(jsonl(&a, 1, false), jsonl(&b, 1, false));
    assert_eq!(jsonl(&a, 0, true), jsonl(&b, 0, true));
    assert_ne!(jsonl(&a, 1, false), jsonl(&c, 1, false));
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    a.write_truth(&mut ta).unwrap();
    b.write_truth(&mut tb).unwrap();
    assert_eq!(ta, tb);
    assert_eq!(a.blocklist(0).unwrap(), b.blocklist(0).unwrap());
}

#[test]
fn a_day_does_not_depend_on_which_days_were_generated_before() {
    let a = Generator::new(cfg(3)).unwrap();
    let b = Generator::new(cfg(3)).unwrap();
    let _ = a.day_flows(0).unwrap();
    assert_eq!(a.day_flows(1).unwrap(), b.day_flows(1).unwrap());
    let mut streamed = Vec::new();
    let n = b.for_each_flow(1, |f| streamed.push(f)).unwrap();
    assert_eq!(n as usize, streamed.len());
    assert_eq!(streamed, a.day_flows(1).unwrap());
}

#[test]
fn jsonl_documents_parse_with_the_default_parser_and_round_trip() {
    let g = Generator::new(cfg(5)).unwrap();
    let bytes = jsonl(&g, 0, false);
    let flows = g.day_flows(0).unwrap();
    let parser = FlowParser::default();
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), flows.len());
    for (line, flow) in lines.iter().zip(&flows) {
        let parsed = parser.parse(line).unwrap();
        assert_eq!(&parsed, flow);
    }
    // The slow, path-walking parser (any non-IPFIX map) agrees on a sample.
    let mut walk = FieldMap::ipfix();
    walk.ip_version.push("ipVersionAlt".into());
    let slow = FlowParser::new(walk);
    for (line, flow) in lines.iter().zip(&flows).step_by(97) {
        assert_eq!(&slow.parse(line).unwrap(), flow);
    }
}

#[test]
fn documents_use_design_md_ipfix_names_and_shapes() {
    let g = Generator::new(cfg(5)).unwrap();
    let bytes = jsonl(&g, 0, false);
    let (mut v4, mut v6) = (false, false);
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let doc: Value = serde_json::from_slice(line).unwrap();
        let o = doc.as_object().unwrap();
        for k in [
            "exporterIP",
            "sourceIPAddress",
            "destinationIPAddress",
            "protocolIdentifier",
            "sourceTransportPort",
            "destinationTransportPort",
            "tcpControlBits",
            "octetDeltaCount",
            "packetDeltaCount",
            "flowStartMilliseconds",
            "flowEndMilliseconds",
            "bgpSourceAsNumber",
            "bgpDestinationAsNumber",
            "ipVersion",
        ] {
            assert!(o.contains_key(k), "missing {k} in {doc}");
        }
        let geo = &o["srcGeoip"];
        for k in ["country_code", "city", "longitude", "latitude"] {
            assert!(geo.get(k).is_some());
        }
        assert_eq!(geo["coordinates"][0], geo["longitude"]);
        match o["ipVersion"].as_u64() {
            Some(4) => {
                v4 = true;
                assert_eq!(o["sourceIPv4Address"], o["sourceIPAddress"]);
                assert_eq!(o["destinationIPv4Address"], o["destinationIPAddress"]);
            }
            Some(6) => {
                v6 = true;
                assert_eq!(o["sourceIPv6Address"], o["sourceIPAddress"]);
                assert!(!o.contains_key("sourceIPv4Address"));
            }
            other => panic!("ipVersion {other:?}"),
        }
    }
    assert!(v4 && v6);
}

#[test]
fn gzip_output_decodes_to_the_plain_bytes() {
    let g = Generator::new(cfg(6)).unwrap();
    let gz = jsonl(&g, 1, true);
    let plain = jsonl(&g, 1, false);
    assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    assert!(gz.len() * 4 < plain.len(), "gzip should compress JSON well");
    let mut out = Vec::new();
    MultiGzDecoder::new(&gz[..]).read_to_end(&mut out).unwrap();
    assert_eq!(out, plain);
}

#[test]
fn write_dir_writes_flows_blocklists_and_a_truth_that_agree() {
    let g = Generator::new(cfg(8)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = g.write_dir(dir.path(), true).unwrap();
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "flows-2025-09-01.jsonl.gz",
            "blocklist-2025-09-01.txt",
            "flows-2025-09-02.jsonl.gz",
            "blocklist-2025-09-02.txt",
            "truth.json"
        ]
    );
    let truth: GroundTruth =
        serde_json::from_slice(&std::fs::read(dir.path().join("truth.json")).unwrap()).unwrap();
    assert_eq!(truth, g.truth());

    // expected_class_by_day is keyed by "YYYY-MM-DD" in the file.
    let raw: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("truth.json")).unwrap()).unwrap();
    let first = &raw["iocs"][0]["expected_class_by_day"];
    assert!(first.get("2025-09-01").is_some() && first.get("2025-09-02").is_some());

    let text = std::fs::read_to_string(dir.path().join("blocklist-2025-09-02.txt")).unwrap();
    let listed: Vec<IpAddr> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(listed, g.blocklist(1).unwrap());
    let listed: HashSet<IpAddr> = listed.into_iter().collect();
    let planted: HashSet<IpAddr> = truth.iocs.iter().map(|t| t.ip).collect();
    assert_eq!(listed, planted);
    for f in &truth.families {
        assert!(listed.contains(&f.relays[0]));
        if let Some(m) = &f.migration {
            assert!(!listed.contains(&m.new_relay), "migrated relay is listed");
        }
    }

    // The gzip flow file holds the same flows as memory.
    let gz = std::fs::read(dir.path().join("flows-2025-09-02.jsonl.gz")).unwrap();
    let mut plain = Vec::new();
    MultiGzDecoder::new(&gz[..])
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(plain, jsonl(&g, 1, false));
}

#[test]
fn daily_class_shares_follow_design_md() {
    for cfg in [GenConfig::demo(), GenConfig::default()] {
        shares(cfg);
    }
}

fn shares(cfg: GenConfig) {
    let g = Generator::new(cfg).unwrap();
    let t = g.truth();
    for day in 0..g.days() {
        let date = g.date(day).unwrap();
        let share = |c: IocClass| {
            t.iocs
                .iter()
                .filter(|i| i.expected_class_by_day[&date] == c)
                .count() as f64
                / t.iocs.len() as f64
        };
        // design.md §4: NoData 40–50 % of a real list, Wide 4–7 %.
        let nodata = share(IocClass::NoData);
        assert!((0.40..=0.50).contains(&nodata), "{date}: NoData {nodata}");
        let wide = share(IocClass::Wide);
        assert!((0.04..=0.07).contains(&wide), "{date}: Wide {wide}");
        assert!(share(IocClass::Scan) > 0.0);
        assert!(share(IocClass::CheckIn) > 0.0);
        assert!(share(IocClass::Candidate) > 0.0);
    }
    assert!(t.wide.contains(&"8.8.8.8".parse().unwrap()));
}

#[test]
fn documents_are_byte_identical_to_flowmodels_ipfix_serialisation() {
    // One document shape in the project: what flowgen writes is what flowmodel's
    // `Serialize for RawFlow` writes (the stores keep raw flows that way).
    let g = Generator::new(cfg(4)).unwrap();
    let flows = g.day_flows(0).unwrap();
    let mut mine = Vec::new();
    for f in flows.iter().step_by(7) {
        mine.clear();
        flowgen::write_flow_json(f, &mut mine);
        assert_eq!(
            String::from_utf8_lossy(&mine),
            serde_json::to_string(f).unwrap()
        );
    }
}
