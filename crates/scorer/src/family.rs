//! Bot families (detection-anchors.md §9.9): RemoteIPs that check in to the same
//! relays on the same days with the same traffic signature, as connected components of
//! a set-similarity graph, with ids that stay stable from run to run.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::NaiveDate;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::config::FamilyConfig;
use crate::records::Family;
use crate::stats::jaccard_sorted;

/// One RemoteIP that checked in during the family window.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyNode {
    /// The RemoteIP.
    pub ip: IpAddr,
    /// (IoC, IoC port) pairs it checked in to, sorted and deduplicated.
    pub targets: Vec<(IpAddr, u16)>,
    /// Days it checked in, sorted and deduplicated.
    pub days: Vec<NaiveDate>,
    /// Signature: (protocol, IoC port, RemotePort class — `None` = ephemeral).
    pub sig: (u8, u16, Option<u16>),
    /// Median bytes per packet of its check-ins (two nodes match within a ratio of 1.5).
    pub bpp: f64,
}

/// Targets, days and signature of a node: identical keys are joined without comparison.
type ExactKey<'a> = (&'a [(IpAddr, u16)], &'a [NaiveDate], (u8, u16, Option<u16>));

struct Dsu(Vec<usize>);

impl Dsu {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            self.0[hi] = lo;
        }
    }
}

fn bpp_close(a: f64, b: f64) -> bool {
    if a <= 0.0 || b <= 0.0 {
        return a == b;
    }
    a.max(b) / a.min(b) <= 1.5
}

/// A deterministic id from the sorted members (FNV-1a, 64 bits).
fn fresh_id(members: &[IpAddr]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for m in members {
        for b in m.to_string().bytes().chain(std::iter::once(b',')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("fam-{h:016x}")
}

/// Groups `nodes` into families and gives each the id of the `previous` family it
/// overlaps most (member Jaccard ≥ `keep_id_jaccard`), else a fresh id derived from its
/// members. Output sorted by id.
pub fn group_families(
    nodes: &[FamilyNode],
    previous: &[Family],
    cfg: &FamilyConfig,
) -> Vec<Family> {
    let n = nodes.len();
    let mut dsu = Dsu((0..n).collect());
    let mut edge_j: Vec<(usize, usize, f64)> = Vec::new();
    // Identical nodes (same targets, days and signature) are joined directly.
    let mut exact: FxHashMap<ExactKey<'_>, usize> = FxHashMap::default();
    let mut reps = Vec::new();
    for (i, nd) in nodes.iter().enumerate() {
        match exact.get(&(nd.targets.as_slice(), nd.days.as_slice(), nd.sig)) {
            Some(&r) if bpp_close(nodes[r].bpp, nd.bpp) => {
                dsu.union(r, i);
                edge_j.push((r, i, 1.0));
            }
            _ => {
                exact.insert((nd.targets.as_slice(), nd.days.as_slice(), nd.sig), i);
                reps.push(i);
            }
        }
    }
    // Candidates share at least one target (an inverted index replaces MinHash at the
    // sizes a relay's client list reaches).
    let mut index: FxHashMap<(IpAddr, u16), Vec<usize>> = FxHashMap::default();
    for &r in &reps {
        for t in &nodes[r].targets {
            index.entry(*t).or_default().push(r);
        }
    }
    let mut seen: FxHashSet<(usize, usize)> = FxHashSet::default();
    let mut keys: Vec<&(IpAddr, u16)> = index.keys().collect();
    keys.sort();
    for k in keys {
        let list = &index[k];
        for (x, &a) in list.iter().enumerate() {
            for &b in &list[x + 1..] {
                if !seen.insert((a, b)) {
                    continue;
                }
                let (na, nb) = (&nodes[a], &nodes[b]);
                if na.sig != nb.sig || !bpp_close(na.bpp, nb.bpp) {
                    continue;
                }
                let ja = jaccard_sorted(&na.targets, &nb.targets);
                if ja < cfg.j_ioc {
                    continue;
                }
                let jd = jaccard_sorted(&na.days, &nb.days);
                if jd < cfg.j_days {
                    continue;
                }
                dsu.union(a, b);
                edge_j.push((a, b, ja));
            }
        }
    }
    let mut comps: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let r = dsu.find(i);
        comps.entry(r).or_default().push(i);
    }
    let mut cohesion: FxHashMap<usize, (f64, usize)> = FxHashMap::default();
    for &(a, _, j) in &edge_j {
        let e = cohesion.entry(dsu.find(a)).or_insert((0.0, 0));
        e.0 += j;
        e.1 += 1;
    }
    let mut fams = Vec::new();
    for (root, idx) in comps {
        if idx.len() < cfg.min_size.max(2) {
            continue;
        }
        let mut members: Vec<IpAddr> = idx.iter().map(|&i| nodes[i].ip).collect();
        members.sort();
        members.dedup();
        let mut relays: Vec<IpAddr> = idx
            .iter()
            .flat_map(|&i| nodes[i].targets.iter().map(|t| t.0))
            .collect();
        relays.sort();
        relays.dedup();
        let mut ports: Vec<u16> = idx
            .iter()
            .flat_map(|&i| nodes[i].targets.iter().map(|t| t.1))
            .collect();
        ports.sort();
        ports.dedup();
        let mut activity: BTreeMap<NaiveDate, f64> = BTreeMap::new();
        for &i in &idx {
            for d in &nodes[i].days {
                *activity.entry(*d).or_insert(0.0) += 1.0;
            }
        }
        for v in activity.values_mut() {
            *v /= members.len() as f64;
        }
        let (Some(first), Some(last)) = (
            activity.keys().next().copied(),
            activity.keys().next_back().copied(),
        ) else {
            continue;
        };
        let (sum, cnt) = cohesion.get(&root).copied().unwrap_or((0.0, 0));
        fams.push(Family {
            id: String::new(),
            members,
            relays,
            relay_ports: ports,
            first_day: first,
            last_day: last,
            cohesion: if cnt > 0 { sum / cnt as f64 } else { 0.0 },
            activity,
        });
    }
    assign_ids(&mut fams, previous, cfg.keep_id_jaccard);
    fams.sort_by(|a, b| a.id.cmp(&b.id));
    fams
}

/// Gives each family the id of its best-overlapping previous family (each previous id
/// used once), else a fresh one; a kept family also keeps its first day.
fn assign_ids(fams: &mut [Family], previous: &[Family], keep: f64) {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, f) in fams.iter().enumerate() {
        for (j, p) in previous.iter().enumerate() {
            let mut pm = p.members.clone();
            pm.sort();
            let jac = jaccard_sorted(&f.members, &pm);
            if jac >= keep {
                pairs.push((jac, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut used_f = vec![false; fams.len()];
    let mut used_p = vec![false; previous.len()];
    for (_, i, j) in pairs {
        if used_f[i] || used_p[j] {
            continue;
        }
        used_f[i] = true;
        used_p[j] = true;
        fams[i].id = previous[j].id.clone();
        fams[i].first_day = fams[i].first_day.min(previous[j].first_day);
    }
    for (i, f) in fams.iter_mut().enumerate() {
        if !used_f[i] {
            f.id = fresh_id(&f.members);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(i: u8, relay: &str, days: std::ops::Range<i64>) -> FamilyNode {
        let d0 = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        FamilyNode {
            ip: format!("10.1.0.{i}").parse().unwrap(),
            targets: vec![(relay.parse().unwrap(), 8443)],
            days: days.map(|k| d0 + chrono::Duration::days(k)).collect(),
            sig: (6, 8443, None),
            bpp: 60.0,
        }
    }

    #[test]
    fn two_relays_make_two_families_and_small_groups_are_dropped() {
        let mut nodes: Vec<FamilyNode> = (1..=6).map(|i| node(i, "203.0.113.5", 0..10)).collect();
        nodes.extend((7..=12).map(|i| node(i, "198.51.100.9", 0..10)));
        nodes.extend((13..=14).map(|i| node(i, "192.0.2.77", 0..10)));
        let f = group_families(&nodes, &[], &FamilyConfig::default());
        assert_eq!(f.len(), 2);
        assert!(
            f.iter()
                .all(|x| x.members.len() == 6 && x.relays.len() == 1)
        );
    }

    #[test]
    fn family_id_survives_a_changed_member() {
        let cfg = FamilyConfig::default();
        let nodes: Vec<FamilyNode> = (1..=8).map(|i| node(i, "203.0.113.5", 0..10)).collect();
        let first = group_families(&nodes, &[], &cfg);
        let mut next: Vec<FamilyNode> = (2..=9).map(|i| node(i, "203.0.113.5", 1..11)).collect();
        next[0].days.pop();
        let second = group_families(&next, &first, &cfg);
        assert_eq!(first.len(), 1);
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].id, first[0].id);
        assert_eq!(second[0].first_day, first[0].first_day);
    }

    #[test]
    fn same_relay_different_signature_is_not_one_family() {
        let mut nodes: Vec<FamilyNode> = (1..=5).map(|i| node(i, "203.0.113.5", 0..10)).collect();
        let mut others: Vec<FamilyNode> = (6..=10).map(|i| node(i, "203.0.113.5", 0..10)).collect();
        for o in &mut others {
            o.bpp = 400.0;
        }
        nodes.extend(others);
        let f = group_families(&nodes, &[], &FamilyConfig::default());
        assert_eq!(f.len(), 2);
    }
}
