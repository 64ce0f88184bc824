//! Which document path holds each logical flow field.

use serde::{Deserialize, Serialize};

/// Where each logical field of a flow document lives.
///
/// Every entry is a list of candidate paths, tried in order; the first one present in a
/// document wins. A path is dotted (`source.ip`): it matches either a literal top-level
/// key with dots in it (as some exporters write) or the nested objects it names.
///
/// The same map tells the Elasticsearch query builder which fields to put in term
/// queries ([`FieldMap::address_fields`]), so one place decides what a "source address"
/// is for both reading and querying.
///
/// ```
/// use flowmodel::FieldMap;
/// let ecs = FieldMap::preset("ecs").unwrap();
/// assert_eq!(ecs.src_addr[0], "source.ip");
/// assert_eq!(FieldMap::default(), FieldMap::ipfix());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldMap {
    /// Source address (IPv4 or IPv6, as text).
    pub src_addr: Vec<String>,
    /// Destination address.
    pub dst_addr: Vec<String>,
    /// Source transport port.
    pub src_port: Vec<String>,
    /// Destination transport port.
    pub dst_port: Vec<String>,
    /// IP protocol: a number, or a name such as `tcp` (ECS `network.transport`).
    pub protocol: Vec<String>,
    /// TCP control bits (cumulative flags of the flow).
    pub tcp_flags: Vec<String>,
    /// Octets of the flow (one direction).
    pub octets: Vec<String>,
    /// Packets of the flow (one direction).
    pub packets: Vec<String>,
    /// Flow start: epoch milliseconds, or an RFC 3339 date.
    pub start: Vec<String>,
    /// Flow end.
    pub end: Vec<String>,
    /// Exporter (router) address.
    pub exporter: Vec<String>,
    /// BGP AS number of the source.
    pub src_as: Vec<String>,
    /// BGP AS number of the destination.
    pub dst_as: Vec<String>,
    /// Geo object of the source, passed through untouched.
    pub src_geo: Vec<String>,
    /// Geo object of the destination, passed through untouched.
    pub dst_geo: Vec<String>,
    /// IP version (4 or 6); derived from the addresses when absent.
    pub ip_version: Vec<String>,
}

fn v(paths: &[&str]) -> Vec<String> {
    paths.iter().map(|p| (*p).to_owned()).collect()
}

impl Default for FieldMap {
    fn default() -> Self {
        Self::ipfix()
    }
}

impl FieldMap {
    /// The names of the presets [`FieldMap::preset`] knows.
    pub const PRESETS: [&'static str; 3] = ["ipfix", "ecs", "elastiflow"];

    /// IPFIX information-element names, as the NOC's collector stores them (the default).
    pub fn ipfix() -> Self {
        Self {
            src_addr: v(&["sourceIPAddress", "sourceIPv4Address", "sourceIPv6Address"]),
            dst_addr: v(&[
                "destinationIPAddress",
                "destinationIPv4Address",
                "destinationIPv6Address",
            ]),
            src_port: v(&["sourceTransportPort"]),
            dst_port: v(&["destinationTransportPort"]),
            protocol: v(&["protocolIdentifier"]),
            tcp_flags: v(&["tcpControlBits"]),
            octets: v(&["octetDeltaCount"]),
            packets: v(&["packetDeltaCount"]),
            start: v(&["flowStartMilliseconds", "_timestamp"]),
            end: v(&["flowEndMilliseconds"]),
            exporter: v(&["exporterIP", "exporterIPv4Address", "exporterIPv6Address"]),
            src_as: v(&["bgpSourceAsNumber"]),
            dst_as: v(&["bgpDestinationAsNumber"]),
            src_geo: v(&["srcGeoip"]),
            dst_geo: v(&["dstGeoip"]),
            ip_version: v(&["ipVersion"]),
        }
    }

    /// Elastic Common Schema names (Filebeat's netflow module, Elastic Agent).
    pub fn ecs() -> Self {
        Self {
            src_addr: v(&["source.ip"]),
            dst_addr: v(&["destination.ip"]),
            src_port: v(&["source.port"]),
            dst_port: v(&["destination.port"]),
            protocol: v(&["network.iana_number", "network.transport"]),
            tcp_flags: v(&["netflow.tcp_control_bits", "tcp.flags"]),
            octets: v(&["source.bytes", "network.bytes"]),
            packets: v(&["source.packets", "network.packets"]),
            start: v(&["event.start", "@timestamp"]),
            end: v(&["event.end"]),
            exporter: v(&["observer.ip", "netflow.exporter.address"]),
            src_as: v(&["source.as.number"]),
            dst_as: v(&["destination.as.number"]),
            src_geo: v(&["source.geo"]),
            dst_geo: v(&["destination.geo"]),
            ip_version: v(&["network.type"]),
        }
    }

    /// ElastiFlow's `flow.*` schema (unified flow collector). Check the names against
    /// your collector's version and override single paths in the config if they differ.
    pub fn elastiflow() -> Self {
        Self {
            src_addr: v(&["flow.src.ip.addr"]),
            dst_addr: v(&["flow.dst.ip.addr"]),
            src_port: v(&["flow.src.l4.port.id"]),
            dst_port: v(&["flow.dst.l4.port.id"]),
            protocol: v(&["l4.proto.id", "l4.proto.name"]),
            tcp_flags: v(&["l4.tcp.flags.bits"]),
            octets: v(&["flow.bytes"]),
            packets: v(&["flow.packets"]),
            start: v(&["flow.start.timestamp", "@timestamp"]),
            end: v(&["flow.end.timestamp"]),
            exporter: v(&["flow.export.ip.addr"]),
            src_as: v(&["flow.src.as.id"]),
            dst_as: v(&["flow.dst.as.id"]),
            src_geo: v(&["flow.src.geo"]),
            dst_geo: v(&["flow.dst.geo"]),
            ip_version: v(&["ip.version"]),
        }
    }

    /// A preset by name (`ipfix`, `ecs`, `elastiflow`), or `None` for an unknown name.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "ipfix" => Some(Self::ipfix()),
            "ecs" => Some(Self::ecs()),
            "elastiflow" => Some(Self::elastiflow()),
            _ => None,
        }
    }

    /// Every path that may hold a flow's source or destination address, sources first:
    /// the fields a query for "flows touching address X" must look at.
    pub fn address_fields(&self) -> impl Iterator<Item = &str> {
        self.src_addr
            .iter()
            .chain(self.dst_addr.iter())
            .map(String::as_str)
    }

    /// The primary source and destination address fields (the first candidates): the
    /// two fields an aggregation per address is run on.
    pub fn primary_address_fields(&self) -> (Option<&str>, Option<&str>) {
        (
            self.src_addr.first().map(String::as_str),
            self.dst_addr.first().map(String::as_str),
        )
    }

    /// The primary start-time field (for date-range filters and sorting).
    pub fn primary_start_field(&self) -> Option<&str> {
        self.start.first().map(String::as_str)
    }
}
