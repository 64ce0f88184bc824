//! End-to-end tests of iocflow: the real binary on real and generated data. The tests
//! live in `tests/tests/`.
