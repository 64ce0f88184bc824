//! Long-range scoring: ranks RemoteIPs over weeks, infers client/server roles, labels
//! check-ins, relays and APT targets, keeps one decayed verdict per IP, groups bots into
//! families and finds relays that move (design.md §2, detection-anchors.md §9.5–9.10).
//!
//! # Brief overview
//!
//! - [`EvidenceSource`] is what the daily runs stored: RemoteIP and IoC day summaries,
//!   IoC-view flows of given RemoteIPs, raw flows of given hosts. [`VerdictSink`] keeps
//!   what the scorer decides: [`Verdict`]s (one per IP, `_id` = the IP), [`Family`]s and
//!   [`RelayCandidate`]s. [`MemoryStore`] implements both in memory; the SQLite and
//!   Elasticsearch stores implement them in the pipeline.
//! - [`analyze`] runs the long-range analysis for the window ending at a day, driven by
//!   [`ScorerConfig`] (serde; defaults from detection-anchors.md §9.11), and returns an
//!   [`AnalysisReport`].
//! - Under it: [`patterns::analyze_pairs`] (patterns by (IoC port, RemotePort class),
//!   roles, inter-day and intra-day periodicity), [`verdict::score_at`] (the decayed
//!   score: `Σ_d D(d)·2^(−age/h)`, a pure function of the stored evidence),
//!   [`family::group_families`] and [`migration::relay_candidates`].
//!
//! Re-running a day replaces that day's evidence: the score never counts a day twice.
//! Blocklist presence alone scores nothing; scanning is capped below any check-in.
//!
//! # Example
//!
//! ```
//! use std::net::IpAddr;
//! use chrono::{Duration, NaiveDate};
//! use flowmodel::{Direction, IocClass, IocFlow, RemoteDaySummary, RemoteIocLink, Role, ViewContext};
//! use scorer::{analyze, Label, Level, MemoryStore, ScorerConfig, VerdictSink};
//!
//! let relay: IpAddr = "45.77.10.7".parse()?;
//! let bot: IpAddr = "10.20.30.40".parse()?;
//! let start = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
//! let mut store = MemoryStore::new();
//! for day in 0..14 {
//!     let date = start + Duration::days(day);
//!     let ctx = ViewContext::new(date, "demo");
//!     let t0 = date.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis();
//!     // The bot reports every hour from a fresh ephemeral port to tcp/8443.
//!     let flows: Vec<IocFlow> = (0..24)
//!         .map(|h| {
//!             let raw = flowmodel::FlowParser::default()
//!                 .parse(format!(
//!                     r#"{{"sourceIPAddress":"{bot}","destinationIPAddress":"{relay}",
//!                        "sourceTransportPort":{},"destinationTransportPort":8443,
//!                        "protocolIdentifier":6,"octetDeltaCount":120,"packetDeltaCount":2,
//!                        "flowStartMilliseconds":{}}}"#,
//!                     40000 + h,
//!                     t0 + h * 3_600_000
//!                 ).as_bytes())
//!                 .unwrap();
//!             IocFlow::from_raw(&raw, Direction::Rcv, 24, &ctx)
//!         })
//!         .collect();
//!     let link = RemoteIocLink {
//!         ioc_ip: relay, class: IocClass::Candidate, role: Role::Client, send_flows: 0,
//!         rcv_flows: 24, packets: 48, octets: 2880, ioc_ports: vec![(8443, 24)],
//!         remote_ports: vec![], checkin: false, first_seen: t0, last_seen: t0,
//!     };
//!     let summary = RemoteDaySummary {
//!         date, remote_ip: bot, iocs: vec![link], roles: vec![Role::Client],
//!         protocols: vec![6], send_flows: 0, rcv_flows: 24, send_packets: 0, send_octets: 0,
//!         rcv_packets: 48, rcv_octets: 2880, first_seen: t0, last_seen: t0, watched: false,
//!     };
//!     store.put_day(date, vec![], vec![summary], flows, vec![]);
//! }
//!
//! let until = start + Duration::days(13);
//! let cfg = ScorerConfig::default();
//! let report = analyze(until, &cfg, &store.clone(), &mut store)?;
//! assert_eq!(report.top_suspects[0].ip, bot);
//! let v = &store.load_verdicts(&[bot])?[0];
//! assert!(v.labels.contains(&Label::C2CheckIn));
//! assert!(v.level >= Level::Suspicious);
//! assert_eq!(v.days_seen, 14);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod analyze;
pub mod config;
pub mod error;
pub mod family;
pub mod migration;
pub mod patterns;
pub mod records;
pub mod stats;
pub mod store;
pub mod verdict;

pub use analyze::{AnalysisReport, Suspect, analyze, is_global_unicast};
pub use config::{
    BeaconConfig, FamilyConfig, MigrationConfig, PortRange, RankingConfig, RolesConfig,
    ScorerConfig, VerdictConfig,
};
pub use error::{Result, ScorerError};
pub use records::{
    DayEvidence, Evidence, Family, Label, LabelSpan, Level, RelayCandidate, Subject, Verdict,
};
pub use store::{EvidenceSource, MemoryStore, VerdictSink};
