//! Long-range scoring: ranks RemoteIPs over weeks, infers client/server roles, labels
//! check-ins, relays and APT targets, keeps one decayed verdict per IP, groups bots into
//! families and finds relays that move.
//!
//! This crate is being built under issue #6.
