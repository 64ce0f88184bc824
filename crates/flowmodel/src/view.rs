//! The IoC-centric view of a flow: the record the NOC's dashboards read.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ip::IocSet;
use crate::raw::{Geo, RawFlow};

/// The AS name written when the AS table does not know a number (the published
/// system's spelling, kept because dashboards filter on it).
pub const UNKNOWN_AS_NAME: &str = "UnKnow";

/// Which way a flow went, seen from the IoC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Direction {
    /// IoC → RemoteIP.
    Send,
    /// RemoteIP → IoC.
    Rcv,
}

/// An ASN → name table, shared by every record (names are reference-counted).
#[derive(Debug, Clone)]
pub struct AsNames {
    names: rustc_hash::FxHashMap<u32, Arc<str>>,
    unknown: Arc<str>,
}

impl Default for AsNames {
    fn default() -> Self {
        Self {
            names: Default::default(),
            unknown: Arc::from(UNKNOWN_AS_NAME),
        }
    }
}

impl AsNames {
    /// An empty table: every name is [`UNKNOWN_AS_NAME`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces one name.
    pub fn insert(&mut self, asn: u32, name: &str) {
        self.names.insert(asn, Arc::from(name));
    }

    /// Reads a table of `ASN<separator>name` lines (`,`, tab or whitespace; an `AS`
    /// prefix on the number is accepted; `#` starts a comment). Returns the table and
    /// the 1-based numbers of lines that could not be read.
    pub fn parse(text: &str) -> (Self, Vec<usize>) {
        let mut t = Self::new();
        let mut bad = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let split = line
                .find([',', '\t', ' '])
                .map(|at| (&line[..at], line[at + 1..].trim().trim_matches('"')));
            let parsed = split.and_then(|(num, name)| {
                let num = num.trim();
                let num = num
                    .strip_prefix("AS")
                    .or_else(|| num.strip_prefix("as"))
                    .unwrap_or(num);
                num.parse::<u32>().ok().map(|n| (n, name))
            });
            match parsed {
                Some((n, name)) if !name.is_empty() => t.insert(n, name),
                _ => bad.push(i + 1),
            }
        }
        (t, bad)
    }

    /// The name of `asn`, or the shared [`UNKNOWN_AS_NAME`].
    #[inline]
    pub fn name(&self, asn: u32) -> Arc<str> {
        if self.names.is_empty() {
            return self.unknown.clone();
        }
        self.names
            .get(&asn)
            .cloned()
            .unwrap_or_else(|| self.unknown.clone())
    }

    /// Number of known names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// What every record of one day and one source index shares.
#[derive(Debug, Clone)]
pub struct ViewContext {
    /// The day, `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// The index (or file) the flows came from, e.g. `tanet-2025.09.05`.
    pub from_index: Arc<str>,
    /// AS names.
    pub as_names: Arc<AsNames>,
}

impl ViewContext {
    /// A context with an empty AS table.
    pub fn new(date: NaiveDate, from_index: &str) -> Self {
        Self {
            date,
            from_index: Arc::from(from_index),
            as_names: Arc::new(AsNames::new()),
        }
    }
}

/// The IoC-centric record (one per raw flow and IoC side). Field names are the
/// published system's, exactly: dashboards depend on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IocFlow {
    /// The blocklisted address (the address seen in the flow when the entry is a network).
    #[serde(rename = "IocIP")]
    pub ioc_ip: IpAddr,
    /// The other end.
    #[serde(rename = "RemoteIP")]
    pub remote_ip: IpAddr,
    /// Exporter address.
    pub exporter: Option<IpAddr>,
    /// The IoC's exact flow total for the day (not the sample size).
    pub total_flows: u64,
    /// Packets RemoteIP → IoC (0 when `Direction` is `Send`).
    pub rcv_packets: u64,
    /// Octets RemoteIP → IoC.
    pub rcv_octets: u64,
    /// Packets IoC → RemoteIP (0 when `Direction` is `Rcv`).
    pub send_packets: u64,
    /// Octets IoC → RemoteIP.
    pub send_octets: u64,
    /// The IoC's transport port.
    pub ioc_port: u16,
    /// The RemoteIP's transport port.
    pub remote_port: u16,
    /// `Send` (IoC → RemoteIP) or `Rcv`.
    pub direction: Direction,
    /// Flow start, epoch milliseconds.
    pub time_stamp: i64,
    /// AS name of the IoC side.
    pub ioc_as_name: Arc<str>,
    /// AS number of the IoC side (0 when unknown).
    pub ioc_as_number: u32,
    /// AS name of the remote side.
    pub remote_as_name: Arc<str>,
    /// AS number of the remote side.
    pub remote_as_number: u32,
    /// Geo object of the IoC side, passed through.
    pub ioc_geoip: Option<Geo>,
    /// Geo object of the remote side, passed through.
    pub remote_geoip: Option<Geo>,
    /// TCP control bits.
    pub tcp_control_bits: u16,
    /// IP protocol number.
    pub protocol: u8,
    /// 4 or 6.
    pub ip_version: u8,
    /// The source index (or file) of the raw flow.
    pub from_index: Arc<str>,
    /// The day.
    pub date: NaiveDate,
}

impl IocFlow {
    /// The record for one side of `raw`: `direction` `Send` makes the source the IoC,
    /// `Rcv` the destination. `total_flows` is the IoC's exact total for the day.
    pub fn from_raw(
        raw: &RawFlow,
        direction: Direction,
        total_flows: u64,
        ctx: &ViewContext,
    ) -> Self {
        let (ioc, remote, ioc_port, remote_port, ioc_as, remote_as, ioc_geo, remote_geo) =
            match direction {
                Direction::Send => (
                    raw.src,
                    raw.dst,
                    raw.src_port,
                    raw.dst_port,
                    raw.src_as,
                    raw.dst_as,
                    &raw.src_geo,
                    &raw.dst_geo,
                ),
                Direction::Rcv => (
                    raw.dst,
                    raw.src,
                    raw.dst_port,
                    raw.src_port,
                    raw.dst_as,
                    raw.src_as,
                    &raw.dst_geo,
                    &raw.src_geo,
                ),
            };
        let (send_p, send_o, rcv_p, rcv_o) = match direction {
            Direction::Send => (raw.packets, raw.octets, 0, 0),
            Direction::Rcv => (0, 0, raw.packets, raw.octets),
        };
        Self {
            ioc_ip: ioc,
            remote_ip: remote,
            exporter: raw.exporter,
            total_flows,
            rcv_packets: rcv_p,
            rcv_octets: rcv_o,
            send_packets: send_p,
            send_octets: send_o,
            ioc_port,
            remote_port,
            direction,
            time_stamp: raw.start_ms,
            ioc_as_name: ctx.as_names.name(ioc_as),
            ioc_as_number: ioc_as,
            remote_as_name: ctx.as_names.name(remote_as),
            remote_as_number: remote_as,
            ioc_geoip: ioc_geo.clone(),
            remote_geoip: remote_geo.clone(),
            tcp_control_bits: raw.tcp_flags,
            protocol: raw.protocol,
            ip_version: raw.ip_version(),
            from_index: ctx.from_index.clone(),
            date: ctx.date,
        }
    }

    /// Packets on whichever side the flow went.
    pub fn packets(&self) -> u64 {
        self.send_packets + self.rcv_packets
    }

    /// Octets on whichever side the flow went.
    pub fn octets(&self) -> u64 {
        self.send_octets + self.rcv_octets
    }
}

/// Up to two IoC-view records of one raw flow (see [`ioc_view`]), built lazily: a
/// record is only constructed when the iterator reaches it, so nothing large is moved
/// around for sides that are not IoCs.
pub struct IocSides<'a, F> {
    raw: &'a RawFlow,
    ctx: &'a ViewContext,
    total_flows: F,
    send: bool,
    rcv: bool,
}

impl<F: Fn(IpAddr) -> u64> Iterator for IocSides<'_, F> {
    type Item = IocFlow;

    #[inline]
    fn next(&mut self) -> Option<IocFlow> {
        if self.send {
            self.send = false;
            let total = (self.total_flows)(self.raw.src);
            return Some(IocFlow::from_raw(
                self.raw,
                Direction::Send,
                total,
                self.ctx,
            ));
        }
        if self.rcv {
            self.rcv = false;
            let total = (self.total_flows)(self.raw.dst);
            return Some(IocFlow::from_raw(self.raw, Direction::Rcv, total, self.ctx));
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.send) + usize::from(self.rcv);
        (n, Some(n))
    }
}

/// The IoC view of one raw flow: one record per side that is an IoC — none when neither
/// is, two when both are (the `Send` record first). `total_flows` gives each IoC's exact
/// total for the day (return 0 when it is not known yet).
///
/// ```
/// use std::collections::HashSet;
/// use std::net::IpAddr;
/// use flowmodel::{Direction, FlowParser, ViewContext, ioc_view};
///
/// let doc = br#"{"sourceIPAddress":"163.26.171.228","destinationIPAddress":"134.122.129.10",
///   "sourceTransportPort":13216,"destinationTransportPort":45,"protocolIdentifier":6,
///   "octetDeltaCount":52,"packetDeltaCount":1,"flowStartMilliseconds":1757057835008}"#;
/// let raw = FlowParser::default().parse(doc).unwrap();
/// let iocs: HashSet<IpAddr> = ["134.122.129.10".parse().unwrap()].into();
/// let ctx = ViewContext::new("2025-09-05".parse().unwrap(), "tanet-2025.09.05");
/// let recs: Vec<_> = ioc_view(&raw, &iocs, |_| 1, &ctx).collect();
/// assert_eq!(recs.len(), 1);
/// assert_eq!(recs[0].direction, Direction::Rcv);
/// assert_eq!(recs[0].ioc_port, 45);
/// ```
#[inline]
pub fn ioc_view<'a, S: IocSet + ?Sized, F: Fn(IpAddr) -> u64>(
    raw: &'a RawFlow,
    iocs: &S,
    total_flows: F,
    ctx: &'a ViewContext,
) -> IocSides<'a, F> {
    IocSides {
        raw,
        ctx,
        total_flows,
        send: iocs.contains(raw.src),
        rcv: iocs.contains(raw.dst),
    }
}
