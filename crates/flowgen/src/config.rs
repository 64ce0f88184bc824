//! The generator's configuration: scale, seed, networks and the mix of planted behaviours.

use chrono::NaiveDate;
use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use crate::error::GenError;

/// Everything that shapes a synthetic backbone. Same config (seed included) → same
/// bytes.
///
/// Three starting points: [`GenConfig::default`] (a realistic day: 3,000 IoCs,
/// 3 M flows a day of which ~1.8 M planted, 14 days), [`GenConfig::demo`] (what `iocflow demo` runs: 14 days,
/// small enough to write to disk in seconds) and [`GenConfig::small`] (CI-sized days of
/// about 60,000 flows).
///
/// `flows_per_day` is the day's total: the planted behaviours are generated first and
/// background traffic fills the rest. When the planted flows alone exceed it (wide IoCs
/// carry more than 10,000 flows each), the day holds just the planted flows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Day 0 (day `i` is `start + i` days; timestamps fall inside that UTC day).
    pub start: NaiveDate,
    /// Number of days.
    pub days: u32,
    /// Flows per day, planted and background together (see the type's doc).
    pub flows_per_day: u64,
    /// IoCs on the blocklist (the same list every day).
    pub iocs: usize,
    /// Internal (customer) IPv4 networks.
    pub internal_v4: Vec<Ipv4Net>,
    /// Internal IPv6 networks.
    pub internal_v6: Vec<Ipv6Net>,
    /// Live internal hosts (IPv4); IPv6 hosts are a tenth of that.
    pub internal_hosts: usize,
    /// External hosts the background talks to (IPv4); IPv6 hosts are a tenth of that.
    pub external_hosts: usize,
    /// Share of background connections over IPv6.
    pub ipv6_share: f64,
    /// Share of IoCs with no traffic on any day. IoCs of other kinds are silent on some
    /// days too, so a day's `NoData` share ends a little higher (≈ 45 % by default,
    /// design.md §4 expects 40–50 %).
    pub nodata_share: f64,
    /// Share of IoCs that are benign infrastructure with more than 10,000 flows a day.
    pub wide_share: f64,
    /// Flows a day of one wide IoC, drawn in `[min, max]` (min must exceed 10,000).
    pub wide_flows: (u64, u64),
    /// Share of IoCs that scan the internal networks.
    pub scanner_share: f64,
    /// SYN probes a day of one scanner, drawn in `[min, max]`.
    pub scan_probes: (u32, u32),
    /// Share of IoCs involved in DoS (floods from or to them, reflection onto them).
    pub dos_share: f64,
    /// Share of IoCs that merely send a few packets to a few internal hosts.
    pub contact_share: f64,
    /// IoCs repeatedly connecting to one internal host's server port (APT).
    pub apt: usize,
    /// Bot families, each checking in to one blocklisted relay. Family 0 migrates to a
    /// new relay (not on the blocklist) at day `days / 2` when `days >= 2`.
    pub families: usize,
    /// Bots per family, drawn log-uniformly in `[min, max]`.
    pub family_size: (usize, usize),
}

impl Default for GenConfig {
    fn default() -> Self {
        Self {
            seed: 0x10CF_1044,
            start: NaiveDate::from_ymd_opt(2025, 9, 1).expect("valid constant date"),
            days: 14,
            flows_per_day: 3_000_000,
            iocs: 3_000,
            internal_v4: vec![
                "140.112.0.0/16".parse().expect("valid constant net"),
                "163.26.0.0/16".parse().expect("valid constant net"),
                "120.126.0.0/16".parse().expect("valid constant net"),
            ],
            internal_v6: vec!["2001:288::/32".parse().expect("valid constant net")],
            internal_hosts: 40_000,
            external_hosts: 200_000,
            ipv6_share: 0.06,
            nodata_share: 0.34,
            wide_share: 0.05,
            wide_flows: (10_200, 12_000),
            scanner_share: 0.08,
            scan_probes: (60, 600),
            dos_share: 0.03,
            contact_share: 0.03,
            apt: 3,
            families: 6,
            family_size: (5, 200),
        }
    }
}

impl GenConfig {
    /// What `iocflow demo` runs: 14 days of 300,000 flows and 300 IoCs.
    pub fn demo() -> Self {
        Self {
            flows_per_day: 300_000,
            iocs: 300,
            internal_hosts: 10_000,
            external_hosts: 40_000,
            families: 5,
            ..Self::default()
        }
    }

    /// CI-sized: `days` days of about 60,000 flows, 60 IoCs, 3 families.
    pub fn small(seed: u64, days: u32) -> Self {
        Self {
            seed,
            days,
            flows_per_day: 60_000,
            iocs: 60,
            internal_hosts: 4_000,
            external_hosts: 10_000,
            wide_flows: (10_200, 11_000),
            scan_probes: (60, 200),
            apt: 1,
            families: 3,
            family_size: (12, 60),
            ..Self::default()
        }
    }

    /// Checks the configuration; [`crate::Generator::new`] calls it.
    pub fn validate(&self) -> Result<(), GenError> {
        let bad = |m: String| Err(GenError::InvalidConfig(m));
        if self.days == 0 {
            return bad("days must be at least 1".into());
        }
        if self
            .start
            .checked_add_days(chrono::Days::new(self.days as u64))
            .is_none()
        {
            return bad(format!(
                "start {} + {} days is out of range",
                self.start, self.days
            ));
        }
        if self.days > 3660 {
            return bad(format!("days = {} is more than ten years", self.days));
        }
        if self.iocs > 1_000_000 {
            return bad(format!("iocs = {} is more than 1,000,000", self.iocs));
        }
        if self.internal_hosts > 10_000_000 || self.external_hosts > 10_000_000 {
            return bad("internal_hosts and external_hosts must be at most 10,000,000".into());
        }
        if self.scan_probes.1 > 1_000_000 {
            return bad(format!(
                "scan_probes {:?} exceeds 1,000,000",
                self.scan_probes
            ));
        }
        if self.internal_v4.is_empty() {
            return bad("internal_v4 needs at least one network".into());
        }
        if let Some(n) = self.internal_v4.iter().find(|n| n.prefix_len() > 24) {
            return bad(format!("internal network {n} is smaller than a /24"));
        }
        if let Some(n) = self.internal_v4.iter().find(|n| n.prefix_len() < 8) {
            return bad(format!("internal network {n} is larger than a /8"));
        }
        let room: u64 = self
            .internal_v4
            .iter()
            .map(|n| (1u64 << (32 - n.prefix_len())) / 2)
            .sum();
        if (self.internal_hosts as u64) > room {
            return bad(format!(
                "internal_hosts {} needs internal_v4 networks with at least twice as many addresses",
                self.internal_hosts
            ));
        }
        if let Some(n) = self.internal_v6.iter().find(|n| n.prefix_len() > 48) {
            return bad(format!("internal network {n} is smaller than a /48"));
        }
        for (name, v) in [
            ("ipv6_share", self.ipv6_share),
            ("nodata_share", self.nodata_share),
            ("wide_share", self.wide_share),
            ("scanner_share", self.scanner_share),
            ("dos_share", self.dos_share),
            ("contact_share", self.contact_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("{name} = {v} is not in [0, 1]"));
            }
        }
        if self.ipv6_share > 0.0 && self.internal_v6.is_empty() {
            return bad("ipv6_share > 0 needs an internal_v6 network".into());
        }
        if self.wide_flows.0 <= 10_000 || self.wide_flows.0 > self.wide_flows.1 {
            return bad(format!(
                "wide_flows {:?} must be an interval above 10,000",
                self.wide_flows
            ));
        }
        if self.scan_probes.0 < 30 || self.scan_probes.0 > self.scan_probes.1 {
            return bad(format!(
                "scan_probes {:?} must be an interval starting at 30 or more",
                self.scan_probes
            ));
        }
        if self.family_size.0 < 5 || self.family_size.0 > self.family_size.1 {
            return bad(format!(
                "family_size {:?} must be an interval starting at 5 or more",
                self.family_size
            ));
        }
        if self.internal_hosts < 500 || self.external_hosts < 500 {
            return bad("internal_hosts and external_hosts must be at least 500".into());
        }
        let planted = self.families + self.apt;
        if planted > self.iocs {
            return bad(format!(
                "iocs {} is fewer than the {} relays and APT IoCs",
                self.iocs, planted
            ));
        }
        Ok(())
    }
}
