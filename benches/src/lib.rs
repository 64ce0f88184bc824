//! Criterion benchmarks for iocflow's hot paths. Run them with
//! `cargo bench -p iocflow-benches`; figures go to `BENCHMARKS.md` at the repository root.
