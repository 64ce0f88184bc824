//! The cheap pre-filter: which lines of a block may touch an IoC, found without parsing.
//!
//! For every address field of the [`FieldMap`] the filter searches the whole block for
//! the field's last path segment followed by a quote (`sourceIPAddress"`, or `ip"` for
//! ECS's `source.ip`, which also covers the literal key `"source.ip"` and nested
//! `{"source":{"ip":…}}`). Each hit followed by `:` and a quoted string has that string
//! parsed as an address and looked up in the IoC set. A line is a candidate when one of
//! its address values is an IoC, or when it holds a backslash anywhere (an escaped key
//! or value could hide a match from the byte search; the full parser decides). So the
//! filter may keep lines that touch no IoC, but never drops one the full parser would
//! find touching one.

use std::net::{IpAddr, Ipv4Addr};

use flowmodel::{FieldMap, IocSet, normalize_ip};
use memchr::memmem;

/// Finds candidate lines in blocks of JSON Lines.
#[derive(Debug, Clone)]
pub(crate) struct Prefilter {
    /// The longest suffix common to every needle: one pass over the block finds every
    /// key (all IPFIX address keys end in `Address"`).
    suffix: memmem::Finder<'static>,
    /// The needles (`sourceIPAddress"`, …), checked backwards from each suffix hit.
    needles: Vec<Vec<u8>>,
}

impl Prefilter {
    /// A filter for the address fields of `map`.
    pub(crate) fn for_field_map(map: &FieldMap) -> Self {
        let segs = map
            .address_fields()
            .map(|p| p.rsplit('.').next().unwrap_or(p).to_owned());
        Self::for_keys(segs)
    }

    /// A filter for keys whose last segment is one of `keys`.
    pub(crate) fn for_keys(keys: impl IntoIterator<Item = String>) -> Self {
        let mut needles: Vec<Vec<u8>> = Vec::new();
        for k in keys {
            let mut n = k.into_bytes();
            n.push(b'"');
            if !needles.contains(&n) {
                needles.push(n);
            }
        }
        // A needle that ends another one (`ip"` ends `srcip"`) finds every hit of the
        // longer one too: drop the longer.
        let all = needles.clone();
        needles.retain(|n| !all.iter().any(|m| m != n && n.ends_with(m)));
        let mut suffix: &[u8] = needles.first().map_or(b"\"", Vec::as_slice);
        for n in &needles {
            let common = suffix
                .iter()
                .rev()
                .zip(n.iter().rev())
                .take_while(|(a, b)| a == b)
                .count();
            suffix = &suffix[suffix.len() - common..];
        }
        Self {
            suffix: memmem::Finder::new(suffix).into_owned(),
            needles,
        }
    }

    /// Appends to `out` the start offsets of the lines of `block` that may touch an IoC,
    /// sorted and without duplicates.
    pub(crate) fn candidates(&self, block: &[u8], iocs: &dyn IocSet, out: &mut Vec<usize>) {
        let first = out.len();
        let sl = self.suffix.needle().len();
        // The last few values looked up: the same address usually sits under two keys
        // of a line (`sourceIPAddress`, `sourceIPv4Address`).
        let mut cache: [(&[u8], bool); 4] = [(&[], false); 4];
        let mut slot = 0usize;
        for pos in self.suffix.find_iter(block) {
            let end = pos + sl;
            if !self.needles.iter().any(|n| ends_at(block, end, n)) {
                continue;
            }
            let Some(val) = quoted_value_after(&block[end..]) else {
                continue;
            };
            let hit = match cache.iter().find(|(v, _)| *v == val && !v.is_empty()) {
                Some(&(_, h)) => h,
                None => {
                    let h = is_ioc(val, iocs);
                    cache[slot] = (val, h);
                    slot = (slot + 1) % cache.len();
                    h
                }
            };
            if hit {
                out.push(line_start(block, pos));
            }
        }
        // Escapes: the byte search cannot see through them, the full parser can.
        let mut line_end = 0usize;
        for pos in memchr::memchr_iter(b'\\', block) {
            if pos < line_end {
                continue;
            }
            out.push(line_start(block, pos));
            line_end = memchr::memchr(b'\n', &block[pos..]).map_or(block.len(), |e| pos + e);
        }
        out[first..].sort_unstable();
        let mut tail = out.split_off(first);
        tail.dedup();
        out.extend(tail);
    }
}

/// Whether `block[..end]` ends with `needle`, compared from the end (needles sharing the
/// suffix differ just before it, so a mismatch is found at once).
#[inline]
fn ends_at(block: &[u8], end: usize, needle: &[u8]) -> bool {
    end >= needle.len()
        && block[..end]
            .iter()
            .rev()
            .zip(needle.iter().rev())
            .all(|(a, b)| a == b)
}

fn line_start(block: &[u8], pos: usize) -> usize {
    memchr::memrchr(b'\n', &block[..pos]).map_or(0, |p| p + 1)
}

/// After a key's closing quote: optional blanks, `:`, optional blanks, a quoted string
/// on the same line. Returns the string's bytes.
fn quoted_value_after(rest: &[u8]) -> Option<&[u8]> {
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < rest.len() && matches!(rest[*i], b' ' | b'\t' | b'\r') {
            *i += 1;
        }
    };
    skip_ws(&mut i);
    if rest.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    skip_ws(&mut i);
    if rest.get(i) != Some(&b'"') {
        return None;
    }
    i += 1;
    // An address is at most 45 characters (plus blanks the parser trims).
    let window = &rest[i..rest.len().min(i + 64)];
    let end = memchr::memchr2(b'"', b'\n', window)?;
    (window[end] == b'"').then(|| &window[..end])
}

/// Whether the text `val` (trimmed like the full parser does) is an address in `iocs`.
pub(crate) fn is_ioc(val: &[u8], iocs: &dyn IocSet) -> bool {
    match parse_ip_bytes(val) {
        Some(ip) => iocs.contains(ip),
        None => false,
    }
}

/// Parses an address from bytes, normalised; surrounding whitespace is trimmed.
pub(crate) fn parse_ip_bytes(val: &[u8]) -> Option<IpAddr> {
    let val = val.trim_ascii();
    if let Some(v4) = parse_v4(val) {
        return Some(IpAddr::V4(v4));
    }
    let s = std::str::from_utf8(val).ok()?;
    s.parse::<IpAddr>().ok().map(normalize_ip)
}

/// A strict dotted-quad parser (no leading zeros beyond a single `0`, as the standard
/// library's parser), fast on the common case.
fn parse_v4(b: &[u8]) -> Option<Ipv4Addr> {
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let mut oct = [0u8; 4];
    let mut n = 0usize;
    let mut cur: u32 = 0;
    let mut digits = 0;
    for &c in b {
        match c {
            b'0'..=b'9' => {
                if digits == 1 && cur == 0 {
                    return None; // leading zero
                }
                cur = cur * 10 + u32::from(c - b'0');
                digits += 1;
                if cur > 255 {
                    return None;
                }
            }
            b'.' => {
                if digits == 0 || n >= 3 {
                    return None;
                }
                oct[n] = cur as u8;
                n += 1;
                cur = 0;
                digits = 0;
            }
            _ => return None,
        }
    }
    if digits == 0 || n != 3 {
        return None;
    }
    oct[3] = cur as u8;
    Some(Ipv4Addr::from(oct))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn set(ips: &[&str]) -> HashSet<IpAddr> {
        ips.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn fast_v4_parser_agrees_with_std_on_odd_spellings() {
        for s in [
            "1.2.3.4",
            "01.2.3.4",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            "0.0.0.0",
            "1.2.3.04",
            "a.b.c.d",
        ] {
            assert_eq!(
                parse_v4(s.as_bytes()),
                s.parse::<Ipv4Addr>().ok(),
                "disagree on {s}"
            );
        }
    }

    #[test]
    fn ecs_nested_and_dotted_keys_are_both_found() {
        let f = Prefilter::for_field_map(&FieldMap::ecs());
        let block = b"{\"source\":{\"ip\":\"10.0.0.1\"},\"destination\":{\"ip\":\"10.0.0.2\"}}\n{\"source.ip\": \"10.0.0.9\",\"destination.ip\":\"10.0.0.3\"}\n{\"source.ip\":\"10.0.0.4\",\"destination.ip\":\"10.0.0.5\"}\n";
        let mut out = Vec::new();
        f.candidates(block, &set(&["10.0.0.2", "10.0.0.9"]), &mut out);
        let second = memchr::memchr(b'\n', block).unwrap() + 1;
        assert_eq!(out, vec![0, second]);
    }

    #[test]
    fn ipv4_mapped_ipv6_value_matches_its_ipv4_ioc() {
        let f = Prefilter::for_field_map(&FieldMap::ipfix());
        let block = br#"{"sourceIPAddress":"::ffff:192.0.2.7","destinationIPAddress":"::1"}"#;
        let mut out = Vec::new();
        f.candidates(block, &set(&["192.0.2.7"]), &mut out);
        assert_eq!(out, vec![0]);
    }
}
