//! Port counts over a whole IoC. `flowmodel::Counts` is a sorted vector, ideal for the
//! few ports of one pair but quadratic when thousands of pairs' ephemeral ports are
//! merged into one; IoC-wide sums go through this hash map instead.

use flowmodel::Counts;
use rustc_hash::FxHashMap;

/// Flows per port, summed over many pairs.
#[derive(Debug, Clone, Default)]
pub(crate) struct PortTally(FxHashMap<u16, u64>);

impl PortTally {
    pub(crate) fn add(&mut self, port: u16, n: u64) {
        *self.0.entry(port).or_default() += n;
    }

    pub(crate) fn add_counts(&mut self, c: &Counts<u32>) {
        for (p, n) in c.iter() {
            self.add(p, u64::from(n));
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// The most common port (ties: the lower port) and its count.
    pub(crate) fn modal(&self) -> Option<(u16, u64)> {
        self.0
            .iter()
            .map(|(&p, &n)| (p, n))
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
    }

    /// The `n` most common ports, most common first (ties: lower port first).
    pub(crate) fn top(&self, n: usize) -> Vec<(u16, u64)> {
        let mut v: Vec<(u16, u64)> = self.0.iter().map(|(&p, &c)| (p, c)).collect();
        let cmp = |a: &(u16, u64), b: &(u16, u64)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
        if v.len() > n && n > 0 {
            v.select_nth_unstable_by(n - 1, cmp);
            v.truncate(n);
        }
        v.sort_unstable_by(cmp);
        v.truncate(n);
        v
    }
}
