//! Test support: hand-built IoC-view records, and a reader for Argus bidirectional
//! flow files (CTU-13 `.binetflow`) that turns each row into the one-way flows it
//! stands for.
#![allow(dead_code, clippy::too_many_arguments)]

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::PathBuf;

use chrono::NaiveDateTime;
use flowmodel::{Direction, IocFlow, RawFlow, ViewContext, ioc_view, protocol_by_name};

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

/// TCP flag bits from an Argus state half (`FSPA`, `SR`, `RA`…).
pub fn argus_flags(s: &str) -> u16 {
    let mut f = 0;
    for c in s.chars() {
        f |= match c {
            'F' => 0x01,
            'S' => 0x02,
            'R' => 0x04,
            'P' => 0x08,
            'A' => 0x10,
            'U' => 0x20,
            'E' => 0x40,
            'C' => 0x80,
            _ => 0,
        };
    }
    f
}

/// One binetflow row with its label.
pub struct BiRow {
    pub label: String,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub flows: Vec<RawFlow>,
}

/// Parses one binetflow row into the one-way flows it stands for: the forward flow
/// (SrcAddr → DstAddr, `SrcBytes` octets) and, when `TotBytes − SrcBytes` > 0, the
/// reverse flow. The file only has total packets: they are split in proportion to the
/// octets (rounded), each side with octets getting at least one packet, since a side
/// with bytes sent at least one packet. TCP flags come from `State` (`SRC_DST`, e.g.
/// `S_RA`); other protocols get 0. Times are read as UTC (the file has local time
/// without a zone). ICMP type/code in the port columns (`0x0303`) become port 0.
/// Rows without IP addresses (ARP, LLC) give `None`.
pub fn parse_binetflow_row(line: &str) -> Option<BiRow> {
    let c: Vec<&str> = line.split(',').collect();
    if c.len() < 15 {
        return None;
    }
    let ts = NaiveDateTime::parse_from_str(c[0], "%Y/%m/%d %H:%M:%S%.f").ok()?;
    let start_ms = ts.and_utc().timestamp_millis();
    // Argus names RTP/RTCP/UDT (UDP payloads) and a few IP protocols itself.
    let proto = match c[2].trim() {
        "rtp" | "rtcp" | "udt" => 17,
        "igmp" => 2,
        "pim" => 103,
        "ipv6" => 41,
        other => protocol_by_name(other)?,
    };
    let src: IpAddr = c[3].trim().parse().ok()?;
    let dst: IpAddr = c[6].trim().parse().ok()?;
    let port = |s: &str| -> u16 {
        let s = s.trim();
        if s.starts_with("0x") {
            0
        } else {
            s.parse().unwrap_or(0)
        }
    };
    let (sp, dp) = (port(c[4]), port(c[7]));
    let (sflags, dflags) = if proto == 6 {
        let mut it = c[8].splitn(2, '_');
        (
            argus_flags(it.next().unwrap_or("")),
            argus_flags(it.next().unwrap_or("")),
        )
    } else {
        (0, 0)
    };
    let tot_pk: u64 = c[11].trim().parse().ok()?;
    let tot_b: u64 = c[12].trim().parse().ok()?;
    let src_b: u64 = c[13].trim().parse().ok()?;
    let dst_b = tot_b.saturating_sub(src_b);
    let (src_pk, dst_pk) = split_packets(tot_pk, src_b, dst_b);
    let mut flows = Vec::with_capacity(2);
    if src_pk > 0 || src_b > 0 {
        flows.push(raw_flow(
            src, dst, sp, dp, proto, sflags, src_pk, src_b, start_ms,
        ));
    }
    if dst_pk > 0 || dst_b > 0 {
        flows.push(raw_flow(
            dst, src, dp, sp, proto, dflags, dst_pk, dst_b, start_ms,
        ));
    }
    Some(BiRow {
        label: c[14].trim().to_string(),
        src,
        dst,
        flows,
    })
}

fn raw_flow(
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
    raw(src, dst, sp, dp, proto, flags, pk, oct, ts)
}

/// Splits `total` packets between two sides in proportion to their octets; a side with
/// octets gets at least one packet when there are enough packets.
pub fn split_packets(total: u64, a_oct: u64, b_oct: u64) -> (u64, u64) {
    if b_oct == 0 {
        return (total, 0);
    }
    if a_oct == 0 {
        return (0, total);
    }
    if total < 2 {
        return (total, 0);
    }
    let a = ((total as f64) * a_oct as f64 / (a_oct + b_oct) as f64).round() as u64;
    let a = a.clamp(1, total - 1);
    (a, total - a)
}

/// Every row of a binetflow file.
pub fn read_binetflow(path: &std::path::Path) -> Vec<BiRow> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e} (set IOCFLOW_DATA)", path.display()));
    text.lines()
        .skip(1)
        .filter_map(parse_binetflow_row)
        .collect()
}

/// A one-IP-a-line blocklist (comments with `#`).
pub fn read_blocklist(path: &std::path::Path) -> HashSet<IpAddr> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter_map(|l| l.parse().ok())
        .collect()
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
