//! Parse + transform + accumulate, and transform + accumulate alone, over a generated
//! backbone day (flowgen's default preset: 3,000 IoCs, 3 M flows) reduced to the flows
//! that touch an IoC — what the daily run's IoC-view stage sees (≈ 1.8 M flows: wide
//! IoCs, scans, floods, check-ins, candidates and their background).
//!
//! `cargo bench -p iocflow-benches --bench flowmodel`

use std::net::IpAddr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flowmodel::{FlowParser, IocDayAcc, RawFlow, ViewContext, ioc_view};
use rustc_hash::{FxHashMap, FxHashSet};

fn day() -> (Vec<RawFlow>, FxHashSet<IpAddr>) {
    let g = flowgen::Generator::new(flowgen::GenConfig {
        days: 1,
        ..flowgen::GenConfig::default()
    })
    .expect("the default preset is valid");
    let iocs: FxHashSet<IpAddr> = g.blocklist(0).expect("day 0").into_iter().collect();
    let flows: Vec<RawFlow> = g
        .day_flows(0)
        .expect("day 0")
        .into_iter()
        .filter(|f| iocs.contains(&f.src) || iocs.contains(&f.dst))
        .collect();
    (flows, iocs)
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
    let (flows, set) = day();
    assert!(flows.len() >= 1_000_000, "{} flows", flows.len());
    let docs: Vec<Vec<u8>> = flows
        .iter()
        .take(1_000_000)
        .map(|f| serde_json::to_vec(f).expect("flows serialise"))
        .collect();
    let parser = FlowParser::default();
    let ctx = ViewContext::new("2025-09-01".parse().expect("a date"), "tanet-2025.09.01");

    let mut g = c.benchmark_group("flowmodel");
    g.sample_size(10);
    g.throughput(Throughput::Elements(flows.len() as u64));
    g.bench_function("transform_accumulate_generated_day", |b| {
        b.iter(|| transform_accumulate(&flows, &set, &ctx).len())
    });
    g.throughput(Throughput::Elements(docs.len() as u64));
    g.bench_function("parse_transform_accumulate_1M_documents", |b| {
        b.iter(|| {
            let mut accs: FxHashMap<IpAddr, IocDayAcc> = FxHashMap::default();
            for d in &docs {
                let f = parser.parse(d).expect("generated documents parse");
                for rec in ioc_view(&f, &set, |_| 1, &ctx) {
                    accs.entry(rec.ioc_ip).or_default().add(&rec);
                }
            }
            accs.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
