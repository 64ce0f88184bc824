//! The IoC matcher used on the flow hot path.

use std::net::IpAddr;

use ipnet::IpNet;
use rustc_hash::FxHashMap;

/// A disjoint address segment `[start, end]` owned by the most specific network
/// covering it (index into `Matcher::nets`).
#[derive(Debug, Clone, Copy)]
struct Segment<T> {
    start: T,
    end: T,
    net: u32,
}

/// Answers "is this address an IoC, and which entry?".
///
/// Single addresses (`/32`, `/128`) are looked up in a hash map; networks by
/// longest-prefix match over disjoint sorted segments (for IPv4 with a 65,536-slot
/// index on the top 16 bits, so most lookups touch one slot). Built once, immutable,
/// `Send + Sync`: share it behind an `Arc` or a reference across threads.
#[derive(Debug, Clone)]
pub struct Matcher {
    nets: Vec<IpNet>,
    exact_v4: FxHashMap<u32, u32>,
    exact_v6: FxHashMap<u128, u32>,
    segs_v4: Vec<Segment<u32>>,
    /// For each top-16-bit bucket, the range of `segs_v4` intersecting it.
    index_v4: Vec<(u32, u32)>,
    segs_v6: Vec<Segment<u128>>,
}

/// Builds disjoint segments from nested-or-disjoint (CIDR) intervals: each address
/// covered by at least one network belongs to exactly one segment, owned by the
/// narrowest network covering it.
fn segments<T>(mut ivs: Vec<(T, T, u32)>) -> Vec<Segment<T>>
where
    T: Copy + Ord + num::Step,
{
    // Outer (wider) networks first at equal starts.
    ivs.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    ivs.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let mut out: Vec<Segment<T>> = Vec::new();
    let mut stack: Vec<(T, T, u32)> = Vec::new();
    // Next address not yet assigned to a segment; None once past the top of the space.
    let mut cur: Option<T> = None;
    let emit = |out: &mut Vec<Segment<T>>, cur: &mut Option<T>, end: T, net: u32| {
        if let Some(c) = *cur
            && c <= end
        {
            out.push(Segment { start: c, end, net });
            *cur = T::succ(end);
        }
    };
    for iv in ivs {
        while let Some(&top) = stack.last() {
            if top.1 >= iv.0 {
                break;
            }
            emit(&mut out, &mut cur, top.1, top.2);
            stack.pop();
        }
        if let Some(&top) = stack.last() {
            // `top` contains `iv`: its part before `iv` is its own.
            if let Some(before) = T::pred(iv.0) {
                emit(&mut out, &mut cur, before, top.2);
            }
        }
        cur = Some(iv.0);
        stack.push(iv);
    }
    while let Some(top) = stack.pop() {
        emit(&mut out, &mut cur, top.1, top.2);
    }
    out
}

mod num {
    /// Successor/predecessor on unsigned integers, `None` on overflow.
    pub trait Step: Sized {
        fn succ(x: Self) -> Option<Self>;
        fn pred(x: Self) -> Option<Self>;
    }
    impl Step for u32 {
        fn succ(x: Self) -> Option<Self> {
            x.checked_add(1)
        }
        fn pred(x: Self) -> Option<Self> {
            x.checked_sub(1)
        }
    }
    impl Step for u128 {
        fn succ(x: Self) -> Option<Self> {
            x.checked_add(1)
        }
        fn pred(x: Self) -> Option<Self> {
            x.checked_sub(1)
        }
    }
}

fn find<T: Copy + Ord>(segs: &[Segment<T>], x: T) -> Option<u32> {
    let i = segs.partition_point(|s| s.start <= x);
    if i == 0 {
        return None;
    }
    let s = &segs[i - 1];
    (x <= s.end).then_some(s.net)
}

impl Matcher {
    /// Builds a matcher from entries (any order; duplicates and nesting allowed;
    /// IPv4-mapped IPv6 entries are taken as IPv4).
    pub fn new(entries: &[IpNet]) -> Self {
        let mut nets: Vec<IpNet> = entries
            .iter()
            .map(|n| {
                let t = n.trunc();
                match t {
                    IpNet::V6(v6) if v6.prefix_len() >= 96 => v6
                        .network()
                        .to_ipv4_mapped()
                        .and_then(|v4| ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).ok())
                        .map(IpNet::V4)
                        .unwrap_or(t),
                    _ => t,
                }
            })
            .collect();
        nets.sort_unstable_by_key(|n| (matches!(n, IpNet::V6(_)), n.network(), n.prefix_len()));
        nets.dedup();
        let mut exact_v4 = FxHashMap::default();
        let mut exact_v6 = FxHashMap::default();
        let mut iv4 = Vec::new();
        let mut iv6 = Vec::new();
        for (i, n) in nets.iter().enumerate() {
            let i = u32::try_from(i).expect("fewer than 2^32 entries");
            match n {
                IpNet::V4(v) if v.prefix_len() == 32 => {
                    exact_v4.insert(u32::from(v.network()), i);
                }
                IpNet::V6(v) if v.prefix_len() == 128 => {
                    exact_v6.insert(u128::from(v.network()), i);
                }
                IpNet::V4(v) => iv4.push((u32::from(v.network()), u32::from(v.broadcast()), i)),
                IpNet::V6(v) => iv6.push((u128::from(v.network()), u128::from(v.broadcast()), i)),
            }
        }
        let segs_v4 = segments(iv4);
        let segs_v6 = segments(iv6);
        let mut index_v4 = Vec::with_capacity(1 << 16);
        for b in 0u32..(1 << 16) {
            let lo_addr = b << 16;
            let hi_addr = lo_addr | 0xffff;
            let lo = segs_v4.partition_point(|s| s.end < lo_addr);
            let hi = segs_v4.partition_point(|s| s.start <= hi_addr);
            index_v4.push((lo as u32, hi.max(lo) as u32));
        }
        Self {
            nets,
            exact_v4,
            exact_v6,
            segs_v4,
            index_v4,
            segs_v6,
        }
    }

    /// Builds a matcher from a parsed list's usable entries.
    pub fn from_list(list: &crate::ParsedList) -> Self {
        Self::new(&list.entries)
    }

    /// The most specific entry covering `ip`, if any. IPv4-mapped IPv6 addresses are
    /// looked up as IPv4.
    #[inline]
    pub fn lookup(&self, ip: IpAddr) -> Option<IpNet> {
        let idx = match flowmodel::normalize_ip(ip) {
            IpAddr::V4(v4) => self.lookup_v4_index(u32::from(v4)),
            IpAddr::V6(v6) => {
                let x = u128::from(v6);
                match self.exact_v6.get(&x) {
                    Some(&i) => Some(i),
                    None => find(&self.segs_v6, x),
                }
            }
        }?;
        self.nets.get(idx as usize).copied()
    }

    #[inline]
    fn lookup_v4_index(&self, x: u32) -> Option<u32> {
        if let Some(&i) = self.exact_v4.get(&x) {
            return Some(i);
        }
        let (lo, hi) = self.index_v4[(x >> 16) as usize];
        if lo == hi {
            return None;
        }
        find(&self.segs_v4[lo as usize..hi as usize], x)
    }

    /// Whether `ip` is covered by an entry.
    #[inline]
    pub fn contains_ip(&self, ip: IpAddr) -> bool {
        self.lookup(ip).is_some()
    }

    /// The entries, sorted and deduplicated.
    pub fn entries(&self) -> &[IpNet] {
        &self.nets
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.nets.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }
}

impl flowmodel::IocSet for Matcher {
    #[inline]
    fn contains(&self, ip: IpAddr) -> bool {
        self.lookup(ip).is_some()
    }
}
