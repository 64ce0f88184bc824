//! Test support: hand-built IoC-view records, and CTU-13 captures and blocklists read by
//! the production readers (`flowsource`, `ioc_fetch`).
#![allow(dead_code, clippy::too_many_arguments)]

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use flowmodel::{Direction, IocFlow, IocSet, RawFlow, ViewContext, ioc_view};
use flowsource::{Format, Input, ScanOptions, ScanResult};
use ioc_fetch::{Matcher, ParseOptions, parse_blocklist};

/// 2025-09-05 00:00:00 UTC in epoch ms.
pub const DAY0_MS: i64 = 1_757_030_400_000;

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

pub fn ctx() -> ViewContext {
    ViewContext::new("2025-09-05".parse().expect("date"), "test")
}

pub fn raw(
    src: IpAddr,
    dst: IpAddr,
    sp: u16,
    dp: u16,
    proto: u8,
    flags: u16,
    pk: u64,
    oct: u64,
    ts: i64,
) -> RawFlow {
    RawFlow {
        src,
        dst,
        src_port: sp,
        dst_port: dp,
        protocol: proto,
        tcp_flags: flags,
        octets: oct,
        packets: pk,
        start_ms: ts,
        end_ms: None,
        exporter: None,
        src_as: 0,
        dst_as: 0,
        src_geo: None,
        dst_geo: None,
    }
}

/// One IoC-view record, described from the IoC's side.
#[derive(Clone, Copy)]
pub struct Rec {
    pub dir: Direction,
    pub ioc_port: u16,
    pub remote_port: u16,
    pub proto: u8,
    pub flags: u16,
    pub packets: u64,
    pub octets: u64,
    pub ts: i64,
}

impl Rec {
    /// RemoteIP → IoC.
    pub fn rcv(
        ioc_port: u16,
        remote_port: u16,
        proto: u8,
        flags: u16,
        packets: u64,
        octets: u64,
    ) -> Self {
        Rec {
            dir: Direction::Rcv,
            ioc_port,
            remote_port,
            proto,
            flags,
            packets,
            octets,
            ts: DAY0_MS + 3_600_000,
        }
    }
    /// IoC → RemoteIP.
    pub fn send(
        ioc_port: u16,
        remote_port: u16,
        proto: u8,
        flags: u16,
        packets: u64,
        octets: u64,
    ) -> Self {
        Rec {
            dir: Direction::Send,
            ..Self::rcv(ioc_port, remote_port, proto, flags, packets, octets)
        }
    }
    pub fn at(mut self, ts: i64) -> Self {
        self.ts = ts;
        self
    }
    pub fn build(self, ioc: IpAddr, remote: IpAddr) -> IocFlow {
        let r = match self.dir {
            Direction::Send => raw(
                ioc,
                remote,
                self.ioc_port,
                self.remote_port,
                self.proto,
                self.flags,
                self.packets,
                self.octets,
                self.ts,
            ),
            Direction::Rcv => raw(
                remote,
                ioc,
                self.remote_port,
                self.ioc_port,
                self.proto,
                self.flags,
                self.packets,
                self.octets,
                self.ts,
            ),
        };
        IocFlow::from_raw(&r, self.dir, 0, &ctx())
    }
}

/// The `i`-th host of 10.0.0.0/8; consecutive hosts sit in different /24s.
pub fn host(i: u32) -> IpAddr {
    let (b, c, d) = ((i / 50_000) % 256, i % 200, (i / 200) % 250 + 1);
    IpAddr::from([10, b as u8, c as u8, d as u8])
}

/// Where the shared data sets live (`IOCFLOW_DATA` overrides).
pub fn data_dir() -> PathBuf {
    std::env::var_os("IOCFLOW_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
}

/// The flows of a binetflow capture that touch an IoC, read by the production reader
/// (`flowsource`, every flow sampled), each flow once, with the scan (exact totals per
/// IoC, line counts).
pub fn scan_binetflow(path: &Path, iocs: &dyn IocSet) -> (ScanResult, Vec<RawFlow>) {
    let opts = ScanOptions {
        format: Some(Format::Binetflow),
        sample_cap: usize::MAX,
        ..ScanOptions::new(iocs)
    };
    let res = flowsource::scan(&[Input::Path(path.into())], &opts)
        .unwrap_or_else(|e| panic!("cannot scan {}: {e} (set IOCFLOW_DATA)", path.display()));
    // A flow between two IoCs is under both keys: keep it under its source's only.
    let flows = (res.iocs.iter())
        .flat_map(|((_, ioc), hits)| hits.sample.iter().map(move |s| (*ioc, &s.raw)))
        .filter(|(ioc, f)| f.src == *ioc || !iocs.contains(f.src))
        .map(|(_, f)| f.clone())
        .collect();
    (res, flows)
}

/// Source addresses (4th column) of the binetflow rows whose label (15th) has `From-Normal`.
pub fn normal_hosts(path: &Path) -> HashSet<IpAddr> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    (text.lines().map(|l| l.split(',').collect::<Vec<_>>()))
        .filter(|c| c.len() > 14 && c[14].contains("From-Normal"))
        .filter_map(|c| c[3].trim().parse().ok())
        .collect()
}

/// A blocklist read by the production parser (`ioc_fetch`, default hygiene).
pub fn blocklist(path: &Path) -> Matcher {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let list = parse_blocklist(&bytes, &ParseOptions::default()).expect("blocklist parses");
    Matcher::from_list(&list)
}

/// IoC-view records of raw flows against a blocklist, with exact totals.
pub fn view_all(flows: &[RawFlow], iocs: &HashSet<IpAddr>, ctx: &ViewContext) -> Vec<IocFlow> {
    let mut totals: std::collections::HashMap<IpAddr, u64> = Default::default();
    for f in flows {
        for side in [f.src, f.dst] {
            if iocs.contains(&side) {
                *totals.entry(side).or_default() += 1;
            }
        }
    }
    flows
        .iter()
        .flat_map(|f| ioc_view(f, iocs, |ip| totals.get(&ip).copied().unwrap_or(0), ctx))
        .collect()
}
