//! Blocklist ingestion: fetch a CERT or community blocklist from a URL or a file, parse
//! every common format (plain, CIDR, Spamhaus DROP, abuse.ch CSV, FireHOL sets, IPv6),
//! apply hygiene rules, keep dated snapshots with diffs, and build the matcher that flow
//! processing uses to ask "is this address an IoC?".
//!
//! This crate is being built under issue #3.
