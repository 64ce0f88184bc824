//! The TOML configuration file: every threshold, the field map, the stores and the
//! connections. Secrets are never read from it (see [`crate::secrets`]).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use flowmodel::FieldMap;
use serde::Deserialize;

/// The whole configuration. Every section is optional; defaults are documented on
/// each type.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Flow input settings.
    pub flows: FlowsConfig,
    /// Blocklist settings.
    pub blocklist: BlocklistConfig,
    /// Where results go.
    pub store: StoreConfig,
    /// The flow cluster (for `run --es`), also the default result cluster.
    pub es: esclient::ClientConfig,
    /// IoC classification thresholds.
    pub classifier: classifier::ClassifierConfig,
    /// Long-range scoring thresholds.
    pub scorer: scorer::ScorerConfig,
}

/// Flow input settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlowsConfig {
    /// Field-map preset (`ipfix`, `ecs`, `elastiflow`).
    pub fields: String,
    /// Overrides of single field paths on top of the preset.
    pub field_map: Option<FieldMap>,
    /// Flows kept per IoC and day (default 10,000).
    pub sample_limit: usize,
    /// `first` or `random` (default `random`: spread over the day, seeded by the date).
    pub sample_mode: String,
    /// Flow indices of a day for `run --es`, `{date}` = YYYY.MM.DD.
    pub index_pattern: Option<String>,
    /// IoCs per totals/`_msearch` batch against the cluster.
    pub batch_size: usize,
    /// Days back to look for watched hosts whose raw flows are kept (relay migration).
    pub watched_days: i64,
}

impl Default for FlowsConfig {
    fn default() -> Self {
        Self {
            fields: "ipfix".into(),
            field_map: None,
            sample_limit: 10_000,
            sample_mode: "random".into(),
            index_pattern: None,
            batch_size: 500,
            watched_days: 14,
        }
    }
}

impl FlowsConfig {
    /// The field map: the explicit map if given, else the preset.
    pub fn field_map(&self, preset_override: Option<&str>) -> anyhow::Result<FieldMap> {
        if let (Some(m), None) = (&self.field_map, preset_override) {
            return Ok(m.clone());
        }
        let name = preset_override.unwrap_or(&self.fields);
        FieldMap::preset(name).with_context(|| {
            format!(
                "unknown field-map preset {name:?} (known: {})",
                FieldMap::PRESETS.join(", ")
            )
        })
    }
}

/// Blocklist settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlocklistConfig {
    /// Source (file or URL without secrets; a URL with a token belongs in
    /// `IOCFLOW_BLOCKLIST_URL`).
    pub source: Option<String>,
    /// Allow-list file.
    pub allow_list: Option<PathBuf>,
    /// Extra CA file for the download.
    pub ca_file: Option<PathBuf>,
    /// Download timeout, seconds.
    pub timeout_secs: u64,
    /// Retries on network errors and 5xx.
    pub retries: u32,
    /// Largest body accepted, bytes.
    pub max_bytes: u64,
    /// Parsing and hygiene options.
    pub parse: ioc_fetch::ParseOptions,
}

impl Default for BlocklistConfig {
    fn default() -> Self {
        let f = ioc_fetch::FetchOptions::default();
        Self {
            source: None,
            allow_list: None,
            ca_file: None,
            timeout_secs: f.timeout.as_secs(),
            retries: f.retries,
            max_bytes: f.max_bytes,
            parse: ioc_fetch::ParseOptions::default(),
        }
    }
}

impl BlocklistConfig {
    /// Fetch options from this section.
    pub fn fetch_options(&self) -> ioc_fetch::FetchOptions {
        ioc_fetch::FetchOptions {
            timeout: std::time::Duration::from_secs(self.timeout_secs),
            retries: self.retries,
            max_bytes: self.max_bytes,
            ca_file: self.ca_file.clone(),
            ..ioc_fetch::FetchOptions::default()
        }
    }

    /// Parse options, with the allow-list file read in.
    pub fn parse_options(
        &self,
        allow_list: Option<&Path>,
    ) -> anyhow::Result<ioc_fetch::ParseOptions> {
        let mut opts = self.parse.clone();
        if let Some(path) = allow_list.or(self.allow_list.as_deref()) {
            opts = opts
                .with_allow_list_file(path)
                .with_context(|| format!("allow-list {}", path.display()))?;
        }
        Ok(opts)
    }
}

/// Where results go.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Embedded store directory (default `./iocflow-data`).
    pub data_dir: PathBuf,
    /// Result cluster URL (instead of the embedded store).
    pub es: Option<String>,
    /// Prefix of the result indices (default `iocflow`).
    pub index_prefix: String,
    /// Bulk batch size in bytes.
    pub bulk_bytes: usize,
    /// Replicas of daily indices after the load (None: leave as created).
    pub replicas: Option<u32>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./iocflow-data"),
            es: None,
            index_prefix: "iocflow".into(),
            bulk_bytes: 10 * 1024 * 1024,
            replicas: None,
        }
    }
}

impl Config {
    /// Reads the file, or the defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("config file {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_in_the_readme_parses() {
        let text = include_str!("../../../docs/iocflow.example.toml");
        let cfg: Config = toml::from_str(text).unwrap();
        assert_eq!(cfg.flows.sample_limit, 10_000);
        assert_eq!(cfg.classifier.wide_min_flows, 10_000);
        assert!(cfg.store.es.is_some());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Config>("[flows]\nsample_limt = 5\n").is_err());
    }
}
