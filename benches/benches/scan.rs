//! flowsource's scan of a JSON Lines day against a 3,000-address blocklist.
//!
//! `cargo bench -p iocflow-benches --bench scan` (figures in BENCHMARKS.md, section
//! flowsource). The day is generated in memory (~100 MB of collector-shaped documents,
//! one flow in a thousand touching an IoC), so the figure is the scanner's, not the disk's.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flowsource::{Input, SampleMode, ScanOptions, scan};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn ip(&mut self) -> Ipv4Addr {
        Ipv4Addr::from((self.next() as u32 % 0xdf00_0000) + 0x0100_0000)
    }
}

/// A day of flows (`size` bytes or a little more) and the blocklist.
fn day(size: usize) -> (Vec<u8>, HashSet<IpAddr>) {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let iocs: Vec<Ipv4Addr> = (0..3000).map(|_| rng.ip()).collect();
    let mut out = String::with_capacity(size + 1024);
    let day0: u64 = 1_757_030_400_000;
    while out.len() < size {
        let (mut s, mut d) = (rng.ip(), rng.ip());
        if rng.below(1000) == 0 {
            let ioc = iocs[rng.below(3000) as usize];
            if rng.below(2) == 0 { s = ioc } else { d = ioc }
        }
        let t = day0 + rng.below(86_400_000);
        let _ = writeln!(
            out,
            r#"{{"exporterIP":"192.192.68.33","sourceIPAddress":"{s}","destinationIPAddress":"{d}","sourceIPv4Address":"{s}","destinationIPv4Address":"{d}","protocolIdentifier":6,"sourceTransportPort":{},"destinationTransportPort":443,"tcpControlBits":2,"octetDeltaCount":{},"packetDeltaCount":1,"flowStartMilliseconds":{t},"flowEndMilliseconds":{t},"bgpSourceAsNumber":1659,"bgpDestinationAsNumber":152194,"ipVersion":4,"srcGeoip":{{"country_code":"TW","city":"Tainan_City","longitude":120.214798,"latitude":22.991699,"coordinates":[120.214798,22.991699]}},"dstGeoip":{{"country_code":"HK","city":"Shatin","longitude":114.177902,"latitude":22.3829,"coordinates":[114.177902,22.3829]}}}}"#,
            1024 + rng.below(64000),
            40 + rng.below(1460),
        );
    }
    (out.into_bytes(), iocs.into_iter().map(IpAddr::V4).collect())
}

fn bench_scan(c: &mut Criterion) {
    let (data, iocs) = day(100 << 20);
    let data: Arc<[u8]> = Arc::from(data);
    let input = [Input::Memory {
        name: Arc::from("day.jsonl"),
        data: Arc::clone(&data),
    }];
    let mut g = c.benchmark_group("flowsource_scan");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(10);
    for (name, mode) in [
        ("jsonl_100MB_3000_iocs_first", SampleMode::First),
        (
            "jsonl_100MB_3000_iocs_random",
            SampleMode::Random { seed: 20250905 },
        ),
    ] {
        let mut opts = ScanOptions::new(&iocs);
        opts.mode = mode;
        g.bench_function(name, |b| {
            b.iter(|| {
                let r = scan(black_box(&input), &opts).expect("in-memory input");
                assert!(r.flows_matched > 0);
                r.flows_matched
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_scan);
criterion_main!(benches);
