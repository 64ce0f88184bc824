//! The pre-filter never drops a line the full parser finds touching an IoC.

use std::collections::HashSet;
use std::net::IpAddr;

use flowmodel::{FieldMap, FlowParser};
use proptest::prelude::*;

fn addr() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u8..4).prop_map(|i| format!("192.0.2.{i}")),
        (0u8..4).prop_map(|i| format!("::ffff:192.0.2.{i}")),
        (0u8..4).prop_map(|i| format!("2001:db8::{i}")),
        (0u8..4).prop_map(|i| format!("2001:DB8:0:0::{i}")),
        (0u8..4).prop_map(|i| format!(" 192.0.2.{i} ")),
        Just("not-an-ip".to_owned()),
    ]
}

/// A value as JSON text: plain, with a needless escape, or not a string.
fn encode(v: &str, style: u8) -> String {
    match style {
        0 => format!("\"{v}\""),
        1 => format!("\"{}\"", v.replacen('.', "\\u002e", 1)),
        _ => "null".to_owned(),
    }
}

fn key(k: &str, style: u8) -> String {
    match style {
        // An escaped key: the byte search cannot see it, the parser can.
        1 => format!("\"{}\"", k.replacen('I', "\\u0049", 1)),
        _ => format!("\"{k}\""),
    }
}

prop_compose! {
    fn doc()(
        src in addr(), dst in addr(), src4 in addr(),
        vs in 0u8..3, vd in 0u8..3, ks in 0u8..2, kd in 0u8..2,
        with_src4 in any::<bool>(), spaces in any::<bool>(), order in any::<bool>(),
    ) -> String {
        let sep = if spaces { " : " } else { ":" };
        let mut fields = vec![
            format!("{}{sep}{}", key("sourceIPAddress", ks), encode(&src, vs)),
            format!("{}{sep}{}", key("destinationIPAddress", kd), encode(&dst, vd)),
            format!("\"flowStartMilliseconds\"{sep}1757057835008"),
        ];
        if with_src4 {
            let k = if src4.contains(':') { "sourceIPv6Address" } else { "sourceIPv4Address" };
            fields.push(format!("\"{k}\"{sep}{}", encode(&src4, 0)));
        }
        if order {
            fields.reverse();
        }
        format!("{{{}}}", fields.join(", "))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn prefilter_never_misses_a_line_the_parser_matches(
        docs in proptest::collection::vec(doc(), 1..12),
        ioc_ids in proptest::collection::vec(0u8..4, 1..3),
    ) {
        let iocs: HashSet<IpAddr> = ioc_ids
            .iter()
            .flat_map(|i| [format!("192.0.2.{i}").parse().unwrap(), format!("2001:db8::{i}").parse().unwrap()])
            .collect();
        let block = docs.join("\n") + "\n";
        let kept = flowsource::__private::prefilter_candidates(&FieldMap::ipfix(), block.as_bytes(), &iocs);
        let parser = FlowParser::default();
        let mut start = 0usize;
        for d in &docs {
            if let Ok(f) = parser.parse(d.as_bytes())
                && (iocs.contains(&f.src) || iocs.contains(&f.dst))
            {
                prop_assert!(kept.contains(&start), "dropped a matching line: {d}");
            }
            start += d.len() + 1;
        }
    }
}
