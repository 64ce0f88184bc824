//! Command-line interface definition (clap). The flags are a contract: scripts rely on
//! them, so change them only with care.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const AFTER_HELP: &str = "\
Exit codes:
  0  complete: every stage ran on everything it was given
  1  failed: nothing usable was produced (see the error)
  2  usage or configuration error
  3  partial: results were written, but something was left out — the blocklist came
     from an earlier snapshot (fallback), documents were dead-lettered, some IoCs or
     input lines failed; the run report lists what

Secrets come only from the environment (or files named there), never from flags:
  IOCFLOW_ES_PASSWORD, IOCFLOW_ES_API_KEY, IOCFLOW_BLOCKLIST_URL
  (or IOCFLOW_ES_PASSWORD_FILE, IOCFLOW_ES_API_KEY_FILE, IOCFLOW_BLOCKLIST_URL_FILE)";

/// iocflow: NetFlow × a daily blocklist → a database of compromised hosts.
#[derive(Debug, Parser)]
#[command(name = "iocflow", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// TOML configuration file (thresholds, field map, stores, connections).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Write Prometheus textfile metrics of the command to this file.
    #[arg(long, global = true, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,
    /// More log output (repeat for more); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr, no progress bars.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where results are read from and written to.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Embedded store directory (SQLite), the default.
    #[arg(long, value_name = "DIR", conflicts_with = "store_es")]
    pub data_dir: Option<PathBuf>,
    /// Elasticsearch/OpenSearch URL of the result store instead of the embedded one.
    #[arg(long, value_name = "URL")]
    pub store_es: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// JSON Lines of raw flow documents.
    Json,
    /// JSON Lines of Elasticsearch hits ({"_index","_id","_source"}).
    EsHits,
    /// nfdump -o json.
    NfdumpJson,
    /// nfdump -o csv.
    NfdumpCsv,
    /// argus binetflow (CTU-13).
    Binetflow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SampleModeArg {
    /// The first flows in order (the published system's behaviour).
    First,
    /// A random sample spread over the day, seeded by the date (re-runs pick the same).
    Random,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum LevelArg {
    Watch,
    Suspicious,
    High,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The daily run: blocklist → flows → IoC view → store → classify → RemoteIPs.
    Run(RunArgs),
    /// The long-range run: rank RemoteIPs, label, score verdicts, families, relays.
    Analyze(AnalyzeArgs),
    /// Verdicts, highest score first.
    Suspects(SuspectsArgs),
    /// One IP's verdict, evidence by day, related IPs and family.
    Ip(IpArgs),
    /// Bot families (RemoteIPs checking in to the same relays on the same days).
    Families(ListArgs),
    /// Suspected new relays of families whose relay went quiet (a separate list, never
    /// mixed into the CERT's blocklist; usable with `run --extra-iocs`).
    Relays(ListArgs),
    /// Re-run the daily run for every day of a date range.
    Backfill(BackfillArgs),
    /// Blocklist tools: fetch, show, diff.
    #[command(subcommand)]
    Blocklist(BlocklistCommand),
    /// Write a synthetic backbone (flows, blocklists, ground truth) as files.
    Generate(GenerateArgs),
    /// Generate days, run and analyze them on the embedded store, and compare the
    /// results with the planted truth.
    Demo(DemoArgs),
}

#[derive(Debug, Clone, Args)]
pub struct FlowInputArgs {
    /// Flow files (plain or gzip), or `-` for stdin.
    #[arg(long, value_name = "PATH", num_args = 1.., conflicts_with = "es", required_unless_present = "es")]
    pub flows: Vec<PathBuf>,
    /// Format of the flow files (detected from the content when absent).
    #[arg(long, value_enum, requires = "flows")]
    pub format: Option<InputFormat>,
    /// Elasticsearch/OpenSearch URL to read flows from.
    #[arg(long, value_name = "URL", requires = "flow_index")]
    pub es: Option<String>,
    /// Flow indices of a day, `{date}` replaced by YYYY.MM.DD (e.g. `twaren-{date},tanet-{date}`).
    #[arg(long, value_name = "PATTERN")]
    pub flow_index: Option<String>,
    /// Field-map preset of the flow documents (ipfix, ecs, elastiflow).
    #[arg(long, value_name = "PRESET")]
    pub fields: Option<String>,
    /// Flows kept per IoC and day.
    #[arg(long, value_name = "N")]
    pub sample_limit: Option<usize>,
    /// How the kept flows are chosen.
    #[arg(long, value_enum)]
    pub sample_mode: Option<SampleModeArg>,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Day to run (YYYY-MM-DD). With files and no date: every day present in the input.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<chrono::NaiveDate>,
    #[command(flatten)]
    pub input: FlowInputArgs,
    /// Blocklist URL or file (a URL with a secret token belongs in IOCFLOW_BLOCKLIST_URL).
    #[arg(long, value_name = "URL|PATH")]
    pub blocklist: Option<String>,
    /// Extra IoC list (e.g. `iocflow relays --txt` output), matched like the blocklist.
    #[arg(long, value_name = "PATH")]
    pub extra_iocs: Option<PathBuf>,
    /// Allow-list (same formats as blocklists): entries covered by it are dropped.
    #[arg(long, value_name = "PATH")]
    pub allow_list: Option<PathBuf>,
    /// ASN → name table (`ASN,name` lines) for IocAsName/RemoteAsName.
    #[arg(long, value_name = "PATH")]
    pub as_names: Option<PathBuf>,
    /// Write the JSON run report here (default: DATA_DIR/reports/run-DATE.json).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AnalyzeArgs {
    /// Last day of the window (default: the newest day in the store).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub until: Option<chrono::NaiveDate>,
    /// Window length, e.g. `30d`, `7d`, `1d`.
    #[arg(long, value_name = "DAYS", default_value = "30d")]
    pub window: String,
    /// Print the analysis report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SuspectsArgs {
    /// Only IPs inside this network (an institution's address block).
    #[arg(long, value_name = "CIDR")]
    pub within: Option<ipnet::IpNet>,
    /// Only verdicts at or above this level.
    #[arg(long, value_enum)]
    pub min_level: Option<LevelArg>,
    /// At most this many rows.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// JSON array of objects.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV with a header row.
    #[arg(long)]
    pub csv: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct IpArgs {
    /// The address.
    pub addr: std::net::IpAddr,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// JSON output.
    #[arg(long)]
    pub json: bool,
    /// Plain list of addresses, one a line (usable as an IoC list).
    #[arg(long, conflicts_with = "json")]
    pub txt: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BackfillArgs {
    /// First day.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: chrono::NaiveDate,
    /// Last day (inclusive).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: chrono::NaiveDate,
    #[command(flatten)]
    pub input: FlowInputArgs,
    /// Blocklist URL or file used for every day (snapshots of those days win when present).
    #[arg(long, value_name = "URL|PATH")]
    pub blocklist: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum BlocklistCommand {
    /// Fetch a blocklist, parse it and keep a dated snapshot.
    Fetch {
        /// URL or file (default: IOCFLOW_BLOCKLIST_URL).
        source: Option<String>,
        /// Date of the snapshot (default: today, UTC).
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// JSON output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Parse a blocklist and show what it holds.
    Show {
        /// URL or file.
        source: String,
        /// Allow-list file.
        #[arg(long)]
        allow_list: Option<PathBuf>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Compare two snapshots (dates) or two files.
    Diff {
        /// Older snapshot date or file.
        old: String,
        /// Newer snapshot date or file.
        new: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Number of days.
    #[arg(long, default_value_t = 14)]
    pub days: u32,
    /// Flows per day (planted behaviour first, background fills the rest).
    #[arg(long, default_value_t = 3_000_000)]
    pub flows_per_day: u64,
    /// IoCs on each day's blocklist.
    #[arg(long, default_value_t = 3_000)]
    pub iocs: usize,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed (the same seed gives the same bytes).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Gzip the flow files.
    #[arg(long)]
    pub gzip: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Number of days.
    #[arg(long, default_value_t = 14)]
    pub days: u32,
    /// Flows per day.
    #[arg(long, default_value_t = 300_000)]
    pub flows_per_day: u64,
    /// IoCs on each day's blocklist.
    #[arg(long, default_value_t = 300)]
    pub iocs: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Embedded store directory (default ./iocflow-data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print the comparison with the planted truth as JSON.
    #[arg(long)]
    pub json: bool,
}
