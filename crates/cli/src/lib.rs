//! The `iocflow` command: wires blocklist fetching, flow sources, the IoC view, the
//! stores, the classifier and the scorer into the nightly run and the long-range run.
//!
//! This crate is being built under issue #7.
