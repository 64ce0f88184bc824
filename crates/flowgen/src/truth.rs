//! The planted truth: what every IoC is, who the bots are, which hosts were merely
//! contacted. Serialised as JSON (`truth.json`) beside the flow and blocklist files.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::NaiveDate;
use flowmodel::IocClass;
use serde::{Deserialize, Serialize};

/// The operating system a client's ephemeral ports come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClientOs {
    /// Linux default range 32768–60999.
    Linux,
    /// Windows Vista and later (IANA range) 49152–65535.
    Windows,
    /// Windows XP / 2003 style 1025–5000 (below the default ephemeral threshold).
    WindowsXp,
}

impl ClientOs {
    /// The inclusive ephemeral port range of this OS.
    pub fn ephemeral_range(self) -> (u16, u16) {
        match self {
            ClientOs::Linux => (32768, 60999),
            ClientOs::Windows => (49152, 65535),
            ClientOs::WindowsXp => (1025, 5000),
        }
    }
}

/// What a blocklisted address really is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IocKind {
    /// Listed but never seen in the flows.
    NoData,
    /// Benign infrastructure (resolver, NTP pool, CDN) with more than 10,000 flows a day.
    Wide,
    /// Horizontal SYN scanner of the internal networks.
    Scanner,
    /// Floods one internal host with SYNs.
    DosFloodFrom,
    /// Is flooded with SYNs by one internal host.
    DosFloodTo,
    /// Victim of reflection: internal reflectors send it large UDP replies.
    DosReflection,
    /// C2 relay a bot family checks in to.
    Relay,
    /// Repeatedly connects to one internal host's server port.
    Apt,
    /// Sends a few packets to a few internal hosts that never answer.
    ContactOnly,
    /// A little two-way traffic with a few internal hosts (nothing to detect).
    Candidate,
}

/// One blocklisted address and the class the classifier should give it each day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IocTruth {
    /// The address.
    pub ip: IpAddr,
    /// What it is.
    pub kind: IocKind,
    /// Expected class per day (`NoData` on days it is silent).
    pub expected_class_by_day: BTreeMap<NaiveDate, IocClass>,
}

/// One infected internal host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotTruth {
    /// The bot.
    pub ip: IpAddr,
    /// Its family ([`FamilyTruth::id`]).
    pub family_id: u32,
    /// The (blocklisted) relay it checks in to on the first day.
    pub relay: IpAddr,
    /// The OS its check-ins' source ports come from.
    pub os: ClientOs,
    /// Days it checked in (to whichever relay the family used that day).
    pub active_days: Vec<NaiveDate>,
}

/// A relay migration: from `day` on, the family checks in to `new_relay`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationTruth {
    /// First day on the new relay.
    pub day: NaiveDate,
    /// The blocklisted relay abandoned that day.
    pub old_relay: IpAddr,
    /// The new relay, not on any blocklist.
    pub new_relay: IpAddr,
}

/// A bot family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyTruth {
    /// Family number.
    pub id: u32,
    /// Its bots.
    pub members: Vec<IpAddr>,
    /// Relays it used, in order (the new relay last when it migrated).
    pub relays: Vec<IpAddr>,
    /// The relay port (stable over the whole run, also after a migration).
    pub relay_port: u16,
    /// IP protocol of the check-ins (6 or 17).
    pub protocol: u8,
    /// First active day.
    pub first_day: NaiveDate,
    /// Last active day.
    pub last_day: NaiveDate,
    /// The migration, when the family moved.
    pub migration: Option<MigrationTruth>,
}

/// An APT-style pair: the IoC connects repeatedly to one internal server port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AptTruth {
    /// The attacking IoC.
    pub ioc: IpAddr,
    /// The internal host it targets (a victim: notify it).
    pub target: IpAddr,
    /// The target's server port.
    pub port: u16,
    /// Days with contacts (at least 3 when the run is long enough).
    pub days: Vec<NaiveDate>,
}

/// A scanner and the hosts that answered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScannerTruth {
    /// The scanning IoC.
    pub ioc: IpAddr,
    /// Probed destination ports.
    pub ports: Vec<u16>,
    /// Days it scanned.
    pub days: Vec<NaiveDate>,
    /// Internal hosts that replied (SYN|ACK or RST|ACK) on some day: exposed, not
    /// infected.
    pub responders: Vec<IpAddr>,
}

/// A DoS IoC and the internal hosts involved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DosTruth {
    /// The IoC.
    pub ioc: IpAddr,
    /// `DosFloodFrom`, `DosFloodTo` or `DosReflection`.
    pub kind: IocKind,
    /// Internal peers: the flood victim, the flooding host, or the reflectors.
    pub peers: Vec<IpAddr>,
    /// Active days.
    pub days: Vec<NaiveDate>,
}

/// The whole planted truth of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Seed the run was generated from.
    pub seed: u64,
    /// Day 0.
    pub start: NaiveDate,
    /// Number of days.
    pub days: u32,
    /// Every blocklisted address, sorted by address.
    pub iocs: Vec<IocTruth>,
    /// Every bot, sorted by address.
    pub bots: Vec<BotTruth>,
    /// Bot families.
    pub families: Vec<FamilyTruth>,
    /// APT pairs.
    pub apt: Vec<AptTruth>,
    /// Internal hosts that merely receive packets from an IoC (contact-only targets and
    /// flood victims): they must never be watched. Sorted.
    pub contacted_only: Vec<IpAddr>,
    /// Scanners.
    pub scanners: Vec<ScannerTruth>,
    /// DoS IoCs.
    pub dos: Vec<DosTruth>,
    /// Wide IoCs (benign infrastructure), sorted.
    pub wide: Vec<IpAddr>,
    /// IoCs never seen, sorted.
    pub nodata: Vec<IpAddr>,
}

impl GroundTruth {
    /// The truth of one IoC, if `ip` is on the blocklist.
    pub fn ioc(&self, ip: IpAddr) -> Option<&IocTruth> {
        self.iocs
            .binary_search_by(|t| t.ip.cmp(&ip))
            .ok()
            .map(|i| &self.iocs[i])
    }

    /// The expected class of `ip` on `date`, if `ip` is on the blocklist and the date in
    /// the run.
    pub fn expected_class(&self, ip: IpAddr, date: NaiveDate) -> Option<IocClass> {
        self.ioc(ip)?.expected_class_by_day.get(&date).copied()
    }
}
