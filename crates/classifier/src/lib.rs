//! Classifies each IoC's day and aggregates the RemoteIPs that talked to it
//! (design.md §1 stages 4–5, §4; detection-anchors.md §9.4, §9.6).
//!
//! # Overview
//!
//! - [`ClassifierConfig`] holds every threshold, with documented defaults (serde: the
//!   CLI reads it from a TOML or JSON file; missing keys keep their defaults).
//! - [`classify`] turns one IoC's day — its exact total and its sample accumulator
//!   ([`flowmodel::IocDayAcc`]) — into an [`flowmodel::IocDaySummary`]: one class of
//!   `NoData`, `Wide`, `DoS`, `Scan`, `CheckIn`, `Candidate` (ordered rules, first match
//!   wins) and the reasons: the fired rule's measured values against their thresholds,
//!   and the first failed comparison of every rule tried before it.
//! - [`classify_day`] does that for every IoC in parallel and builds one
//!   [`flowmodel::RemoteDaySummary`] per RemoteIP of the `CheckIn` and `Candidate` IoCs:
//!   the IoCs it touched with their classes, its role towards each ([`role`]), ports,
//!   protocols, packets, octets, first/last seen, and `watched` when it checked in to a
//!   `CheckIn` IoC. Outputs are sorted by IP: the result never depends on thread count.
//! - [`accumulate`] builds the per-IoC accumulators from a day's IoC-view records.
//!
//! Flows are one-way: replies to a scan (SYN|ACK or RST from a RemoteIP's server port
//! the IoC probed) are attributed to the scan and never count as check-ins, and roles
//! are judged by which side's port is stable before any fixed ephemeral threshold.
//!
//! # Example
//!
//! ```
//! use std::net::IpAddr;
//! use flowmodel::{Direction, IocClass, IocDayAcc, RawFlow, Role, ViewContext, IocFlow};
//! use classifier::{ClassifierConfig, classify_day};
//!
//! let date = "2025-09-05".parse().unwrap();
//! let ctx = ViewContext::new(date, "tanet-2025.09.05");
//! let relay: IpAddr = "203.0.113.7".parse().unwrap();
//! let mut acc = IocDayAcc::new();
//! // 12 bots each send one small check-in (SYN|PSH|ACK, 2 packets, 180 bytes) to tcp/8443.
//! for i in 0..12u8 {
//!     let raw = RawFlow {
//!         src: IpAddr::from([10, 1, i, 5]), dst: relay,
//!         src_port: 49_200 + i as u16, dst_port: 8443,
//!         protocol: 6, tcp_flags: 0x1a, octets: 180, packets: 2,
//!         start_ms: 1_757_030_400_000 + i as i64 * 60_000, end_ms: None,
//!         exporter: None, src_as: 0, dst_as: 0, src_geo: None, dst_geo: None,
//!     };
//!     acc.add(&IocFlow::from_raw(&raw, Direction::Rcv, 12, &ctx));
//! }
//! let cfg = ClassifierConfig::default();
//! let day = classify_day(date, &[(relay, 12, acc)], &cfg);
//! assert_eq!(day.iocs[0].class, IocClass::CheckIn);
//! assert_eq!(day.remotes.len(), 12);
//! assert!(day.remotes.iter().all(|r| r.watched && r.iocs[0].role == Role::Client));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
mod day;
pub mod error;
pub mod features;
pub mod role;
mod rules;
mod tally;

pub use config::{CheckinConfig, ClassifierConfig, DosConfig, PortRange, RoleConfig, ScanConfig};
pub use day::{DayOutcome, accumulate, classify, classify_day};
pub use error::ConfigError;
pub use features::IocFeatures;
pub use rules::{Verdict, decide};
