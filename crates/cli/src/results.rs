//! The long-range run and the result queries: `analyze`, `suspects`, `ip`, `families`,
//! `relays`.

use std::fmt::Write as _;

use anyhow::Context as _;
use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::args::{AnalyzeArgs, IpArgs, LevelArg, ListArgs, SuspectsArgs};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::sink::Results;
use crate::{Outcome, UsageError};

fn parse_window(w: &str) -> anyhow::Result<usize> {
    let digits = w.strip_suffix('d').unwrap_or(w);
    match digits.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(UsageError(format!(
            "--window {w:?}: expected a number of days such as 30d"
        ))
        .into()),
    }
}

/// Runs the scorer over the store, up to `until` (default: the newest day).
pub fn analyze_store(
    results: &mut Results,
    until: Option<NaiveDate>,
    window_days: usize,
    cfg: &Config,
) -> anyhow::Result<scorer::AnalysisReport> {
    let until = match until {
        Some(d) => d,
        None => *results
            .source()
            .days()?
            .last()
            .context("the store holds no day yet: run `iocflow run` first")?,
    };
    let mut scfg = cfg.scorer.clone();
    scfg.window_days = window_days;
    let report = match results {
        Results::Sqlite(s) => {
            let mut sink = &*s;
            scorer::analyze(until, &scfg, &*s, &mut sink)?
        }
        Results::Es(e) => {
            let mut sink = &**e;
            scorer::analyze(until, &scfg, &**e, &mut sink)?
        }
    };
    Ok(report)
}

/// `iocflow analyze`.
pub fn analyze(a: &AnalyzeArgs, cfg: &Config, m: &mut Metrics) -> anyhow::Result<Outcome> {
    let rt = crate::sink::runtime()?;
    let mut results = Results::open(&a.store, cfg, &rt)?;
    let window = parse_window(&a.window)?;
    let report = analyze_store(&mut results, a.until, window, cfg)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_analysis(&report));
    }
    m.set("verdicts_written", &[], report.verdicts_written as f64);
    m.set("families", &[], report.families.len() as f64);
    m.set(
        "relay_candidates",
        &[],
        report.relay_candidates.len() as f64,
    );
    Ok(Outcome::complete())
}

/// A readable page of an analysis.
pub fn render_analysis(r: &scorer::AnalysisReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "window {} .. {} ({} days with data): {} RemoteIPs seen, {} analysed, {} verdicts",
        r.from, r.until, r.data_days, r.remote_ips_seen, r.analysed_remotes, r.verdicts_written
    );
    let _ = writeln!(out, "\nTop suspects (RemoteIPs):");
    let _ = writeln!(
        out,
        "  {:<40} {:>7} {:<10} {:>4}  labels",
        "ip", "score", "level", "days"
    );
    for s in r.top_suspects.iter().take(20) {
        let labels: Vec<String> = s.labels.iter().map(|l| format!("{l:?}")).collect();
        let _ = writeln!(
            out,
            "  {:<40} {:>7.2} {:<10} {:>4}  {}",
            s.ip.to_string(),
            s.score,
            format!("{:?}", s.level).to_lowercase(),
            s.days_seen,
            labels.join(",")
        );
    }
    if !r.top_iocs.is_empty() {
        let _ = writeln!(out, "\nTop IoCs (relays, attackers):");
        for s in r.top_iocs.iter().take(10) {
            let labels: Vec<String> = s.labels.iter().map(|l| format!("{l:?}")).collect();
            let _ = writeln!(
                out,
                "  {:<40} {:>7.2} {:<10} {}",
                s.ip.to_string(),
                s.score,
                format!("{:?}", s.level).to_lowercase(),
                labels.join(",")
            );
        }
    }
    let _ = writeln!(out, "\nFamilies: {}", r.families.len());
    for f in &r.families {
        let relays: Vec<String> = f.relays.iter().map(|ip| ip.to_string()).collect();
        let _ = writeln!(
            out,
            "  {}  {} members, relays {}, {} .. {}, cohesion {:.2}",
            f.id,
            f.members.len(),
            relays.join(","),
            f.first_day,
            f.last_day,
            f.cohesion
        );
    }
    let _ = writeln!(out, "\nSuspected new relays: {}", r.relay_candidates.len());
    for c in &r.relay_candidates {
        let _ = writeln!(
            out,
            "  {}:{}  family {} (quiet since {}), support {:.2}, score {:.2}",
            c.ip, c.port, c.family_id, c.stop_day, c.support, c.score
        );
    }
    out
}

fn level_rank(level: &str) -> u8 {
    match level {
        "watch" => 1,
        "suspicious" => 2,
        "high" => 3,
        _ => 0,
    }
}

fn min_rank(l: LevelArg) -> u8 {
    match l {
        LevelArg::Watch => 1,
        LevelArg::Suspicious => 2,
        LevelArg::High => 3,
    }
}

fn verdict_rows(
    results: &Results,
    within: Option<&ipnet::IpNet>,
) -> anyhow::Result<Vec<store::VerdictRow>> {
    match results {
        Results::Sqlite(s) => Ok(s.verdicts(within)?),
        Results::Es(e) => e.verdict_rows(within),
    }
}

/// The CLI's view of one verdict (a stable, documented shape).
fn suspect_json(v: &store::VerdictRow) -> Value {
    let d = &v.doc;
    json!({
        "ip": v.ip.to_string(),
        "score": v.score,
        "level": v.level,
        "labels": d.get("labels").cloned().unwrap_or(json!([])),
        "first_seen": d.get("first_seen").cloned().unwrap_or(Value::Null),
        "last_seen": d.get("last_seen").cloned().unwrap_or(Value::Null),
        "days_seen": d.get("days_seen").cloned().unwrap_or(Value::Null),
        "subject": d.get("subject").cloned().unwrap_or(Value::Null),
        "family": d.get("family").cloned().unwrap_or(Value::Null),
    })
}

/// The `labels` array of a suspect object, as strings.
fn labels_of(item: &Value) -> Vec<String> {
    item["labels"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// `iocflow suspects`.
pub fn suspects(a: &SuspectsArgs, cfg: &Config) -> anyhow::Result<Outcome> {
    let rt = crate::sink::runtime()?;
    let results = Results::open(&a.store, cfg, &rt)?;
    let min = a.min_level.map(min_rank).unwrap_or(0);
    let rows: Vec<store::VerdictRow> = verdict_rows(&results, a.within.as_ref())?
        .into_iter()
        .filter(|v| level_rank(&v.level) >= min && v.score > 0.0)
        .take(a.limit.unwrap_or(usize::MAX))
        .collect();
    let items: Vec<Value> = rows.iter().map(suspect_json).collect();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&items)?);
    } else if a.csv {
        println!("ip,score,level,labels,first_seen,last_seen,days_seen");
        for i in &items {
            let labels = labels_of(i);
            println!(
                "{},{:.4},{},{},{},{},{}",
                csv_field(i["ip"].as_str().unwrap_or("")),
                i["score"].as_f64().unwrap_or(0.0),
                csv_field(i["level"].as_str().unwrap_or("")),
                csv_field(&labels.join(";")),
                i["first_seen"].as_str().unwrap_or(""),
                i["last_seen"].as_str().unwrap_or(""),
                i["days_seen"]
            );
        }
    } else {
        println!(
            "{:<40} {:>7} {:<10} {:<10} {:<10}  labels",
            "ip", "score", "level", "first", "last"
        );
        for i in &items {
            let labels = labels_of(i);
            println!(
                "{:<40} {:>7.2} {:<10} {:<10} {:<10}  {}",
                i["ip"].as_str().unwrap_or(""),
                i["score"].as_f64().unwrap_or(0.0),
                i["level"].as_str().unwrap_or(""),
                i["first_seen"].as_str().unwrap_or(""),
                i["last_seen"].as_str().unwrap_or(""),
                labels.join(",")
            );
        }
        if items.is_empty() {
            println!("(no verdicts: run `iocflow analyze` after `iocflow run`)");
        }
    }
    Ok(Outcome::complete())
}

/// `iocflow ip ADDR`.
pub fn ip(a: &IpArgs, cfg: &Config) -> anyhow::Result<Outcome> {
    let rt = crate::sink::runtime()?;
    let results = Results::open(&a.store, cfg, &rt)?;
    let net = ipnet::IpNet::from(flowmodel::normalize_ip(a.addr));
    let row = verdict_rows(&results, Some(&net))?.into_iter().next();
    let Some(row) = row else {
        if a.json {
            println!("null");
        } else {
            println!("{}: no verdict", a.addr);
        }
        return Ok(Outcome::complete());
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&row.doc)?);
        return Ok(Outcome::complete());
    }
    let d = &row.doc;
    println!("{}  score {:.2}  level {}", row.ip, row.score, row.level);
    println!(
        "seen {} .. {} ({} days), family {}",
        d["first_seen"].as_str().unwrap_or("-"),
        d["last_seen"].as_str().unwrap_or("-"),
        d["days_seen"],
        d["family"].as_str().unwrap_or("-")
    );
    if let Some(spans) = d["label_dates"].as_object() {
        for (label, span) in spans {
            println!(
                "  {label:<14} {} .. {}",
                span["first"].as_str().unwrap_or("?"),
                span["last"].as_str().unwrap_or("?")
            );
        }
    }
    if let Some(related) = d["related"].as_array() {
        let r: Vec<&str> = related.iter().filter_map(|x| x.as_str()).collect();
        println!("related: {}", r.join(", "));
    }
    if let Some(days) = d["evidence"].as_object() {
        println!("evidence by day:");
        for (day, ev) in days {
            let items: Vec<String> = ev["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|i| {
                            format!(
                                "{}{} ({:.2})",
                                i["label"].as_str().unwrap_or("?"),
                                i["peer"]
                                    .as_str()
                                    .map(|p| format!("@{p}"))
                                    .unwrap_or_default(),
                                i["points"].as_f64().unwrap_or(0.0)
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            println!("  {day}: {}", items.join(", "));
        }
    }
    Ok(Outcome::complete())
}

fn list_docs(results: &Results, families: bool) -> anyhow::Result<Vec<Value>> {
    match results {
        Results::Sqlite(s) => Ok(if families {
            s.families()?
        } else {
            s.relay_candidates()?
        }),
        Results::Es(e) => e.list_docs(families),
    }
}

/// `iocflow families`.
pub fn families(a: &ListArgs, cfg: &Config) -> anyhow::Result<Outcome> {
    let rt = crate::sink::runtime()?;
    let results = Results::open(&a.store, cfg, &rt)?;
    let docs = list_docs(&results, true)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&docs)?);
    } else if a.txt {
        for f in &docs {
            for m in f["members"].as_array().into_iter().flatten() {
                println!("{}", m.as_str().unwrap_or(""));
            }
        }
    } else {
        for f in &docs {
            let relays: Vec<&str> = f["relays"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str())
                .collect();
            println!(
                "{}  {} members  relays {}  {} .. {}",
                f["id"].as_str().unwrap_or("?"),
                f["members"].as_array().map(|m| m.len()).unwrap_or(0),
                relays.join(","),
                f["first_day"].as_str().unwrap_or("?"),
                f["last_day"].as_str().unwrap_or("?")
            );
        }
        if docs.is_empty() {
            println!("(no families)");
        }
    }
    Ok(Outcome::complete())
}

/// `iocflow relays`.
pub fn relays(a: &ListArgs, cfg: &Config) -> anyhow::Result<Outcome> {
    let rt = crate::sink::runtime()?;
    let results = Results::open(&a.store, cfg, &rt)?;
    let docs = list_docs(&results, false)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&docs)?);
    } else if a.txt {
        println!("# suspected new relays found by iocflow (not from the CERT's list)");
        for c in &docs {
            println!("{}", c["ip"].as_str().unwrap_or(""));
        }
    } else {
        for c in &docs {
            println!(
                "{}:{}  family {}  quiet since {}  support {:.2}  score {:.2}",
                c["ip"].as_str().unwrap_or("?"),
                c["port"],
                c["family_id"].as_str().unwrap_or("?"),
                c["stop_day"].as_str().unwrap_or("?"),
                c["support"].as_f64().unwrap_or(0.0),
                c["score"].as_f64().unwrap_or(0.0)
            );
        }
        if docs.is_empty() {
            println!("(no relay candidates)");
        }
    }
    Ok(Outcome::complete())
}
