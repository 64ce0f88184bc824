//! The public face: [`Generator`].

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use flate2::Compression;
use flate2::write::GzEncoder;
use flowmodel::{IocClass, RawFlow};

use crate::config::GenConfig;
use crate::day::Out;
use crate::error::GenError;
use crate::truth::{
    AptTruth, BotTruth, DosTruth, FamilyTruth, GroundTruth, IocKind, IocTruth, MigrationTruth,
    ScannerTruth,
};
use crate::world::World;
use crate::write::write_flow_json;

/// A deterministic synthetic backbone: build it once from a [`GenConfig`], then ask for
/// any day's flows, blocklist, or the ground truth, in any order.
///
/// Every day is generated from its own random streams, so day 5 is the same whether or
/// not days 0–4 were generated, and the same on every machine for a given seed (and
/// lock file).
pub struct Generator {
    w: World,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("cfg", &self.w.cfg)
            .finish_non_exhaustive()
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> GenError {
    let what = what.into();
    move |source| GenError::Io { what, source }
}

impl Generator {
    /// Builds the world (hosts, IoCs, families…) from `cfg`. Fails on an invalid
    /// configuration, with the field at fault in the message.
    pub fn new(cfg: GenConfig) -> Result<Self, GenError> {
        Ok(Self {
            w: World::build(cfg)?,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &GenConfig {
        &self.w.cfg
    }

    /// Number of days.
    pub fn days(&self) -> u32 {
        self.w.cfg.days
    }

    fn check(&self, day: u32) -> Result<(), GenError> {
        if day >= self.w.cfg.days {
            return Err(GenError::DayOutOfRange {
                day,
                days: self.w.cfg.days,
            });
        }
        Ok(())
    }

    /// The date of day `day` (`start + day` days).
    pub fn date(&self, day: u32) -> Result<NaiveDate, GenError> {
        self.check(day)?;
        Ok(self.date_unchecked(day))
    }

    fn date_unchecked(&self, day: u32) -> NaiveDate {
        self.w.cfg.start + chrono::Days::new(day as u64)
    }

    /// Every flow of day `day`, planted behaviours first, then background. Flows are
    /// not sorted by time (a collector's index is not either).
    pub fn day_flows(&self, day: u32) -> Result<Vec<RawFlow>, GenError> {
        self.check(day)?;
        let mut v = Vec::with_capacity(self.w.cfg.flows_per_day.min(1 << 24) as usize);
        self.w.generate(day, &mut |f| v.push(f));
        Ok(v)
    }

    /// Streams day `day`'s flows (the same ones, in the same order, as
    /// [`Generator::day_flows`]) into `sink` without holding the day in memory.
    /// Returns the number of flows.
    pub fn for_each_flow(&self, day: u32, mut sink: impl FnMut(RawFlow)) -> Result<u64, GenError> {
        self.check(day)?;
        Ok(self.w.generate(day, &mut sink))
    }

    /// Writes day `day` as JSON Lines of raw flow documents (design.md §3), gzip
    /// compressed (level 1, no timestamp in the header, so the bytes are deterministic)
    /// when `gzip` is set. Returns the number of flows written.
    pub fn write_day_jsonl<W: Write>(&self, day: u32, w: W, gzip: bool) -> Result<u64, GenError> {
        self.check(day)?;
        if gzip {
            let mut enc = GzEncoder::new(w, Compression::new(1));
            let n = self.write_lines(day, &mut enc)?;
            let mut inner = enc.finish().map_err(io("gzip stream"))?;
            inner.flush().map_err(io("gzip stream"))?;
            Ok(n)
        } else {
            let mut w = w;
            self.write_lines(day, &mut w)
        }
    }

    fn write_lines<W: Write>(&self, day: u32, w: &mut W) -> Result<u64, GenError> {
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
        let mut err: Option<std::io::Error> = None;
        let n = self.w.generate(day, &mut |f| {
            if err.is_some() {
                return;
            }
            write_flow_json(&f, &mut buf);
            buf.push(b'\n');
            if buf.len() >= (1 << 20) - 2048 {
                if let Err(e) = w.write_all(&buf) {
                    err = Some(e);
                }
                buf.clear();
            }
        });
        if let Some(e) = err {
            return Err(io("flow documents")(e));
        }
        w.write_all(&buf).map_err(io("flow documents"))?;
        w.flush().map_err(io("flow documents"))?;
        Ok(n)
    }

    /// The blocklist published for day `day`: every IoC (the migrated family's new relay
    /// is never on it). The same addresses every day, in the list's own order.
    pub fn blocklist(&self, day: u32) -> Result<Vec<IpAddr>, GenError> {
        self.check(day)?;
        let mut list: Vec<IpAddr> = self.w.iocs.iter().map(|i| i.host.ip).collect();
        // The list's order says nothing about what an entry is.
        let mut rng = crate::world::rng_for(self.w.cfg.seed, crate::world::tag::BLOCKLIST, 0, 0);
        rng.shuffle(&mut list);
        Ok(list)
    }

    /// Writes day `day`'s blocklist as the CERT publishes it: one address a line, after
    /// a comment line.
    pub fn write_blocklist<W: Write>(&self, day: u32, mut w: W) -> Result<(), GenError> {
        let list = self.blocklist(day)?;
        let mut s = format!(
            "# iocflow synthetic blocklist for {} ({} entries)\n",
            self.date_unchecked(day),
            list.len()
        );
        for ip in list {
            s.push_str(&ip.to_string());
            s.push('\n');
        }
        w.write_all(s.as_bytes()).map_err(io("blocklist"))?;
        w.flush().map_err(io("blocklist"))
    }

    /// Writes the ground truth as pretty JSON.
    pub fn write_truth<W: Write>(&self, mut w: W) -> Result<(), GenError> {
        serde_json::to_writer_pretty(&mut w, &self.truth())?;
        w.write_all(b"\n").map_err(io("ground truth"))?;
        w.flush().map_err(io("ground truth"))
    }

    /// Writes a whole run into `dir` (created if missing): `flows-YYYY-MM-DD.jsonl` (or
    /// `.jsonl.gz`) and `blocklist-YYYY-MM-DD.txt` per day, and `truth.json`. Returns the
    /// paths written, in that order per day, `truth.json` last.
    pub fn write_dir(&self, dir: &Path, gzip: bool) -> Result<Vec<PathBuf>, GenError> {
        std::fs::create_dir_all(dir).map_err(io(dir.display().to_string()))?;
        let mut paths = Vec::new();
        for day in 0..self.days() {
            let date = self.date_unchecked(day);
            let ext = if gzip { "jsonl.gz" } else { "jsonl" };
            let p = dir.join(format!("flows-{date}.{ext}"));
            let f = File::create(&p).map_err(io(p.display().to_string()))?;
            self.write_day_jsonl(day, BufWriter::new(f), gzip)?;
            paths.push(p);
            let p = dir.join(format!("blocklist-{date}.txt"));
            let f = File::create(&p).map_err(io(p.display().to_string()))?;
            self.write_blocklist(day, BufWriter::new(f))?;
            paths.push(p);
        }
        let p = dir.join("truth.json");
        let f = File::create(&p).map_err(io(p.display().to_string()))?;
        self.write_truth(BufWriter::new(f))?;
        paths.push(p);
        Ok(paths)
    }

    /// The planted truth of the whole run (computed without generating background).
    pub fn truth(&self) -> GroundTruth {
        let w = &self.w;
        let days = w.cfg.days;
        let dates: Vec<NaiveDate> = (0..days).map(|d| self.date_unchecked(d)).collect();
        let ip = |i: usize| w.iocs[i].host.ip;
        let mut classes: Vec<BTreeMap<NaiveDate, IocClass>> = w
            .iocs
            .iter()
            .map(|_| dates.iter().map(|d| (*d, IocClass::NoData)).collect())
            .collect();
        let mark = |classes: &mut Vec<BTreeMap<NaiveDate, IocClass>>,
                    ioc: usize,
                    active: &[bool],
                    class: IocClass| {
            for (d, a) in active.iter().enumerate() {
                if *a {
                    classes[ioc].insert(dates[d], class);
                }
            }
        };
        let on_days = |active: &[bool]| -> Vec<NaiveDate> {
            active
                .iter()
                .enumerate()
                .filter(|(_, a)| **a)
                .map(|(d, _)| dates[d])
                .collect()
        };

        let all_days = vec![true; days as usize];
        let mut wide: Vec<IpAddr> = Vec::new();
        for x in &w.wides {
            mark(&mut classes, x.ioc, &all_days, IocClass::Wide);
            wide.push(ip(x.ioc));
        }

        let mut bots = Vec::new();
        let mut families = Vec::new();
        for f in &w.families {
            let relay_ip = ip(f.relay_ioc);
            let mut active: Vec<Vec<NaiveDate>> = vec![Vec::new(); f.bots.len()];
            for day in 0..days {
                let (mut n_active, mut le2, mut flows, mut eph) = (0u32, 0u32, 0u32, 0u32);
                for (b, bot) in f.bots.iter().enumerate() {
                    let k = w.bot_checkins(f, b, day);
                    if k == 0 {
                        continue;
                    }
                    active[b].push(dates[day as usize]);
                    n_active += 1;
                    le2 += (k <= 2) as u32;
                    flows += k;
                    if w.int4[bot.host].os.ephemeral_range().0 >= 32768 {
                        eph += k;
                    }
                }
                let migrated = matches!(&f.migration, Some((m, _)) if day >= *m);
                if n_active == 0 || migrated {
                    continue;
                }
                // The classifier's CheckIn rule (detection-anchors §9.4, defaults of
                // §9.11): ≥ 10 RemoteIPs, ≥ 80 % of them with ≤ 2 flows, ≥ 70 % of
                // flows from ephemeral ports (≥ 32768). Everything else is stable by
                // construction (one port, one-way, small packets).
                let checkin = n_active >= 10
                    && le2 as f64 >= 0.8 * n_active as f64
                    && eph as f64 >= 0.7 * flows as f64;
                let class = if checkin {
                    IocClass::CheckIn
                } else {
                    IocClass::Candidate
                };
                classes[f.relay_ioc].insert(dates[day as usize], class);
            }
            let mut members = Vec::new();
            for (b, bot) in f.bots.iter().enumerate() {
                let h = &w.int4[bot.host];
                members.push(h.ip);
                bots.push(BotTruth {
                    ip: h.ip,
                    family_id: f.id,
                    relay: relay_ip,
                    os: h.os,
                    active_days: std::mem::take(&mut active[b]),
                });
            }
            members.sort();
            let mut relays = vec![relay_ip];
            let migration = f.migration.as_ref().map(|(m, new)| {
                relays.push(new.ip);
                MigrationTruth {
                    day: dates[*m as usize],
                    old_relay: relay_ip,
                    new_relay: new.ip,
                }
            });
            families.push(FamilyTruth {
                id: f.id,
                members,
                relays,
                relay_port: f.port,
                protocol: f.proto,
                first_day: dates[f.first_day as usize],
                last_day: dates[f.last_day as usize],
                migration,
            });
        }
        bots.sort_by_key(|b| b.ip);

        let mut scanners = Vec::new();
        for (i, s) in w.scanners.iter().enumerate() {
            mark(&mut classes, s.ioc, &s.days, IocClass::Scan);
            let mut responders = BTreeSet::new();
            for day in 0..days {
                if s.days[day as usize] {
                    let mut noop = |_: RawFlow| {};
                    let mut out = Out::new(&mut noop, 0);
                    responders.extend(w.scan_day(i, s, day, &mut out));
                }
            }
            scanners.push(ScannerTruth {
                ioc: ip(s.ioc),
                ports: s.ports.clone(),
                days: on_days(&s.days),
                responders: responders.into_iter().collect(),
            });
        }

        let mut contacted: BTreeSet<IpAddr> = BTreeSet::new();
        let mut dos = Vec::new();
        for d in &w.dos {
            mark(&mut classes, d.ioc, &d.days, IocClass::DoS);
            let peers: Vec<IpAddr> = d.peers.iter().map(|p| w.int4[*p].ip).collect();
            if d.kind == IocKind::DosFloodFrom {
                contacted.extend(peers.iter().copied());
            }
            dos.push(DosTruth {
                ioc: ip(d.ioc),
                kind: d.kind,
                peers,
                days: on_days(&d.days),
            });
        }

        let mut apt = Vec::new();
        for a in &w.apts {
            mark(&mut classes, a.ioc, &a.days, IocClass::Candidate);
            apt.push(AptTruth {
                ioc: ip(a.ioc),
                target: w.int4[a.target].ip,
                port: a.port,
                days: on_days(&a.days),
            });
        }
        for c in &w.contacts {
            mark(&mut classes, c.ioc, &c.days, IocClass::Candidate);
            contacted.extend(c.targets.iter().map(|t| w.int4[*t].ip));
        }
        for c in &w.cands {
            mark(&mut classes, c.ioc, &c.days, IocClass::Candidate);
        }

        let mut nodata: Vec<IpAddr> = Vec::new();
        let mut iocs: Vec<IocTruth> = w
            .iocs
            .iter()
            .zip(classes)
            .map(|(i, c)| {
                if i.kind == IocKind::NoData {
                    nodata.push(i.host.ip);
                }
                IocTruth {
                    ip: i.host.ip,
                    kind: i.kind,
                    expected_class_by_day: c,
                }
            })
            .collect();
        iocs.sort_by_key(|t| t.ip);
        nodata.sort();
        wide.sort();

        GroundTruth {
            seed: w.cfg.seed,
            start: w.cfg.start,
            days,
            iocs,
            bots,
            families,
            apt,
            contacted_only: contacted.into_iter().collect(),
            scanners,
            dos,
            wide,
            nodata,
        }
    }
}
