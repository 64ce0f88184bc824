//! Behaviour of the flow model on the design document's sample and on ECS documents.

use std::collections::HashSet;
use std::net::IpAddr;

use flowmodel::{
    Direction, FieldMap, FlowError, FlowParser, IocDayAcc, RemoteDayAcc, ViewContext, ioc_view,
};

const DESIGN_SAMPLE: &str = r#"{"exporterIP":"192.192.68.33","sourceIPAddress":"163.26.171.228","destinationIPAddress":"134.122.129.10",
 "sourceIPv4Address":"163.26.171.228","destinationIPv4Address":"134.122.129.10",
 "protocolIdentifier":6,"sourceTransportPort":13216,"destinationTransportPort":45,
 "tcpControlBits":2,"octetDeltaCount":52,"packetDeltaCount":1,
 "flowStartMilliseconds":1757057835008,"flowEndMilliseconds":1757057835008,
 "bgpSourceAsNumber":1659,"bgpDestinationAsNumber":152194,"ipVersion":4,
 "srcGeoip":{"country_code":"TW","city":"Tainan_City","longitude":120.214798,"latitude":22.991699,"coordinates":[120.214798,22.991699]},
 "dstGeoip":{"country_code":"HK","city":"Shatin","longitude":114.177902,"latitude":22.3829,"coordinates":[114.177902,22.3829]}}"#;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ctx() -> ViewContext {
    ViewContext::new("2025-09-05".parse().unwrap(), "tanet-2025.09.05")
}

#[test]
fn design_sample_gives_the_published_ioc_view() {
    let raw = FlowParser::default()
        .parse(DESIGN_SAMPLE.as_bytes())
        .unwrap();
    let iocs: HashSet<IpAddr> = [ip("134.122.129.10")].into();
    let recs: Vec<_> = ioc_view(&raw, &iocs, |_| 7, &ctx()).collect();
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.ioc_ip, ip("134.122.129.10"));
    assert_eq!(r.remote_ip, ip("163.26.171.228"));
    assert_eq!(r.direction, Direction::Rcv);
    assert_eq!((r.ioc_port, r.remote_port), (45, 13216));
    assert_eq!((r.rcv_packets, r.rcv_octets), (1, 52));
    assert_eq!((r.send_packets, r.send_octets), (0, 0));
    assert_eq!(r.time_stamp, 1_757_057_835_008);
    assert_eq!(r.total_flows, 7);
    assert_eq!(r.exporter, Some(ip("192.192.68.33")));
    assert_eq!((r.ioc_as_number, r.remote_as_number), (152194, 1659));
    assert_eq!(&*r.ioc_as_name, "UnKnow");
    assert_eq!((r.protocol, r.tcp_control_bits, r.ip_version), (6, 2, 4));

    // Exact field names and values as stored.
    let v = serde_json::to_value(r).unwrap();
    assert_eq!(v["IocIP"], "134.122.129.10");
    assert_eq!(v["RemoteIP"], "163.26.171.228");
    assert_eq!(v["Direction"], "Rcv");
    assert_eq!(v["IocPort"], 45);
    assert_eq!(v["RemotePort"], 13216);
    assert_eq!(v["RcvPackets"], 1);
    assert_eq!(v["RcvOctets"], 52);
    assert_eq!(v["SendPackets"], 0);
    assert_eq!(v["SendOctets"], 0);
    assert_eq!(v["TimeStamp"], 1_757_057_835_008_i64);
    assert_eq!(v["FromIndex"], "tanet-2025.09.05");
    assert_eq!(v["Date"], "2025-09-05");
    assert_eq!(v["IocAsName"], "UnKnow");
    assert_eq!(v["RemoteAsNumber"], 1659);
    assert_eq!(v["IocGeoip"]["city"], "Shatin");
    assert_eq!(v["RemoteGeoip"]["city"], "Tainan_City");
    assert_eq!(v["TcpControlBits"], 2);
    assert_eq!(v["Protocol"], 6);
    assert_eq!(v["IpVersion"], 4);
    assert_eq!(v["TotalFlows"], 7);
    assert_eq!(v["Exporter"], "192.192.68.33");
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 23, "unexpected field set: {keys:?}");
}

#[test]
fn flow_between_two_iocs_yields_one_record_per_side() {
    let raw = FlowParser::default()
        .parse(DESIGN_SAMPLE.as_bytes())
        .unwrap();
    let iocs: HashSet<IpAddr> = [ip("134.122.129.10"), ip("163.26.171.228")].into();
    let recs: Vec<_> = ioc_view(&raw, &iocs, |_| 1, &ctx()).collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].direction, Direction::Send);
    assert_eq!(recs[0].ioc_ip, ip("163.26.171.228"));
    assert_eq!(recs[0].send_octets, 52);
    assert_eq!(recs[1].direction, Direction::Rcv);
    assert_eq!(recs[1].ioc_ip, ip("134.122.129.10"));
}

#[test]
fn as_names_come_from_the_table_and_are_shared() {
    let raw = FlowParser::default()
        .parse(DESIGN_SAMPLE.as_bytes())
        .unwrap();
    let (names, bad) =
        flowmodel::AsNames::parse("# asn,name\n1659,TANET\nAS152194,\"HK-NET\"\nnot a line\n");
    assert_eq!(bad, vec![4]);
    let mut c = ctx();
    c.as_names = std::sync::Arc::new(names);
    let iocs: HashSet<IpAddr> = [ip("134.122.129.10")].into();
    let a = ioc_view(&raw, &iocs, |_| 1, &c).next().unwrap();
    let b = ioc_view(&raw, &iocs, |_| 1, &c).next().unwrap();
    assert_eq!(&*a.remote_as_name, "TANET");
    assert_eq!(&*a.ioc_as_name, "HK-NET");
    assert!(std::sync::Arc::ptr_eq(&a.remote_as_name, &b.remote_as_name));
    assert!(std::sync::Arc::ptr_eq(&a.from_index, &b.from_index));
}

#[test]
fn numbers_as_strings_and_timestamp_fallback_are_accepted() {
    let doc = br#"{"sourceIPv4Address":"10.1.2.3","destinationIPv4Address":"192.0.2.9",
        "sourceTransportPort":"51000","destinationTransportPort":"443","protocolIdentifier":"6",
        "octetDeltaCount":"1500","packetDeltaCount":3.0,"_timestamp":"2025-09-05T01:02:03.004Z",
        "someUnknownField":{"deep":[1,2,3]}}"#;
    let raw = FlowParser::default().parse(doc).unwrap();
    assert_eq!(raw.src, ip("10.1.2.3"));
    assert_eq!((raw.src_port, raw.dst_port, raw.protocol), (51000, 443, 6));
    assert_eq!((raw.octets, raw.packets), (1500, 3));
    assert_eq!(raw.start_ms, 1_757_034_123_004);
}

#[test]
fn missing_address_is_an_error_naming_the_field() {
    let doc = br#"{"destinationIPAddress":"192.0.2.9","octetDeltaCount":1}"#;
    match FlowParser::default().parse(doc) {
        Err(FlowError::MissingField { field, tried }) => {
            assert_eq!(field, "src_addr");
            assert!(tried.contains("sourceIPAddress"), "{tried}");
        }
        other => panic!("expected a missing-field error, got {other:?}"),
    }
    let bad = br#"{"sourceIPAddress":"300.1.1.1","destinationIPAddress":"192.0.2.9"}"#;
    let e = FlowParser::default().parse(bad).unwrap_err();
    assert!(e.to_string().contains("sourceIPAddress"), "{e}");
    let port = br#"{"sourceIPAddress":"1.1.1.1","destinationIPAddress":"192.0.2.9","sourceTransportPort":70000}"#;
    let e = FlowParser::default().parse(port).unwrap_err();
    assert!(e.to_string().contains("sourceTransportPort"), "{e}");
}

#[test]
fn ipv4_mapped_ipv6_is_normalised_and_ipv6_flows_work() {
    let doc =
        br#"{"sourceIPv6Address":"::ffff:198.51.100.7","destinationIPAddress":"::ffff:203.0.113.1",
        "protocolIdentifier":17,"sourceTransportPort":53,"destinationTransportPort":40000}"#;
    let raw = FlowParser::default().parse(doc).unwrap();
    assert_eq!(raw.src, ip("198.51.100.7"));
    assert_eq!(raw.ip_version(), 4);
    let v6 = br#"{"sourceIPv6Address":"2001:db8::1","destinationIPv6Address":"2001:db8::2","protocolIdentifier":58}"#;
    let raw = FlowParser::default().parse(v6).unwrap();
    assert_eq!(raw.ip_version(), 6);
    let iocs: HashSet<IpAddr> = [ip("2001:db8::2")].into();
    let r = ioc_view(&raw, &iocs, |_| 1, &ctx()).next().unwrap();
    assert_eq!(r.ip_version, 6);
    assert_eq!(r.remote_ip, ip("2001:db8::1"));
}

#[test]
fn ecs_preset_reads_an_ecs_document() {
    let doc = br#"{"@timestamp":"2025-09-05T00:00:10Z",
        "event":{"start":"2025-09-05T00:00:01.500Z","end":"2025-09-05T00:00:02Z"},
        "source":{"ip":"163.26.171.228","port":13216,"bytes":52,"packets":1,
                  "as":{"number":1659},"geo":{"country_iso_code":"TW"}},
        "destination":{"ip":"134.122.129.10","port":45,"as":{"number":152194}},
        "network":{"transport":"tcp","iana_number":"6"},
        "observer":{"ip":"192.192.68.33"},
        "netflow":{"tcp_control_bits":2}}"#;
    let p = FlowParser::new(FieldMap::ecs());
    let raw = p.parse(doc).unwrap();
    assert_eq!(raw.src, ip("163.26.171.228"));
    assert_eq!(raw.dst, ip("134.122.129.10"));
    assert_eq!((raw.src_port, raw.dst_port, raw.protocol), (13216, 45, 6));
    assert_eq!((raw.octets, raw.packets, raw.tcp_flags), (52, 1, 2));
    assert_eq!((raw.src_as, raw.dst_as), (1659, 152194));
    assert_eq!(raw.start_ms, 1_757_030_401_500);
    assert_eq!(raw.exporter, Some(ip("192.192.68.33")));
    assert_eq!(
        raw.src_geo.as_ref().unwrap().json(),
        r#"{"country_iso_code":"TW"}"#
    );

    // Flat dotted keys (as some shippers write them) and a protocol name.
    let flat = br#"{"source.ip":"10.0.0.1","destination.ip":"10.0.0.2","network.transport":"UDP","source.port":5353}"#;
    let raw = p.parse(flat).unwrap();
    assert_eq!((raw.protocol, raw.src_port), (17, 5353));
}

#[test]
fn remote_accumulator_sees_each_ioc() {
    let raw = FlowParser::default()
        .parse(DESIGN_SAMPLE.as_bytes())
        .unwrap();
    let iocs: HashSet<IpAddr> = [ip("134.122.129.10")].into();
    let mut acc = RemoteDayAcc::new();
    let mut ioc = IocDayAcc::new();
    for r in ioc_view(&raw, &iocs, |_| 1, &ctx()) {
        acc.add(&r);
        ioc.add(&r);
    }
    let (send, rcv) = acc.totals();
    assert_eq!((send.flows, rcv.flows, rcv.octets), (0, 1, 52));
    assert_eq!(acc.seen(), Some((1_757_057_835_008, 1_757_057_835_008)));
    let pair = &ioc.pairs[&ip("163.26.171.228")];
    assert_eq!(pair.rcv_ioc_ports.get(45), 1);
    assert_eq!(pair.rcv_syn_only, 1);
    assert_eq!(ioc.rcv_bpp.quantile(0.5), Some(52));
}
