//! Flow records for iocflow (work in progress: see issue #2).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod fieldmap;
pub mod ip;

pub use fieldmap::FieldMap;
pub use ip::{IocSet, normalize_ip, parse_ip};
