//! The records every iocflow crate speaks: raw flows as the collector stores them, the
//! IoC-centric view the NOC's dashboards read, mergeable daily accumulators, and the
//! daily summary records.
//!
//! # Overview
//!
//! - [`FieldMap`] says which document path holds each logical field (presets `ipfix`,
//!   the default, `ecs` and `elastiflow`). The Elasticsearch query builder uses the same
//!   map, so "where is the source address" is decided once.
//! - [`FlowParser`] turns a document into a [`RawFlow`] (one unidirectional flow). Unknown
//!   fields are ignored, numbers may arrive as strings, a document without a usable
//!   address pair is a [`FlowError`] naming the missing field.
//! - [`ioc_view`] turns a raw flow into [`IocFlow`] records (one per side that is an IoC),
//!   with the published system's field names (`IocIP`, `RemoteIP`, `Direction`, …).
//! - [`IocDayAcc`] and [`RemoteDayAcc`] accumulate a day per IoC and per RemoteIP; they
//!   merge associatively and commutatively, so rayon can fold and reduce them.
//! - [`IocDaySummary`] and [`RemoteDaySummary`] are the daily records the classifier
//!   writes and the scorer reads.
//!
//! IPv4 and IPv6 are handled alike; IPv4-mapped IPv6 addresses are normalised to IPv4.
//!
//! # Example
//!
//! ```
//! use std::collections::HashSet;
//! use std::net::IpAddr;
//! use flowmodel::{Direction, FlowParser, IocDayAcc, ViewContext, ioc_view};
//!
//! // The design document's sample flow (design.md §3).
//! let doc = br#"{"exporterIP":"192.192.68.33","sourceIPAddress":"163.26.171.228",
//!   "destinationIPAddress":"134.122.129.10","protocolIdentifier":6,
//!   "sourceTransportPort":13216,"destinationTransportPort":45,"tcpControlBits":2,
//!   "octetDeltaCount":52,"packetDeltaCount":1,"flowStartMilliseconds":1757057835008,
//!   "bgpSourceAsNumber":1659,"bgpDestinationAsNumber":152194,"ipVersion":4}"#;
//! let raw = FlowParser::default().parse(doc)?;
//!
//! let iocs: HashSet<IpAddr> = ["134.122.129.10".parse().unwrap()].into();
//! let ctx = ViewContext::new("2025-09-05".parse().unwrap(), "tanet-2025.09.05");
//! let mut acc = IocDayAcc::new();
//! for rec in ioc_view(&raw, &iocs, |_| 1, &ctx) {
//!     assert_eq!(rec.direction, Direction::Rcv);
//!     assert_eq!((rec.ioc_port, rec.remote_port), (45, 13216));
//!     assert_eq!(rec.ioc_as_name.as_ref(), "UnKnow");
//!     acc.add(&rec);
//! }
//! assert_eq!(acc.rcv.flows, 1);
//! assert_eq!(acc.remotes(), 1);
//! # Ok::<(), flowmodel::FlowError>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod acc;
pub mod error;
pub mod fieldmap;
pub mod ip;
pub mod raw;
pub mod summary;
pub mod view;

pub use acc::{
    BppHist, Counts, DirStats, IocDayAcc, PairStats, PpfHist, ProtoSet, RemoteDayAcc, Tally,
};
pub use error::FlowError;
pub use fieldmap::FieldMap;
pub use ip::{IocSet, normalize_ip, parse_ip};
pub use raw::{FlowParser, Geo, RawFlow, protocol_by_name, time_ms_str};
pub use summary::{IocClass, IocDaySummary, Reason, RemoteDaySummary, RemoteIocLink, Role};
pub use view::{AsNames, Direction, IocFlow, IocSides, UNKNOWN_AS_NAME, ViewContext, ioc_view};
