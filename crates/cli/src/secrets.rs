//! Secrets come from the environment or from files named there — never from flags —
//! and are never logged: [`Secret`] has no `Display` and a redacting `Debug`.

use std::fmt;

/// A secret string. Use [`Secret::expose`] only where the value is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Reads secret `name` from the environment, or from the file named by `name_FILE`
/// (trailing newline trimmed). `Ok(None)` when neither is set.
pub fn from_env(name: &str) -> anyhow::Result<Option<Secret>> {
    if let Some(v) = std::env::var(name).ok().filter(|v| !v.is_empty()) {
        return Ok(Some(Secret(v)));
    }
    let file_var = format!("{name}_FILE");
    if let Ok(path) = std::env::var(&file_var) {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("{file_var}={path}: cannot read the secret file: {e}"))?;
        let v = text.trim_end_matches(['\n', '\r']).to_owned();
        if v.is_empty() {
            anyhow::bail!("{file_var}={path}: the secret file is empty");
        }
        return Ok(Some(Secret(v)));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
    }
}
