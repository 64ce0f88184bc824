//! Test support: one day of flows → the daily run's output (IoC view, classifier
//! summaries) in a MemoryStore; a minimal CTU-13 binetflow reader; the adjusted Rand
//! index.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use chrono::{NaiveDate, NaiveDateTime};
use classifier::{ClassifierConfig, accumulate, classify_day};
use flowmodel::{IocSet, RawFlow, ViewContext, ioc_view, parse_ip, protocol_by_name};
use scorer::MemoryStore;

/// Runs the daily pipeline for one day (IoC view with exact totals, the classifier) and
/// stores its output plus the raw flows.
pub fn load_day<S: IocSet>(
    store: &mut MemoryStore,
    date: NaiveDate,
    raw: Vec<RawFlow>,
    iocs: &S,
    ccfg: &ClassifierConfig,
) {
    let mut totals: HashMap<IpAddr, u64> = HashMap::new();
    for f in &raw {
        for ip in [f.src, f.dst] {
            if iocs.contains(ip) {
                *totals.entry(ip).or_insert(0) += 1;
            }
        }
    }
    let ctx = ViewContext::new(date, "test");
    let recs: Vec<_> = raw
        .iter()
        .flat_map(|f| ioc_view(f, iocs, |ip| totals.get(&ip).copied().unwrap_or(0), &ctx))
        .collect();
    let accs = accumulate(&recs);
    let day = classify_day(date, &accs, ccfg);
    store.put_day(date, day.iocs, day.remotes, recs, raw);
}

/// Adjusted Rand index of two labelings of the same items.
pub fn adjusted_rand_index(truth: &[u64], pred: &[u64]) -> f64 {
    assert_eq!(truth.len(), pred.len());
    let n = truth.len() as f64;
    let c2 = |x: f64| x * (x - 1.0) / 2.0;
    let mut table: HashMap<(u64, u64), f64> = HashMap::new();
    let mut a: HashMap<u64, f64> = HashMap::new();
    let mut b: HashMap<u64, f64> = HashMap::new();
    for (t, p) in truth.iter().zip(pred) {
        *table.entry((*t, *p)).or_insert(0.0) += 1.0;
        *a.entry(*t).or_insert(0.0) += 1.0;
        *b.entry(*p).or_insert(0.0) += 1.0;
    }
    let index: f64 = table.values().map(|&x| c2(x)).sum();
    let sa: f64 = a.values().map(|&x| c2(x)).sum();
    let sb: f64 = b.values().map(|&x| c2(x)).sum();
    let expected = sa * sb / c2(n);
    let max = 0.5 * (sa + sb);
    if (max - expected).abs() < f64::EPSILON {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

/// Exact addresses and IPv4 networks, as a sorted list of ranges.
#[derive(Default)]
pub struct NetSet {
    v4: Vec<(u32, u32)>,
    exact: HashSet<IpAddr>,
}

impl NetSet {
    /// Reads a one-entry-a-line list (`#` comments, `a.b.c.d` or `a.b.c.d/n`).
    pub fn parse(text: &str) -> Self {
        let mut s = NetSet::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            match line.split_once('/') {
                Some((a, n)) => {
                    let (Ok(a), Ok(n)) = (a.parse::<std::net::Ipv4Addr>(), n.parse::<u32>()) else {
                        continue;
                    };
                    if n > 32 {
                        continue;
                    }
                    let mask = if n == 0 { 0 } else { u32::MAX << (32 - n) };
                    let lo = u32::from(a) & mask;
                    s.v4.push((lo, lo | !mask));
                }
                None => {
                    if let Some(ip) = parse_ip(line) {
                        s.exact.insert(ip);
                    }
                }
            }
        }
        s.merge();
        s
    }

    fn merge(&mut self) {
        self.v4.sort();
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(self.v4.len());
        for r in self.v4.drain(..) {
            match out.last_mut() {
                Some(last) if r.0 <= last.1.saturating_add(1) => last.1 = last.1.max(r.1),
                _ => out.push(r),
            }
        }
        self.v4 = out;
    }

    /// Adds the entries of another set.
    pub fn extend(&mut self, o: NetSet) {
        self.v4.extend(o.v4);
        self.merge();
        self.exact.extend(o.exact);
    }
}

impl IocSet for NetSet {
    fn contains(&self, ip: IpAddr) -> bool {
        if self.exact.contains(&ip) {
            return true;
        }
        let IpAddr::V4(v4) = ip else { return false };
        let x = u32::from(v4);
        // Disjoint ranges sorted by start: the last one starting at or before x.
        let i = self.v4.partition_point(|r| r.0 <= x);
        i > 0 && self.v4[i - 1].1 >= x
    }
}

/// One CTU-13 row reduced to its one-way flows.
pub struct BiRow {
    /// Initiator.
    pub src: IpAddr,
    /// The row's label.
    pub label: String,
    /// Forward flow, plus the reverse one when bytes came back.
    pub flows: Vec<RawFlow>,
}

fn port(s: &str) -> u16 {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x") {
        return u16::from_str_radix(h, 16).unwrap_or(0);
    }
    s.parse().unwrap_or(0)
}

fn flags(s: &str) -> u16 {
    s.chars()
        .map(|c| match c {
            'F' => 0x01,
            'S' => 0x02,
            'R' => 0x04,
            'P' => 0x08,
            'A' => 0x10,
            'U' => 0x20,
            _ => 0,
        })
        .fold(0, |a, b| a | b)
}

/// Parses one binetflow row (`None` for the header, ARP and rows without an IP pair).
pub fn parse_row(line: &str) -> Option<BiRow> {
    let c: Vec<&str> = line.split(',').collect();
    if c.len() < 15 {
        return None;
    }
    let t = NaiveDateTime::parse_from_str(c[0], "%Y/%m/%d %H:%M:%S%.f").ok()?;
    let ms = t.and_utc().timestamp_millis();
    let dur_ms = (c[1].parse::<f64>().unwrap_or(0.0) * 1000.0) as i64;
    let proto = protocol_by_name(c[2].trim())?;
    let (src, dst) = (parse_ip(c[3].trim())?, parse_ip(c[6].trim())?);
    let (sp, dp) = (port(c[4]), port(c[7]));
    let (fs, rs) = c[8].split_once('_').unwrap_or((c[8], ""));
    let pkts: u64 = c[11].trim().parse().ok()?;
    let tot: u64 = c[12].trim().parse().ok()?;
    let sb: u64 = c[13].trim().parse().ok()?;
    let rb = tot.saturating_sub(sb);
    let fp = if rb == 0 || tot == 0 {
        pkts
    } else {
        ((pkts as f64 * sb as f64 / tot as f64).round() as u64)
            .clamp(1, pkts.saturating_sub(1).max(1))
    };
    let mk = |s, d, spt, dpt, fl: &str, oct, pk| RawFlow {
        src: s,
        dst: d,
        src_port: spt,
        dst_port: dpt,
        protocol: proto,
        tcp_flags: if proto == 6 { flags(fl) } else { 0 },
        octets: oct,
        packets: pk,
        start_ms: ms,
        end_ms: Some(ms + dur_ms),
        exporter: None,
        src_as: 0,
        dst_as: 0,
        src_geo: None,
        dst_geo: None,
    };
    let mut flows = vec![mk(src, dst, sp, dp, fs, sb, fp.max(1))];
    if rb > 0 {
        flows.push(mk(dst, src, dp, sp, rs, rb, pkts.saturating_sub(fp).max(1)));
    }
    Some(BiRow {
        src,
        label: c[14].trim().to_owned(),
        flows,
    })
}

/// The shared data directory.
pub fn data_dir() -> std::path::PathBuf {
    std::env::var_os("IOCFLOW_DATA")
        .map(Into::into)
        .unwrap_or_else(|| "/work/shared/data".into())
}

/// Verdict scores by IP.
pub fn scores(store: &MemoryStore) -> BTreeMap<IpAddr, f64> {
    store.verdicts.iter().map(|(k, v)| (*k, v.score)).collect()
}
