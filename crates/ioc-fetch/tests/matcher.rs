//! The matcher: exact, longest-prefix, IPv6, mapped addresses, threads.

use std::net::IpAddr;
use std::sync::Arc;

use flowmodel::IocSet;
use ioc_fetch::Matcher;
use ipnet::IpNet;
use proptest::prelude::*;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn longest_prefix_wins_over_the_wider_network() {
    let m = Matcher::new(&[
        net("1.0.0.0/16"),
        net("1.0.5.0/24"),
        net("1.0.5.7/32"),
        net("1.0.5.128/25"),
    ]);
    assert_eq!(m.lookup(ip("1.0.5.7")), Some(net("1.0.5.7/32")));
    assert_eq!(m.lookup(ip("1.0.5.8")), Some(net("1.0.5.0/24")));
    assert_eq!(m.lookup(ip("1.0.5.200")), Some(net("1.0.5.128/25")));
    assert_eq!(m.lookup(ip("1.0.6.1")), Some(net("1.0.0.0/16")));
    assert_eq!(m.lookup(ip("1.0.255.255")), Some(net("1.0.0.0/16")));
    assert_eq!(m.lookup(ip("1.1.0.0")), None);
    assert_eq!(m.lookup(ip("0.255.255.255")), None);
}

#[test]
fn networks_spanning_index_buckets_and_the_ends_of_the_space_match() {
    let m = Matcher::new(&[
        net("0.0.0.0/0"),
        net("255.255.255.255/32"),
        net("8.0.0.0/7"),
        net("::/0"),
        net("ffff::/16"),
    ]);
    assert_eq!(m.lookup(ip("9.200.1.1")), Some(net("8.0.0.0/7")));
    assert_eq!(m.lookup(ip("255.255.255.254")), Some(net("0.0.0.0/0")));
    assert_eq!(
        m.lookup(ip("255.255.255.255")),
        Some(net("255.255.255.255/32"))
    );
    assert_eq!(m.lookup(ip("ffff:ffff::1")), Some(net("ffff::/16")));
    assert_eq!(m.lookup(ip("2001::1")), Some(net("::/0")));
}

#[test]
fn ipv4_mapped_ipv6_addresses_match_ipv4_entries() {
    let m = Matcher::new(&[
        net("192.0.2.0/24"),
        net("2001:db8::/32"),
        net("2001:db8:1::1/128"),
    ]);
    assert_eq!(m.lookup(ip("::ffff:192.0.2.9")), Some(net("192.0.2.0/24")));
    assert_eq!(
        m.lookup(ip("2001:db8:1::1")),
        Some(net("2001:db8:1::1/128"))
    );
    assert_eq!(m.lookup(ip("2001:db8:1::2")), Some(net("2001:db8::/32")));
    assert!(IocSet::contains(&m, ip("2001:db8::5")));
    assert!(!IocSet::contains(&m, ip("2001:db9::5")));
}

#[test]
fn shared_read_only_across_threads() {
    let m = Arc::new(Matcher::new(&[net("5.5.5.0/24"), net("6.6.6.6/32")]));
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let m = Arc::clone(&m);
            std::thread::spawn(move || {
                (0..=255u8)
                    .filter(|i| m.contains_ip(IpAddr::from([5, 5, 5 + t, *i])))
                    .count()
            })
        })
        .collect();
    let counts: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(counts, vec![256, 0]);
}

/// Brute force: the longest entry containing the address.
fn naive(entries: &[IpNet], a: IpAddr) -> Option<IpNet> {
    entries
        .iter()
        .filter(|n| n.contains(&a))
        .max_by_key(|n| n.prefix_len())
        .copied()
}

proptest! {
    #[test]
    fn lookup_agrees_with_brute_force(
        raw in proptest::collection::vec((any::<u32>(), 0u8..=32), 1..60),
        probes in proptest::collection::vec(any::<u32>(), 1..60),
    ) {
        let entries: Vec<IpNet> = raw.iter().map(|&(a, l)| IpNet::V4(ipnet::Ipv4Net::new(a.into(), l).unwrap().trunc())).collect();
        let m = Matcher::new(&entries);
        // Probe both random addresses and addresses at and around entry boundaries.
        let mut addrs: Vec<u32> = probes;
        for e in &entries {
            if let IpNet::V4(v) = e {
                let (lo, hi) = (u32::from(v.network()), u32::from(v.broadcast()));
                addrs.extend([lo, hi, lo.wrapping_sub(1), hi.wrapping_add(1)]);
            }
        }
        for a in addrs {
            let a = IpAddr::from(std::net::Ipv4Addr::from(a));
            prop_assert_eq!(m.lookup(a), naive(&entries, a), "address {}", a);
        }
    }
}
