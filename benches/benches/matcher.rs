//! IoC matcher lookups: a CERT-sized list (5,000 entries, 300 of them CIDRs /16–/24)
//! probed with addresses of which about 10 % are IoCs. Target: ≥ 50 M lookups/s on one
//! core. Run: `cargo bench -p iocflow-benches --bench matcher`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ioc_fetch::Matcher;
use ipnet::{IpNet, Ipv4Net};

/// xorshift64*: deterministic inputs without a rand dependency.
struct Rng(u64);

impl Rng {
    fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }
}

fn list(rng: &mut Rng) -> Vec<IpNet> {
    let mut v = Vec::with_capacity(5_000);
    for i in 0..5_000 {
        let a = rng.next_u32();
        let len = if i < 300 {
            16 + (rng.next_u32() % 9) as u8
        } else {
            32
        };
        v.push(IpNet::V4(
            Ipv4Net::new(Ipv4Addr::from(a), len)
                .expect("valid prefix")
                .trunc(),
        ));
    }
    v
}

fn probes(rng: &mut Rng, entries: &[IpNet], n: usize) -> Vec<IpAddr> {
    (0..n)
        .map(|i| {
            if i % 10 == 0 {
                // A hit: an address inside a random entry.
                let e = entries[rng.next_u32() as usize % entries.len()];
                match e {
                    IpNet::V4(v) => {
                        let span = !u32::from(v.netmask());
                        IpAddr::V4(Ipv4Addr::from(
                            u32::from(v.network()) | (rng.next_u32() & span),
                        ))
                    }
                    IpNet::V6(v) => IpAddr::V6(v.network()),
                }
            } else {
                IpAddr::V4(Ipv4Addr::from(rng.next_u32()))
            }
        })
        .collect()
}

fn bench_matcher(c: &mut Criterion) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let entries = list(&mut rng);
    let matcher = Matcher::new(&entries);
    let addrs = probes(&mut rng, &entries, 1 << 16);
    let hits = addrs
        .iter()
        .filter(|a| matcher.lookup(**a).is_some())
        .count();
    assert!(hits >= addrs.len() / 10, "the probe set must contain hits");

    let mut g = c.benchmark_group("matcher");
    g.throughput(Throughput::Elements(addrs.len() as u64));
    g.bench_function("lookup_5000_entries_300_cidrs", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for a in &addrs {
                n += matcher.lookup(black_box(*a)).is_some() as usize;
            }
            black_box(n)
        })
    });
    g.bench_function("build_5000_entries", |b| {
        b.iter(|| Matcher::new(black_box(&entries)))
    });
    g.finish();
}

criterion_group!(benches, bench_matcher);
criterion_main!(benches);
