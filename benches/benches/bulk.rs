//! Bulk body serialisation throughput (MB/s): IoC-view documents of realistic size
//! turned into an NDJSON `_bulk` body.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use esclient::{BulkDoc, bulk_body};
use serde_json::json;
use std::hint::black_box;

fn docs(n: usize) -> Vec<BulkDoc> {
    (0..n)
        .map(|i| {
            let doc = json!({"IocIP": "163.26.171.228", "RemoteIP": format!("134.122.{}.{}", i % 256, i / 256 % 256),
                "Direction": "Send", "SendPackets": 1, "SendOctets": 52, "RcvPackets": 0, "RcvOctets": 0,
                "IocPort": 13216, "RemotePort": 45, "Protocol": 6, "TcpControlBits": 2, "IpVersion": 4,
                "TimeStamp": 1757057835008u64 + i as u64, "TotalFlows": 1611, "Exporter": "192.192.68.33",
                "IocAsNumber": 1659, "IocAsName": "UnKnow", "RemoteAsNumber": 152194, "RemoteAsName": "UnKnow",
                "IocGeoip": {"country_code": "TW", "city": "Tainan_City", "coordinates": [120.214798, 22.991699]},
                "RemoteGeoip": {"country_code": "HK", "city": "Shatin", "coordinates": [114.177902, 22.3829]},
                "FromIndex": "tanet-2025.09.05", "Date": "2025-09-05"});
            BulkDoc::new("iocflow-flows-2025.09.05", format!("tanet-2025.09.05:{i:020}:163.26.171.228"), &doc)
                .expect("serialises")
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let docs = docs(10_000);
    let bytes = bulk_body(&docs).len() as u64;
    let mut g = c.benchmark_group("bulk_body");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("10k_ioc_view_docs", |b| {
        b.iter(|| black_box(bulk_body(black_box(&docs))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
