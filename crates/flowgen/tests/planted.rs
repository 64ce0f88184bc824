//! Every planted behaviour is in the flows with the shape the truth claims.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::OnceLock;

use flowgen::{ClientOs, GenConfig, Generator, GroundTruth, IocKind};
use flowmodel::{IocClass, RawFlow};

const DAYS: u32 = 4;

struct Run {
    generator: Generator,
    truth: GroundTruth,
    days: Vec<Vec<RawFlow>>,
}

fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let generator = Generator::new(GenConfig::small(42, DAYS)).expect("valid config");
        let truth = generator.truth();
        let days = (0..DAYS)
            .map(|d| generator.day_flows(d).expect("day in range"))
            .collect();
        Run {
            generator,
            truth,
            days,
        }
    })
}

/// Flows touching `ip` on day `d`.
fn touching(d: usize, ip: IpAddr) -> Vec<&'static RawFlow> {
    run().days[d]
        .iter()
        .filter(|f| f.src == ip || f.dst == ip)
        .collect()
}

fn in_os_range(port: u16) -> bool {
    [ClientOs::Linux, ClientOs::Windows, ClientOs::WindowsXp]
        .iter()
        .any(|os| {
            let (lo, hi) = os.ephemeral_range();
            (lo..=hi).contains(&port)
        })
}

#[test]
fn nodata_iocs_never_appear_and_wide_iocs_exceed_ten_thousand_flows() {
    let r = run();
    assert!(!r.truth.nodata.is_empty());
    // IoCs that are never seen; other kinds' silent days bring a day to ~45 %.
    let share = r.truth.nodata.len() as f64 / r.truth.iocs.len() as f64;
    assert!((0.30..=0.40).contains(&share), "nodata share {share}");
    let nodata: HashSet<IpAddr> = r.truth.nodata.iter().copied().collect();
    for day in &r.days {
        assert!(
            !day.iter()
                .any(|f| nodata.contains(&f.src) || nodata.contains(&f.dst))
        );
    }
    assert!(!r.truth.wide.is_empty());
    for d in 0..DAYS as usize {
        for w in &r.truth.wide {
            let n = touching(d, *w).len();
            assert!(n > 10_000, "wide IoC {w} has only {n} flows on day {d}");
        }
    }
}

#[test]
fn expected_class_is_nodata_exactly_when_the_ioc_has_no_flows() {
    let r = run();
    for d in 0..DAYS {
        let date = r.generator.date(d).unwrap();
        let mut counts: HashMap<IpAddr, u64> = HashMap::new();
        let iocs: HashSet<IpAddr> = r.truth.iocs.iter().map(|t| t.ip).collect();
        for f in &r.days[d as usize] {
            for ip in [f.src, f.dst] {
                if iocs.contains(&ip) {
                    *counts.entry(ip).or_default() += 1;
                }
            }
        }
        for t in &r.truth.iocs {
            let class = t.expected_class_by_day[&date];
            let n = counts.get(&t.ip).copied().unwrap_or(0);
            assert_eq!(
                class == IocClass::NoData,
                n == 0,
                "{} ({:?}) on {date}: class {class} with {n} flows",
                t.ip,
                t.kind
            );
            if class == IocClass::Wide {
                assert!(n > 10_000);
            } else {
                assert!(n <= 10_000, "{} ({:?}) has {n} flows", t.ip, t.kind);
            }
        }
    }
}

#[test]
fn flows_between_two_iocs_are_never_planted() {
    let r = run();
    let iocs: HashSet<IpAddr> = r.truth.iocs.iter().map(|t| t.ip).collect();
    for day in &r.days {
        assert!(
            !day.iter()
                .any(|f| iocs.contains(&f.src) && iocs.contains(&f.dst))
        );
    }
}

#[test]
fn bot_checkins_go_to_the_relay_stable_port_from_ephemeral_ports() {
    let r = run();
    let fams = &r.truth.families;
    assert_eq!(fams.len(), 3);
    let mut xp_ports = 0;
    for fam in fams {
        let members: HashSet<IpAddr> = fam.members.iter().copied().collect();
        for d in 0..DAYS {
            let date = r.generator.date(d).unwrap();
            let relay = match &fam.migration {
                Some(m) if date >= m.day => m.new_relay,
                _ => fam.relays[0],
            };
            let flows = touching(d as usize, relay);
            let active: HashSet<IpAddr> = r
                .truth
                .bots
                .iter()
                .filter(|b| b.family_id == fam.id && b.active_days.contains(&date))
                .map(|b| b.ip)
                .collect();
            let senders: HashSet<IpAddr> = flows.iter().map(|f| f.src).collect();
            assert_eq!(senders, active, "family {} on {date}", fam.id);
            for f in flows {
                // One-way: bot → relay, nothing back.
                assert!(members.contains(&f.src) && f.dst == relay);
                assert_eq!(f.dst_port, fam.relay_port);
                assert_eq!(f.protocol, fam.protocol);
                assert!(f.packets <= 2 && f.octets / f.packets <= 150);
                assert!(in_os_range(f.src_port), "port {}", f.src_port);
                xp_ports += (f.src_port <= 5000) as u32;
            }
            // A bot checks in once or a few times a day.
            let mut per_bot: HashMap<IpAddr, u32> = HashMap::new();
            for f in touching(d as usize, relay) {
                *per_bot.entry(f.src).or_default() += 1;
            }
            assert!(per_bot.values().all(|n| (1..=4).contains(n)));
        }
    }
    assert!(xp_ports > 0, "no Windows XP-style check-in ports at all");
}

#[test]
fn relay_of_a_big_active_family_is_expected_checkin() {
    let r = run();
    let fam = &r.truth.families[0];
    let d0 = r.generator.date(0).unwrap();
    assert!(fam.members.len() >= 20);
    assert_eq!(
        r.truth.expected_class(fam.relays[0], d0),
        Some(IocClass::CheckIn)
    );
}

#[test]
fn migrated_family_moves_to_a_relay_that_is_not_on_the_blocklist() {
    let r = run();
    let fam = &r.truth.families[0];
    let m = fam.migration.as_ref().expect("family 0 migrates");
    assert_eq!(m.day, r.generator.date(DAYS / 2).unwrap());
    assert_eq!(fam.relays, vec![m.old_relay, m.new_relay]);
    for d in 0..DAYS {
        let date = r.generator.date(d).unwrap();
        let list: HashSet<IpAddr> = r.generator.blocklist(d).unwrap().into_iter().collect();
        assert!(!list.contains(&m.new_relay));
        assert!(list.contains(&m.old_relay));
        let old = touching(d as usize, m.old_relay).len();
        let new = touching(d as usize, m.new_relay).len();
        if date < m.day {
            assert!(old > 0 && new == 0);
        } else {
            assert!(old == 0 && new > 0, "day {d}: old {old}, new {new}");
            assert_eq!(
                r.truth.expected_class(m.old_relay, date),
                Some(IocClass::NoData)
            );
        }
    }
}

#[test]
fn every_planted_ioc_is_on_each_days_blocklist_and_nothing_else_is() {
    let r = run();
    let truth_iocs: HashSet<IpAddr> = r.truth.iocs.iter().map(|t| t.ip).collect();
    for d in 0..DAYS {
        let list = r.generator.blocklist(d).unwrap();
        let set: HashSet<IpAddr> = list.iter().copied().collect();
        assert_eq!(set.len(), list.len(), "duplicates on the blocklist");
        assert_eq!(set, truth_iocs);
        for s in &r.truth.scanners {
            assert!(set.contains(&s.ioc));
        }
        for x in &r.truth.dos {
            assert!(set.contains(&x.ioc));
        }
        for a in &r.truth.apt {
            assert!(set.contains(&a.ioc));
        }
        for b in &r.truth.bots {
            assert!(set.contains(&b.relay));
            assert!(!set.contains(&b.ip));
        }
    }
    assert_eq!(r.truth.iocs.len(), 60);
}

#[test]
fn scan_replies_carry_synack_or_rst_from_the_probed_server_port() {
    let r = run();
    assert!(!r.truth.scanners.is_empty());
    for s in &r.truth.scanners {
        let mut responders: HashSet<IpAddr> = HashSet::new();
        for date in &s.days {
            let d = (*date - r.truth.start).num_days() as usize;
            let flows = touching(d, s.ioc);
            let probes: Vec<_> = flows.iter().filter(|f| f.src == s.ioc).collect();
            assert!(probes.len() >= 30);
            let probed: HashSet<IpAddr> = probes.iter().map(|f| f.dst).collect();
            assert_eq!(probed.len(), probes.len(), "a target probed twice");
            for p in &probes {
                assert_eq!((p.protocol, p.tcp_flags, p.packets), (6, 0x02, 1));
                assert!(s.ports.contains(&p.dst_port));
            }
            for f in flows.iter().filter(|f| f.dst == s.ioc) {
                assert!(f.tcp_flags == 0x12 || f.tcp_flags == 0x14);
                assert!(s.ports.contains(&f.src_port), "reply from a server port");
                assert!(probed.contains(&f.src), "reply without a probe");
                responders.insert(f.src);
            }
            assert!(flows.len() as f64 * 0.8 <= probes.len() as f64);
        }
        let claimed: HashSet<IpAddr> = s.responders.iter().copied().collect();
        assert_eq!(responders, claimed);
    }
}

#[test]
fn scan_responders_and_contacted_hosts_are_never_bots() {
    let r = run();
    let bots: HashSet<IpAddr> = r.truth.bots.iter().map(|b| b.ip).collect();
    assert!(!r.truth.contacted_only.is_empty());
    for h in &r.truth.contacted_only {
        assert!(!bots.contains(h));
    }
    for s in &r.truth.scanners {
        for h in &s.responders {
            assert!(!bots.contains(h));
        }
    }
}

#[test]
fn contacted_only_hosts_never_send_anything_to_an_ioc_but_public_infrastructure() {
    let r = run();
    // Everybody may query the public resolver on the list (a Wide IoC); nothing else.
    let wide: HashSet<IpAddr> = r.truth.wide.iter().copied().collect();
    let iocs: HashSet<IpAddr> = r
        .truth
        .iocs
        .iter()
        .map(|t| t.ip)
        .filter(|ip| !wide.contains(ip))
        .collect();
    let contacted: HashSet<IpAddr> = r.truth.contacted_only.iter().copied().collect();
    let mut received = 0;
    for day in &r.days {
        for f in day {
            if contacted.contains(&f.src) && iocs.contains(&f.dst) {
                // A flood victim may RST; nothing else may go back.
                assert_eq!(f.tcp_flags, 0x14, "{f:?}");
            }
            if contacted.contains(&f.dst) && iocs.contains(&f.src) {
                received += 1;
            }
        }
    }
    assert!(received > 0);
}

#[test]
fn reflection_replies_are_large_udp_from_amplifier_ports() {
    let r = run();
    let refl: Vec<_> = r
        .truth
        .dos
        .iter()
        .filter(|d| d.kind == IocKind::DosReflection)
        .collect();
    assert!(!refl.is_empty());
    for x in refl {
        let peers: HashSet<IpAddr> = x.peers.iter().copied().collect();
        assert!(peers.len() >= 5);
        for date in &x.days {
            let d = (*date - r.truth.start).num_days() as usize;
            let rcv: Vec<_> = touching(d, x.ioc)
                .into_iter()
                .filter(|f| f.dst == x.ioc)
                .collect();
            assert!(!rcv.is_empty());
            for f in rcv {
                assert!(peers.contains(&f.src));
                assert_eq!(f.protocol, 17);
                assert!([53, 123, 1900, 11211, 389].contains(&f.src_port));
                assert!(f.octets / f.packets >= 300);
            }
        }
    }
}

#[test]
fn floods_are_syn_storms_on_one_pair() {
    let r = run();
    let floods: Vec<_> = r
        .truth
        .dos
        .iter()
        .filter(|d| matches!(d.kind, IocKind::DosFloodFrom | IocKind::DosFloodTo))
        .collect();
    assert!(!floods.is_empty());
    for x in floods {
        for date in &x.days {
            let d = (*date - r.truth.start).num_days() as usize;
            let flows = touching(d, x.ioc);
            assert!(flows.len() >= 300);
            let syn = flows.iter().filter(|f| f.tcp_flags == 0x02).count();
            assert!(syn as f64 >= 0.9 * flows.len() as f64);
            for f in flows {
                assert!(f.src == x.peers[0] || f.dst == x.peers[0]);
            }
        }
    }
}

#[test]
fn apt_ioc_connects_to_one_server_port_on_at_least_three_days() {
    let r = run();
    assert_eq!(r.truth.apt.len(), 1);
    for a in &r.truth.apt {
        assert!(a.days.len() >= 3);
        for d in 0..DAYS {
            let date = r.generator.date(d).unwrap();
            let flows = touching(d as usize, a.ioc);
            assert_eq!(a.days.contains(&date), !flows.is_empty());
            for f in flows {
                if f.src == a.ioc {
                    assert_eq!((f.dst, f.dst_port), (a.target, a.port));
                    assert!(f.src_port >= 32768);
                } else {
                    assert_eq!((f.src, f.src_port), (a.target, a.port));
                }
            }
        }
    }
}

#[test]
fn background_uses_os_ephemeral_ranges_dns_ntp_and_some_ipv6() {
    let r = run();
    let day = &r.days[1];
    let day_ms = r.generator.date(1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let lo = day_ms.and_utc().timestamp_millis();
    let hi = lo + 86_400_000;
    let mut v6 = 0;
    let (mut dns, mut ntp, mut xp, mut win, mut linux) = (0, 0, 0, 0, 0);
    for f in day {
        assert!(f.start_ms >= lo && f.end_ms.unwrap() < hi && f.start_ms <= f.end_ms.unwrap());
        assert!(f.packets >= 1 && f.octets >= 40 * f.packets.min(1));
        assert!(f.exporter.is_some() && f.src_geo.is_some() && f.dst_geo.is_some());
        v6 += f.src.is_ipv6() as u32;
        dns += (f.protocol == 17 && f.dst_port == 53) as u32;
        ntp += (f.protocol == 17 && f.dst_port == 123) as u32;
        if f.protocol == 6 && f.dst_port == 443 && f.tcp_flags == 0x1B {
            match f.src_port {
                1025..=5000 => xp += 1,
                32768..=49151 => linux += 1,
                49152..=65535 => win += 1,
                p => panic!("client port {p} outside every OS range"),
            }
        }
    }
    assert!(v6 as f64 > 0.02 * day.len() as f64, "v6 {v6}");
    assert!(dns > 1000 && ntp > 100, "dns {dns} ntp {ntp}");
    assert!(
        xp > 0 && linux > 0 && win > 0,
        "xp {xp} linux {linux} win {win}"
    );
}

#[test]
fn background_hosts_are_zipf_popular() {
    let r = run();
    let mut per_src: HashMap<IpAddr, u64> = HashMap::new();
    for f in &r.days[0] {
        *per_src.entry(f.src).or_default() += 1;
    }
    let mut counts: Vec<u64> = per_src.into_values().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = counts.iter().sum();
    let top10: u64 = counts.iter().take(10).sum();
    // Heavy head and a long tail.
    assert!(top10 as f64 > 0.05 * total as f64);
    assert!(counts.iter().filter(|c| **c == 1).count() > 100);
}

#[test]
fn day_total_is_flows_per_day() {
    let r = run();
    for day in &r.days {
        assert_eq!(day.len() as u64, r.generator.config().flows_per_day);
    }
}

#[test]
fn out_of_range_day_and_bad_config_are_errors() {
    let r = run();
    assert!(r.generator.day_flows(DAYS).is_err());
    assert!(r.generator.blocklist(DAYS).is_err());
    assert!(
        r.generator
            .write_day_jsonl(DAYS, Vec::new(), false)
            .is_err()
    );
    let bad = GenConfig {
        wide_flows: (9_000, 12_000),
        ..GenConfig::small(1, 2)
    };
    assert!(Generator::new(bad).is_err());
    let bad = GenConfig {
        days: 0,
        ..GenConfig::small(1, 2)
    };
    assert!(Generator::new(bad).is_err());
    let bad = GenConfig {
        iocs: 5,
        ..GenConfig::small(1, 2)
    };
    assert!(Generator::new(bad).is_err());
    let bad = GenConfig {
        internal_hosts: 600,
        family_size: (150, 200),
        ..GenConfig::small(1, 2)
    };
    assert!(Generator::new(bad).is_err());
}

#[test]
fn hostile_configs_are_errors_not_panics_or_endless_loops() {
    let base = || GenConfig::small(1, 2);
    let bad = [
        GenConfig {
            internal_v4: vec!["10.1.2.0/24".parse().unwrap()],
            ..base()
        },
        GenConfig {
            internal_v4: vec!["10.0.0.0/7".parse().unwrap()],
            ..base()
        },
        GenConfig {
            internal_v6: vec!["2001:db8::/64".parse().unwrap()],
            ..base()
        },
        GenConfig {
            nodata_share: f64::NAN,
            ..base()
        },
        GenConfig {
            family_size: (5, 1_000_000_000),
            ..base()
        },
        GenConfig {
            internal_v6: vec![],
            ..base()
        },
        GenConfig {
            days: 100_000,
            ..base()
        },
        GenConfig {
            scan_probes: (10, 20),
            ..base()
        },
    ];
    for cfg in bad {
        let shown = format!("{cfg:?}");
        assert!(Generator::new(cfg).is_err(), "accepted {shown}");
    }
    // An internal /8 that covers an external site's whole space still works: external
    // addresses move to other sites and never fall inside the internal network.
    let net: ipnet::Ipv4Net = "52.0.0.0/8".parse().unwrap();
    let g = Generator::new(GenConfig {
        internal_v4: vec![net],
        flows_per_day: 1,
        ..base()
    })
    .unwrap();
    let t = g.truth();
    assert!(t.iocs.iter().all(|i| match i.ip {
        IpAddr::V4(a) => !net.contains(&a),
        IpAddr::V6(_) => true,
    }));
    // No IPv6 at all is a valid backbone too.
    let g = Generator::new(GenConfig {
        internal_v6: vec![],
        ipv6_share: 0.0,
        ..base()
    })
    .unwrap();
    assert!(g.day_flows(0).unwrap().iter().all(|f| f.src.is_ipv4()));
}

#[test]
fn bot_checkins_are_jittered_around_a_stable_daily_phase() {
    let r = run();
    let fam = &r.truth.families[1];
    let day_start = |d: usize| {
        r.generator
            .date(d as u32)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis()
    };
    let times = |d: usize, bot: IpAddr| -> Vec<i64> {
        touching(d, bot)
            .into_iter()
            .filter(|f| f.dst == fam.relays[0])
            .map(|f| f.start_ms - day_start(d))
            .collect()
    };
    let circular = |a: i64, b: i64| {
        let x = (a - b).rem_euclid(86_400_000);
        x.min(86_400_000 - x)
    };
    let (mut compared, mut moved) = (0, 0);
    for bot in &fam.members {
        let (t0, t1) = (times(0, *bot), times(1, *bot));
        if t0.is_empty() || t1.len() != t0.len() {
            continue;
        }
        for t in &t1 {
            let nearest = t0.iter().map(|s| circular(*s, *t)).min().unwrap();
            assert!(nearest <= 20 * 60_000, "check-in moved {nearest} ms");
            compared += 1;
            moved += (nearest > 1_000) as u32;
        }
    }
    assert!(compared >= 10 && moved * 2 > compared, "{moved}/{compared}");
}

#[test]
fn config_reads_from_partial_json_and_rejects_unknown_fields() {
    let cfg: GenConfig =
        serde_json::from_str(r#"{"seed": 5, "days": 3, "start": "2025-10-01"}"#).unwrap();
    assert_eq!(cfg.seed, 5);
    assert_eq!(cfg.days, 3);
    assert_eq!(cfg.iocs, GenConfig::default().iocs);
    let back: GenConfig = serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(back, cfg);
    assert!(serde_json::from_str::<GenConfig>(r#"{"flows": 5}"#).is_err());
}
