//! One unidirectional flow as stored by the collector, and the parser that reads it.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::FlowError;
use crate::fieldmap::FieldMap;
use crate::ip::{normalize_ip, parse_ip};

/// A geo object (`srcGeoip`, `source.geo`, …) passed through untouched.
///
/// It is kept as the raw JSON text behind an [`Arc`], so every IoC-view record built
/// from a flow shares it instead of copying it.
#[derive(Clone)]
pub struct Geo(Arc<RawValue>);

impl Geo {
    /// Wraps a raw JSON value.
    pub fn new(raw: Box<RawValue>) -> Self {
        Self(Arc::from(raw))
    }

    /// Parses JSON text into a geo object. Returns `None` when `json` is not valid JSON.
    pub fn from_json(json: &str) -> Option<Self> {
        RawValue::from_string(json.to_owned()).ok().map(Self::new)
    }

    /// The JSON text, exactly as it came.
    pub fn json(&self) -> &str {
        self.0.get()
    }
}

impl fmt::Debug for Geo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

impl PartialEq for Geo {
    fn eq(&self, other: &Self) -> bool {
        // Compare as JSON values, so formatting differences do not matter.
        match (
            serde_json::from_str::<Value>(self.json()),
            serde_json::from_str::<Value>(other.json()),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => self.json() == other.json(),
        }
    }
}

impl Serialize for Geo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Geo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(Self::new)
    }
}

/// One unidirectional flow: what the collector stored, reduced to what iocflow uses.
///
/// Build it with [`FlowParser`]. Addresses are normalised ([`crate::normalize_ip`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RawFlow {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source transport port (0 when the protocol has none).
    pub src_port: u16,
    /// Destination transport port.
    pub dst_port: u16,
    /// IP protocol number.
    pub protocol: u8,
    /// Cumulative TCP control bits (0 for other protocols).
    pub tcp_flags: u16,
    /// Octets.
    pub octets: u64,
    /// Packets.
    pub packets: u64,
    /// Flow start, epoch milliseconds (0 when the document had no time at all).
    pub start_ms: i64,
    /// Flow end, epoch milliseconds, when known.
    pub end_ms: Option<i64>,
    /// Exporter (router) address.
    pub exporter: Option<IpAddr>,
    /// BGP AS number of the source (0 when unknown).
    pub src_as: u32,
    /// BGP AS number of the destination (0 when unknown).
    pub dst_as: u32,
    /// Geo object of the source.
    pub src_geo: Option<Geo>,
    /// Geo object of the destination.
    pub dst_geo: Option<Geo>,
}

impl RawFlow {
    /// IP version of the flow, from its addresses.
    pub fn ip_version(&self) -> u8 {
        if self.src.is_ipv4() { 4 } else { 6 }
    }
}

/// A raw flow serialises as the collector's IPFIX-named document (design.md §3), so what
/// iocflow writes, [`FlowParser::default`] reads back.
impl Serialize for RawFlow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let v4 = self.src.is_ipv4();
        let mut m = s.serialize_map(None)?;
        if let Some(e) = &self.exporter {
            m.serialize_entry("exporterIP", e)?;
        }
        m.serialize_entry("sourceIPAddress", &self.src)?;
        m.serialize_entry("destinationIPAddress", &self.dst)?;
        let (sk, dk) = if v4 {
            ("sourceIPv4Address", "destinationIPv4Address")
        } else {
            ("sourceIPv6Address", "destinationIPv6Address")
        };
        m.serialize_entry(sk, &self.src)?;
        m.serialize_entry(dk, &self.dst)?;
        m.serialize_entry("protocolIdentifier", &self.protocol)?;
        m.serialize_entry("sourceTransportPort", &self.src_port)?;
        m.serialize_entry("destinationTransportPort", &self.dst_port)?;
        m.serialize_entry("tcpControlBits", &self.tcp_flags)?;
        m.serialize_entry("octetDeltaCount", &self.octets)?;
        m.serialize_entry("packetDeltaCount", &self.packets)?;
        m.serialize_entry("flowStartMilliseconds", &self.start_ms)?;
        if let Some(end) = self.end_ms {
            m.serialize_entry("flowEndMilliseconds", &end)?;
        }
        m.serialize_entry("bgpSourceAsNumber", &self.src_as)?;
        m.serialize_entry("bgpDestinationAsNumber", &self.dst_as)?;
        m.serialize_entry("ipVersion", &self.ip_version())?;
        if let Some(g) = &self.src_geo {
            m.serialize_entry("srcGeoip", g)?;
        }
        if let Some(g) = &self.dst_geo {
            m.serialize_entry("dstGeoip", g)?;
        }
        m.end()
    }
}

/// Reads flow documents (JSON objects, one per flow) through a [`FieldMap`].
///
/// With the default IPFIX map the parser uses a typed, borrowing fast path; any other
/// map walks the document by path. Both give the same [`RawFlow`].
#[derive(Debug, Clone)]
pub struct FlowParser {
    map: FieldMap,
    fast: bool,
}

impl Default for FlowParser {
    fn default() -> Self {
        Self::new(FieldMap::ipfix())
    }
}

impl FlowParser {
    /// A parser for documents laid out as `map` says.
    pub fn new(map: FieldMap) -> Self {
        let fast = map == FieldMap::ipfix();
        Self { map, fast }
    }

    /// The field map in use.
    pub fn field_map(&self) -> &FieldMap {
        &self.map
    }

    /// Parses one document (the `_source` of a hit, or one line of JSON Lines).
    pub fn parse(&self, doc: &[u8]) -> Result<RawFlow, FlowError> {
        if self.fast {
            let d: IpfixDoc<'_> =
                serde_json::from_slice(doc).map_err(|e| FlowError::Json(e.to_string()))?;
            return d.into_flow(&self.map);
        }
        let v: Value = serde_json::from_slice(doc).map_err(|e| FlowError::Json(e.to_string()))?;
        self.parse_value(&v)
    }

    /// Parses a document that is already a [`serde_json::Value`].
    pub fn parse_value(&self, doc: &Value) -> Result<RawFlow, FlowError> {
        if !doc.is_object() {
            return Err(FlowError::Json("document is not a JSON object".into()));
        }
        let m = &self.map;
        let (src, src_path) = required_ip(doc, &m.src_addr, "src_addr")?;
        let (dst, _) = required_ip(doc, &m.dst_addr, "dst_addr")?;
        if src.is_ipv4() != dst.is_ipv4() {
            return Err(FlowError::InvalidField {
                path: src_path.to_owned(),
                reason: format!("source {src} and destination {dst} are of different IP versions"),
            });
        }
        let start_ms = match lookup(doc, &m.start) {
            Some((p, v)) => Some(time_ms(v).ok_or_else(|| invalid(p, "not a time"))?),
            None => None,
        };
        let end_ms = match lookup(doc, &m.end) {
            Some((p, v)) => Some(time_ms(v).ok_or_else(|| invalid(p, "not a time"))?),
            None => None,
        };
        Ok(RawFlow {
            src,
            dst,
            src_port: opt_num(doc, &m.src_port, u16::MAX as u64)?.unwrap_or(0) as u16,
            dst_port: opt_num(doc, &m.dst_port, u16::MAX as u64)?.unwrap_or(0) as u16,
            protocol: match lookup(doc, &m.protocol) {
                Some((p, v)) => protocol_of(v).ok_or_else(|| invalid(p, "not a protocol"))?,
                None => 0,
            },
            tcp_flags: opt_num(doc, &m.tcp_flags, u16::MAX as u64)?.unwrap_or(0) as u16,
            octets: opt_num(doc, &m.octets, u64::MAX)?.unwrap_or(0),
            packets: opt_num(doc, &m.packets, u64::MAX)?.unwrap_or(0),
            start_ms: start_ms.or(end_ms).unwrap_or(0),
            end_ms,
            exporter: lookup(doc, &m.exporter).and_then(|(_, v)| v.as_str().and_then(parse_ip)),
            src_as: opt_num(doc, &m.src_as, u32::MAX as u64)?.unwrap_or(0) as u32,
            dst_as: opt_num(doc, &m.dst_as, u32::MAX as u64)?.unwrap_or(0) as u32,
            src_geo: lookup(doc, &m.src_geo).and_then(|(_, v)| geo_of(v)),
            dst_geo: lookup(doc, &m.dst_geo).and_then(|(_, v)| geo_of(v)),
        })
    }
}

fn invalid(path: &str, reason: &str) -> FlowError {
    FlowError::InvalidField {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Finds the first candidate path present (and not null) in `doc`.
fn lookup<'v, 'p>(doc: &'v Value, paths: &'p [String]) -> Option<(&'p str, &'v Value)> {
    paths.iter().find_map(|p| {
        let v = get_path(doc, p)?;
        (!v.is_null()).then_some((p.as_str(), v))
    })
}

/// A dotted path: a literal key first (`"source.ip": …`), then nested objects, then
/// mixed forms (`"source": {"ip": …}` where a prefix is itself dotted).
fn get_path<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    let obj = doc.as_object()?;
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    for (dot, _) in path.match_indices('.') {
        if let Some(v) = obj
            .get(&path[..dot])
            .and_then(|inner| get_path(inner, &path[dot + 1..]))
        {
            return Some(v);
        }
    }
    None
}

fn required_ip<'p>(
    doc: &Value,
    paths: &'p [String],
    field: &'static str,
) -> Result<(IpAddr, &'p str), FlowError> {
    match lookup(doc, paths) {
        Some((p, v)) => v
            .as_str()
            .and_then(|s| parse_ip(s.trim()))
            .map(|ip| (ip, p))
            .ok_or_else(|| invalid(p, "not an IP address")),
        None => Err(FlowError::MissingField {
            field,
            tried: paths.join(", "),
        }),
    }
}

fn opt_num(doc: &Value, paths: &[String], max: u64) -> Result<Option<u64>, FlowError> {
    match lookup(doc, paths) {
        None => Ok(None),
        Some((p, v)) => match num_of(v) {
            Some(n) if n <= max => Ok(Some(n)),
            Some(n) => Err(invalid(p, &format!("{n} is out of range (max {max})"))),
            None => Err(invalid(p, "not a non-negative integer")),
        },
    }
}

fn num_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn protocol_of(v: &Value) -> Option<u8> {
    if let Some(n) = num_of(v) {
        return u8::try_from(n).ok();
    }
    v.as_str().and_then(protocol_by_name)
}

/// The IANA number of a protocol name as flow tools write it (`tcp`, `UDP`, `icmp6`…).
pub fn protocol_by_name(name: &str) -> Option<u8> {
    let n = name.trim();
    let pairs: [(&str, u8); 9] = [
        ("tcp", 6),
        ("udp", 17),
        ("icmp", 1),
        ("ipv6-icmp", 58),
        ("icmp6", 58),
        ("icmpv6", 58),
        ("gre", 47),
        ("esp", 50),
        ("sctp", 132),
    ];
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(n))
        .map(|(_, v)| *v)
        .or_else(|| n.parse().ok())
}

fn time_ms(v: &Value) -> Option<i64> {
    match v {
        Value::Number(_) => num_of(v).and_then(|n| i64::try_from(n).ok()),
        Value::String(s) => time_ms_str(s),
        _ => None,
    }
}

/// Epoch milliseconds from text: digits (epoch ms) or an RFC 3339 date.
pub fn time_ms_str(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

fn geo_of(v: &Value) -> Option<Geo> {
    serde_json::value::to_raw_value(v).ok().map(Geo::new)
}

// ---------------------------------------------------------------------------------
// The fast path: a typed, borrowing view of an IPFIX-named document.

/// A number that may arrive as a JSON number or as a string of digits.
#[derive(Debug, Clone, Copy)]
struct Lenient(u64);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer, or a string holding one")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lenient, E> {
                Ok(Lenient(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lenient, E> {
                u64::try_from(v)
                    .map(Lenient)
                    .map_err(|_| E::custom(format!("negative value {v}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Lenient, E> {
                if v.fract() == 0.0 && v >= 0.0 && v <= u64::MAX as f64 {
                    Ok(Lenient(v as u64))
                } else {
                    Err(E::custom(format!("{v} is not a non-negative integer")))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lenient, E> {
                v.trim()
                    .parse()
                    .map(Lenient)
                    .map_err(|_| E::custom(format!("{v:?} is not a non-negative integer")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A time: epoch milliseconds as a number or string, or an RFC 3339 string.
#[derive(Debug, Clone, Copy)]
struct TimeMs(i64);

impl<'de> Deserialize<'de> for TimeMs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TimeMs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("epoch milliseconds or an RFC 3339 time")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TimeMs, E> {
                i64::try_from(v)
                    .map(TimeMs)
                    .map_err(|_| E::custom("time out of range"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TimeMs, E> {
                Ok(TimeMs(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<TimeMs, E> {
                if v.is_finite() && v.abs() < 9.0e15 {
                    Ok(TimeMs(v as i64))
                } else {
                    Err(E::custom("time out of range"))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TimeMs, E> {
                time_ms_str(v)
                    .map(TimeMs)
                    .ok_or_else(|| E::custom(format!("{v:?} is not a time")))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct IpfixDoc<'a> {
    #[serde(rename = "sourceIPAddress", borrow, default)]
    src: Option<Cow<'a, str>>,
    #[serde(rename = "sourceIPv4Address", borrow, default)]
    src4: Option<Cow<'a, str>>,
    #[serde(rename = "sourceIPv6Address", borrow, default)]
    src6: Option<Cow<'a, str>>,
    #[serde(rename = "destinationIPAddress", borrow, default)]
    dst: Option<Cow<'a, str>>,
    #[serde(rename = "destinationIPv4Address", borrow, default)]
    dst4: Option<Cow<'a, str>>,
    #[serde(rename = "destinationIPv6Address", borrow, default)]
    dst6: Option<Cow<'a, str>>,
    #[serde(rename = "sourceTransportPort", default)]
    sp: Option<Lenient>,
    #[serde(rename = "destinationTransportPort", default)]
    dp: Option<Lenient>,
    #[serde(rename = "protocolIdentifier", default)]
    proto: Option<Lenient>,
    #[serde(rename = "tcpControlBits", default)]
    flags: Option<Lenient>,
    #[serde(rename = "octetDeltaCount", default)]
    octets: Option<Lenient>,
    #[serde(rename = "packetDeltaCount", default)]
    packets: Option<Lenient>,
    #[serde(rename = "flowStartMilliseconds", default)]
    start: Option<TimeMs>,
    #[serde(rename = "_timestamp", default)]
    ts: Option<TimeMs>,
    #[serde(rename = "flowEndMilliseconds", default)]
    end: Option<TimeMs>,
    #[serde(rename = "exporterIP", borrow, default)]
    exporter: Option<Cow<'a, str>>,
    #[serde(rename = "exporterIPv4Address", borrow, default)]
    exporter4: Option<Cow<'a, str>>,
    #[serde(rename = "exporterIPv6Address", borrow, default)]
    exporter6: Option<Cow<'a, str>>,
    #[serde(rename = "bgpSourceAsNumber", default)]
    src_as: Option<Lenient>,
    #[serde(rename = "bgpDestinationAsNumber", default)]
    dst_as: Option<Lenient>,
    #[serde(rename = "srcGeoip", default)]
    src_geo: Option<Box<RawValue>>,
    #[serde(rename = "dstGeoip", default)]
    dst_geo: Option<Box<RawValue>>,
}

fn pick_ip(
    cands: [(&Option<Cow<'_, str>>, &str); 3],
    field: &'static str,
    map_paths: &[String],
) -> Result<IpAddr, FlowError> {
    for (val, path) in cands {
        if let Some(s) = val {
            return parse_ip(s.trim()).ok_or_else(|| invalid(path, "not an IP address"));
        }
    }
    Err(FlowError::MissingField {
        field,
        tried: map_paths.join(", "),
    })
}

fn bounded(v: Option<Lenient>, max: u64, path: &str) -> Result<u64, FlowError> {
    match v {
        None => Ok(0),
        Some(Lenient(n)) if n <= max => Ok(n),
        Some(Lenient(n)) => Err(invalid(path, &format!("{n} is out of range (max {max})"))),
    }
}

impl IpfixDoc<'_> {
    fn into_flow(self, map: &FieldMap) -> Result<RawFlow, FlowError> {
        let src = pick_ip(
            [
                (&self.src, "sourceIPAddress"),
                (&self.src4, "sourceIPv4Address"),
                (&self.src6, "sourceIPv6Address"),
            ],
            "src_addr",
            &map.src_addr,
        )?;
        let dst = pick_ip(
            [
                (&self.dst, "destinationIPAddress"),
                (&self.dst4, "destinationIPv4Address"),
                (&self.dst6, "destinationIPv6Address"),
            ],
            "dst_addr",
            &map.dst_addr,
        )?;
        if src.is_ipv4() != dst.is_ipv4() {
            return Err(invalid(
                "sourceIPAddress",
                &format!("source {src} and destination {dst} are of different IP versions"),
            ));
        }
        let exporter = [&self.exporter, &self.exporter4, &self.exporter6]
            .into_iter()
            .flatten()
            .next()
            .and_then(|s| parse_ip(s.trim()));
        let start = self.start.or(self.ts).or(self.end).map(|t| t.0);
        Ok(RawFlow {
            src,
            dst,
            src_port: bounded(self.sp, u16::MAX as u64, "sourceTransportPort")? as u16,
            dst_port: bounded(self.dp, u16::MAX as u64, "destinationTransportPort")? as u16,
            protocol: bounded(self.proto, u8::MAX as u64, "protocolIdentifier")? as u8,
            tcp_flags: bounded(self.flags, u16::MAX as u64, "tcpControlBits")? as u16,
            octets: bounded(self.octets, u64::MAX, "octetDeltaCount")?,
            packets: bounded(self.packets, u64::MAX, "packetDeltaCount")?,
            start_ms: start.unwrap_or(0),
            end_ms: self.end.map(|t| t.0),
            exporter: exporter.map(normalize_ip),
            src_as: bounded(self.src_as, u32::MAX as u64, "bgpSourceAsNumber")? as u32,
            dst_as: bounded(self.dst_as, u32::MAX as u64, "bgpDestinationAsNumber")? as u32,
            src_geo: self.src_geo.filter(|g| g.get() != "null").map(Geo::new),
            dst_geo: self.dst_geo.filter(|g| g.get() != "null").map(Geo::new),
        })
    }
}
