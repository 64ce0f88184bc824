//! Which side of an (IoC, RemoteIP) pair is the server (detection-anchors.md §9.6).
//!
//! Flows are one-way and ports are all we have, so the decision is ordered, first match
//! wins:
//!
//! 1. **Pair stability**: with ≥ `roles.min_flows` flows, a side whose modal port
//!    carries ≥ `roles.port_stability` of them while the other side shows
//!    ≥ min(5, flows / 2) distinct ports is the server.
//! 2. **Stability across the IoC's pairs**: an IoC port used by ≥ `roles.min_peers`
//!    RemoteIPs (many clients, one service) against a RemoteIP port seen on fewer pairs
//!    makes the IoC the server; a RemoteIP port the IoC reached on ≥ `min_peers`
//!    RemoteIPs (one service probed or used on many hosts) makes the RemoteIP the server.
//! 3. **Ephemeral ranges**: a port in `ephemeral_ranges` is the client's.
//! 4. **Well-known service ports** (`service_ports`) break the remaining ties.
//! 5. Last resort: the lower port is the server (equal ports: `Unknown`).
//!
//! Ports in `callback_ports` (ident, 113) on the RemoteIP side are ignored while the
//! pair has other RemoteIP ports: an IRC server querying its client's ident port does
//! not make the client a server. Legacy Windows clients (ports 1025–5000, below any
//! ephemeral threshold) are caught by rules 1, 2 and 4, not by the 32768 rule.

use flowmodel::{Counts, PairStats, Role};
use rustc_hash::FxHashMap;

use crate::config::ClassifierConfig;

/// How many RemoteIPs of one IoC use each IoC port and each RemoteIP port.
#[derive(Debug, Clone, Default)]
pub struct PortPeers {
    /// IoC port → RemoteIPs whose pair used it.
    pub ioc: FxHashMap<u16, u64>,
    /// RemoteIP port → RemoteIPs on which it was used.
    pub remote: FxHashMap<u16, u64>,
}

impl PortPeers {
    /// Counts the ports of every pair of an IoC.
    pub fn of<'a>(pairs: impl Iterator<Item = &'a PairStats>) -> Self {
        let mut pp = PortPeers::default();
        for p in pairs {
            for (port, _) in merged(&p.send_ioc_ports, &p.rcv_ioc_ports).iter() {
                *pp.ioc.entry(port).or_default() += 1;
            }
            for (port, _) in merged(&p.send_remote_ports, &p.rcv_remote_ports).iter() {
                *pp.remote.entry(port).or_default() += 1;
            }
        }
        pp
    }
}

fn merged(a: &Counts<u32>, b: &Counts<u32>) -> Counts<u32> {
    let mut c = a.clone();
    c.merge(b);
    c
}

/// The best server candidate of one side: most flows, then most peers, then not
/// ephemeral, then the lower port.
fn best(
    c: &Counts<u32>,
    peers: &FxHashMap<u16, u64>,
    cfg: &ClassifierConfig,
) -> Option<(u16, u64)> {
    c.iter()
        .max_by(|a, b| {
            a.1.cmp(&b.1)
                .then(peers.get(&a.0).cmp(&peers.get(&b.0)))
                .then(cfg.is_ephemeral(b.0).cmp(&cfg.is_ephemeral(a.0)))
                .then(b.0.cmp(&a.0))
        })
        .map(|(k, n)| (k, u64::from(n)))
}

/// The RemoteIP's role towards the IoC in pair `p`.
pub fn pair_role(p: &PairStats, peers: &PortPeers, cfg: &ClassifierConfig) -> Role {
    let ioc = merged(&p.send_ioc_ports, &p.rcv_ioc_ports);
    let all_remote = merged(&p.send_remote_ports, &p.rcv_remote_ports);
    let remote = if all_remote
        .iter()
        .any(|(q, _)| !cfg.callback_ports.contains(&q))
    {
        let mut c = Counts::<u32>::default();
        for (q, n) in all_remote.iter() {
            if !cfg.callback_ports.contains(&q) {
                c.add(q, n);
            }
        }
        c
    } else {
        all_remote
    };
    let (Some((pi, ni)), Some((pr, nr))) = (
        best(&ioc, &peers.ioc, cfg),
        best(&remote, &peers.remote, cfg),
    ) else {
        return Role::Unknown;
    };
    // 1. pair stability
    let r = &cfg.roles;
    let (ti, tr) = (ioc.total(), remote.total());
    if tr >= r.min_flows && ti >= r.min_flows {
        let need = |flows: u64| (flows / 2).min(5) as usize;
        let si = ni as f64 / ti as f64;
        let sr = nr as f64 / tr as f64;
        if si >= r.port_stability && remote.len() >= need(tr) && sr < r.port_stability {
            return Role::Client;
        }
        if sr >= r.port_stability && ioc.len() >= need(ti) && si < r.port_stability {
            return Role::Server;
        }
    }
    // 2. stability across the IoC's pairs
    let peer_i = peers.ioc.get(&pi).copied().unwrap_or(0);
    let peer_r = peers.remote.get(&pr).copied().unwrap_or(0);
    if peer_i >= r.min_peers && peer_i > peer_r {
        return Role::Client;
    }
    if peer_r >= r.min_peers && peer_r > peer_i {
        return Role::Server;
    }
    // 3. ephemeral ranges
    match (cfg.is_ephemeral(pi), cfg.is_ephemeral(pr)) {
        (false, true) => return Role::Client,
        (true, false) => return Role::Server,
        _ => {}
    }
    // 4. well-known services
    match (cfg.is_service(pi), cfg.is_service(pr)) {
        (true, false) => return Role::Client,
        (false, true) => return Role::Server,
        _ => {}
    }
    // 5. the lower port
    match pi.cmp(&pr) {
        std::cmp::Ordering::Less => Role::Client,
        std::cmp::Ordering::Greater => Role::Server,
        std::cmp::Ordering::Equal => Role::Unknown,
    }
}
