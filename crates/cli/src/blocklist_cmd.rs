//! `iocflow blocklist fetch|show|diff`.

use std::path::Path;

use anyhow::Context as _;
use chrono::NaiveDate;

use crate::args::BlocklistCommand;
use crate::config::Config;
use crate::{Outcome, UsageError};

fn data_dir(store: &crate::args::StoreArgs, cfg: &Config) -> std::path::PathBuf {
    store
        .data_dir
        .clone()
        .unwrap_or_else(|| cfg.store.data_dir.clone())
}

fn print_report(list: &ioc_fetch::ParsedList, json: bool) -> anyhow::Result<()> {
    let r = list.report();
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    println!(
        "parsed {} entries: {} usable ({} networks), {} set aside, {} bad lines, {} unsupported, {} allow-listed",
        r.parsed, r.entries, r.networks, r.set_aside, r.bad_lines, r.unsupported, r.allow_listed
    );
    for s in r.set_aside_list {
        println!("  set aside: line {}: {} ({:?})", s.line, s.entry, s.reason);
    }
    for b in r.bad_line_list {
        println!("  bad line {}: {:?}: {}", b.line, b.text, b.reason);
    }
    for u in r.unsupported_list {
        println!("  unsupported line {}: {:?}", u.line, u.text);
    }
    Ok(())
}

async fn fetch_bytes(source: &str, cfg: &Config) -> anyhow::Result<(Vec<u8>, String)> {
    let src: ioc_fetch::Source = source
        .parse()
        .map_err(|e| UsageError(format!("blocklist source: {e}")))?;
    let shown = match &src {
        ioc_fetch::Source::Url(u) => u.redacted(),
        ioc_fetch::Source::Path(p) => p.display().to_string(),
    };
    let fetched = ioc_fetch::fetch(&src, &cfg.blocklist.fetch_options())
        .await
        .with_context(|| format!("blocklist {shown}"))?;
    Ok((fetched.body, shown))
}

fn entries_of(
    spec: &str,
    snapshots: &ioc_fetch::SnapshotStore,
    opts: &ioc_fetch::ParseOptions,
) -> anyhow::Result<Vec<ipnet::IpNet>> {
    if let Ok(date) = spec.parse::<NaiveDate>() {
        return Ok(snapshots
            .load(date)
            .with_context(|| format!("snapshot {date} in {}", snapshots.dir().display()))?
            .list
            .entries);
    }
    let bytes = std::fs::read(Path::new(spec)).with_context(|| format!("blocklist file {spec}"))?;
    Ok(ioc_fetch::parse_blocklist(&bytes, opts)
        .with_context(|| format!("blocklist file {spec}"))?
        .entries)
}

/// Runs one blocklist subcommand.
pub fn run(c: &BlocklistCommand, cfg: &Config) -> anyhow::Result<Outcome> {
    let rt = crate::sink::runtime()?;
    match c {
        BlocklistCommand::Show {
            source,
            allow_list,
            json,
        } => {
            let opts = cfg.blocklist.parse_options(allow_list.as_deref())?;
            let (bytes, shown) = rt.block_on(fetch_bytes(source, cfg))?;
            let list = ioc_fetch::parse_blocklist(&bytes, &opts)
                .with_context(|| format!("blocklist {shown}"))?;
            print_report(&list, *json)?;
            Ok(Outcome::complete())
        }
        BlocklistCommand::Fetch {
            source,
            date,
            json,
            store,
        } => {
            let date = date.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let list = crate::daily::acquire_list(
                &rt,
                source.as_deref(),
                None,
                None,
                date,
                &data_dir(store, cfg),
                cfg,
            )?;
            let a = &list.acquired;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "source": list.source_shown,
                        "date_of_list": a.date_of_list,
                        "fallback": a.fallback,
                        "fallback_reason": a.fallback_reason,
                        "not_modified": a.not_modified,
                        "report": a.list.report(),
                        "diff_vs_previous": a.diff_vs_previous,
                    }))?
                );
            } else {
                println!(
                    "{}: snapshot {}{}",
                    list.source_shown,
                    a.date_of_list,
                    if a.fallback {
                        " (FALLBACK: the download failed)"
                    } else {
                        ""
                    }
                );
                print_report(&a.list, false)?;
                if let Some(d) = &a.diff_vs_previous {
                    println!(
                        "vs {}: {} added, {} removed, {} unchanged",
                        a.previous_date.map(|d| d.to_string()).unwrap_or_default(),
                        d.added.len(),
                        d.removed.len(),
                        d.unchanged.len()
                    );
                }
            }
            let partial = if a.fallback {
                vec![format!(
                    "download failed; using the snapshot of {}",
                    a.date_of_list
                )]
            } else {
                vec![]
            };
            Ok(Outcome { partial })
        }
        BlocklistCommand::Diff {
            old,
            new,
            json,
            store,
        } => {
            let snapshots = ioc_fetch::SnapshotStore::new(data_dir(store, cfg).join("blocklists"));
            let opts = cfg.blocklist.parse_options(None)?;
            let a = entries_of(old, &snapshots, &opts)?;
            let b = entries_of(new, &snapshots, &opts)?;
            let d = ioc_fetch::diff_entries(&a, &b);
            if *json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                for e in &d.added {
                    println!("+ {e}");
                }
                for e in &d.removed {
                    println!("- {e}");
                }
                println!(
                    "{} added, {} removed, {} unchanged",
                    d.added.len(),
                    d.removed.len(),
                    d.unchanged.len()
                );
            }
            Ok(Outcome::complete())
        }
    }
}
