//! The records the scorer writes: [`Verdict`] (one per IP), [`Family`] and
//! [`RelayCandidate`]. Field names are stable: the stores persist them as JSON.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What a piece of evidence says (names from design.md and detection-anchors.md §9.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Label {
    /// The IoC was on the blocklist and had data that day: recorded, never scored.
    BlocklistHit,
    /// The IoC scanned that day (weak, capped).
    Scanner,
    /// The IoC was a DoS victim or wide that day: recorded, never scored.
    NoiseClass,
    /// The RemoteIP checked in to a `CheckIn` IoC that day (daily classifier evidence).
    CheckInClient,
    /// The RemoteIP is a client of an IoC's stable server port (long-range evidence).
    C2CheckIn,
    /// The IoC receives check-ins from several RemoteIPs.
    Relay,
    /// An IoC repeatedly reaches a RemoteIP's stable server port.
    AptTarget,
    /// The IoC repeatedly reaches a RemoteIP's stable server port (the IoC's side).
    Attacker,
    /// The RemoteIP belongs to a bot family.
    FamilyMember,
}

impl Label {
    /// Threat level `t` (Slips scale: info 0, low 0.2, medium 0.5, high 0.8).
    pub fn threat(self) -> f64 {
        match self {
            Label::BlocklistHit | Label::NoiseClass => 0.0,
            Label::Scanner => 0.2,
            Label::CheckInClient | Label::FamilyMember => 0.5,
            Label::C2CheckIn | Label::Relay | Label::AptTarget | Label::Attacker => 0.8,
        }
    }

    /// Weak labels: capped in the score so they never outrank a check-in.
    pub fn is_weak(self) -> bool {
        matches!(self, Label::Scanner)
    }

    /// The name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::BlocklistHit => "BlocklistHit",
            Label::Scanner => "Scanner",
            Label::NoiseClass => "NoiseClass",
            Label::CheckInClient => "CheckInClient",
            Label::C2CheckIn => "C2CheckIn",
            Label::Relay => "Relay",
            Label::AptTarget => "AptTarget",
            Label::Attacker => "Attacker",
            Label::FamilyMember => "FamilyMember",
        }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose verdict it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Subject {
    /// A blocklisted address.
    Ioc,
    /// An address that talked to IoCs.
    Remote,
}

/// One piece of evidence on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// What it says.
    pub label: Label,
    /// Threat level.
    pub threat: f64,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// `threat × confidence`.
    pub points: f64,
    /// The other address (the IoC of a check-in, a client of a relay…), when one applies.
    pub peer: Option<IpAddr>,
    /// The measured values behind it (`daily_beacon`, `coverage`, `pattern_count`…).
    pub values: BTreeMap<String, f64>,
}

impl Evidence {
    /// Evidence with `points = t·c` (confidence clipped to [0, 1]).
    pub fn new(label: Label, confidence: f64, peer: Option<IpAddr>) -> Self {
        let c = if confidence.is_finite() {
            confidence.clamp(0.0, 1.0)
        } else {
            0.0
        };
        Self {
            label,
            threat: label.threat(),
            confidence: c,
            points: label.threat() * c,
            peer,
            values: BTreeMap::new(),
        }
    }

    /// Adds a measured value.
    pub fn with(mut self, key: &str, value: f64) -> Self {
        self.values.insert(key.to_owned(), value);
        self
    }
}

/// Everything known about one IP on one day.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DayEvidence {
    /// The evidence items.
    pub items: Vec<Evidence>,
    /// The day's score `D(d) = Σ_labels max t·c` (one contribution per label per day).
    pub points: f64,
    /// The part of `points` from weak labels.
    pub weak_points: f64,
}

impl DayEvidence {
    /// Recomputes `points` and `weak_points` from the items.
    pub fn recompute(&mut self) {
        let mut best: BTreeMap<Label, f64> = BTreeMap::new();
        for e in &self.items {
            let b = best.entry(e.label).or_insert(0.0);
            if e.points > *b {
                *b = e.points;
            }
        }
        self.points = best.values().sum();
        self.weak_points = best
            .iter()
            .filter(|(l, _)| l.is_weak())
            .map(|(_, v)| v)
            .sum();
    }
}

/// First and last day a label was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSpan {
    /// First day.
    pub first: NaiveDate,
    /// Last day.
    pub last: NaiveDate,
}

/// Verdict level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Below `watch`.
    None,
    /// Worth watching.
    Watch,
    /// Suspicious.
    Suspicious,
    /// Likely compromised (a RemoteIP) or likely relay/attacker (an IoC).
    High,
}

/// One document per IP (`_id` = `ip`): per-day evidence, labels and the decayed score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The address (the document id).
    pub ip: IpAddr,
    /// IoC or RemoteIP.
    pub subject: Subject,
    /// Score at `scored_at`, computed from `evidence` only.
    pub score: f64,
    /// Level of `score`.
    pub level: Level,
    /// Labels with positive evidence, sorted.
    pub labels: Vec<Label>,
    /// First and last day of every label.
    pub label_dates: BTreeMap<Label, LabelSpan>,
    /// First day with evidence.
    pub first_seen: Option<NaiveDate>,
    /// Last day with evidence.
    pub last_seen: Option<NaiveDate>,
    /// Days with evidence.
    pub days_seen: usize,
    /// IoCs (for a RemoteIP) or RemoteIPs (for an IoC) named by the evidence.
    pub related: Vec<IpAddr>,
    /// Family id, when the IP is a member of one.
    pub family: Option<String>,
    /// The day the score refers to.
    pub scored_at: NaiveDate,
    /// Evidence by day; re-running a day replaces its entry.
    pub evidence: BTreeMap<NaiveDate, DayEvidence>,
}

/// A group of RemoteIPs checking in to the same relays on the same days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Family {
    /// Stable id (kept from run to run while the membership overlaps).
    pub id: String,
    /// Members, sorted.
    pub members: Vec<IpAddr>,
    /// Relays (IoCs) the members check in to, sorted.
    pub relays: Vec<IpAddr>,
    /// Relay ports used.
    pub relay_ports: Vec<u16>,
    /// First day seen active.
    pub first_day: NaiveDate,
    /// Last day seen active.
    pub last_day: NaiveDate,
    /// Mean Jaccard of the family's edges.
    pub cohesion: f64,
    /// Share of members touching the relays, per day of the family window.
    pub activity: BTreeMap<NaiveDate, f64>,
}

/// A peer the members of a quiet family started to contact: a suspected new relay.
/// Kept apart from the blocklist; usable as an extra IoC list for the next run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelayCandidate {
    /// The suspected relay.
    pub ip: IpAddr,
    /// Its port.
    pub port: u16,
    /// IP protocol.
    pub protocol: u8,
    /// The family that moved.
    pub family_id: String,
    /// The relays it left.
    pub old_relays: Vec<IpAddr>,
    /// First quiet day.
    pub stop_day: NaiveDate,
    /// The run that found it.
    pub detected_on: NaiveDate,
    /// Members contacting it.
    pub members: usize,
    /// Members contacting it ÷ members active after the stop.
    pub support: f64,
    /// 1 − popularity among non-members ÷ support.
    pub specificity: f64,
    /// Share of member contacts on its modal port.
    pub port_coherence: f64,
    /// 1 when the median first contact is within 48 h of the stop, else 0.5.
    pub onset: f64,
    /// `support × specificity × port_coherence × onset`.
    pub score: f64,
    /// Rank within the family (1 = best).
    pub rank: usize,
}
