//! Every threshold of the classifier, in one serde struct with documented defaults
//! (detection-anchors.md §9.11). Missing keys take their defaults, so a configuration
//! file only names what it changes.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// An inclusive port range `[lo, hi]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRange(pub u16, pub u16);

impl PortRange {
    /// Whether `p` lies in the range.
    pub fn contains(self, p: u16) -> bool {
        self.0 <= p && p <= self.1
    }
}

/// The classifier's configuration.
///
/// ```
/// let cfg: classifier::ClassifierConfig =
///     serde_json::from_str(r#"{"wide_min_flows": 20000, "scan": {"min_remote": 30}}"#).unwrap();
/// assert_eq!(cfg.wide_min_flows, 20000);
/// assert_eq!(cfg.scan.min_remote, 30);
/// assert_eq!(cfg.scan.le2_share, 0.9); // untouched keys keep their defaults
/// cfg.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifierConfig {
    /// An IoC with more flows than this in a day is `Wide` (default 10,000: the sample
    /// limit, beyond which the sample no longer describes the day).
    pub wide_min_flows: u64,
    /// Client (ephemeral) port ranges, inclusive (default `[[32768, 65535]]`: Linux's
    /// range starts at 32768, IANA/Windows Vista+ at 49152). Legacy Windows (1025–5000)
    /// is deliberately not listed: it overlaps real services (1433, 3306, 3389); roles
    /// there are decided by port stability and [`Self::service_ports`] instead.
    pub ephemeral_ranges: Vec<PortRange>,
    /// UDP source ports of amplification replies (US-CERT TA14-017A).
    pub amp_ports: Vec<u16>,
    /// Well-known service ports: break role ties (Zeek's `likely_server_ports` idea).
    pub service_ports: Vec<u16>,
    /// Ports a server calls back on after a client connects (ident, tcp/113, RFC 1413:
    /// IRC and SMTP servers query the client's ident port). Flows to these RemoteIP ports
    /// do not make the RemoteIP a server when it also talks to the IoC on other ports.
    pub callback_ports: Vec<u16>,
    /// How many top ports the summaries list (default 10).
    pub top_ports: usize,
    /// DoS rules.
    pub dos: DosConfig,
    /// Scan rules.
    pub scan: ScanConfig,
    /// Check-in (relay) rule.
    pub checkin: CheckinConfig,
    /// Role inference (which side of a pair is the server).
    pub roles: RoleConfig,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            wide_min_flows: 10_000,
            ephemeral_ranges: vec![PortRange(32768, 65535)],
            amp_ports: vec![
                17, 19, 53, 69, 111, 123, 137, 161, 389, 520, 1900, 5353, 11211, 27015, 27960,
            ],
            service_ports: vec![
                20, 21, 22, 23, 25, 53, 80, 88, 110, 111, 113, 123, 135, 137, 139, 143, 161, 389,
                443, 445, 465, 514, 587, 636, 993, 995, 1080, 1433, 1723, 1883, 3306, 3389, 5060,
                5222, 5432, 5900, 6379, 6667, 6697, 8000, 8080, 8443, 8888, 9200,
            ],
            callback_ports: vec![113],
            top_ports: 10,
            dos: DosConfig::default(),
            scan: ScanConfig::default(),
            checkin: CheckinConfig::default(),
            roles: RoleConfig::default(),
        }
    }
}

/// DoS rules (backscatter, reflection, flood, SYN flood).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DosConfig {
    /// Backscatter: minimum share of flows sent by the IoC (0.9).
    pub backscatter_send_share: f64,
    /// Backscatter: minimum share of the IoC's TCP `Send` flows with exactly RST,
    /// SYN|ACK or RST|ACK (0.9).
    pub backscatter_share: f64,
    /// Backscatter: minimum distinct RemoteIPs (20).
    pub min_remote: u64,
    /// Backscatter: minimum share of RemoteIPs with ≤ 2 flows (0.9).
    pub le2_share: f64,
    /// Reflection victim: minimum share of `Rcv` flows that are UDP from an
    /// amplification port (0.8).
    pub reflect_share: f64,
    /// Reflection victim: minimum distinct RemoteIPs (reflectors) (5).
    pub reflect_min_remote: u64,
    /// Reflection victim: minimum bytes per packet of those flows (300).
    pub reflect_bpp_min: f64,
    /// Flood: minimum share of octets carried by the busiest RemoteIP (0.9).
    pub top_remote_share: f64,
    /// Flood: minimum flows of the busiest pair (10).
    pub flood_min_flows: u64,
    /// Flood: minimum share of the busiest pair's TCP flows that are bare SYN (0.5).
    pub flood_syn_share: f64,
    /// Flood: packets of the busiest pair that make a flood on their own (10,000,000).
    pub flood_min_packets_day: u64,
    /// SYN flood towards the IoC (spoofed sources look like many check-ins): minimum
    /// `Rcv` TCP flows (1,000).
    pub syn_flood_min_flows: u64,
    /// SYN flood: minimum share of `Rcv` TCP flows that are bare SYN (0.9).
    pub syn_flood_share: f64,
}

impl Default for DosConfig {
    fn default() -> Self {
        Self {
            backscatter_send_share: 0.9,
            backscatter_share: 0.9,
            min_remote: 20,
            le2_share: 0.9,
            reflect_share: 0.8,
            reflect_min_remote: 5,
            reflect_bpp_min: 300.0,
            top_remote_share: 0.9,
            flood_min_flows: 10,
            flood_syn_share: 0.5,
            flood_min_packets_day: 10_000_000,
            syn_flood_min_flows: 1_000,
            syn_flood_share: 0.9,
        }
    }
}

/// Scan rules (horizontal, vertical).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanConfig {
    /// Minimum share of flows the IoC initiated, counting the replies it drew (0.8).
    pub send_share: f64,
    /// Minimum distinct RemoteIPs probed (20).
    pub min_remote: u64,
    /// Minimum distinct /24 (IPv6 /48) prefixes (5).
    pub min_remote_24: u64,
    /// Minimum share of probed RemoteIPs with ≤ 2 `Send` flows (0.9).
    pub le2_share: f64,
    /// Maximum median bytes per packet of `Send` flows when they are mostly TCP (80).
    pub bpp_max_tcp: f64,
    /// … when they are mostly UDP or ICMP (200).
    pub bpp_max_udp: f64,
    /// Minimum share of bare-SYN TCP `Send` flows, when TCP is present (0.7).
    pub syn_only_share: f64,
    /// Vertical: minimum distinct probed ports on one RemoteIP (5).
    pub vertical_min_ports: u64,
    /// Vertical: maximum RemoteIPs the IoC touches (3).
    pub vertical_max_remotes: u64,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            send_share: 0.8,
            min_remote: 20,
            min_remote_24: 5,
            le2_share: 0.9,
            bpp_max_tcp: 80.0,
            bpp_max_udp: 200.0,
            syn_only_share: 0.7,
            vertical_min_ports: 5,
            vertical_max_remotes: 3,
        }
    }
}

/// The check-in (relay) rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckinConfig {
    /// Minimum share of non-reply flows that belong to RemoteIP-initiated sessions on the
    /// IoC's check-in port (requests to it and answers from it) (0.9).
    pub session_share: f64,
    /// Minimum distinct RemoteIPs checking in (10).
    pub min_remote: u64,
    /// Minimum share of those RemoteIPs with ≤ 2 `Rcv` flows (0.8).
    pub le2_share: f64,
    /// Minimum share of `Rcv` flows on the most common IoC port (0.8).
    pub ioc_port_share: f64,
    /// RemoteIP ports must look like clients: share of `Rcv` flows from an ephemeral
    /// port at least this (0.7) …
    pub ephemeral_share: f64,
    /// … or no single RemoteIP port carries more than this share of `Rcv` flows (0.5):
    /// legacy Windows clients (1025–5000) vary their port without being ephemeral.
    pub remote_port_top_share_max: f64,
    /// Maximum median bytes per packet of `Rcv` flows (150).
    pub bpp_max: f64,
    /// Maximum median octets per RemoteIP per day, both directions (1,000).
    pub octets_per_remote_max: f64,
}

impl Default for CheckinConfig {
    fn default() -> Self {
        Self {
            session_share: 0.9,
            min_remote: 10,
            le2_share: 0.8,
            ioc_port_share: 0.8,
            ephemeral_share: 0.7,
            remote_port_top_share_max: 0.5,
            bpp_max: 150.0,
            octets_per_remote_max: 1_000.0,
        }
    }
}

/// Role inference for one (IoC, RemoteIP) pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoleConfig {
    /// A side is the server when its modal port carries at least this share of the
    /// pair's flows … (0.8)
    pub port_stability: f64,
    /// … while the pair has at least this many flows (4) and the other side shows
    /// ≥ min(5, flows / 2) distinct ports.
    pub min_flows: u64,
    /// A port used by at least this many RemoteIPs of the same IoC (on the IoC side) or
    /// reached on this many RemoteIPs (on the remote side) is a stable port (2).
    pub min_peers: u64,
}

impl Default for RoleConfig {
    fn default() -> Self {
        Self {
            port_stability: 0.8,
            min_flows: 4,
            min_peers: 2,
        }
    }
}

impl ClassifierConfig {
    /// Whether `p` is a client (ephemeral) port.
    pub fn is_ephemeral(&self, p: u16) -> bool {
        self.ephemeral_ranges.iter().any(|r| r.contains(p))
    }

    /// Whether `p` is a well-known service port.
    pub fn is_service(&self, p: u16) -> bool {
        self.service_ports.contains(&p)
    }

    /// Checks that shares lie in [0, 1] and ranges are ordered.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let shares = [
            (
                "dos.backscatter_send_share",
                self.dos.backscatter_send_share,
            ),
            ("dos.backscatter_share", self.dos.backscatter_share),
            ("dos.le2_share", self.dos.le2_share),
            ("dos.reflect_share", self.dos.reflect_share),
            ("dos.top_remote_share", self.dos.top_remote_share),
            ("dos.flood_syn_share", self.dos.flood_syn_share),
            ("dos.syn_flood_share", self.dos.syn_flood_share),
            ("scan.send_share", self.scan.send_share),
            ("scan.le2_share", self.scan.le2_share),
            ("scan.syn_only_share", self.scan.syn_only_share),
            ("checkin.session_share", self.checkin.session_share),
            ("checkin.le2_share", self.checkin.le2_share),
            ("checkin.ioc_port_share", self.checkin.ioc_port_share),
            ("checkin.ephemeral_share", self.checkin.ephemeral_share),
            (
                "checkin.remote_port_top_share_max",
                self.checkin.remote_port_top_share_max,
            ),
            ("roles.port_stability", self.roles.port_stability),
        ];
        for (key, v) in shares {
            if !(0.0..=1.0).contains(&v) {
                return Err(ConfigError::ShareOutOfRange { key, value: v });
            }
        }
        for r in &self.ephemeral_ranges {
            if r.0 > r.1 {
                return Err(ConfigError::BadRange { lo: r.0, hi: r.1 });
            }
        }
        Ok(())
    }
}
