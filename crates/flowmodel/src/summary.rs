//! The daily summary records (design.md §3, §5): one per IoC and one per RemoteIP per
//! day. The classifier writes them, the stores keep them, the scorer reads them.

use std::net::IpAddr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What an IoC's day looks like (design.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IocClass {
    /// No flow that day.
    NoData,
    /// More flows than the wide threshold (a resolver, a CDN…): sampled, not analysed.
    Wide,
    /// The IoC probes many hosts or ports (replies of the hosts that answered included).
    Scan,
    /// Flood, backscatter or reflection.
    DoS,
    /// Many RemoteIPs reporting to it on a stable port: a relay; its clients are watched.
    CheckIn,
    /// Everything else with data.
    Candidate,
}

impl IocClass {
    /// Every class, in rule order.
    pub const ALL: [IocClass; 6] = [
        IocClass::NoData,
        IocClass::Wide,
        IocClass::Scan,
        IocClass::DoS,
        IocClass::CheckIn,
        IocClass::Candidate,
    ];

    /// The class name as stored (`NoData`, `Wide`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            IocClass::NoData => "NoData",
            IocClass::Wide => "Wide",
            IocClass::Scan => "Scan",
            IocClass::DoS => "DoS",
            IocClass::CheckIn => "CheckIn",
            IocClass::Candidate => "Candidate",
        }
    }

    /// Whether RemoteIPs of an IoC of this class enter the daily RemoteIP summaries
    /// (`Wide`, `Scan` and `DoS` do not: design.md §1 stage 5).
    pub fn feeds_remote_summaries(self) -> bool {
        matches!(self, IocClass::CheckIn | IocClass::Candidate)
    }
}

impl std::fmt::Display for IocClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for IocClass {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IocClass::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown IoC class {s:?}"))
    }
}

/// One measured value compared against one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// The rule (`scan.horizontal`, `checkin`, `wide`, …).
    pub rule: String,
    /// The feature (`send_share`, `n_remote`, …).
    pub feature: String,
    /// Its measured value.
    pub value: f64,
    /// The comparison (`>=`, `<=`, `>`).
    pub op: String,
    /// The threshold from the configuration.
    pub threshold: f64,
    /// Whether the comparison held.
    pub passed: bool,
}

/// One IoC's day (stored in `iocflow-ioc-YYYY.MM.DD`, `_id` = `IocIP`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IocDaySummary {
    /// The day.
    pub date: NaiveDate,
    /// The IoC.
    #[serde(rename = "IocIP")]
    pub ioc_ip: IpAddr,
    /// Its class.
    pub class: IocClass,
    /// Why: the rule that fired, with its measured values and thresholds (and, for the
    /// rules that did not fire, the first comparison that failed).
    pub reasons: Vec<Reason>,
    /// Sub-label of the class (`horizontal`, `vertical`, `backscatter`, `reflection`,
    /// `flood`, `concentrated`, `persistent`, `new`…), when one applies.
    pub detail: Option<String>,
    /// Exact flow total for the day.
    pub total_flows: u64,
    /// Flows kept in the sample (and analysed).
    pub sampled_flows: u64,
    /// Distinct RemoteIPs in the sample.
    pub remote_ips: u64,
    /// `Send` flows in the sample.
    pub send_flows: u64,
    /// `Rcv` flows in the sample.
    pub rcv_flows: u64,
    /// Packets IoC → RemoteIPs.
    pub send_packets: u64,
    /// Octets IoC → RemoteIPs.
    pub send_octets: u64,
    /// Packets RemoteIPs → IoC.
    pub rcv_packets: u64,
    /// Octets RemoteIPs → IoC.
    pub rcv_octets: u64,
    /// Most common IoC ports with flow counts.
    pub top_ioc_ports: Vec<(u16, u64)>,
    /// Most common RemoteIP ports with flow counts.
    pub top_remote_ports: Vec<(u16, u64)>,
    /// Protocol numbers seen.
    pub protocols: Vec<u8>,
    /// Earliest flow start (epoch ms).
    pub first_seen: Option<i64>,
    /// Latest flow start (epoch ms).
    pub last_seen: Option<i64>,
}

/// How a RemoteIP relates to one IoC on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    /// The RemoteIP initiates towards a stable IoC server port.
    Client,
    /// The IoC initiates towards a stable RemoteIP server port.
    Server,
    /// Not decidable from the ports.
    Unknown,
}

/// One IoC as seen in a RemoteIP's day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoteIocLink {
    /// The IoC.
    #[serde(rename = "IocIP")]
    pub ioc_ip: IpAddr,
    /// Its class that day.
    pub class: IocClass,
    /// The RemoteIP's role towards it.
    pub role: Role,
    /// `Send` flows (IoC → RemoteIP).
    pub send_flows: u64,
    /// `Rcv` flows (RemoteIP → IoC).
    pub rcv_flows: u64,
    /// Packets both ways.
    pub packets: u64,
    /// Octets both ways.
    pub octets: u64,
    /// IoC ports with flow counts.
    pub ioc_ports: Vec<(u16, u64)>,
    /// RemoteIP ports with flow counts (top ones).
    pub remote_ports: Vec<(u16, u64)>,
    /// Whether this is a check-in to a `CheckIn` IoC.
    pub checkin: bool,
    /// Earliest flow start (epoch ms).
    pub first_seen: i64,
    /// Latest flow start (epoch ms).
    pub last_seen: i64,
}

/// One RemoteIP's day (stored in `iocflow-remote-YYYY.MM.DD`, `_id` = `RemoteIP`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoteDaySummary {
    /// The day.
    pub date: NaiveDate,
    /// The RemoteIP.
    #[serde(rename = "RemoteIP")]
    pub remote_ip: IpAddr,
    /// The IoCs it touched (only IoCs of classes that feed RemoteIP summaries).
    pub iocs: Vec<RemoteIocLink>,
    /// Its roles over all IoCs.
    pub roles: Vec<Role>,
    /// Protocol numbers seen.
    pub protocols: Vec<u8>,
    /// `Send` flows (IoC → RemoteIP).
    pub send_flows: u64,
    /// `Rcv` flows (RemoteIP → IoC).
    pub rcv_flows: u64,
    /// Packets IoC → RemoteIP.
    pub send_packets: u64,
    /// Octets IoC → RemoteIP.
    pub send_octets: u64,
    /// Packets RemoteIP → IoC.
    pub rcv_packets: u64,
    /// Octets RemoteIP → IoC.
    pub rcv_octets: u64,
    /// Earliest flow start (epoch ms).
    pub first_seen: i64,
    /// Latest flow start (epoch ms).
    pub last_seen: i64,
    /// It checked in to a `CheckIn` IoC that day.
    pub watched: bool,
}
