//! Synthetic day generation: flows per second on one core, in memory (streamed and
//! collected) and as JSON Lines documents.
//!
//! `cargo bench -p iocflow-benches --bench flowgen`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flowgen::{GenConfig, Generator};

fn bench(c: &mut Criterion) {
    // A realistic backbone day: 3,000 IoCs (150 of them wide), 3 M flows.
    let large = Generator::new(GenConfig::default()).expect("default config is valid");
    // A benchmark day with 1 M flows and 1,000 IoCs, half of it background.
    let mid = Generator::new(GenConfig {
        flows_per_day: 1_000_000,
        iocs: 1_000,
        ..GenConfig::default()
    })
    .expect("valid config");

    let mut g = c.benchmark_group("flowgen");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    g.warm_up_time(Duration::from_secs(1));
    for (name, generator) in [("default_3M", &large), ("1M_1000_iocs", &mid)] {
        let n = generator.for_each_flow(3, |_| {}).expect("day in range");
        g.throughput(Throughput::Elements(n));
        g.bench_function(format!("stream_{name}"), |b| {
            b.iter(|| {
                let mut octets = 0u64;
                generator
                    .for_each_flow(3, |f| octets += f.octets)
                    .expect("day in range");
                black_box(octets)
            })
        });
    }
    let n = mid.for_each_flow(3, |_| {}).expect("day in range");
    g.throughput(Throughput::Elements(n));
    g.bench_function("collect_1M_1000_iocs", |b| {
        b.iter(|| black_box(mid.day_flows(3).expect("day in range").len()))
    });
    g.bench_function("jsonl_1M_1000_iocs", |b| {
        b.iter(|| {
            black_box(
                mid.write_day_jsonl(3, std::io::sink(), false)
                    .expect("day in range"),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
