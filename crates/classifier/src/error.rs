//! Configuration errors.

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A share (a fraction) outside [0, 1].
    #[error("{key} = {value} is not a share between 0 and 1")]
    ShareOutOfRange {
        /// The configuration key.
        key: &'static str,
        /// Its value.
        value: f64,
    },
    /// A port range whose low end is above its high end.
    #[error("ephemeral range [{lo}, {hi}] is empty (low end above high end)")]
    BadRange {
        /// Low end.
        lo: u16,
        /// High end.
        hi: u16,
    },
}
