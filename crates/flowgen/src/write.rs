//! Raw flow documents as the NOC's collector stores them (design.md §3, IPFIX names).

use std::io::Write;

use flowmodel::RawFlow;

/// Appends one raw flow document (IPFIX names, design.md §3) to `out`, without a
/// trailing newline.
///
/// IPv4 flows carry `sourceIPAddress`/`destinationIPAddress` and the
/// `…IPv4Address` fields; IPv6 flows the generic fields and the `…IPv6Address` ones.
/// Optional fields absent from the flow (end, exporter, geo) are left out.
///
/// ```
/// use flowmodel::FlowParser;
/// let flow = FlowParser::default()
///     .parse(br#"{"sourceIPAddress":"10.0.0.1","destinationIPAddress":"10.0.0.2","protocolIdentifier":17}"#)
///     .unwrap();
/// let mut doc = Vec::new();
/// flowgen::write_flow_json(&flow, &mut doc);
/// assert_eq!(FlowParser::default().parse(&doc).unwrap(), flow);
/// ```
pub fn write_flow_json(f: &RawFlow, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = write_doc(f, out);
}

fn write_doc(f: &RawFlow, out: &mut Vec<u8>) -> std::io::Result<()> {
    out.push(b'{');
    if let Some(e) = f.exporter {
        write!(out, r#""exporterIP":"{e}","#)?;
    }
    let v = f.ip_version();
    write!(
        out,
        r#""sourceIPAddress":"{}","destinationIPAddress":"{}","#,
        f.src, f.dst
    )?;
    if v == 4 {
        write!(
            out,
            r#""sourceIPv4Address":"{}","destinationIPv4Address":"{}","#,
            f.src, f.dst
        )?;
    } else {
        write!(
            out,
            r#""sourceIPv6Address":"{}","destinationIPv6Address":"{}","#,
            f.src, f.dst
        )?;
    }
    write!(
        out,
        r#""protocolIdentifier":{},"sourceTransportPort":{},"destinationTransportPort":{},"tcpControlBits":{},"octetDeltaCount":{},"packetDeltaCount":{},"flowStartMilliseconds":{}"#,
        f.protocol, f.src_port, f.dst_port, f.tcp_flags, f.octets, f.packets, f.start_ms
    )?;
    if let Some(end) = f.end_ms {
        write!(out, r#","flowEndMilliseconds":{end}"#)?;
    }
    write!(
        out,
        r#","bgpSourceAsNumber":{},"bgpDestinationAsNumber":{},"ipVersion":{v}"#,
        f.src_as, f.dst_as
    )?;
    if let Some(g) = &f.src_geo {
        write!(out, r#","srcGeoip":{}"#, g.json())?;
    }
    if let Some(g) = &f.dst_geo {
        write!(out, r#","dstGeoip":{}"#, g.json())?;
    }
    out.push(b'}');
    Ok(())
}
