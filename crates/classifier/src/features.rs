//! The per-IoC features the rules compare (detection-anchors.md §9.3), measured from one
//! [`IocDayAcc`] in a single pass over its RemoteIP pairs.

use flowmodel::acc::{proto, tcp};
use flowmodel::{IocDayAcc, PairStats};

use crate::config::ClassifierConfig;
use crate::tally::PortTally;

/// What the rules measure on one IoC's day (all over the sample the accumulator holds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IocFeatures {
    /// Flows in both directions.
    pub flows: u64,
    /// `Send` flows (IoC → RemoteIP).
    pub send_flows: u64,
    /// `Rcv` flows (RemoteIP → IoC).
    pub rcv_flows: u64,
    /// `Rcv` TCP flows answering a probe of the IoC (SYN|ACK or RST from a server port
    /// the IoC sent to): scan replies, never check-ins.
    pub reply_flows: u64,
    /// Distinct RemoteIPs.
    pub n_remote: u64,
    /// Distinct /24 (IPv6 /48) prefixes of RemoteIPs.
    pub n_remote_24: u64,
    /// `Send` share of all flows.
    pub send_share: f64,
    /// (`Send` + reply flows) ÷ flows: how much of the day the IoC initiated.
    pub initiated_share: f64,
    /// RemoteIPs with any `Send` flow.
    pub n_probed: u64,
    /// Share of probed RemoteIPs with ≤ 2 `Send` flows.
    pub send_le2_share: f64,
    /// Share of RemoteIPs with ≤ 2 flows in all.
    pub le2_share: f64,
    /// Median bytes per packet of `Send` flows.
    pub send_bpp_median: f64,
    /// Whether most `Send` flows are TCP.
    pub send_mostly_tcp: bool,
    /// TCP `Send` flows.
    pub send_tcp_flows: u64,
    /// Share of TCP `Send` flows with exactly SYN.
    pub send_syn_only_share: f64,
    /// Share of TCP `Send` flows with exactly RST, SYN|ACK or RST|ACK.
    pub backscatter_share: f64,
    /// The most distinct ports the IoC probed on one RemoteIP (ports the RemoteIP never
    /// used as a client towards the IoC).
    pub max_probe_ports: u64,
    /// Share of `Rcv` flows that are UDP from an amplification port.
    pub amp_share: f64,
    /// Bytes per packet of those flows (mean over the amplification ports).
    pub amp_bpp: f64,
    /// RemoteIPs with any `Rcv` flow.
    pub n_senders: u64,
    /// Share of octets carried by the busiest RemoteIP.
    pub top_remote_octet_share: f64,
    /// Flows of the busiest pair (by octets).
    pub top_pair_flows: u64,
    /// Packets of the busiest pair.
    pub top_pair_packets: u64,
    /// Share of the busiest pair's TCP flows that are bare SYN.
    pub top_pair_syn_share: f64,
    /// `Rcv` TCP flows.
    pub rcv_tcp_flows: u64,
    /// Share of `Rcv` TCP flows that are bare SYN.
    pub rcv_syn_only_share: f64,
    /// The most common IoC port of `Rcv` flows (the check-in port, if any).
    pub checkin_port: Option<u16>,
    /// Share of RemoteIP-initiated `Rcv` flows (pairs that are not only scan replies)
    /// on that port.
    pub ioc_port_share: f64,
    /// Flows to and from that port ÷ non-reply flows.
    pub session_share: f64,
    /// RemoteIPs with `Rcv` flows on that port.
    pub n_checkin_remote: u64,
    /// Share of those with ≤ 2 `Rcv` flows.
    pub checkin_le2_share: f64,
    /// Share of RemoteIP-initiated `Rcv` flows (pairs that are not only scan replies)
    /// on that port.from an ephemeral RemoteIP port.
    pub ephemeral_share: f64,
    /// Share of RemoteIP-initiated `Rcv` flows (pairs that are not only scan replies)
    /// on that port.from the most common RemoteIP port.
    pub remote_port_top_share: f64,
    /// Median bytes per packet of `Rcv` flows.
    pub rcv_bpp_median: f64,
    /// Median octets (both directions) of the RemoteIPs checking in.
    pub octets_per_remote_median: f64,
}

fn share(n: u64, d: u64) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

fn median(v: &mut [u64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable(mid);
    *m as f64
}

/// Ports the IoC sent to on this RemoteIP that the RemoteIP never used as a client
/// towards the IoC (a server answering a client's connections sends to the client's
/// ports: those are not probes).
fn probe_ports(p: &PairStats) -> u64 {
    p.send_remote_ports
        .iter()
        .filter(|&(port, _)| p.rcv_remote_ports.get(port) <= p.rcv_reply_ports.get(port))
        .count() as u64
}

impl IocFeatures {
    /// Measures `acc`.
    pub fn measure(acc: &IocDayAcc, cfg: &ClassifierConfig) -> Self {
        let flows = acc.flows();
        let mut f = IocFeatures {
            flows,
            send_flows: acc.send.flows,
            rcv_flows: acc.rcv.flows,
            n_remote: acc.remotes() as u64,
            n_remote_24: acc.remote_prefixes() as u64,
            ..Default::default()
        };
        if flows == 0 {
            return f;
        }
        let server = |p: u16| !cfg.is_ephemeral(p);
        let mut rcv_ioc_ports = PortTally::default();
        let (mut le2, mut send_le2, mut probed, mut senders) = (0u64, 0u64, 0u64, 0u64);
        let total_octets = acc.send.octets + acc.rcv.octets;
        let mut top: Option<&PairStats> = None;
        for p in acc.pairs.values() {
            let replies = p.reply_flows(server);
            f.reply_flows += replies;
            if p.flows() <= 2 {
                le2 += 1;
            }
            if p.send.flows > 0 {
                probed += 1;
                if p.send.flows <= 2 {
                    send_le2 += 1;
                }
                f.max_probe_ports = f.max_probe_ports.max(probe_ports(p));
            }
            if p.rcv.flows > 0 {
                senders += 1;
            }
            if p.rcv.flows > replies {
                // The check-in port is chosen among RemoteIP-initiated traffic only.
                rcv_ioc_ports.add_counts(&p.rcv_ioc_ports);
            }
            if top.is_none_or(|t| p.octets() > t.octets()) {
                top = Some(p);
            }
        }
        f.send_share = share(acc.send.flows, flows);
        f.initiated_share = share(acc.send.flows + f.reply_flows, flows);
        f.n_probed = probed;
        f.n_senders = senders;
        f.le2_share = share(le2, f.n_remote);
        f.send_le2_share = share(send_le2, probed);
        f.send_bpp_median = acc.send_bpp.quantile(0.5).unwrap_or(0) as f64;
        f.rcv_bpp_median = acc.rcv_bpp.quantile(0.5).unwrap_or(0) as f64;
        f.send_tcp_flows = acc.send_flags.total();
        f.send_mostly_tcp = 2 * f.send_tcp_flows >= acc.send.flows.max(1);
        f.send_syn_only_share = share(
            acc.send_flags
                .iter()
                .filter(|&(b, _)| tcp::is_syn_only(b))
                .map(|e| e.1)
                .sum(),
            f.send_tcp_flows,
        );
        f.backscatter_share = share(
            acc.send_flags
                .iter()
                .filter(|&(b, _)| tcp::is_reply_like(b))
                .map(|e| e.1)
                .sum(),
            f.send_tcp_flows,
        );
        f.rcv_tcp_flows = acc.rcv_flags.total();
        f.rcv_syn_only_share = share(
            acc.rcv_flags
                .iter()
                .filter(|&(b, _)| tcp::is_syn_only(b))
                .map(|e| e.1)
                .sum(),
            f.rcv_tcp_flows,
        );
        let (mut amp_flows, mut amp_pk, mut amp_oct) = (0u64, 0u64, 0u64);
        for (port, d) in acc.rcv_udp_by_remote_port.iter() {
            if cfg.amp_ports.contains(&port) {
                amp_flows += d.flows;
                amp_pk += d.packets;
                amp_oct += d.octets;
            }
        }
        f.amp_share = share(amp_flows, acc.rcv.flows);
        f.amp_bpp = share(amp_oct, amp_pk);
        if let Some(t) = top {
            f.top_remote_octet_share = share(t.octets(), total_octets);
            f.top_pair_flows = t.flows();
            f.top_pair_packets = t.packets();
            // Pairs keep a protocol set, not per-protocol counts: the share is over all
            // of the pair's flows (a flood pair is one protocol anyway).
            f.top_pair_syn_share = share(
                u64::from(t.send_syn_only) + u64::from(t.rcv_syn_only),
                if t.protocols.contains(proto::TCP) {
                    t.flows()
                } else {
                    0
                },
            );
        }
        if let Some((port, n_on_port)) = rcv_ioc_ports.modal() {
            f.checkin_port = Some(port);
            f.ioc_port_share = share(n_on_port, rcv_ioc_ports.total());
            let (mut sess, mut n_ck, mut ck_le2, mut eph) = (0, 0, 0, 0);
            let mut remote_ports = PortTally::default();
            let mut octets = Vec::new();
            for p in acc.pairs.values() {
                // Scan replies are never part of a check-in session.
                let r = u64::from(p.rcv_ioc_ports.get(port)).saturating_sub(p.reply_flows(server));
                if r == 0 {
                    continue;
                }
                sess += r + u64::from(p.send_ioc_ports.get(port));
                n_ck += 1;
                if p.rcv.flows <= 2 {
                    ck_le2 += 1;
                }
                octets.push(p.octets());
                // Remote ports are not kept per IoC port: when the pair used one IoC
                // port only (the common case), its remote ports are exactly those of
                // the check-in flows; otherwise count them in proportion.
                let single = p.rcv_ioc_ports.len() == 1;
                for (rp, n) in p.rcv_remote_ports.iter() {
                    let n = u64::from(n);
                    let n = if single {
                        n
                    } else {
                        n * r / p.rcv.flows.max(1)
                    };
                    remote_ports.add(rp, n);
                    if cfg.is_ephemeral(rp) {
                        eph += n;
                    }
                }
            }
            f.session_share = share(sess, flows - f.reply_flows);
            f.n_checkin_remote = n_ck;
            f.checkin_le2_share = share(ck_le2, n_ck);
            let counted = remote_ports.total();
            f.ephemeral_share = share(eph, counted);
            f.remote_port_top_share = share(remote_ports.modal().map_or(0, |m| m.1), counted);
            f.octets_per_remote_median = median(&mut octets);
        }
        f
    }
}
