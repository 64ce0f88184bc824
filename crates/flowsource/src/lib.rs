//! Flow files for iocflow: read JSON Lines (raw documents or Elasticsearch hits), nfdump
//! JSON and CSV, and Argus binetflow, plain or gzip, and find every flow that touches an
//! IoC in one streaming, parallel pass.
//!
//! # Why a crate of its own
//!
//! Reading flow files is a concern of its own — formats and their quirks, compression,
//! and scanning gigabytes fast — that both the CLI (the embedded, no-Elasticsearch path
//! of `iocflow run`) and the benchmarks use. The library crates (`flowmodel`,
//! `classifier`, `scorer`, …) work on records and must not depend on where flows are
//! read from, so this crate depends on `flowmodel` and nothing depends on it but the
//! binaries and benches.
//!
//! # Brief overview
//!
//! - [`Input`] is a file or stdin (`-`); gzip is recognised by its magic bytes.
//! - [`Format`] names the five formats; [`Format::detect`] guesses one from the first
//!   bytes, [`Format`]'s `FromStr` reads a `--format` name.
//! - [`scan()`] reads a list of inputs with [`ScanOptions`] (the IoC set, field map, sample
//!   cap and [`SampleMode`], an optional day) and returns a [`ScanResult`]: per (day, IoC)
//!   an exact total and a bounded sample of [`SampledFlow`]s, plus counts and the first
//!   [`BadLine`]s.
//!
//! Lines that touch no IoC are not parsed: for JSON a byte search finds the address
//! values and checks them against the IoC set, and only matching lines are parsed in
//! full (for CSV, only the two address columns are read first). The pre-filter may let
//! through a line that does not match, never drop one that does. Sampling is exact and
//! deterministic whatever the thread count: `First` keeps the first flows in input
//! order, `Random` the flows with the lowest hash of (seed, file, position). A flow
//! between two IoCs counts for both.
//!
//! What counts as malformed follows from not parsing every line: a JSON line that is not
//! an object (garbled, or cut short) is always caught; a well-shaped line that fails the
//! full parse (bad time, missing address, …) is caught when the pre-filter keeps it,
//! i.e. when it touches an IoC. CSV lines are parsed in full only when an address
//! column holds an IoC or does not parse. Every malformed line is counted, and the first
//! `max_bad_lines` are kept with file, line and reason.
//!
//! How each format becomes one-way flows (binetflow rows and bidirectional nfdump
//! records give two; times without a zone are UTC) is described on [`Format`]'s
//! variants and in the source of the format readers.
//!
//! # Example
//!
//! ```
//! use std::collections::HashSet;
//! use std::io::Write;
//! use std::net::IpAddr;
//! use flowsource::{Format, Input, SampleMode, ScanOptions, scan};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("flows.jsonl");
//! let mut f = std::fs::File::create(&path)?;
//! // Two flows of 2025-09-05 touching the IoC 134.122.129.10, one that does not, and a
//! // line broken off in the middle.
//! writeln!(f, r#"{{"sourceIPAddress":"163.26.171.228","destinationIPAddress":"134.122.129.10","sourceTransportPort":13216,"destinationTransportPort":45,"protocolIdentifier":6,"packetDeltaCount":1,"octetDeltaCount":52,"flowStartMilliseconds":1757057835008}}"#)?;
//! writeln!(f, r#"{{"sourceIPAddress":"10.0.0.1","destinationIPAddress":"10.0.0.2","flowStartMilliseconds":1757057835008}}"#)?;
//! writeln!(f, r#"{{"sourceIPAddress":"134.122.129.10","destinationIPAddress":"163.26.171.228","flowStartMilliseconds":1757057836000}}"#)?;
//! writeln!(f, r#"{{"sourceIPAddress":"134.122"#)?;
//! drop(f);
//!
//! let iocs: HashSet<IpAddr> = ["134.122.129.10".parse()?].into();
//! let mut opts = ScanOptions::new(&iocs);
//! opts.sample_cap = 1;
//! opts.mode = SampleMode::First;
//! let result = scan(&[Input::Path(path)], &opts)?;
//!
//! assert_eq!(result.formats[0].1, Format::JsonRaw);
//! let hits = result.get("2025-09-05".parse()?, "134.122.129.10".parse()?).unwrap();
//! assert_eq!(hits.total, 2); // the exact total…
//! assert_eq!(hits.sample.len(), 1); // …and a sample bounded by the cap
//! assert_eq!(hits.sample[0].raw.dst_port, 45); // the first in input order
//! assert_eq!(hits.sample[0].from_index.as_ref(), "flows.jsonl");
//! assert_eq!((result.lines, result.malformed), (4, 1));
//! assert_eq!(result.bad_lines[0].line, 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
mod formats;
pub mod input;
mod prefilter;
pub mod scan;

pub use error::ScanError;
pub use input::{Format, Input};
pub use scan::{
    BadLine, IocHits, ReadError, SampleMode, SampledFlow, ScanOptions, ScanResult, scan,
};

#[doc(hidden)]
pub mod __private {
    //! Internals exposed for the crate's property tests only; not part of the API.
    use flowmodel::{FieldMap, IocSet};

    /// Start offsets of the lines of `block` the JSON pre-filter keeps.
    pub fn prefilter_candidates(map: &FieldMap, block: &[u8], iocs: &dyn IocSet) -> Vec<usize> {
        let mut out = Vec::new();
        crate::prefilter::Prefilter::for_field_map(map).candidates(block, iocs, &mut out);
        out
    }
}
