//! Mergeable daily accumulators: one per IoC and one per RemoteIP.
//!
//! Every accumulator is a plain sum of its flows: [`IocDayAcc::merge`] and
//! [`RemoteDayAcc::merge`] are associative and commutative, so rayon can `fold` them per
//! thread and `reduce` them in any order and get the same result. They hold counts and
//! histograms bounded by the port, flag and protocol spaces (never a list of flows), and
//! they are the classifier's only input.

use std::net::IpAddr;
use std::ops::AddAssign;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use crate::view::{Direction, IocFlow};

/// TCP flag bits.
pub mod tcp {
    /// FIN.
    pub const FIN: u16 = 0x01;
    /// SYN.
    pub const SYN: u16 = 0x02;
    /// RST.
    pub const RST: u16 = 0x04;
    /// PSH.
    pub const PSH: u16 = 0x08;
    /// ACK.
    pub const ACK: u16 = 0x10;
    /// The six classic bits (FIN … URG), without ECE/CWR/NS.
    pub const CLASSIC: u16 = 0x3f;

    /// Exactly SYN: a connection attempt that got nothing back in this flow.
    pub fn is_syn_only(flags: u16) -> bool {
        flags & CLASSIC == SYN
    }

    /// What a host sends back to a probe: SYN|ACK, RST or RST|ACK, nothing else.
    pub fn is_reply_like(flags: u16) -> bool {
        let f = flags & CLASSIC;
        f == SYN | ACK || f == RST || f == RST | ACK
    }
}

/// IP protocol numbers used by the accumulators.
pub mod proto {
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
}

/// A set of IP protocol numbers (256 bits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ProtoSet([u64; 4]);

impl ProtoSet {
    /// Adds a protocol.
    #[inline]
    pub fn insert(&mut self, p: u8) {
        self.0[(p >> 6) as usize] |= 1 << (p & 63);
    }

    /// Whether `p` is in the set.
    pub fn contains(&self, p: u8) -> bool {
        self.0[(p >> 6) as usize] & (1 << (p & 63)) != 0
    }

    /// Union with another set.
    pub fn merge(&mut self, o: Self) {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            *a |= b;
        }
    }

    /// The protocols, ascending.
    pub fn to_vec(&self) -> Vec<u8> {
        (0..=255u8).filter(|p| self.contains(*p)).collect()
    }
}

/// Flows, packets and octets of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirStats {
    /// Flows.
    pub flows: u64,
    /// Packets.
    pub packets: u64,
    /// Octets.
    pub octets: u64,
}

impl AddAssign for DirStats {
    #[inline]
    fn add_assign(&mut self, o: Self) {
        self.flows = self.flows.saturating_add(o.flows);
        self.packets = self.packets.saturating_add(o.packets);
        self.octets = self.octets.saturating_add(o.octets);
    }
}

impl DirStats {
    /// One flow.
    pub fn one(packets: u64, octets: u64) -> Self {
        Self {
            flows: 1,
            packets,
            octets,
        }
    }
}

/// A value that can be summed without overflowing (saturating): what [`Counts`] holds.
pub trait Tally: Copy + Default {
    /// `self + other`, saturating.
    fn tally(self, other: Self) -> Self;
}

impl Tally for u32 {
    #[inline]
    fn tally(self, o: Self) -> Self {
        self.saturating_add(o)
    }
}

impl Tally for u64 {
    #[inline]
    fn tally(self, o: Self) -> Self {
        self.saturating_add(o)
    }
}

impl Tally for DirStats {
    #[inline]
    fn tally(mut self, o: Self) -> Self {
        self += o;
        self
    }
}

/// Counts by a small key (a port, a flag combination, a protocol), kept as a sorted
/// vector: compact for the one-to-three keys most pairs have, bounded by the key space
/// (65,536 ports at most), and equal whenever the counts are equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts<V = u64>(SmallVec<[(u16, V); 2]>);

impl<V> Default for Counts<V> {
    fn default() -> Self {
        Self(SmallVec::new())
    }
}

impl<V: Tally> Counts<V> {
    /// Adds `v` to key `k`.
    #[inline]
    pub fn add(&mut self, k: u16, v: V) {
        match self.0.binary_search_by_key(&k, |e| e.0) {
            Ok(i) => self.0[i].1 = self.0[i].1.tally(v),
            Err(i) => self.0.insert(i, (k, v)),
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Self) {
        if self.0.is_empty() {
            self.0.extend_from_slice(&other.0);
            return;
        }
        for &(k, v) in &other.0 {
            self.add(k, v);
        }
    }

    /// The value of key `k` (default when absent).
    pub fn get(&self, k: u16) -> V {
        match self.0.binary_search_by_key(&k, |e| e.0) {
            Ok(i) => self.0[i].1,
            Err(_) => V::default(),
        }
    }

    /// Whether key `k` has been seen.
    pub fn contains(&self, k: u16) -> bool {
        self.0.binary_search_by_key(&k, |e| e.0).is_ok()
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, V)> + '_ {
        self.0.iter().copied()
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no key has been seen.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: Tally + Into<u64> + Ord> Counts<V> {
    /// Sum of all counts.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|e| e.1.into()).sum()
    }

    /// The `n` keys with the highest counts, highest first (ties: lower key first).
    pub fn top(&self, n: usize) -> Vec<(u16, u64)> {
        let mut v: Vec<(u16, u64)> = self.0.iter().map(|&(k, c)| (k, c.into())).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// The most common key and its count.
    pub fn modal(&self) -> Option<(u16, u64)> {
        self.0
            .iter()
            .copied()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(k, c)| (k, c.into()))
    }

    /// Share of the total carried by the keys for which `pred` holds (0 when empty).
    pub fn share_where(&self, pred: impl Fn(u16) -> bool) -> f64 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        let hit: u64 = self
            .0
            .iter()
            .filter(|e| pred(e.0))
            .map(|e| e.1.into())
            .sum();
        hit as f64 / total as f64
    }
}

/// A histogram with fixed-width buckets and an overflow bucket; its quantiles are
/// bucket midpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hist<const WIDTH: u64, const BUCKETS: usize> {
    counts: Vec<u64>,
}

impl<const W: u64, const B: usize> Default for Hist<W, B> {
    fn default() -> Self {
        Self { counts: Vec::new() }
    }
}

impl<const W: u64, const B: usize> Hist<W, B> {
    /// Adds one observation.
    #[inline]
    pub fn add(&mut self, value: u64) {
        if self.counts.is_empty() {
            self.counts = vec![0; B + 1];
        }
        let i = ((value / W) as usize).min(B);
        self.counts[i] += 1;
    }

    /// Adds every observation of `other`.
    pub fn merge(&mut self, other: &Self) {
        if other.counts.is_empty() {
            return;
        }
        if self.counts.is_empty() {
            self.counts.clone_from(&other.counts);
            return;
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The `q`-quantile (0 ≤ q ≤ 1) as a bucket midpoint; `None` when empty. Values in
    /// the overflow bucket report its lower bound.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(if i == B {
                    W * B as u64
                } else {
                    W * i as u64 + W / 2
                });
            }
        }
        None
    }
}

/// Bytes per packet, 8-byte buckets up to 2,048.
pub type BppHist = Hist<8, 256>;
/// Packets per flow, exact up to 255.
pub type PpfHist = Hist<1, 255>;

/// What one (IoC, RemoteIP) pair did in a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairStats {
    /// IoC → RemoteIP.
    pub send: DirStats,
    /// RemoteIP → IoC.
    pub rcv: DirStats,
    /// Earliest flow start (epoch ms).
    pub first_ms: i64,
    /// Latest flow start.
    pub last_ms: i64,
    /// IoC ports of `Send` flows.
    pub send_ioc_ports: Counts<u32>,
    /// RemoteIP ports of `Send` flows (the ports the IoC reached out to).
    pub send_remote_ports: Counts<u32>,
    /// IoC ports of `Rcv` flows (the ports the RemoteIP reached out to).
    pub rcv_ioc_ports: Counts<u32>,
    /// RemoteIP ports of `Rcv` flows.
    pub rcv_remote_ports: Counts<u32>,
    /// RemoteIP ports of `Rcv` TCP flows whose flags look like an answer to a probe
    /// (SYN|ACK, RST, RST|ACK).
    pub rcv_reply_ports: Counts<u32>,
    /// `Send` TCP flows with exactly SYN.
    pub send_syn_only: u32,
    /// `Rcv` TCP flows with exactly SYN.
    pub rcv_syn_only: u32,
    /// IP protocols seen ([`ProtoSet`]).
    pub protocols: ProtoSet,
    /// Hours of the day (UTC) with at least one flow, as bits 0–23.
    pub hours: u32,
}

impl Default for PairStats {
    fn default() -> Self {
        Self {
            send: DirStats::default(),
            rcv: DirStats::default(),
            first_ms: i64::MAX,
            last_ms: i64::MIN,
            send_ioc_ports: Counts::default(),
            send_remote_ports: Counts::default(),
            rcv_ioc_ports: Counts::default(),
            rcv_remote_ports: Counts::default(),
            rcv_reply_ports: Counts::default(),
            send_syn_only: 0,
            rcv_syn_only: 0,
            protocols: ProtoSet::default(),
            hours: 0,
        }
    }
}

fn hour_of(ms: i64) -> u32 {
    (ms.rem_euclid(86_400_000) / 3_600_000) as u32
}

impl PairStats {
    /// Adds one IoC-view record.
    #[inline]
    pub fn add(&mut self, r: &IocFlow) {
        let tcp = r.protocol == proto::TCP;
        match r.direction {
            Direction::Send => {
                self.send += DirStats::one(r.send_packets, r.send_octets);
                self.send_ioc_ports.add(r.ioc_port, 1);
                self.send_remote_ports.add(r.remote_port, 1);
                if tcp && tcp::is_syn_only(r.tcp_control_bits) {
                    self.send_syn_only = self.send_syn_only.saturating_add(1);
                }
            }
            Direction::Rcv => {
                self.rcv += DirStats::one(r.rcv_packets, r.rcv_octets);
                self.rcv_ioc_ports.add(r.ioc_port, 1);
                self.rcv_remote_ports.add(r.remote_port, 1);
                if tcp {
                    if tcp::is_reply_like(r.tcp_control_bits) {
                        self.rcv_reply_ports.add(r.remote_port, 1);
                    } else if tcp::is_syn_only(r.tcp_control_bits) {
                        self.rcv_syn_only = self.rcv_syn_only.saturating_add(1);
                    }
                }
            }
        }
        self.protocols.insert(r.protocol);
        self.first_ms = self.first_ms.min(r.time_stamp);
        self.last_ms = self.last_ms.max(r.time_stamp);
        self.hours |= 1 << hour_of(r.time_stamp);
    }

    /// Adds another pair's counts.
    pub fn merge(&mut self, o: &Self) {
        self.send += o.send;
        self.rcv += o.rcv;
        self.first_ms = self.first_ms.min(o.first_ms);
        self.last_ms = self.last_ms.max(o.last_ms);
        self.send_ioc_ports.merge(&o.send_ioc_ports);
        self.send_remote_ports.merge(&o.send_remote_ports);
        self.rcv_ioc_ports.merge(&o.rcv_ioc_ports);
        self.rcv_remote_ports.merge(&o.rcv_remote_ports);
        self.rcv_reply_ports.merge(&o.rcv_reply_ports);
        self.send_syn_only = self.send_syn_only.saturating_add(o.send_syn_only);
        self.rcv_syn_only = self.rcv_syn_only.saturating_add(o.rcv_syn_only);
        self.protocols.merge(o.protocols);
        self.hours |= o.hours;
    }

    /// Flows in both directions.
    pub fn flows(&self) -> u64 {
        self.send.flows + self.rcv.flows
    }

    /// Octets in both directions.
    pub fn octets(&self) -> u64 {
        self.send.octets + self.rcv.octets
    }

    /// Packets in both directions.
    pub fn packets(&self) -> u64 {
        self.send.packets + self.rcv.packets
    }

    /// `Rcv` TCP flows that answer a `Send` probe of the same day: reply-like flags, from
    /// a RemoteIP port the IoC sent to, and that port is a server port
    /// (`is_server_port`). Such flows are scan replies, never check-ins.
    pub fn reply_flows(&self, is_server_port: impl Fn(u16) -> bool) -> u64 {
        self.rcv_reply_ports
            .iter()
            .filter(|&(p, _)| is_server_port(p) && self.send_remote_ports.contains(p))
            .map(|(_, n)| u64::from(n))
            .sum()
    }

    /// Number of distinct hours with traffic.
    pub fn hours_active(&self) -> u32 {
        self.hours.count_ones()
    }
}

/// One IoC's day: totals by direction, per-RemoteIP pair statistics, and histograms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IocDayAcc {
    /// IoC → RemoteIP totals.
    pub send: DirStats,
    /// RemoteIP → IoC totals.
    pub rcv: DirStats,
    /// Per-RemoteIP statistics.
    pub pairs: FxHashMap<IpAddr, PairStats>,
    /// TCP flag combinations of `Send` TCP flows.
    pub send_flags: Counts,
    /// TCP flag combinations of `Rcv` TCP flows.
    pub rcv_flags: Counts,
    /// Flows per IP protocol.
    pub protocols: Counts,
    /// Bytes per packet of `Send` flows.
    pub send_bpp: BppHist,
    /// Bytes per packet of `Rcv` flows.
    pub rcv_bpp: BppHist,
    /// Packets per flow (both directions).
    pub ppf: PpfHist,
    /// `Rcv` UDP traffic by RemoteIP port (reflection / amplification signatures).
    pub rcv_udp_by_remote_port: Counts<DirStats>,
    /// Flows per hour of the day (UTC).
    pub hourly: [u64; 24],
}

fn bpp(octets: u64, packets: u64) -> u64 {
    octets.checked_div(packets).unwrap_or(octets)
}

impl IocDayAcc {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one IoC-view record (of this IoC).
    #[inline]
    pub fn add(&mut self, r: &IocFlow) {
        self.pairs.entry(r.remote_ip).or_default().add(r);
        let tcp = r.protocol == proto::TCP;
        match r.direction {
            Direction::Send => {
                self.send += DirStats::one(r.send_packets, r.send_octets);
                self.send_bpp.add(bpp(r.send_octets, r.send_packets));
                if tcp {
                    self.send_flags.add(r.tcp_control_bits, 1);
                }
            }
            Direction::Rcv => {
                self.rcv += DirStats::one(r.rcv_packets, r.rcv_octets);
                self.rcv_bpp.add(bpp(r.rcv_octets, r.rcv_packets));
                if tcp {
                    self.rcv_flags.add(r.tcp_control_bits, 1);
                } else if r.protocol == proto::UDP {
                    self.rcv_udp_by_remote_port
                        .add(r.remote_port, DirStats::one(r.rcv_packets, r.rcv_octets));
                }
            }
        }
        self.protocols.add(r.protocol as u16, 1);
        self.ppf.add(r.packets());
        self.hourly[hour_of(r.time_stamp) as usize] += 1;
    }

    /// Adds another accumulator of the same IoC.
    pub fn merge(&mut self, o: &Self) {
        self.send += o.send;
        self.rcv += o.rcv;
        for (ip, p) in &o.pairs {
            match self.pairs.get_mut(ip) {
                Some(mine) => mine.merge(p),
                None => {
                    self.pairs.insert(*ip, p.clone());
                }
            }
        }
        self.send_flags.merge(&o.send_flags);
        self.rcv_flags.merge(&o.rcv_flags);
        self.protocols.merge(&o.protocols);
        self.send_bpp.merge(&o.send_bpp);
        self.rcv_bpp.merge(&o.rcv_bpp);
        self.ppf.merge(&o.ppf);
        self.rcv_udp_by_remote_port.merge(&o.rcv_udp_by_remote_port);
        for (a, b) in self.hourly.iter_mut().zip(o.hourly) {
            *a += b;
        }
    }

    /// Flows in both directions.
    pub fn flows(&self) -> u64 {
        self.send.flows + self.rcv.flows
    }

    /// Distinct RemoteIPs.
    pub fn remotes(&self) -> usize {
        self.pairs.len()
    }

    /// Distinct RemoteIP prefixes: /24 for IPv4, /48 for IPv6.
    pub fn remote_prefixes(&self) -> usize {
        let mut set: rustc_hash::FxHashSet<u128> = Default::default();
        for ip in self.pairs.keys() {
            set.insert(match ip {
                IpAddr::V4(v4) => u32::from(*v4) as u128 >> 8,
                IpAddr::V6(v6) => (u128::from(*v6) >> 80) | (1u128 << 100),
            });
        }
        set.len()
    }

    /// Earliest flow start, if any flow was added.
    pub fn first_ms(&self) -> Option<i64> {
        self.pairs.values().map(|p| p.first_ms).min()
    }

    /// Latest flow start.
    pub fn last_ms(&self) -> Option<i64> {
        self.pairs.values().map(|p| p.last_ms).max()
    }

    /// IoC ports of one direction, summed over RemoteIPs.
    pub fn ioc_ports(&self, dir: Direction) -> Counts<u32> {
        let mut c = Counts::default();
        for p in self.pairs.values() {
            c.merge(match dir {
                Direction::Send => &p.send_ioc_ports,
                Direction::Rcv => &p.rcv_ioc_ports,
            });
        }
        c
    }

    /// RemoteIP ports of one direction, summed over RemoteIPs.
    pub fn remote_ports(&self, dir: Direction) -> Counts<u32> {
        let mut c = Counts::default();
        for p in self.pairs.values() {
            c.merge(match dir {
                Direction::Send => &p.send_remote_ports,
                Direction::Rcv => &p.rcv_remote_ports,
            });
        }
        c
    }

    /// Hours with at least one flow.
    pub fn hours_active(&self) -> usize {
        self.hourly.iter().filter(|h| **h > 0).count()
    }
}

/// One RemoteIP's day: its traffic with each IoC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteDayAcc {
    /// Per-IoC statistics (the same pair statistics as [`IocDayAcc::pairs`], seen from
    /// the other end).
    pub iocs: FxHashMap<IpAddr, PairStats>,
}

impl RemoteDayAcc {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one IoC-view record (whose RemoteIP is this one).
    #[inline]
    pub fn add(&mut self, r: &IocFlow) {
        self.iocs.entry(r.ioc_ip).or_default().add(r);
    }

    /// Adds one IoC's pair statistics.
    pub fn add_pair(&mut self, ioc: IpAddr, p: &PairStats) {
        match self.iocs.get_mut(&ioc) {
            Some(mine) => mine.merge(p),
            None => {
                self.iocs.insert(ioc, p.clone());
            }
        }
    }

    /// Adds another accumulator of the same RemoteIP.
    pub fn merge(&mut self, o: &Self) {
        for (ioc, p) in &o.iocs {
            self.add_pair(*ioc, p);
        }
    }

    /// Totals over every IoC: (`Send` = IoC → RemoteIP, `Rcv`).
    pub fn totals(&self) -> (DirStats, DirStats) {
        let mut s = DirStats::default();
        let mut r = DirStats::default();
        for p in self.iocs.values() {
            s += p.send;
            r += p.rcv;
        }
        (s, r)
    }

    /// Earliest and latest flow start over every IoC.
    pub fn seen(&self) -> Option<(i64, i64)> {
        let first = self.iocs.values().map(|p| p.first_ms).min()?;
        let last = self.iocs.values().map(|p| p.last_ms).max()?;
        Some((first, last))
    }

    /// Protocols seen over every IoC.
    pub fn protocols(&self) -> ProtoSet {
        let mut c = ProtoSet::default();
        for p in self.iocs.values() {
            c.merge(p.protocols);
        }
        c
    }
}
