//! The ordered rules (detection-anchors.md §9.4; first match wins):
//! `NoData` → `Wide` → `DoS` → `Scan` → `CheckIn` → `Candidate`.

use std::net::IpAddr;

use chrono::NaiveDate;
use flowmodel::{IocClass, IocDayAcc, IocDaySummary, Reason};

use crate::config::ClassifierConfig;
use crate::features::IocFeatures;
use crate::tally::PortTally;

/// One rule's comparisons, all of which must hold (except the `either` pairs).
struct Rule {
    name: &'static str,
    reasons: Vec<Reason>,
    ok: bool,
}

impl Rule {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            reasons: Vec::new(),
            ok: true,
        }
    }

    fn reason(&self, feature: &str, value: f64, op: &str, threshold: f64) -> Reason {
        let passed = match op {
            ">=" => value >= threshold,
            "<=" => value <= threshold,
            ">" => value > threshold,
            _ => value < threshold,
        };
        Reason {
            rule: self.name.to_string(),
            feature: feature.to_string(),
            value,
            op: op.to_string(),
            threshold,
            passed,
        }
    }

    fn check(mut self, feature: &str, value: f64, op: &str, threshold: f64) -> Self {
        let r = self.reason(feature, value, op, threshold);
        self.ok &= r.passed;
        self.reasons.push(r);
        self
    }

    /// Two comparisons of which one must hold.
    fn either(mut self, a: (&str, f64, &str, f64), b: (&str, f64, &str, f64)) -> Self {
        let ra = self.reason(a.0, a.1, a.2, a.3);
        let rb = self.reason(b.0, b.1, b.2, b.3);
        self.ok &= ra.passed || rb.passed;
        self.reasons.push(ra);
        self.reasons.push(rb);
        self
    }

    /// The reasons to keep: all when the rule fired, else the first that failed.
    fn into_reasons(self, out: &mut Vec<Reason>) {
        if self.ok {
            out.extend(self.reasons);
        } else if let Some(r) = self.reasons.into_iter().find(|r| !r.passed) {
            out.push(r);
        }
    }
}

/// The class of one IoC's day, with its reasons and the features behind them.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The class.
    pub class: IocClass,
    /// Sub-label (`horizontal`, `backscatter`, `concentrated`, …).
    pub detail: Option<&'static str>,
    /// The fired rule's comparisons and the first failed comparison of each rule
    /// tried before it.
    pub reasons: Vec<Reason>,
    /// The measured features (empty for `NoData`; for `Wide` only flows, RemoteIPs and
    /// the top RemoteIP octet share: no detail logic runs on a wide IoC).
    pub features: IocFeatures,
}

/// Runs the rules on measured features. `total_flows` is the exact total of the day.
pub fn decide(total_flows: u64, acc: &IocDayAcc, cfg: &ClassifierConfig) -> Verdict {
    let mut reasons = Vec::new();
    // A total below the sample size is not believed: the sample itself is evidence.
    let total = total_flows.max(acc.flows());
    let nodata = Rule::new("nodata").check("total_flows", total as f64, "<=", 0.0);
    if nodata.ok {
        nodata.into_reasons(&mut reasons);
        return Verdict {
            class: IocClass::NoData,
            detail: None,
            reasons,
            features: IocFeatures::default(),
        };
    }
    let wide = Rule::new("wide").check("total_flows", total as f64, ">", cfg.wide_min_flows as f64);
    if wide.ok {
        wide.into_reasons(&mut reasons);
        // No detail logic on a wide IoC: only how concentrated its octets are.
        let total_octets = acc.send.octets + acc.rcv.octets;
        let top = acc.pairs.values().map(|p| p.octets()).max().unwrap_or(0);
        let f = IocFeatures {
            flows: acc.flows(),
            n_remote: acc.remotes() as u64,
            top_remote_octet_share: if total_octets == 0 {
                0.0
            } else {
                top as f64 / total_octets as f64
            },
            ..Default::default()
        };
        let conc = Rule::new("wide.concentrated").check(
            "top_remote_octet_share",
            f.top_remote_octet_share,
            ">=",
            cfg.dos.top_remote_share,
        );
        let detail = conc.ok.then_some("concentrated");
        if conc.ok {
            conc.into_reasons(&mut reasons);
        }
        return Verdict {
            class: IocClass::Wide,
            detail,
            reasons,
            features: f,
        };
    }
    wide.into_reasons(&mut reasons);
    let f = IocFeatures::measure(acc, cfg);
    if f.flows == 0 {
        reasons.push(Reason {
            rule: "candidate".into(),
            feature: "sampled_flows".into(),
            value: 0.0,
            op: ">".into(),
            threshold: 0.0,
            passed: false,
        });
        return Verdict {
            class: IocClass::Candidate,
            detail: Some("no-sample"),
            reasons,
            features: f,
        };
    }
    let d = &cfg.dos;
    let s = &cfg.scan;
    let c = &cfg.checkin;
    let tries: Vec<(IocClass, &'static str, Rule)> = vec![
        (
            IocClass::DoS,
            "backscatter",
            Rule::new("dos.backscatter")
                .check("send_share", f.send_share, ">=", d.backscatter_send_share)
                .check("send_tcp_flows", f.send_tcp_flows as f64, ">", 0.0)
                .check(
                    "backscatter_share",
                    f.backscatter_share,
                    ">=",
                    d.backscatter_share,
                )
                .check("n_remote", f.n_remote as f64, ">=", d.min_remote as f64)
                .check("le2_share", f.le2_share, ">=", d.le2_share),
        ),
        (
            IocClass::DoS,
            "reflection",
            Rule::new("dos.reflection")
                .check("amp_src_share", f.amp_share, ">=", d.reflect_share)
                .check(
                    "n_senders",
                    f.n_senders as f64,
                    ">=",
                    d.reflect_min_remote as f64,
                )
                .check("amp_bpp", f.amp_bpp, ">=", d.reflect_bpp_min),
        ),
        (
            IocClass::DoS,
            "flood",
            Rule::new("dos.flood")
                .check(
                    "top_remote_octet_share",
                    f.top_remote_octet_share,
                    ">=",
                    d.top_remote_share,
                )
                .check(
                    "top_pair_flows",
                    f.top_pair_flows as f64,
                    ">=",
                    d.flood_min_flows as f64,
                )
                .either(
                    (
                        "top_pair_syn_share",
                        f.top_pair_syn_share,
                        ">=",
                        d.flood_syn_share,
                    ),
                    (
                        "top_pair_packets",
                        f.top_pair_packets as f64,
                        ">=",
                        d.flood_min_packets_day as f64,
                    ),
                ),
        ),
        (
            IocClass::DoS,
            "syn_flood",
            Rule::new("dos.syn_flood")
                .check(
                    "rcv_tcp_flows",
                    f.rcv_tcp_flows as f64,
                    ">=",
                    d.syn_flood_min_flows as f64,
                )
                .check(
                    "rcv_syn_only_share",
                    f.rcv_syn_only_share,
                    ">=",
                    d.syn_flood_share,
                ),
        ),
        (IocClass::Scan, "horizontal", {
            let bpp_max = if f.send_mostly_tcp {
                s.bpp_max_tcp
            } else {
                s.bpp_max_udp
            };
            let r = Rule::new("scan.horizontal")
                .check("initiated_share", f.initiated_share, ">=", s.send_share)
                .check("n_remote", f.n_probed as f64, ">=", s.min_remote as f64)
                .check(
                    "n_remote_24",
                    f.n_remote_24 as f64,
                    ">=",
                    s.min_remote_24 as f64,
                )
                .check("le2_share", f.send_le2_share, ">=", s.le2_share)
                .check("bpp_median", f.send_bpp_median, "<=", bpp_max);
            if f.send_tcp_flows > 0 {
                r.check(
                    "syn_only_share",
                    f.send_syn_only_share,
                    ">=",
                    s.syn_only_share,
                )
            } else {
                r
            }
        }),
        (
            IocClass::Scan,
            "vertical",
            Rule::new("scan.vertical")
                .check(
                    "max_probe_ports",
                    f.max_probe_ports as f64,
                    ">=",
                    s.vertical_min_ports as f64,
                )
                .check(
                    "n_remote",
                    f.n_remote as f64,
                    "<=",
                    s.vertical_max_remotes as f64,
                )
                .check("initiated_share", f.initiated_share, ">=", s.send_share),
        ),
        (
            IocClass::CheckIn,
            "checkin",
            Rule::new("checkin")
                .check("session_share", f.session_share, ">=", c.session_share)
                .check(
                    "n_remote",
                    f.n_checkin_remote as f64,
                    ">=",
                    c.min_remote as f64,
                )
                .check("le2_share", f.checkin_le2_share, ">=", c.le2_share)
                .check(
                    "ioc_port_top_share",
                    f.ioc_port_share,
                    ">=",
                    c.ioc_port_share,
                )
                .either(
                    (
                        "remote_port_ephemeral_share",
                        f.ephemeral_share,
                        ">=",
                        c.ephemeral_share,
                    ),
                    (
                        "remote_port_top_share",
                        f.remote_port_top_share,
                        "<=",
                        c.remote_port_top_share_max,
                    ),
                )
                .check("bpp_median", f.rcv_bpp_median, "<=", c.bpp_max)
                .check(
                    "octets_per_remote_median",
                    f.octets_per_remote_median,
                    "<=",
                    c.octets_per_remote_max,
                ),
        ),
    ];
    for (class, detail, rule) in tries {
        let fired = rule.ok;
        rule.into_reasons(&mut reasons);
        if fired {
            return Verdict {
                class,
                detail: (class != IocClass::CheckIn).then_some(detail),
                reasons,
                features: f,
            };
        }
    }
    Verdict {
        class: IocClass::Candidate,
        detail: None,
        reasons,
        features: f,
    }
}

/// Builds the stored summary of one IoC's day from its verdict.
pub fn summary(
    date: NaiveDate,
    ioc: IpAddr,
    total_flows: u64,
    acc: &IocDayAcc,
    v: &Verdict,
    cfg: &ClassifierConfig,
) -> IocDaySummary {
    let mut ioc_ports = PortTally::default();
    let mut remote_ports = PortTally::default();
    for p in acc.pairs.values() {
        ioc_ports.add_counts(&p.send_ioc_ports);
        ioc_ports.add_counts(&p.rcv_ioc_ports);
        remote_ports.add_counts(&p.send_remote_ports);
        remote_ports.add_counts(&p.rcv_remote_ports);
    }
    IocDaySummary {
        date,
        ioc_ip: ioc,
        class: v.class,
        reasons: v.reasons.clone(),
        detail: v.detail.map(str::to_string),
        total_flows: total_flows.max(acc.flows()),
        sampled_flows: acc.flows(),
        remote_ips: acc.remotes() as u64,
        send_flows: acc.send.flows,
        rcv_flows: acc.rcv.flows,
        send_packets: acc.send.packets,
        send_octets: acc.send.octets,
        rcv_packets: acc.rcv.packets,
        rcv_octets: acc.rcv.octets,
        top_ioc_ports: ioc_ports.top(cfg.top_ports),
        top_remote_ports: remote_ports.top(cfg.top_ports),
        protocols: acc.protocols.iter().map(|(p, _)| p as u8).collect(),
        first_seen: acc.first_ms(),
        last_seen: acc.last_ms(),
    }
}
