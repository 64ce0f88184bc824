//! Special-purpose address space that must never become an IoC by accident.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// What a special-purpose range is for (RFC 6890 and the IANA special-purpose registries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialRange {
    /// RFC 1918 / RFC 4193 private space.
    Private,
    /// RFC 6598 carrier-grade NAT shared space (100.64.0.0/10).
    SharedAddressSpace,
    /// Loopback.
    Loopback,
    /// Link-local.
    LinkLocal,
    /// Multicast.
    Multicast,
    /// Documentation (TEST-NET, 2001:db8::/32, 3fff::/20).
    Documentation,
    /// Benchmarking (198.18.0.0/15, 2001:2::/48).
    Benchmarking,
    /// "This network", unspecified, broadcast, future use, IETF assignments and
    /// everything outside IPv6 global unicast.
    Reserved,
}

impl SpecialRange {
    /// A short human label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::SharedAddressSpace => "shared (CGNAT)",
            Self::Loopback => "loopback",
            Self::LinkLocal => "link-local",
            Self::Multicast => "multicast",
            Self::Documentation => "documentation",
            Self::Benchmarking => "benchmarking",
            Self::Reserved => "reserved",
        }
    }
}

/// The special-purpose ranges checked by the hygiene rules.
pub const SPECIAL_RANGES: &[(&str, SpecialRange)] = &[
    ("0.0.0.0/8", SpecialRange::Reserved),
    ("10.0.0.0/8", SpecialRange::Private),
    ("100.64.0.0/10", SpecialRange::SharedAddressSpace),
    ("127.0.0.0/8", SpecialRange::Loopback),
    ("169.254.0.0/16", SpecialRange::LinkLocal),
    ("172.16.0.0/12", SpecialRange::Private),
    ("192.0.0.0/24", SpecialRange::Reserved),
    ("192.0.2.0/24", SpecialRange::Documentation),
    ("192.88.99.0/24", SpecialRange::Reserved),
    ("192.168.0.0/16", SpecialRange::Private),
    ("198.18.0.0/15", SpecialRange::Benchmarking),
    ("198.51.100.0/24", SpecialRange::Documentation),
    ("203.0.113.0/24", SpecialRange::Documentation),
    ("224.0.0.0/4", SpecialRange::Multicast),
    ("240.0.0.0/4", SpecialRange::Reserved),
    ("::/128", SpecialRange::Reserved),
    ("::1/128", SpecialRange::Loopback),
    ("100::/64", SpecialRange::Reserved),
    ("2001::/23", SpecialRange::Reserved),
    ("2001:2::/48", SpecialRange::Benchmarking),
    ("2001:db8::/32", SpecialRange::Documentation),
    ("3fff::/20", SpecialRange::Documentation),
    ("fc00::/7", SpecialRange::Private),
    ("fe80::/10", SpecialRange::LinkLocal),
    ("ff00::/8", SpecialRange::Multicast),
];

fn ranges() -> &'static [(IpNet, SpecialRange)] {
    static RANGES: std::sync::OnceLock<Vec<(IpNet, SpecialRange)>> = std::sync::OnceLock::new();
    RANGES.get_or_init(|| {
        SPECIAL_RANGES
            .iter()
            .map(|(s, c)| (s.parse().expect("SPECIAL_RANGES holds valid CIDRs"), *c))
            .collect()
    })
}

/// The special-purpose range `net` overlaps, most specific first, if any. IPv6 space
/// outside global unicast (`2000::/3`) is reported as reserved.
pub fn special_range(net: &IpNet) -> Option<(IpNet, SpecialRange)> {
    let found = ranges()
        .iter()
        .filter(|(r, _)| r.contains(net) || net.contains(r))
        .max_by_key(|(r, _)| r.prefix_len());
    if let Some((r, c)) = found {
        return Some((*r, *c));
    }
    if let IpNet::V6(_) = net {
        let global: IpNet = "2000::/3".parse().expect("valid CIDR");
        if !global.contains(net) {
            return Some((*net, SpecialRange::Reserved));
        }
    }
    None
}
