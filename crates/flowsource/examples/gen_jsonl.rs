//! Writes a synthetic day of IPFIX-named JSON Lines and a blocklist, for benchmarks.
//!
//! `cargo run --release -p flowsource --example gen_jsonl -- OUT.jsonl SIZE_MB IOCS.txt [N_IOCS]`
//!
//! Flows look like the NOC collector's documents (design.md §3, about 600 bytes a line);
//! about one flow in a thousand has an IoC at one end.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::Ipv4Addr;

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: gen_jsonl OUT.jsonl SIZE_MB IOCS.txt [N_IOCS]".into());
    }
    let size: u64 = args[2].parse::<u64>()? << 20;
    let n_iocs: usize = args.get(4).map_or(Ok(3000), |s| s.parse())?;
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let iocs: Vec<Ipv4Addr> = (0..n_iocs).map(|_| rng.ip()).collect();
    let mut list = BufWriter::new(File::create(&args[3])?);
    for ip in &iocs {
        writeln!(list, "{ip}")?;
    }
    list.flush()?;
    let mut out = BufWriter::with_capacity(8 << 20, File::create(&args[1])?);
    let day0: u64 = 1_757_030_400_000;
    let mut written = 0u64;
    let mut line = String::with_capacity(1024);
    while written < size {
        let (mut s, mut d) = (rng.ip(), rng.ip());
        if rng.below(1000) == 0 {
            let ioc = iocs[rng.below(iocs.len() as u64) as usize];
            if rng.below(2) == 0 { s = ioc } else { d = ioc }
        }
        let t = day0 + rng.below(86_400_000);
        line.clear();
        write!(
            line,
            r#"{{"exporterIP":"192.192.68.33","sourceIPAddress":"{s}","destinationIPAddress":"{d}","sourceIPv4Address":"{s}","destinationIPv4Address":"{d}","protocolIdentifier":6,"sourceTransportPort":{},"destinationTransportPort":{},"tcpControlBits":2,"octetDeltaCount":{},"packetDeltaCount":{},"flowStartMilliseconds":{t},"flowEndMilliseconds":{},"bgpSourceAsNumber":{},"bgpDestinationAsNumber":{},"ipVersion":4,"srcGeoip":{{"country_code":"TW","city":"Tainan_City","longitude":120.214798,"latitude":22.991699,"coordinates":[120.214798,22.991699]}},"dstGeoip":{{"country_code":"HK","city":"Shatin","longitude":114.177902,"latitude":22.3829,"coordinates":[114.177902,22.3829]}}}}"#,
            1024 + rng.below(64000),
            [80, 443, 53, 22, 45][rng.below(5) as usize],
            40 + rng.below(1460),
            1 + rng.below(20),
            t + rng.below(60_000),
            rng.below(400_000),
            rng.below(400_000),
        )?;
        line.push('\n');
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    out.flush()?;
    Ok(())
}
