//! Classify + aggregate a generated day (flowgen: 3,000 IoCs, ≥ 2 M IoC-view records):
//! `accumulate` (records → per-IoC accumulators) then `classify_day` (classes, reasons,
//! RemoteIP summaries), and `classify_day` alone on ready accumulators.
//!
//! `cargo bench -p iocflow-benches --bench classify`
//! (`-- --test` runs once on a small day, as CI does).

use std::collections::HashSet;
use std::net::IpAddr;

use classifier::{ClassifierConfig, accumulate, classify_day};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use flowgen::{GenConfig, Generator};
use flowmodel::{IocFlow, ViewContext, ioc_view};

/// The day's IoC-view records (exact totals filled in), built once outside the timing.
fn records(test_mode: bool) -> (chrono::NaiveDate, Vec<IocFlow>) {
    let cfg = if test_mode {
        GenConfig {
            flows_per_day: 60_000,
            ..GenConfig::small(7, 1)
        }
    } else {
        // Wide IoCs alone carry ~1.9 M flows; 2.4 M flows a day give ≥ 2 M records.
        GenConfig {
            seed: 21,
            days: 1,
            flows_per_day: 2_400_000,
            iocs: 3_000,
            ..GenConfig::default()
        }
    };
    let g = Generator::new(cfg).expect("generator config");
    let date = g.date(0).expect("day 0");
    let flows = g.day_flows(0).expect("flows");
    let bl: HashSet<IpAddr> = g.blocklist(0).expect("blocklist").into_iter().collect();
    let mut totals = std::collections::HashMap::<IpAddr, u64>::new();
    for f in &flows {
        for ip in [f.src, f.dst] {
            if bl.contains(&ip) {
                *totals.entry(ip).or_default() += 1;
            }
        }
    }
    let ctx = ViewContext::new(date, "gen");
    let recs: Vec<IocFlow> = flows
        .iter()
        .flat_map(|f| ioc_view(f, &bl, |ip| totals.get(&ip).copied().unwrap_or(0), &ctx))
        .collect();
    (date, recs)
}

fn bench(c: &mut Criterion) {
    let test_mode = std::env::args().any(|a| a == "--test");
    let (date, recs) = records(test_mode);
    if !test_mode {
        assert!(recs.len() >= 2_000_000, "only {} records", recs.len());
    }
    let cfg = ClassifierConfig::default();
    let mut g = c.benchmark_group("classify");
    g.sample_size(10);
    g.throughput(Throughput::Elements(recs.len() as u64));
    g.bench_function("accumulate+classify_day", |b| {
        b.iter(|| {
            let accs = accumulate(&recs);
            classify_day(date, &accs, &cfg)
        })
    });
    let accs = accumulate(&recs);
    g.bench_function("classify_day", |b| {
        b.iter_batched_ref(
            || (),
            |_| classify_day(date, &accs, &cfg),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
