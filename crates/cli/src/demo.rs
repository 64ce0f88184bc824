//! `iocflow generate` and `iocflow demo`: the synthetic backbone with planted truth,
//! and a full run over it compared with that truth.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use chrono::NaiveDate;
use serde::Serialize;

use crate::args::{DemoArgs, FlowInputArgs, GenerateArgs, RunArgs, StoreArgs};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::sink::Results;
use crate::{Outcome, UsageError};

fn generator(
    base: flowgen::GenConfig,
    days: u32,
    flows_per_day: u64,
    iocs: usize,
    seed: u64,
) -> anyhow::Result<flowgen::Generator> {
    let cfg = flowgen::GenConfig {
        seed,
        days,
        flows_per_day,
        iocs,
        ..base
    };
    flowgen::Generator::new(cfg).map_err(|e| UsageError(format!("generator: {e}")).into())
}

/// `iocflow generate`.
pub fn generate(a: &GenerateArgs) -> anyhow::Result<Outcome> {
    let g = generator(
        flowgen::GenConfig::default(),
        a.days,
        a.flows_per_day,
        a.iocs,
        a.seed,
    )?;
    let paths = g
        .write_dir(&a.out, a.gzip)
        .with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "wrote {} days of {} flows, their blocklists and truth.json to {} ({} files)",
        a.days,
        a.flows_per_day,
        a.out.display(),
        paths.len()
    );
    Ok(Outcome::complete())
}

/// How a demo's results compare with the planted truth.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub days: u32,
    pub flows_per_day: u64,
    pub seed: u64,
    /// Share of (IoC, day) pairs whose class matches the planted class.
    pub ioc_class_accuracy: f64,
    /// Per class: (correct, planted).
    pub ioc_class_detail: BTreeMap<String, (u64, u64)>,
    /// Watched RemoteIPs that are planted bots ÷ watched RemoteIPs.
    pub checkin_precision: f64,
    /// Planted bots that were watched ÷ planted bots.
    pub checkin_recall: f64,
    /// Hosts merely contacted by an IoC that were watched (must be 0).
    pub contacted_only_watched: usize,
    /// Adjusted Rand index of the recovered families against the planted ones.
    pub family_ari: f64,
    /// Days after the planted relay move until the new relay was the top candidate.
    pub migration_found_after_days: Option<i64>,
    /// The planted new relay, and the top candidate reported.
    pub migration_new_relay: Option<String>,
    pub migration_top_candidate: Option<String>,
    /// Planted bots ranked above every benign RemoteIP by score.
    pub bots_rank_above_benign: bool,
    pub top_suspects: Vec<serde_json::Value>,
    pub families_found: usize,
    pub relay_candidates: usize,
    pub seconds: f64,
}

/// Adjusted Rand index of two labelings of the same items.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    let n = a.len();
    if n < 2 || n != b.len() {
        return 1.0;
    }
    let mut table: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    let mut ra: BTreeMap<usize, u64> = BTreeMap::new();
    let mut rb: BTreeMap<usize, u64> = BTreeMap::new();
    for (x, y) in a.iter().zip(b) {
        *table.entry((*x, *y)).or_default() += 1;
        *ra.entry(*x).or_default() += 1;
        *rb.entry(*y).or_default() += 1;
    }
    let c2 = |k: u64| (k * k.saturating_sub(1)) as f64 / 2.0;
    let index: f64 = table.values().map(|v| c2(*v)).sum();
    let sa: f64 = ra.values().map(|v| c2(*v)).sum();
    let sb: f64 = rb.values().map(|v| c2(*v)).sum();
    let total = c2(n as u64);
    let expected = sa * sb / total;
    let max = (sa + sb) / 2.0;
    if (max - expected).abs() < f64::EPSILON {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

/// `iocflow demo`.
pub fn demo(a: &DemoArgs, cfg: &Config, m: &mut Metrics, show: bool) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    let data_dir: PathBuf = a
        .data_dir
        .clone()
        .unwrap_or_else(|| cfg.store.data_dir.clone());
    let input = data_dir.join("demo-input");
    let g = generator(
        flowgen::GenConfig::demo(),
        a.days,
        a.flows_per_day,
        a.iocs,
        a.seed,
    )?;
    if !a.json {
        println!(
            "generating {} days of {} flows (seed {}) into {}",
            a.days,
            a.flows_per_day,
            a.seed,
            input.display()
        );
    }
    g.write_dir(&input, true)
        .with_context(|| format!("writing {}", input.display()))?;
    let truth = g.truth();
    let rt = crate::sink::runtime()?;
    let store_args = StoreArgs {
        data_dir: Some(data_dir.clone()),
        store_es: None,
    };
    let mut results = Results::open(&store_args, cfg, &rt)?;
    let dates: Vec<NaiveDate> = (0..a.days)
        .map(|d| g.date(d).map_err(|e| anyhow::anyhow!("{e}")))
        .collect::<anyhow::Result<_>>()?;
    let migration = truth.families.iter().find_map(|f| f.migration.clone());
    let mut found_after: Option<i64> = None;
    let mut top_candidate: Option<String> = None;
    let mut partial = Vec::new();
    let mut last_report = None;
    let mut quiet_metrics = Metrics::default();
    for date in &dates {
        let run = RunArgs {
            date: Some(*date),
            input: FlowInputArgs {
                flows: vec![input.join(format!("flows-{date}.jsonl.gz"))],
                format: None,
                es: None,
                flow_index: None,
                fields: None,
                sample_limit: None,
                sample_mode: None,
            },
            blocklist: Some(
                input
                    .join(format!("blocklist-{date}.txt"))
                    .display()
                    .to_string(),
            ),
            extra_iocs: None,
            allow_list: None,
            as_names: None,
            report: None,
            store: store_args.clone(),
        };
        let o = if a.json {
            crate::daily::run_with(
                &run,
                cfg,
                &mut quiet_metrics,
                false,
                &rt,
                &mut results,
                false,
            )?
        } else {
            crate::daily::run_with(&run, cfg, m, show, &rt, &mut results, true)?
        };
        partial.extend(o.partial);
        let report =
            crate::results::analyze_store(&mut results, Some(*date), cfg.scorer.window_days, cfg)?;
        if let (Some(mig), None) = (&migration, found_after) {
            let top = report.relay_candidates.iter().min_by_key(|c| c.rank);
            if let Some(top) = top.filter(|t| *date >= mig.day && t.ip == mig.new_relay) {
                found_after = Some((*date - mig.day).num_days());
                top_candidate = Some(top.ip.to_string());
            }
        }
        last_report = Some(report);
    }
    let report = last_report.context("no day was generated")?;
    if top_candidate.is_none() {
        top_candidate = report
            .relay_candidates
            .iter()
            .min_by_key(|c| c.rank)
            .map(|c| c.ip.to_string());
    }
    let cmp = compare(
        a,
        &truth,
        &results,
        &report,
        &dates,
        found_after,
        top_candidate,
        started,
    )?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&cmp)?);
    } else {
        print!("{}", crate::results::render_analysis(&report));
        println!("\nCompared with the planted truth:");
        println!("  IoC class accuracy       {:.3}", cmp.ioc_class_accuracy);
        for (class, (ok, n)) in &cmp.ioc_class_detail {
            println!("    {class:<10} {ok}/{n}");
        }
        println!("  check-in precision       {:.3}", cmp.checkin_precision);
        println!("  check-in recall          {:.3}", cmp.checkin_recall);
        println!("  contacted-only watched   {}", cmp.contacted_only_watched);
        println!("  family ARI               {:.3}", cmp.family_ari);
        println!(
            "  relay migration          {}",
            match (cmp.migration_found_after_days, &cmp.migration_new_relay) {
                (Some(d), Some(ip)) => format!("{ip} found {d} day(s) after the move"),
                (None, Some(ip)) => format!("{ip} NOT found"),
                _ => "none planted".into(),
            }
        );
        println!("  bots rank above benign   {}", cmp.bots_rank_above_benign);
        println!(
            "  took {:.1} s; results in {}",
            cmp.seconds,
            data_dir.display()
        );
    }
    m.set("demo_ioc_class_accuracy", &[], cmp.ioc_class_accuracy);
    m.set("demo_checkin_precision", &[], cmp.checkin_precision);
    m.set("demo_checkin_recall", &[], cmp.checkin_recall);
    m.set("demo_family_ari", &[], cmp.family_ari);
    Ok(Outcome { partial })
}

#[allow(clippy::too_many_arguments)]
fn compare(
    a: &DemoArgs,
    truth: &flowgen::GroundTruth,
    results: &Results,
    report: &scorer::AnalysisReport,
    dates: &[NaiveDate],
    found_after: Option<i64>,
    top_candidate: Option<String>,
    started: std::time::Instant,
) -> anyhow::Result<Comparison> {
    let (first, last) = (dates[0], dates[dates.len() - 1]);
    let src = results.source();
    // IoC classes, per (IoC, day).
    let stored: BTreeMap<(NaiveDate, IpAddr), flowmodel::IocClass> = src
        .ioc_summaries(first, last)?
        .into_iter()
        .map(|s| ((s.date, s.ioc_ip), s.class))
        .collect();
    let mut detail: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let (mut ok, mut all) = (0u64, 0u64);
    for ioc in &truth.iocs {
        for d in dates {
            let Some(expected) = truth.expected_class(ioc.ip, *d) else {
                continue;
            };
            let got = stored
                .get(&(*d, ioc.ip))
                .copied()
                .unwrap_or(flowmodel::IocClass::NoData);
            let e = detail.entry(expected.as_str().to_owned()).or_default();
            e.1 += 1;
            all += 1;
            if got == expected {
                e.0 += 1;
                ok += 1;
            }
        }
    }
    // Watched RemoteIPs against planted bots.
    let watched: BTreeSet<IpAddr> = src
        .remote_summaries(first, last)?
        .into_iter()
        .filter(|r| r.watched)
        .map(|r| r.remote_ip)
        .collect();
    let bots: BTreeSet<IpAddr> = truth.bots.iter().map(|b| b.ip).collect();
    let tp = watched.intersection(&bots).count() as f64;
    let precision = if watched.is_empty() {
        0.0
    } else {
        tp / watched.len() as f64
    };
    let recall = if bots.is_empty() {
        1.0
    } else {
        tp / bots.len() as f64
    };
    let contacted_only_watched = truth
        .contacted_only
        .iter()
        .filter(|ip| watched.contains(ip))
        .count();
    // Families: ARI over planted bots (a bot outside every found family is a singleton).
    let found: BTreeMap<IpAddr, usize> = report
        .families
        .iter()
        .enumerate()
        .flat_map(|(i, f)| f.members.iter().map(move |m| (*m, i)))
        .collect();
    let planted: BTreeMap<IpAddr, usize> = truth
        .families
        .iter()
        .flat_map(|f| f.members.iter().map(move |m| (*m, f.id as usize)))
        .collect();
    let items: Vec<IpAddr> = planted.keys().copied().collect();
    let la: Vec<usize> = items.iter().map(|ip| planted[ip]).collect();
    let lb: Vec<usize> = items
        .iter()
        .enumerate()
        .map(|(i, ip)| found.get(ip).copied().unwrap_or(1_000_000 + i))
        .collect();
    let ari = adjusted_rand_index(&la, &lb);
    // Ranking: every planted bot with a verdict above every benign RemoteIP.
    let rows = match results {
        Results::Sqlite(s) => s.verdicts(None)?,
        Results::Es(e) => e.verdict_rows(None)?,
    };
    let iocs: BTreeSet<IpAddr> = truth.iocs.iter().map(|i| i.ip).collect();
    let remote_rows: Vec<&store::VerdictRow> = rows
        .iter()
        .filter(|r| !iocs.contains(&r.ip) && r.score > 0.0)
        .collect();
    let min_bot = remote_rows
        .iter()
        .filter(|r| bots.contains(&r.ip))
        .map(|r| r.score)
        .fold(f64::INFINITY, f64::min);
    let max_benign = remote_rows
        .iter()
        .filter(|r| !bots.contains(&r.ip))
        .map(|r| r.score)
        .fold(f64::NEG_INFINITY, f64::max);
    let migration = truth.families.iter().find_map(|f| f.migration.clone());
    Ok(Comparison {
        days: a.days,
        flows_per_day: a.flows_per_day,
        seed: a.seed,
        ioc_class_accuracy: if all == 0 { 1.0 } else { ok as f64 / all as f64 },
        ioc_class_detail: detail,
        checkin_precision: precision,
        checkin_recall: recall,
        contacted_only_watched,
        family_ari: ari,
        migration_found_after_days: found_after,
        migration_new_relay: migration.map(|m| m.new_relay.to_string()),
        migration_top_candidate: top_candidate,
        bots_rank_above_benign: min_bot > max_benign,
        top_suspects: remote_rows
            .iter()
            .take(10)
            .map(|r| serde_json::json!({"ip": r.ip.to_string(), "score": r.score, "level": r.level, "bot": bots.contains(&r.ip)}))
            .collect(),
        families_found: report.families.len(),
        relay_candidates: report.relay_candidates.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::adjusted_rand_index;

    #[test]
    fn ari_is_one_for_identical_partitions_and_low_for_unrelated_ones() {
        assert!((adjusted_rand_index(&[0, 0, 1, 1, 2], &[5, 5, 7, 7, 9]) - 1.0).abs() < 1e-9);
        let r = adjusted_rand_index(&[0, 0, 0, 1, 1, 1], &[0, 1, 2, 0, 1, 2]);
        assert!(r < 0.1, "{r}");
    }
}
