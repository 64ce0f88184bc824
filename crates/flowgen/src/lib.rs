//! A synthetic backbone with planted truth: deterministic days of raw flow documents,
//! blocklists and a ground-truth file, for tests, benchmarks and `iocflow demo`.
//! It lives in its own crate because it is a test-and-demo concern that no production
//! stage depends on.
//!
//! # Brief overview
//!
//! - [`GenConfig`] says how big the backbone is (seed, start date, days, flows per day,
//!   IoCs, internal networks) and how the blocklist splits into behaviours. Start from
//!   [`GenConfig::default`] (realistic scale), [`GenConfig::demo`] or
//!   [`GenConfig::small`] (CI).
//! - [`Generator`] builds the fixed world from the config (hosts, IoCs, bot families)
//!   and then produces, for any day index, its flows ([`Generator::day_flows`],
//!   [`Generator::for_each_flow`]), its JSON Lines documents
//!   ([`Generator::write_day_jsonl`], plain or gzip), its blocklist
//!   ([`Generator::blocklist`]) and, for the whole run, the [`GroundTruth`].
//! - [`GroundTruth`] holds what was planted: every IoC's [`IocKind`] and expected
//!   [`flowmodel::IocClass`] per day, bots and their families (with the relay
//!   migration), APT pairs, scanners with the hosts that answered them, DoS peers, and
//!   the hosts that merely received packets from an IoC (`contacted_only`, never to be
//!   watched).
//!
//! Each day mixes background traffic (Zipf-popular hosts, TCP connections as two
//! one-way flows, DNS, NTP, QUIC, some IPv6, client ports from Linux, Windows and
//! Windows XP ranges) with the planted behaviours: IoCs without traffic (~45 %), wide
//! benign infrastructure (> 10,000 flows a day), horizontal SYN scanners and the
//! SYN-ACK/RST replies of the hosts that answered, SYN floods from and to IoCs,
//! reflection replies from 53/123/1900/11211/389, bot families checking in once or a
//! few times a day to a stable relay port (family 0 migrates to a relay that is not on
//! the blocklist halfway through the run), APT connections to one internal server
//! port, and IoCs that merely send packets to a few hosts.
//!
//! # Traps the data holds on purpose
//!
//! - Scan replies (SYN|ACK, RST|ACK from the probed server port) and flood victims'
//!   RSTs are flows *from* internal hosts *to* an IoC: they are not check-ins, and those
//!   hosts ([`ScannerTruth::responders`], [`GroundTruth::contacted_only`]) are not bots.
//! - `Candidate` IoCs that serve a few internal clients answer each connection to the
//!   client's ephemeral port, so one RemoteIP sees `Send` flows on many distinct ports:
//!   a vertical-scan rule that counts those answers misfires.
//! - About 9 % of hosts use Windows XP-style ports (1025–5000), below the default
//!   ephemeral threshold, bots included; relays of families of 5–9 bots (or fewer than
//!   10 active that day) are `Candidate`, not `CheckIn`.
//! - Everybody queries the public resolver on the blocklist (8.8.8.8, `Wide`), bots and
//!   contacted-only hosts too.
//! - After the migration the old relay is still listed but silent (`NoData`), and the
//!   new relay is on no list: only the family's members talk to it.
//! - Flows are not in time order, and planted flows come before background ones.
//!
//! Expected classes follow detection-anchors.md §9.4 with the defaults of §9.11; the
//! crate's tests check them with a reference implementation of those rules.
//!
//! # Example
//!
//! ```
//! use flowgen::{GenConfig, Generator, IocKind};
//! use flowmodel::{FlowParser, IocClass};
//!
//! let cfg = GenConfig { flows_per_day: 40_000, ..GenConfig::small(7, 2) };
//! let generator = Generator::new(cfg)?;
//!
//! // In memory: day 0's flows and its blocklist.
//! let flows = generator.day_flows(0)?;
//! assert!(flows.len() >= 40_000);
//! let blocklist = generator.blocklist(0)?;
//! assert_eq!(blocklist.len(), 60);
//!
//! // The truth says what each IoC is, and what the classifier should call it.
//! let truth = generator.truth();
//! let relay = truth.families[0].relays[0];
//! assert_eq!(truth.ioc(relay).unwrap().kind, IocKind::Relay);
//! assert_eq!(truth.expected_class(relay, generator.date(0)?), Some(IocClass::CheckIn));
//!
//! // On disk: JSON Lines documents that the pipeline's parser reads back.
//! let mut jsonl = Vec::new();
//! generator.write_day_jsonl(1, &mut jsonl, false)?;
//! let first = jsonl.split(|b| *b == b'\n').next().unwrap();
//! let parsed = FlowParser::default().parse(first)?;
//! assert_eq!(parsed, generator.day_flows(1)?[0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod day;
mod error;
mod generator;
mod truth;
mod world;
mod write;

pub use config::GenConfig;
pub use error::GenError;
pub use generator::Generator;
pub use truth::{
    AptTruth, BotTruth, ClientOs, DosTruth, FamilyTruth, GroundTruth, IocKind, IocTruth,
    MigrationTruth, ScannerTruth,
};
pub use write::write_flow_json;
