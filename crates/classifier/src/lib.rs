//! Classifies each IoC's day (no data, wide, scan, DoS, check-in relay, candidate) with
//! the measured reasons, and aggregates the RemoteIPs that talked to non-noise IoCs.
//!
//! This crate is being built under issue #5.
