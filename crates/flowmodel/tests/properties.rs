//! Property tests: invariants that must hold for any flow.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use flowmodel::{
    Direction, FlowParser, IocDayAcc, IocFlow, RawFlow, RemoteDayAcc, ViewContext, ioc_view,
};
use proptest::prelude::*;

fn arb_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        4 => (0u8..4).prop_map(|i| IpAddr::V4(Ipv4Addr::new(192, 0, 2, i))),
        2 => any::<u32>().prop_map(|v| IpAddr::V4(Ipv4Addr::from(v))),
        1 => (0u16..4).prop_map(|i| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i))),
    ]
}

prop_compose! {
    fn arb_flow()(src in arb_ip(), dst in arb_ip(), sp in any::<u16>(), dp in any::<u16>(),
                  proto in prop_oneof![Just(6u8), Just(17u8), Just(1u8)], flags in 0u16..64,
                  octets in 0u64..1_000_000, packets in 0u64..1000,
                  start in 1_757_030_400_000i64..1_757_116_800_000) -> RawFlow {
        // Keep both ends of the same family, as the parser guarantees.
        let dst = match (src, dst) {
            (IpAddr::V4(_), IpAddr::V6(_)) => IpAddr::V4(Ipv4Addr::new(192, 0, 2, 200)),
            (IpAddr::V6(_), IpAddr::V4(_)) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            (_, d) => d,
        };
        RawFlow { src, dst, src_port: sp, dst_port: dp, protocol: proto, tcp_flags: flags,
                  octets, packets, start_ms: start, end_ms: None, exporter: None,
                  src_as: 0, dst_as: 0, src_geo: None, dst_geo: None }
    }
}

fn iocs() -> HashSet<IpAddr> {
    [
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 0)),
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
    ]
    .into()
}

fn ctx() -> ViewContext {
    ViewContext::new("2025-09-05".parse().unwrap(), "idx")
}

fn records(flows: &[RawFlow]) -> Vec<IocFlow> {
    let set = iocs();
    flows
        .iter()
        .flat_map(|f| ioc_view(f, &set, |_| 1, &ctx()).collect::<Vec<_>>())
        .collect()
}

fn acc_of(recs: &[IocFlow]) -> IocDayAcc {
    let mut a = IocDayAcc::new();
    for r in recs {
        a.add(r);
    }
    a
}

fn remote_acc_of(recs: &[IocFlow]) -> RemoteDayAcc {
    let mut a = RemoteDayAcc::new();
    for r in recs {
        a.add(r);
    }
    a
}

proptest! {
    #[test]
    fn counters_stay_on_exactly_one_side(f in arb_flow()) {
        let set = iocs();
        let recs: Vec<_> = ioc_view(&f, &set, |_| 1, &ctx()).collect();
        let expected = usize::from(set.contains(&f.src)) + usize::from(set.contains(&f.dst));
        prop_assert_eq!(recs.len(), expected);
        for r in &recs {
            match r.direction {
                Direction::Send => {
                    prop_assert_eq!((r.send_packets, r.send_octets), (f.packets, f.octets));
                    prop_assert_eq!((r.rcv_packets, r.rcv_octets), (0, 0));
                    prop_assert_eq!(r.ioc_ip, f.src);
                    prop_assert_eq!(r.ioc_port, f.src_port);
                }
                Direction::Rcv => {
                    prop_assert_eq!((r.rcv_packets, r.rcv_octets), (f.packets, f.octets));
                    prop_assert_eq!((r.send_packets, r.send_octets), (0, 0));
                    prop_assert_eq!(r.ioc_ip, f.dst);
                    prop_assert_eq!(r.ioc_port, f.dst_port);
                }
            }
        }
    }

    #[test]
    fn ioc_flow_survives_a_json_round_trip(f in arb_flow()) {
        let geo = flowmodel::Geo::from_json(r#"{"country_code":"TW","coordinates":[120.2,22.9]}"#);
        let f = RawFlow { src_geo: geo, exporter: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))), ..f };
        for r in ioc_view(&f, &iocs(), |_| 42, &ctx()) {
            let text = serde_json::to_string(&r).unwrap();
            let back: IocFlow = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back, r);
        }
    }

    #[test]
    fn accumulator_merge_is_associative_and_commutative(
        a in prop::collection::vec(arb_flow(), 0..25),
        b in prop::collection::vec(arb_flow(), 0..25),
        c in prop::collection::vec(arb_flow(), 0..25),
    ) {
        let (ra, rb, rc) = (records(&a), records(&b), records(&c));
        let (xa, xb, xc) = (acc_of(&ra), acc_of(&rb), acc_of(&rc));
        // (a + b) + c == a + (b + c)
        let mut left = xa.clone(); left.merge(&xb); left.merge(&xc);
        let mut bc = xb.clone(); bc.merge(&xc);
        let mut right = xa.clone(); right.merge(&bc);
        prop_assert_eq!(&left, &right);
        // a + b == b + a
        let mut ab = xa.clone(); ab.merge(&xb);
        let mut ba = xb.clone(); ba.merge(&xa);
        prop_assert_eq!(&ab, &ba);
        // Merging equals adding everything to one accumulator.
        let all: Vec<IocFlow> = ra.iter().chain(&rb).chain(&rc).cloned().collect();
        prop_assert_eq!(&left, &acc_of(&all));

        let (ya, yb) = (remote_acc_of(&ra), remote_acc_of(&rb));
        let mut yab = ya.clone(); yab.merge(&yb);
        let mut yba = yb.clone(); yba.merge(&ya);
        prop_assert_eq!(&yab, &yba);
        prop_assert_eq!(&yab, &remote_acc_of(&ra.iter().chain(&rb).cloned().collect::<Vec<_>>()));
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = FlowParser::default().parse(&bytes);
        let _ = FlowParser::new(flowmodel::FieldMap::ecs()).parse(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics_the_parser(v in arb_json()) {
        let text = serde_json::to_vec(&v).unwrap();
        let _ = FlowParser::default().parse(&text);
        let _ = FlowParser::new(flowmodel::FieldMap::ecs()).parse(&text);
        let _ = FlowParser::new(flowmodel::FieldMap::elastiflow()).parse_value(&v);
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let keys = prop_oneof![
        Just("sourceIPAddress".to_owned()),
        Just("destinationIPAddress".to_owned()),
        Just("sourceTransportPort".to_owned()),
        Just("octetDeltaCount".to_owned()),
        Just("flowStartMilliseconds".to_owned()),
        Just("srcGeoip".to_owned()),
        Just("source".to_owned()),
        Just("ip".to_owned()),
        Just("source.ip".to_owned()),
        Just("destination.ip".to_owned()),
        "[a-z.]{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[0-9.:a-f]{0,20}".prop_map(Value::String),
        Just(Value::String("192.0.2.1".into())),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn raw_flow_written_as_ipfix_reads_back_identically(f in arb_flow()) {
        let geo = flowmodel::Geo::from_json(r#"{"city":"Shatin","coordinates":[114.17,22.38]}"#);
        let f = RawFlow { dst_geo: geo, end_ms: Some(f.start_ms + 5), ..f };
        let text = serde_json::to_vec(&f).unwrap();
        prop_assert_eq!(FlowParser::default().parse(&text).unwrap(), f);
    }
}
