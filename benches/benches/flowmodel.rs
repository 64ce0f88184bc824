//! Parse + transform + accumulate, and transform + accumulate alone, over 1 M realistic
//! flows (design.md §3 documents with geo objects), every one touching one of 3,000 IoCs
//! (the per-IoC sample path of the daily run).
//!
//! `cargo bench -p iocflow-benches --bench flowmodel`

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flowmodel::{AsNames, FlowParser, IocDayAcc, RawFlow, ViewContext, ioc_view};
use rustc_hash::{FxHashMap, FxHashSet};

const FLOWS: usize = 1_000_000;
const IOCS: u32 = 3_000;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic and fast; quality is ample for benchmark data.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn ioc(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x8600_0000 + i * 7)
}

/// JSON documents shaped like the collector's (IPFIX names, geo objects, extra fields).
fn documents() -> Vec<String> {
    let mut r = Rng(0x1234_5678);
    let day0 = 1_757_030_400_000i64;
    (0..FLOWS)
        .map(|_| {
            let x = r.next();
            let ioc = ioc((x % IOCS as u64) as u32);
            let internal = Ipv4Addr::from(0xA31A_0000 + ((x >> 16) % 60_000) as u32);
            let (src, dst, sp, dp) = if x & 1 == 0 {
                (internal, ioc, 32768 + ((x >> 8) % 28000) as u16, 443)
            } else {
                (ioc, internal, 6667, 1025 + ((x >> 8) % 4000) as u16)
            };
            let t = day0 + ((x >> 20) % 86_400_000) as i64;
            format!(
                r#"{{"@timestamp":"2025-09-05T00:00:00Z","exporterIP":"192.192.68.33","sourceIPAddress":"{src}","destinationIPAddress":"{dst}","sourceIPv4Address":"{src}","destinationIPv4Address":"{dst}","protocolIdentifier":6,"sourceTransportPort":{sp},"destinationTransportPort":{dp},"tcpControlBits":{},"octetDeltaCount":{},"packetDeltaCount":{},"flowStartMilliseconds":{t},"flowEndMilliseconds":{t},"ingressInterface":12,"egressInterface":7,"vlanId":0,"bgpSourceAsNumber":1659,"bgpDestinationAsNumber":152194,"ipVersion":4,"srcGeoip":{{"country_code":"TW","city":"Tainan_City","longitude":120.214798,"latitude":22.991699,"coordinates":[120.214798,22.991699]}},"dstGeoip":{{"country_code":"HK","city":"Shatin","longitude":114.177902,"latitude":22.3829,"coordinates":[114.177902,22.3829]}}}}"#,
                [2u16, 18, 24, 27][(x >> 40) as usize % 4],
                40 + (x >> 44) % 1400,
                1 + (x >> 50) % 5,
            )
        })
        .collect()
}

fn iocs() -> FxHashSet<IpAddr> {
    (0..IOCS).map(|i| IpAddr::V4(ioc(i))).collect()
}

fn transform_accumulate(
    flows: &[RawFlow],
    set: &FxHashSet<IpAddr>,
    ctx: &ViewContext,
) -> FxHashMap<IpAddr, IocDayAcc> {
    let mut accs: FxHashMap<IpAddr, IocDayAcc> = FxHashMap::default();
    for f in flows {
        for rec in ioc_view(f, set, |_| 1, ctx) {
            accs.entry(rec.ioc_ip).or_default().add(&rec);
        }
    }
    accs
}

fn bench(c: &mut Criterion) {
    let docs = documents();
    let bytes: usize = docs.iter().map(|d| d.len() + 1).sum();
    let parser = FlowParser::default();
    let flows: Vec<RawFlow> = docs
        .iter()
        .map(|d| parser.parse(d.as_bytes()).unwrap())
        .collect();
    let set = iocs();
    let mut ctx = ViewContext::new("2025-09-05".parse().unwrap(), "tanet-2025.09.05");
    let mut names = AsNames::new();
    names.insert(1659, "TANET");
    ctx.as_names = Arc::new(names);

    let mut g = c.benchmark_group("flowmodel");
    g.sample_size(10);
    g.throughput(Throughput::Elements(FLOWS as u64));
    g.bench_function("transform_accumulate_1M", |b| {
        b.iter(|| transform_accumulate(&flows, &set, &ctx).len())
    });
    g.bench_function("parse_transform_accumulate_1M", |b| {
        b.iter(|| {
            let mut accs: FxHashMap<IpAddr, IocDayAcc> = FxHashMap::default();
            for d in &docs {
                let f = parser.parse(d.as_bytes()).unwrap();
                for rec in ioc_view(&f, &set, |_| 1, &ctx) {
                    accs.entry(rec.ioc_ip).or_default().add(&rec);
                }
            }
            accs.len()
        })
    });
    g.finish();
    eprintln!("(documents: {FLOWS}, {:.1} MB)", bytes as f64 / 1e6);
}

criterion_group!(benches, bench);
criterion_main!(benches);
