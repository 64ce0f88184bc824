//! Address helpers shared by every crate.

use std::net::IpAddr;

/// Normalises an address: an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) becomes the
/// IPv4 address it carries, so the same host never appears under two spellings.
///
/// ```
/// use std::net::IpAddr;
/// let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
/// assert_eq!(flowmodel::normalize_ip(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
/// ```
#[inline]
pub fn normalize_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Parses an address from text and normalises it ([`normalize_ip`]). Surrounding
/// whitespace is not accepted: callers trim where their format allows it.
#[inline]
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().map(normalize_ip)
}

/// The set of blocklisted addresses as flow processing sees it: "is this address an
/// IoC?". `ioc-fetch`'s matcher implements it (exact addresses and CIDR networks); a
/// `HashSet<IpAddr>` does too, for tests and small lists.
///
/// Implementations receive normalised addresses ([`normalize_ip`]).
pub trait IocSet: Sync {
    /// Whether `ip` is covered by an entry of the set.
    fn contains(&self, ip: IpAddr) -> bool;
}

impl<S: std::hash::BuildHasher + Sync> IocSet for std::collections::HashSet<IpAddr, S> {
    fn contains(&self, ip: IpAddr) -> bool {
        std::collections::HashSet::contains(self, &ip)
    }
}

impl<T: IocSet + ?Sized> IocSet for &T {
    fn contains(&self, ip: IpAddr) -> bool {
        (**self).contains(ip)
    }
}
