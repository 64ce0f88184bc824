//! The daily run (design.md §1): blocklist → flows → IoC view → store → classify →
//! RemoteIPs → summaries, from files or from the flow cluster, into either store.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use flowmodel::{
    AsNames, Direction, FlowParser, IocClass, IocDayAcc, IocFlow, IocSet, RawFlow, ViewContext,
};
use ioc_fetch::Matcher;
use ipnet::IpNet;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use store::DayRecords;

use crate::args::{FlowInputArgs, InputFormat, RunArgs, SampleModeArg, StoreArgs};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::sink::Results;
use crate::{Outcome, UsageError};

/// The IoC set of a run plus the watched hosts whose raw flows are kept: flow sources
/// are asked for both in one pass.
pub struct ScanSet<'a> {
    pub iocs: &'a Matcher,
    pub watched: &'a FxHashSet<IpAddr>,
}

impl IocSet for ScanSet<'_> {
    fn contains(&self, ip: IpAddr) -> bool {
        self.iocs.contains_ip(ip) || self.watched.contains(&ip)
    }
}

/// What a flow source gives for one day: per matched address, the exact total and the
/// kept sample with the index (or file) each flow came from.
#[derive(Default)]
pub struct DayHits {
    pub hits: BTreeMap<IpAddr, (u64, Sample)>,
}

/// Kept flows of one address, each with the index (or file) it came from.
pub type Sample = Vec<(RawFlow, Arc<str>)>;

/// Stage timings and counts of one day, for the summary, the report and the metrics.
#[derive(Debug, Default, Clone, Serialize)]
pub struct DayReport {
    pub date: NaiveDate,
    pub iocs_per_class: BTreeMap<String, u64>,
    pub ioc_flows_stored: u64,
    pub remote_ips: u64,
    pub watched_remote_ips: u64,
    pub watched_raw_flows: u64,
    pub stage_seconds: BTreeMap<String, f64>,
}

/// Turns one day's hits into the day's records: IoC view, accumulators, classes,
/// RemoteIP summaries, and the raw flows of watched hosts.
pub fn process_day(
    date: NaiveDate,
    day: DayHits,
    iocs: &Matcher,
    watched: &FxHashSet<IpAddr>,
    as_names: &Arc<AsNames>,
    cfg: &classifier::ClassifierConfig,
) -> (DayRecords, DayReport) {
    let mut report = DayReport {
        date,
        ..DayReport::default()
    };
    let t = Instant::now();
    let mut flows: Vec<IocFlow> = Vec::new();
    let mut per_ioc: Vec<(IpAddr, u64, IocDayAcc)> = Vec::new();
    let mut watched_raw: Vec<RawFlow> = Vec::new();
    let mut contexts: FxHashMap<Arc<str>, ViewContext> = FxHashMap::default();
    for (key, (total, sample)) in day.hits {
        if iocs.contains_ip(key) {
            let mut acc = IocDayAcc::new();
            for (raw, from) in &sample {
                let ctx = contexts.entry(from.clone()).or_insert_with(|| ViewContext {
                    date,
                    from_index: from.clone(),
                    as_names: as_names.clone(),
                });
                // Only this IoC's side: a flow between two IoCs is in both samples,
                // and each IoC builds its own record.
                let sides = [
                    (raw.src == key).then_some(Direction::Send),
                    (raw.dst == key).then_some(Direction::Rcv),
                ];
                for dir in sides.into_iter().flatten() {
                    let rec = IocFlow::from_raw(raw, dir, total, ctx);
                    acc.add(&rec);
                    flows.push(rec);
                }
            }
            per_ioc.push((key, total, acc));
        } else if watched.contains(&key) {
            watched_raw.extend(
                sample
                    .into_iter()
                    .map(|(raw, _)| raw)
                    .filter(|raw| !iocs.contains_ip(raw.src) && !iocs.contains_ip(raw.dst)),
            );
        }
    }
    // Exact blocklist addresses without a single flow are NoData (design.md §4).
    let seen: FxHashSet<IpAddr> = per_ioc.iter().map(|(ip, _, _)| *ip).collect();
    for net in iocs.entries() {
        if net.prefix_len() == net.max_prefix_len() && !seen.contains(&net.addr()) {
            per_ioc.push((net.addr(), 0, IocDayAcc::new()));
        }
    }
    report
        .stage_seconds
        .insert("ioc_view".into(), t.elapsed().as_secs_f64());
    let t = Instant::now();
    let outcome = classifier::classify_day(date, &per_ioc, cfg);
    report
        .stage_seconds
        .insert("classify".into(), t.elapsed().as_secs_f64());
    for s in &outcome.iocs {
        *report
            .iocs_per_class
            .entry(s.class.as_str().to_owned())
            .or_default() += 1;
    }
    report.ioc_flows_stored = flows.len() as u64;
    report.remote_ips = outcome.remotes.len() as u64;
    report.watched_remote_ips = outcome.remotes.iter().filter(|r| r.watched).count() as u64;
    report.watched_raw_flows = watched_raw.len() as u64;
    (
        DayRecords {
            date,
            flows,
            iocs: outcome.iocs,
            remotes: outcome.remotes,
            watched_raw,
        },
        report,
    )
}

/// The blocklist of a run: fetched (or read), parsed, snapshotted, with fallback.
pub struct RunList {
    pub matcher: Matcher,
    pub acquired: ioc_fetch::Acquired,
    pub source_shown: String,
}

fn blocklist_source(
    arg: Option<&str>,
    cfg: &Config,
) -> anyhow::Result<(ioc_fetch::Source, String)> {
    let from_env = crate::secrets::from_env("IOCFLOW_BLOCKLIST_URL")?;
    let text = match (arg, &from_env, &cfg.blocklist.source) {
        (Some(a), _, _) => a.to_owned(),
        (None, Some(s), _) => s.expose().to_owned(),
        (None, None, Some(c)) => c.clone(),
        (None, None, None) => {
            return Err(UsageError(
                "no blocklist: give --blocklist, set IOCFLOW_BLOCKLIST_URL, or [blocklist] source in the config"
                    .into(),
            )
            .into());
        }
    };
    let source: ioc_fetch::Source = text
        .parse()
        .map_err(|e| UsageError(format!("blocklist source: {e}")))?;
    let shown = match &source {
        ioc_fetch::Source::Url(u) => u.redacted(),
        ioc_fetch::Source::Path(p) => p.display().to_string(),
    };
    Ok((source, shown))
}

/// Acquires the blocklist for `date` (and any extra IoC list) as one matcher.
pub fn acquire_list(
    rt: &tokio::runtime::Runtime,
    arg: Option<&str>,
    extra: Option<&Path>,
    allow_list: Option<&Path>,
    date: NaiveDate,
    data_dir: &Path,
    cfg: &Config,
) -> anyhow::Result<RunList> {
    let (source, shown) = blocklist_source(arg, cfg)?;
    let parse_opts = cfg.blocklist.parse_options(allow_list)?;
    let snapshots = ioc_fetch::SnapshotStore::new(data_dir.join("blocklists"));
    let acquired = rt
        .block_on(ioc_fetch::acquire(
            &source,
            date,
            &snapshots,
            &cfg.blocklist.fetch_options(),
            &parse_opts,
        ))
        .with_context(|| format!("blocklist {shown}"))?;
    let mut entries = acquired.list.entries.clone();
    if let Some(path) = extra {
        let bytes =
            std::fs::read(path).with_context(|| format!("extra IoC list {}", path.display()))?;
        let extra = ioc_fetch::parse_blocklist(&bytes, &parse_opts)
            .with_context(|| format!("extra IoC list {}", path.display()))?;
        entries.extend(extra.entries);
        entries = ioc_fetch::merge(entries).0;
    }
    let matcher = Matcher::new(&entries);
    tracing::info!(
        source = %shown,
        date_of_list = %acquired.date_of_list,
        fallback = acquired.fallback,
        entries = matcher.len(),
        set_aside = acquired.list.set_aside.len(),
        bad_lines = acquired.list.bad_lines.len(),
        "blocklist ready"
    );
    Ok(RunList {
        matcher,
        acquired,
        source_shown: shown,
    })
}

fn sample_mode(a: &FlowInputArgs, cfg: &Config) -> anyhow::Result<SampleModeArg> {
    if let Some(m) = a.sample_mode {
        return Ok(m);
    }
    match cfg.flows.sample_mode.as_str() {
        "first" => Ok(SampleModeArg::First),
        "random" => Ok(SampleModeArg::Random),
        other => Err(UsageError(format!(
            "[flows] sample_mode = {other:?}: expected \"first\" or \"random\""
        ))
        .into()),
    }
}

fn to_format(f: InputFormat) -> flowsource::Format {
    match f {
        InputFormat::Json => flowsource::Format::JsonRaw,
        InputFormat::EsHits => flowsource::Format::EsHits,
        InputFormat::NfdumpJson => flowsource::Format::NfdumpJson,
        InputFormat::NfdumpCsv => flowsource::Format::NfdumpCsv,
        InputFormat::Binetflow => flowsource::Format::Binetflow,
    }
}

/// Input statistics of a run.
#[derive(Debug, Default, Serialize)]
pub struct InputReport {
    pub inputs: Vec<String>,
    pub formats: Vec<(String, String)>,
    pub lines: u64,
    pub bytes: u64,
    pub flows_matched: u64,
    pub malformed: u64,
    pub bad_lines: Vec<String>,
    pub read_errors: Vec<String>,
    pub failed_iocs: Vec<String>,
}

/// Reads the day's (or every day's) hits from files.
fn hits_from_files(
    a: &FlowInputArgs,
    cfg: &Config,
    set: &ScanSet<'_>,
    date: Option<NaiveDate>,
    report: &mut InputReport,
) -> anyhow::Result<BTreeMap<NaiveDate, DayHits>> {
    let inputs: Vec<flowsource::Input> = a
        .flows
        .iter()
        .map(|p| flowsource::Input::from_arg(&p.to_string_lossy()))
        .collect();
    let mut opts = flowsource::ScanOptions::new(set);
    opts.format = a.format.map(to_format);
    opts.field_map = cfg.flows.field_map(a.fields.as_deref())?;
    opts.sample_cap = a.sample_limit.unwrap_or(cfg.flows.sample_limit);
    opts.date = date;
    opts.mode = match sample_mode(a, cfg)? {
        SampleModeArg::First => flowsource::SampleMode::First,
        // Seeded by the day when one is given; a multi-day scan uses one fixed seed, so
        // re-runs still pick the same flows.
        SampleModeArg::Random => match date {
            Some(d) => flowsource::SampleMode::random_for_date(d),
            None => flowsource::SampleMode::Random {
                seed: 0x10cf_1000_5eed,
            },
        },
    };
    let result = flowsource::scan(&inputs, &opts).map_err(|e| match e {
        e @ flowsource::ScanError::UnknownFormat { .. } => {
            anyhow::Error::new(UsageError(e.to_string()))
        }
        e => anyhow::Error::new(e),
    })?;
    report.inputs = inputs.iter().map(|i| i.display_name()).collect();
    report.formats = result
        .formats
        .iter()
        .map(|(f, fmt)| (f.clone(), format!("{fmt:?}")))
        .collect();
    report.lines = result.lines;
    report.bytes = result.bytes;
    report.flows_matched = result.flows_matched;
    report.malformed = result.malformed;
    report.bad_lines = result
        .bad_lines
        .iter()
        .map(|b| format!("{}:{}: {}", b.file, b.line, b.reason))
        .collect();
    report.read_errors = result
        .read_errors
        .iter()
        .map(|e| format!("{} (after {} bytes): {}", e.file, e.after_bytes, e.reason))
        .collect();
    for b in &report.bad_lines {
        tracing::warn!("bad input line {b}");
    }
    for e in &report.read_errors {
        tracing::error!("read error {e}");
    }
    let mut days: BTreeMap<NaiveDate, DayHits> = BTreeMap::new();
    for d in &result.days {
        days.entry(*d).or_default();
    }
    if let Some(d) = date {
        days.entry(d).or_default();
    }
    for ((day, ip), hits) in result.iocs {
        days.entry(day).or_default().hits.insert(
            ip,
            (
                hits.total,
                hits.sample
                    .into_iter()
                    .map(|s| (s.raw, s.from_index))
                    .collect(),
            ),
        );
    }
    Ok(days)
}

/// Reads the day's hits from the flow cluster.
fn hits_from_es(
    rt: &tokio::runtime::Runtime,
    a: &FlowInputArgs,
    cfg: &Config,
    list: &Matcher,
    watched: &FxHashSet<IpAddr>,
    date: NaiveDate,
    report: &mut InputReport,
) -> anyhow::Result<DayHits> {
    let url = a.es.as_deref().context("--es is required")?;
    let pattern = a
        .flow_index
        .as_deref()
        .or(cfg.flows.index_pattern.as_deref())
        .ok_or_else(|| UsageError("--flow-index PATTERN is required with --es".into()))?;
    let indices: Vec<String> = pattern
        .split(',')
        .map(|p| {
            p.trim()
                .replace("{date}", &date.format("%Y.%m.%d").to_string())
        })
        .filter(|p| !p.is_empty())
        .collect();
    let client = crate::sink::es_client(url, cfg)?;
    let fields = cfg.flows.field_map(a.fields.as_deref())?;
    let mut query_nets: Vec<IpNet> = list.entries().to_vec();
    query_nets.extend(
        watched
            .iter()
            .filter(|ip| !list.contains_ip(**ip))
            .map(|ip| IpNet::from(*ip)),
    );
    let mode = match sample_mode(a, cfg)? {
        SampleModeArg::First => esclient::SampleMode::First,
        SampleModeArg::Random => esclient::SampleMode::Random {
            seed: match flowsource::SampleMode::random_for_date(date) {
                flowsource::SampleMode::Random { seed } => seed,
                flowsource::SampleMode::First => 0,
            },
        },
    };
    let start = date
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0);
    let lookup = esclient::IocLookup {
        iocs: &query_nets,
        fields: &fields,
        indices: &indices,
        sample_cap: a.sample_limit.unwrap_or(cfg.flows.sample_limit),
        mode,
        batch_size: cfg.flows.batch_size,
        concurrency: cfg.es.concurrency,
        // `[start, end)`: the range filter is `lt` the next midnight, so the day's last
        // millisecond is still in.
        day_range: Some((start, start + 86_400_000)),
    };
    report.inputs = indices.clone();
    let results = rt
        .block_on(client.lookup_iocs(&lookup))
        .with_context(|| format!("flow lookup in {}", indices.join(",")))?;
    let parser = FlowParser::new(fields.clone());
    let mut day = DayHits::default();
    let mut index_names: FxHashMap<String, Arc<str>> = FxHashMap::default();
    for r in results {
        let mut per_addr: BTreeMap<IpAddr, Sample> = BTreeMap::new();
        for (index, id, source) in r.docs {
            report.lines += 1;
            match parser.parse(source.get().as_bytes()) {
                Ok(raw) => {
                    let from = index_names
                        .entry(index.clone())
                        .or_insert_with(|| Arc::from(index.as_str()))
                        .clone();
                    for side in [raw.src, raw.dst] {
                        if r.ioc.contains(&side) {
                            per_addr
                                .entry(side)
                                .or_default()
                                .push((raw.clone(), from.clone()));
                        }
                    }
                }
                Err(e) => {
                    report.malformed += 1;
                    if report.bad_lines.len() < 100 {
                        report.bad_lines.push(format!("{index}/_doc/{id}: {e}"));
                    }
                }
            }
        }
        if r.ioc.prefix_len() == r.ioc.max_prefix_len() {
            let flows = per_addr.remove(&r.ioc.addr()).unwrap_or_default();
            if r.total > 0 {
                day.hits.insert(r.ioc.addr(), (r.total, flows));
            }
        } else {
            // A network entry: each address seen is an IoC of its own; its total is
            // what its sample holds (exact while the network's total fits the cap).
            for (addr, flows) in per_addr {
                day.hits.insert(addr, (flows.len() as u64, flows));
            }
        }
    }
    report.flows_matched = day.hits.values().map(|(t, _)| *t).sum();
    Ok(day)
}

fn data_dir_of(store: &StoreArgs, cfg: &Config) -> PathBuf {
    store
        .data_dir
        .clone()
        .unwrap_or_else(|| cfg.store.data_dir.clone())
}

fn load_as_names(path: Option<&Path>) -> anyhow::Result<Arc<AsNames>> {
    let Some(path) = path else {
        return Ok(Arc::new(AsNames::new()));
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("AS name table {}", path.display()))?;
    let (names, bad) = AsNames::parse(&text);
    for line in bad.iter().take(10) {
        tracing::warn!("{}:{line}: not an `ASN,name` line", path.display());
    }
    Ok(Arc::new(names))
}

/// The JSON run report.
#[derive(Debug, Serialize)]
pub struct RunReport {
    pub started: String,
    pub blocklist: serde_json::Value,
    pub input: InputReport,
    pub days: Vec<DayReport>,
    pub store: String,
    pub stage_seconds: BTreeMap<String, f64>,
    pub partial: Vec<String>,
    pub exit_code: u8,
}

fn print_summary(r: &RunReport) {
    let mut out = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(
        out,
        "blocklist: {} entries ({}){}",
        r.blocklist["entries"],
        r.blocklist["source"].as_str().unwrap_or(""),
        if r.blocklist["fallback"] == true {
            format!(
                " — FALLBACK to the snapshot of {}",
                r.blocklist["date_of_list"].as_str().unwrap_or("?")
            )
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "input: {} lines, {} flows touching IoCs or watched hosts, {} malformed",
        r.input.lines, r.input.flows_matched, r.input.malformed
    );
    for d in &r.days {
        let classes: Vec<String> = IocClass::ALL
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c,
                    d.iocs_per_class.get(c.as_str()).copied().unwrap_or(0)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "{}: IoCs: {} | RemoteIPs {} (watched {}) | IoC-view flows stored {}",
            d.date,
            classes.join(", "),
            d.remote_ips,
            d.watched_remote_ips,
            d.ioc_flows_stored
        );
    }
    let stages: Vec<String> = r
        .stage_seconds
        .iter()
        .map(|(k, v)| format!("{k} {v:.2}s"))
        .collect();
    let _ = writeln!(out, "time: {}", stages.join(", "));
    let _ = writeln!(out, "results: {}", r.store);
    if !r.partial.is_empty() {
        let _ = writeln!(out, "PARTIAL: {}", r.partial.join("; "));
    }
    print!("{out}");
}

/// `iocflow run`.
pub fn run(a: &RunArgs, cfg: &Config, m: &mut Metrics, show: bool) -> anyhow::Result<Outcome> {
    let rt = crate::sink::runtime()?;
    let mut results = Results::open(&a.store, cfg, &rt)?;
    run_with(a, cfg, m, show, &rt, &mut results, true)
}

/// `iocflow run` on an open result store (the demo and backfill reuse it).
pub fn run_with(
    a: &RunArgs,
    cfg: &Config,
    m: &mut Metrics,
    show: bool,
    rt: &tokio::runtime::Runtime,
    results: &mut Results,
    print: bool,
) -> anyhow::Result<Outcome> {
    let started = chrono::Utc::now();
    let mut stage_seconds: BTreeMap<String, f64> = BTreeMap::new();
    let data_dir = data_dir_of(&a.store, cfg);
    let from_es = a.input.es.is_some();
    let list_date = a.date.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let t = Instant::now();
    let list = acquire_list(
        rt,
        a.blocklist.as_deref(),
        a.extra_iocs.as_deref(),
        a.allow_list.as_deref(),
        list_date,
        &data_dir,
        cfg,
    )?;
    stage_seconds.insert("blocklist".into(), t.elapsed().as_secs_f64());
    let mut partial = Vec::new();
    if list.acquired.fallback {
        partial.push(format!(
            "blocklist download failed ({}); used the snapshot of {}",
            list.acquired
                .fallback_reason
                .as_deref()
                .unwrap_or("unknown reason"),
            list.acquired.date_of_list
        ));
    }
    let as_names = load_as_names(a.as_names.as_deref())?;

    // The day of the flows: the given date; against the cluster without one, yesterday
    // (the list is fetched just before midnight, the run comes after it).
    let es_date = a
        .date
        .unwrap_or_else(|| list_date.pred_opt().unwrap_or(list_date));
    // Hosts watched on the days before: their raw flows are kept for relay migration.
    let watched = results.watched_hosts_before(
        if from_es { es_date } else { list_date },
        cfg.flows.watched_days,
    )?;

    let t = Instant::now();
    let mut input = InputReport::default();
    let spin = crate::progress::spinner("flows", show);
    let days: BTreeMap<NaiveDate, DayHits> = if from_es {
        let day = hits_from_es(
            rt,
            &a.input,
            cfg,
            &list.matcher,
            &watched,
            es_date,
            &mut input,
        )?;
        BTreeMap::from([(es_date, day)])
    } else {
        let set = ScanSet {
            iocs: &list.matcher,
            watched: &watched,
        };
        hits_from_files(&a.input, cfg, &set, a.date, &mut input)?
    };
    spin.finish_and_clear();
    stage_seconds.insert("flows".into(), t.elapsed().as_secs_f64());
    if input.malformed > 0 {
        partial.push(format!("{} malformed input lines skipped", input.malformed));
    }
    if !input.read_errors.is_empty() {
        partial.push(format!("{} input read errors", input.read_errors.len()));
    }
    if days.is_empty() {
        bail!("the input holds no flow at all: nothing to run");
    }

    let bar = crate::progress::bar(days.len() as u64, "days", show);
    let mut day_reports = Vec::new();
    for (date, hits) in days {
        let (records, mut rep) = process_day(
            date,
            hits,
            &list.matcher,
            &watched,
            &as_names,
            &cfg.classifier,
        );
        let t = Instant::now();
        let write = results.write_day(&records, rt)?;
        rep.stage_seconds
            .insert("store".into(), t.elapsed().as_secs_f64());
        if write.dead_lettered > 0 {
            partial.push(format!(
                "{}: {} documents dead-lettered to {}",
                date,
                write.dead_lettered,
                write.dead_letter_file.as_deref().unwrap_or("?")
            ));
        }
        for (k, v) in &rep.stage_seconds {
            *stage_seconds.entry(k.clone()).or_default() += v;
        }
        day_reports.push(rep);
        bar.inc(1);
    }
    bar.finish_and_clear();

    let acq = &list.acquired;
    let report = RunReport {
        started: started.to_rfc3339(),
        blocklist: serde_json::json!({
            "source": list.source_shown,
            "requested_date": acq.requested_date,
            "date_of_list": acq.date_of_list,
            "fallback": acq.fallback,
            "fallback_reason": acq.fallback_reason,
            "not_modified": acq.not_modified,
            "parsed": acq.list.parsed,
            "entries": list.matcher.len(),
            "set_aside": acq.list.set_aside.len(),
            "bad_lines": acq.list.bad_lines.len(),
            "unsupported": acq.list.unsupported.len(),
            "diff_vs_previous": acq.diff_vs_previous.as_ref().map(|d| serde_json::json!({
                "previous": acq.previous_date,
                "added": d.added.len(), "removed": d.removed.len(), "unchanged": d.unchanged.len(),
            })),
        }),
        input,
        days: day_reports,
        store: results.describe(),
        stage_seconds,
        exit_code: if partial.is_empty() {
            0
        } else {
            crate::EXIT_PARTIAL
        },
        partial: partial.clone(),
    };
    let report_json = serde_json::to_value(&report)?;
    for d in &report.days {
        results.put_run_report(d.date, &report_json)?;
    }
    let report_path = match &a.report {
        Some(p) => p.clone(),
        None => {
            let last = report.days.last().map(|d| d.date).unwrap_or(list_date);
            data_dir.join("reports").join(format!("run-{last}.json"))
        }
    };
    if let Some(parent) = report_path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("report directory {}", parent.display()))?;
    }
    std::fs::write(&report_path, serde_json::to_vec_pretty(&report_json)?)
        .with_context(|| format!("run report {}", report_path.display()))?;
    if print {
        print_summary(&report);
        println!("report: {}", report_path.display());
    }

    for d in &report.days {
        let date = d.date.to_string();
        for (class, n) in &d.iocs_per_class {
            m.set("iocs", &[("date", &date), ("class", class)], *n as f64);
        }
        m.set("remote_ips", &[("date", &date)], d.remote_ips as f64);
        m.set(
            "watched_remote_ips",
            &[("date", &date)],
            d.watched_remote_ips as f64,
        );
    }
    for (stage, s) in &report.stage_seconds {
        m.set("stage_seconds", &[("stage", stage)], *s);
    }
    m.set("input_malformed_lines", &[], report.input.malformed as f64);
    m.set("blocklist_entries", &[], list.matcher.len() as f64);
    m.set("blocklist_fallback", &[], f64::from(u8::from(acq.fallback)));
    Ok(Outcome { partial })
}

/// `iocflow backfill`: the daily run for every day of a range.
pub fn backfill(
    a: &crate::args::BackfillArgs,
    cfg: &Config,
    m: &mut Metrics,
    show: bool,
) -> anyhow::Result<Outcome> {
    if a.from > a.to {
        return Err(UsageError(format!("--from {} is after --to {}", a.from, a.to)).into());
    }
    let rt = crate::sink::runtime()?;
    let mut results = Results::open(&a.store, cfg, &rt)?;
    let mut partial = Vec::new();
    let mut d = a.from;
    while d <= a.to {
        let run = RunArgs {
            date: Some(d),
            input: a.input.clone(),
            blocklist: a.blocklist.clone(),
            extra_iocs: None,
            allow_list: None,
            as_names: None,
            report: None,
            store: a.store.clone(),
        };
        let o = run_with(&run, cfg, m, show, &rt, &mut results, true)?;
        partial.extend(o.partial.into_iter().map(|p| format!("{d}: {p}")));
        d = d.succ_opt().context("date overflow")?;
    }
    Ok(Outcome { partial })
}
