//! A small generator of IPFIX-named JSON Lines for the tests.

#![allow(dead_code)]

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};

/// A deterministic xorshift generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The `i`-th address of a pool of `n` (10.x.y.z).
pub fn pool_ip(i: u64) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000u32 + i as u32 * 7 + 1))
}

/// `lines` flow documents between addresses of a pool of `pool`, one day from
/// `day_start_ms`, with a sequence number in `sourceTransportPort` order.
pub fn jsonl(seed: u64, lines: usize, pool: u64, day_start_ms: i64) -> String {
    let mut rng = Rng(seed | 1);
    let mut out = String::new();
    for i in 0..lines {
        let s = pool_ip(rng.below(pool));
        let d = pool_ip(rng.below(pool));
        let t = day_start_ms + rng.below(86_400_000) as i64;
        let _ = writeln!(
            out,
            r#"{{"exporterIP":"192.192.68.33","sourceIPAddress":"{s}","destinationIPAddress":"{d}","sourceIPv4Address":"{s}","destinationIPv4Address":"{d}","protocolIdentifier":6,"sourceTransportPort":{},"destinationTransportPort":443,"tcpControlBits":2,"octetDeltaCount":{},"packetDeltaCount":1,"flowStartMilliseconds":{t},"flowEndMilliseconds":{t},"ipVersion":4,"srcGeoip":{{"country_code":"TW","city":"Tainan_City"}}}}"#,
            i % 65536,
            40 + rng.below(1400),
        );
    }
    out
}
