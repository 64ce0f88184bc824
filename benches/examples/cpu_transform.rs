//! Measures transform + accumulate in CPU time of this thread (from /proc), which stays
//! meaningful on a loaded machine where criterion's wall-clock figures do not.
//! `cargo run --release -p iocflow-benches --example cpu_transform`

use std::net::{IpAddr, Ipv4Addr};

use flowmodel::{IocDayAcc, RawFlow, ViewContext, ioc_view};
use rustc_hash::{FxHashMap, FxHashSet};

fn thread_cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn main() {
    let n = 2_000_000usize;
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let day0 = 1_757_030_400_000i64;
    let flows: Vec<RawFlow> = (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
            let ioc = IpAddr::V4(Ipv4Addr::from(0x8600_0000 + (r % 3000) as u32 * 7));
            let internal = IpAddr::V4(Ipv4Addr::from(0xA31A_0000 + ((r >> 16) % 60_000) as u32));
            let out = r & 1 == 0;
            RawFlow {
                src: if out { internal } else { ioc },
                dst: if out { ioc } else { internal },
                src_port: if out {
                    40000 + (r >> 8) as u16 % 20000
                } else {
                    6667
                },
                dst_port: if out {
                    6667
                } else {
                    1025 + (r >> 8) as u16 % 4000
                },
                protocol: 6,
                tcp_flags: [2u16, 18, 24, 27][(r >> 40) as usize % 4],
                octets: 40 + (r >> 44) % 1400,
                packets: 1 + (r >> 50) % 5,
                start_ms: day0 + ((r >> 20) % 86_400_000) as i64,
                end_ms: None,
                exporter: None,
                src_as: 1659,
                dst_as: 3462,
                src_geo: flowmodel::Geo::from_json(r#"{"country_code":"TW"}"#),
                dst_geo: None,
            }
        })
        .collect();
    let set: FxHashSet<IpAddr> = (0..3000u32)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0x8600_0000 + i * 7)))
        .collect();
    let ctx = ViewContext::new("2025-09-05".parse().unwrap(), "tanet-2025.09.05");
    for round in 0..3 {
        let c0 = thread_cpu_secs();
        let mut accs: FxHashMap<IpAddr, IocDayAcc> = FxHashMap::default();
        for f in &flows {
            for rec in ioc_view(f, &set, |_| 1, &ctx) {
                accs.entry(rec.ioc_ip).or_default().add(&rec);
            }
        }
        let pairs: usize = accs.values().map(|a| a.pairs.len()).sum();
        drop(accs);
        let cpu = thread_cpu_secs() - c0;
        println!(
            "round {round}: {n} flows, {pairs} pairs, {cpu:.2} s CPU, {:.2} M flows/s per core",
            n as f64 / cpu / 1e6
        );
    }
}
