//! A synthetic backbone with planted truth: deterministic days of raw flow documents,
//! blocklists and a ground-truth file, for tests, benchmarks and `iocflow demo`.
//! It lives in its own crate because it is a test-and-demo concern that no production
//! stage depends on.
//!
//! This crate is being built under issue #5.
