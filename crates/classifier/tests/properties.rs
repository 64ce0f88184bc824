//! Invariants over random days: scan replies never make check-ins, and the day's
//! output never depends on the order of its input.

mod support;

use std::net::IpAddr;

use classifier::{ClassifierConfig, classify_day};
use flowmodel::{IocClass, IocDayAcc};
use proptest::prelude::*;
use support::*;

fn ioc() -> IpAddr {
    ip("198.51.100.77")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Hosts answering an IoC's probes (SYN|ACK or RST|ACK from the probed server port)
    /// are never watched and never turn the IoC into a relay, whatever their number,
    /// the scanner's source ports, or how many probes got no answer.
    #[test]
    fn scan_replies_never_make_checkins(
        answered in 1u32..80,
        silent in 0u32..40,
        fixed_src in proptest::option::of(1024u16..65535),
        server_port in prop::sample::select(vec![22u16, 23, 80, 443, 445, 3389, 8080]),
        rst in any::<bool>(),
    ) {
        let mut acc = IocDayAcc::new();
        for i in 0..answered + silent {
            let sp = fixed_src.unwrap_or(40_000 + (i % 20_000) as u16);
            acc.add(&Rec::send(sp, server_port, 6, 0x02, 1, 44).build(ioc(), host(i)));
            if i < answered {
                let flags = if rst { 0x14 } else { 0x12 };
                acc.add(&Rec::rcv(sp, server_port, 6, flags, 1, 40).build(ioc(), host(i)));
            }
        }
        let out = classify_day("2025-09-05".parse().unwrap(), &[(ioc(), acc.flows(), acc)], &ClassifierConfig::default());
        prop_assert_ne!(out.iocs[0].class, IocClass::CheckIn);
        prop_assert!(out.remotes.iter().all(|r| !r.watched));
    }

    /// Shuffling the IoCs of a day changes nothing in the output.
    #[test]
    fn input_order_does_not_matter(seed in any::<u64>()) {
        let mut days: Vec<(IpAddr, u64, IocDayAcc)> = Vec::new();
        for k in 0..6u32 {
            let ioc = IpAddr::from([198, 51, 100, k as u8]);
            let mut acc = IocDayAcc::new();
            for i in 0..(12 + k * 3) {
                acc.add(&Rec::rcv(8443, 49_200 + i as u16, 6, 0x1a, 2, 120).build(ioc, host(i + k)));
            }
            days.push((ioc, acc.flows(), acc));
        }
        let cfg = ClassifierConfig::default();
        let d = "2025-09-05".parse().unwrap();
        let a = classify_day(d, &days, &cfg);
        let mut shuffled = days.clone();
        let n = shuffled.len();
        for i in 0..n {
            let j = (seed.rotate_left(i as u32 * 7) as usize) % n;
            shuffled.swap(i, j);
        }
        prop_assert_eq!(a, classify_day(d, &shuffled, &cfg));
    }
}
