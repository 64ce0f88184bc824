//! The `iocflow` binary: wires blocklist fetching, flow sources, the IoC view, the
//! stores, the classifier and the scorer into the nightly run (`run`), the long-range
//! run (`analyze`), the result queries and the demo. Exit codes are listed in `--help`.

use std::process::ExitCode;

use clap::Parser as _;

mod args;
mod blocklist_cmd;
mod config;
mod daily;
mod demo;
mod esstore;
mod metrics;
mod progress;
mod results;
mod secrets;
mod sink;

use args::{Cli, Command, LogFormat};

/// How a command ended, for the exit code.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Why the results are partial (empty: complete).
    pub partial: Vec<String>,
}

impl Outcome {
    /// A complete outcome.
    pub fn complete() -> Self {
        Self::default()
    }
}

/// A configuration or usage problem (exit code 2), as opposed to a failure (1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Exit codes (documented in `--help` and the README).
pub const EXIT_FAILED: u8 = 1;
/// Usage or configuration error.
pub const EXIT_USAGE: u8 = 2;
/// Partial results.
pub const EXIT_PARTIAL: u8 = 3;

fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_target(false).init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    let mut metrics = metrics::Metrics::default();
    let started = std::time::Instant::now();
    let result = config::Config::load(cli.config.as_deref())
        .map_err(|e| anyhow::Error::new(UsageError(format!("{e:#}"))))
        .and_then(|cfg| dispatch(&cli, &cfg, &mut metrics));
    let code = match &result {
        Ok(o) if o.partial.is_empty() => 0,
        Ok(o) => {
            for why in &o.partial {
                tracing::warn!("partial: {why}");
            }
            EXIT_PARTIAL
        }
        Err(e) => {
            eprintln!("iocflow: error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                EXIT_USAGE
            } else {
                EXIT_FAILED
            }
        }
    };
    if let Some(path) = &cli.metrics_file {
        metrics.set("exit_code", &[], f64::from(code));
        metrics.set("duration_seconds", &[], started.elapsed().as_secs_f64());
        metrics.set(
            "last_run_timestamp_seconds",
            &[],
            chrono::Utc::now().timestamp() as f64,
        );
        if let Err(e) = metrics.write(path) {
            eprintln!("iocflow: cannot write metrics to {}: {e}", path.display());
        }
    }
    ExitCode::from(code)
}

fn dispatch(cli: &Cli, cfg: &config::Config, m: &mut metrics::Metrics) -> anyhow::Result<Outcome> {
    let show_progress = !cli.quiet;
    match &cli.command {
        Command::Run(a) => daily::run(a, cfg, m, show_progress),
        Command::Backfill(a) => daily::backfill(a, cfg, m, show_progress),
        Command::Analyze(a) => results::analyze(a, cfg, m),
        Command::Suspects(a) => results::suspects(a, cfg),
        Command::Ip(a) => results::ip(a, cfg),
        Command::Families(a) => results::families(a, cfg),
        Command::Relays(a) => results::relays(a, cfg),
        Command::Blocklist(c) => blocklist_cmd::run(c, cfg),
        Command::Generate(a) => demo::generate(a),
        Command::Demo(a) => demo::demo(a, cfg, m, show_progress),
    }
}
