//! iocflow's embedded default store: one SQLite file (`iocflow.db` under the data
//! directory) holding the four record kinds of design.md §7 — IoC-view flows, daily IoC
//! summaries, daily RemoteIP summaries and verdicts — plus what the long-range run
//! needs beside them (families, relay candidates, raw flows of watched hosts, run
//! reports).
//!
//! It is its own crate because storage is a concern of its own: the libraries that
//! compute (classifier, scorer) only see traits, and the SQLite dependency (a bundled C
//! build) stays out of them.
//!
//! # Overview
//!
//! - [`SqliteStore::open`] creates or opens the database and migrates its schema
//!   (versioned with `PRAGMA user_version`).
//! - [`SqliteStore::write_day`] replaces one day's flows and summaries in a single
//!   transaction: running a day twice leaves the store identical, and a run killed
//!   half-way leaves the previous state of that day, never a mix.
//! - Readers return the records by date range and by IP; addresses are stored both as
//!   text and as 16-byte keys so `--within CIDR` is a range scan.
//!
//! # Example
//!
//! ```
//! use flowmodel::{IocClass, IocDaySummary};
//! use store::{DayRecords, SqliteStore};
//!
//! let dir = tempfile::tempdir()?;
//! let mut db = SqliteStore::open(dir.path())?;
//! let date = "2025-09-05".parse().unwrap();
//! let ioc = IocDaySummary {
//!     date, ioc_ip: "192.0.2.1".parse().unwrap(), class: IocClass::NoData,
//!     reasons: vec![], detail: None, total_flows: 0, sampled_flows: 0, remote_ips: 0,
//!     send_flows: 0, rcv_flows: 0, send_packets: 0, send_octets: 0, rcv_packets: 0,
//!     rcv_octets: 0, top_ioc_ports: vec![], top_remote_ports: vec![], protocols: vec![],
//!     first_seen: None, last_seen: None,
//! };
//! let day = DayRecords { date, flows: vec![], iocs: vec![ioc], remotes: vec![], watched_raw: vec![] };
//! db.write_day(&day)?;
//! db.write_day(&day)?; // idempotent
//! assert_eq!(db.days()?, vec![date]);
//! assert_eq!(db.ioc_summaries(date, date)?.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod sqlite;

pub use sqlite::{DayRecords, SCHEMA_VERSION, SqliteStore, StoreError, VerdictRow, ip_key};
