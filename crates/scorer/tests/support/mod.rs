//! Test support: one day of flows → the daily run's output (IoC view, classifier
//! summaries) in a MemoryStore; CTU-13 captures and blocklists read by the production
//! readers (`flowsource`, `ioc_fetch`); the adjusted Rand index.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;

use chrono::NaiveDate;
use classifier::{ClassifierConfig, accumulate, classify_day};
use flowmodel::{IocSet, RawFlow, ViewContext, ioc_view, parse_ip};
use flowsource::{Format, Input, ScanOptions, ScanResult};
use ioc_fetch::{ParseOptions, ParsedList, parse_blocklist};
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

/// The flows of a binetflow capture that touch an IoC, read by the production reader
/// (`flowsource`, every flow sampled), each flow once, with the scan (line counts).
pub fn scan_binetflow(path: &Path, iocs: &dyn IocSet) -> (ScanResult, Vec<RawFlow>) {
    let opts = ScanOptions {
        format: Some(Format::Binetflow),
        sample_cap: usize::MAX,
        ..ScanOptions::new(iocs)
    };
    let res = flowsource::scan(&[Input::Path(path.into())], &opts)
        .unwrap_or_else(|e| panic!("cannot scan {}: {e}", path.display()));
    // A flow between two IoCs is under both keys: keep it under its source's only.
    let flows = (res.iocs.iter())
        .flat_map(|((_, ioc), hits)| hits.sample.iter().map(move |s| (*ioc, &s.raw)))
        .filter(|(ioc, f)| f.src == *ioc || !iocs.contains(f.src))
        .map(|(_, f)| f.clone())
        .collect();
    (res, flows)
}

/// Source addresses (4th column) of the binetflow rows whose label (15th) has `From-Normal`.
pub fn normal_hosts(path: &Path) -> HashSet<IpAddr> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    (text.lines().map(|l| l.split(',').collect::<Vec<_>>()))
        .filter(|c| c.len() > 14 && c[14].contains("From-Normal"))
        .filter_map(|c| parse_ip(c[3].trim()))
        .collect()
}

/// A blocklist file read by the production parser (`ioc_fetch`, default hygiene:
/// private/reserved and too-wide entries are set aside).
pub fn blocklist(path: &Path) -> ParsedList {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_blocklist(&bytes, &ParseOptions::default()).expect("blocklist parses")
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
