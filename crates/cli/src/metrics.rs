//! Prometheus textfile metrics (node_exporter's textfile collector): written to a
//! temporary file and renamed, so the collector never reads half a file.

use std::fmt::Write as _;
use std::path::Path;

/// Metrics of one command.
#[derive(Debug, Default)]
pub struct Metrics {
    lines: Vec<(String, String, f64)>,
}

impl Metrics {
    /// Records `iocflow_<name>{labels} value`.
    pub fn set(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let labels = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect::<Vec<_>>()
            .join(",");
        self.lines.push((format!("iocflow_{name}"), labels, value));
    }

    /// The textfile body.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut last = "";
        for (name, labels, value) in &self.lines {
            if name != last {
                let _ = writeln!(out, "# TYPE {name} gauge");
                last = name;
            }
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {value}");
            } else {
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        }
        out
    }

    /// Writes the textfile atomically.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("prom.tmp");
        std::fs::write(&tmp, self.render())?;
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text_format() {
        let mut m = Metrics::default();
        m.set("iocs", &[("class", "Scan")], 3.0);
        m.set("iocs", &[("class", "CheckIn")], 2.0);
        m.set("run_complete", &[], 1.0);
        assert_eq!(
            m.render(),
            "# TYPE iocflow_iocs gauge\niocflow_iocs{class=\"Scan\"} 3\niocflow_iocs{class=\"CheckIn\"} 2\n# TYPE iocflow_run_complete gauge\niocflow_run_complete 1\n"
        );
    }
}
