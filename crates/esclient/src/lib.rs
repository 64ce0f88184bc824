//! A paginated Elasticsearch / OpenSearch client built to read from and write to a busy
//! flow cluster without hurting it: typed search, point-in-time and scroll pagination,
//! `_msearch`, aggregations, byte-sized bulk loads with dead-lettering, index lifecycle
//! and upserts.
//!
//! This crate is being built under issue #4.
