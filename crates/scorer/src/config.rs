//! [`ScorerConfig`]: every threshold of the long-range run, with the defaults of
//! detection-anchors.md §9.11 (changes are documented on the field).
//!
//! Where the defaults or rules differ from §9, and why:
//!
//! - `roles.ephemeral` adds 1025–5000 to 32768–65535: the CTU-13 bots (Windows XP) use
//!   1037/1038; known service ports are never ephemeral.
//! - Roles carry a confidence (stable port 1.0, ephemeral range 0.9, service port 0.7,
//!   lower port 0.3) that multiplies the `C2CheckIn`/`AptTarget` confidence: P2P UDP
//!   between two high ports is not a check-in with full weight.
//! - `C2CheckIn` confidence also multiplies by the intra-day regularity
//!   `clamp((b − 0.5)/0.4, 0.1, 1)` when measurable: on generated data, clients of a
//!   listed web server otherwise outranked bots that had gone quiet.
//! - Coverage counts from a pair's first active day, not the whole window, so a bot
//!   infected a week ago is not penalised for the weeks before.
//! - `verdict.weak_cap` (1.5) and `verdict.strong_min` (0.2): weak evidence is capped and
//!   any decayed strong evidence ≥ 0.2 lifts the score by the cap, so scanning never
//!   outranks a relay check-in (§9.8 states the goal; this enforces it).
//! - `roles.relay_min_clients` (2), `roles.label_non_global` (false: bogon entries of
//!   lists such as FireHOL level 1 — multicast, private — produce no role labels).
//! - Families: candidates come from an inverted index on (IoC, port) instead of MinHash
//!   (exact, and fast enough at a relay's client count); the signature's bytes-per-packet
//!   must be within a ratio of 1.5 instead of equal 32-byte buckets (jitter straddled
//!   bucket edges); `family.min_confidence` (0.5) keeps unwatched, weak check-ins out.
//! - Migration: a peer is new when no member contacted its address in the baseline; the
//!   control sample is drawn from the window's ranked RemoteIPs.

use serde::{Deserialize, Serialize};

use crate::error::{Result, ScorerError};

/// An inclusive port range (`{ "from": 32768, "to": 65535 }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRange {
    /// First port of the range.
    pub from: u16,
    /// Last port of the range (inclusive).
    pub to: u16,
}

impl PortRange {
    /// Whether `port` lies in the range.
    pub fn contains(&self, port: u16) -> bool {
        self.from <= port && port <= self.to
    }
}

/// Role inference (§9.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RolesConfig {
    /// Client-like (ephemeral) port ranges. Default: 1025–5000 (Windows XP and older,
    /// the CTU-13 bots use 1037/1038) and 32768–65535 (Linux 32768–60999, IANA/Windows
    /// 49152–65535). A port in `service_ports` is never ephemeral.
    pub ephemeral: Vec<PortRange>,
    /// Known server ports: never ephemeral, and they break ties (Zeek's
    /// `likely_server_ports` idea).
    pub service_ports: Vec<u16>,
    /// A side is stable when its modal port carries at least this share of the flows.
    pub port_stability: f64,
    /// `AptTarget` needs the IoC to initiate on at least this many days.
    pub apt_min_days: usize,
    /// `AptTarget` needs the IoC to reach at most this many RemoteIPs on that port a day
    /// (more is a scan, not targeting).
    pub apt_max_targets: usize,
    /// An IoC is labelled `Relay` when at least this many RemoteIPs check in to it.
    pub relay_min_clients: usize,
    /// Whether IoC entries that cannot be Internet servers (private, multicast,
    /// link-local, reserved — the bogon ranges of lists like FireHOL level 1) produce
    /// role labels. Default false: talking to 239.255.255.250 is not a check-in.
    pub label_non_global: bool,
}

impl Default for RolesConfig {
    fn default() -> Self {
        Self {
            ephemeral: vec![
                PortRange {
                    from: 1025,
                    to: 5000,
                },
                PortRange {
                    from: 32768,
                    to: 65535,
                },
            ],
            service_ports: vec![
                20, 21, 22, 23, 25, 53, 80, 110, 111, 123, 135, 137, 139, 143, 161, 389, 443, 445,
                465, 514, 587, 636, 993, 995, 1080, 1194, 1433, 1521, 1723, 1883, 2049, 3128, 3306,
                3389, 4444, 5060, 5222, 5432, 5900, 6379, 6667, 6697, 8080, 8443, 8888, 9200,
                27017,
            ],
            port_stability: 0.8,
            apt_min_days: 3,
            apt_max_targets: 5,
            relay_min_clients: 2,
            label_non_global: false,
        }
    }
}

impl RolesConfig {
    /// Whether `port` is client-like.
    pub fn is_ephemeral(&self, port: u16) -> bool {
        !self.service_ports.contains(&port) && self.ephemeral.iter().any(|r| r.contains(port))
    }
}

/// Ranking and pattern compactness (§9.7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RankingConfig {
    /// How many RemoteIPs (by days seen) get the full pattern analysis; watched RemoteIPs
    /// are always analysed on top of these.
    pub top_n: usize,
    /// Repetitive when the RemoteIP has at most this many patterns…
    pub repetitive_max_patterns: usize,
    /// … the top one carries at least this share of its flows…
    pub repetitive_top_share: f64,
    /// … and it was seen on at least this many days (capped at the window length).
    pub min_days: usize,
}

impl Default for RankingConfig {
    fn default() -> Self {
        Self {
            top_n: 200,
            repetitive_max_patterns: 3,
            repetitive_top_share: 0.8,
            min_days: 7,
        }
    }
}

/// Beacon / periodicity measures (§9.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BeaconConfig {
    /// Fewest distinct timestamps in a day for the intra-day score (RITA v5: 4).
    pub min_timestamps: usize,
    /// A run of this many consecutive active days scores full consistency.
    pub ideal_run_days: usize,
}

impl Default for BeaconConfig {
    fn default() -> Self {
        Self {
            min_timestamps: 4,
            ideal_run_days: 7,
        }
    }
}

/// The verdict score (§9.8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VerdictConfig {
    /// Half-life of evidence in days (0 disables the decay).
    pub half_life_days: f64,
    /// Score of level `watch`.
    pub watch: f64,
    /// Score of level `suspicious`.
    pub suspicious: f64,
    /// Score of level `high`.
    pub high: f64,
    /// Weak evidence (`Scanner`, `RespondedToScanner`) adds at most this much to a score.
    pub weak_cap: f64,
    /// Decayed strong evidence (check-ins, relays, APT targets) of at least this much
    /// lifts the score by `weak_cap`, so weak evidence never outranks a relay check-in.
    pub strong_min: f64,
}

impl Default for VerdictConfig {
    fn default() -> Self {
        Self {
            half_life_days: 14.0,
            watch: 0.8,
            suspicious: 2.0,
            high: 4.0,
            weak_cap: 1.5,
            strong_min: 0.2,
        }
    }
}

/// Family grouping (§9.9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FamilyConfig {
    /// Days of check-ins a family is built from.
    pub window_days: usize,
    /// Edge when the Jaccard of the (IoC, port) sets reaches this…
    pub j_ioc: f64,
    /// … and the Jaccard of the active-day sets reaches this (and the signatures match).
    pub j_days: f64,
    /// Fewest members of a family.
    pub min_size: usize,
    /// A family keeps a previous family's id when their member Jaccard reaches this.
    pub keep_id_jaccard: f64,
    /// A RemoteIP the classifier never saw checking in joins a family only when its
    /// `C2CheckIn` confidence (without the repetitive bonus) reaches this.
    pub min_confidence: f64,
}

impl Default for FamilyConfig {
    fn default() -> Self {
        Self {
            window_days: 14,
            j_ioc: 0.5,
            j_days: 0.4,
            min_size: 5,
            keep_id_jaccard: 0.5,
            min_confidence: 0.5,
        }
    }
}

/// Relay migration (§9.10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MigrationConfig {
    /// A family stops when its activity falls below this share of its median activity…
    pub stop_ratio: f64,
    /// … on this many consecutive days.
    pub stop_days: usize,
    /// Days before the stop that form the baseline of known peers.
    pub baseline_days: usize,
    /// Days after the stop searched for new peers.
    pub after_days: usize,
    /// Fewest share of active members contacting a peer.
    pub min_support: f64,
    /// Fewest members contacting a peer.
    pub min_members: usize,
    /// Fewest migration score.
    pub min_score: f64,
    /// Non-member RemoteIPs used as the popularity control.
    pub control_sample: usize,
    /// Candidates reported per family.
    pub max_candidates: usize,
}

impl Default for MigrationConfig {
    fn default() -> Self {
        Self {
            stop_ratio: 0.2,
            stop_days: 2,
            baseline_days: 14,
            after_days: 3,
            min_support: 0.3,
            min_members: 5,
            min_score: 0.2,
            control_sample: 5000,
            max_candidates: 5,
        }
    }
}

/// Everything the long-range run reads from the configuration file (`[scorer]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScorerConfig {
    /// Days analysed, ending at `until` (1 works: one capture, one day).
    pub window_days: usize,
    /// Roles and labels.
    pub roles: RolesConfig,
    /// Ranking and compactness.
    pub ranking: RankingConfig,
    /// Periodicity.
    pub beacon: BeaconConfig,
    /// Scores and levels.
    pub verdict: VerdictConfig,
    /// Families.
    pub family: FamilyConfig,
    /// Relay migration.
    pub migration: MigrationConfig,
}

impl Default for ScorerConfig {
    fn default() -> Self {
        Self {
            window_days: 30,
            roles: RolesConfig::default(),
            ranking: RankingConfig::default(),
            beacon: BeaconConfig::default(),
            verdict: VerdictConfig::default(),
            family: FamilyConfig::default(),
            migration: MigrationConfig::default(),
        }
    }
}

impl ScorerConfig {
    /// Checks the values that would make the run meaningless.
    pub fn validate(&self) -> Result<()> {
        let bad = |k: &str| Err(ScorerError::Config(format!("{k} is out of range")));
        if self.window_days == 0 || self.window_days > 36_500 {
            return bad("window_days (must be 1 ..= 36500)");
        }
        let m = &self.migration;
        if self.family.window_days > 36_500 || m.baseline_days + m.after_days + m.stop_days > 3_650
        {
            return bad("family.window_days / migration days (too large)");
        }
        if self.verdict.half_life_days.is_nan() || self.verdict.half_life_days < 0.0 {
            return bad("verdict.half_life_days (must be ≥ 0)");
        }
        if !(self.verdict.watch <= self.verdict.suspicious
            && self.verdict.suspicious <= self.verdict.high)
        {
            return bad("verdict levels (need watch ≤ suspicious ≤ high)");
        }
        if self.family.window_days == 0 || self.migration.stop_days == 0 {
            return bad("family.window_days / migration.stop_days (must be ≥ 1)");
        }
        if self.roles.ephemeral.iter().any(|r| r.from > r.to) {
            return bad("roles.ephemeral (a range has from > to)");
        }
        Ok(())
    }
}
