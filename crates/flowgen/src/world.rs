//! The fixed world of a run: hosts, IoCs and the specs of every planted behaviour.
//! Everything here is drawn once from the seed; days only add per-day randomness.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use fastrand::Rng;
use flowmodel::Geo;

use crate::config::GenConfig;
use crate::error::GenError;
use crate::truth::{ClientOs, IocKind};

/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Stream tags: every random stream is keyed by (seed, tag, entity, day).
pub(crate) mod tag {
    pub const WORLD: u64 = 1;
    pub const BACKGROUND: u64 = 2;
    pub const BOT_ACTIVE: u64 = 3;
    pub const BOT_TIMES: u64 = 4;
    pub const SCAN: u64 = 5;
    pub const DOS: u64 = 6;
    pub const APT: u64 = 7;
    pub const CONTACT: u64 = 8;
    pub const WIDE: u64 = 9;
    pub const CAND: u64 = 10;
    pub const BLOCKLIST: u64 = 11;
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An independent random stream for one (tag, entity, day).
pub(crate) fn rng_for(seed: u64, tag: u64, idx: u64, day: u64) -> Rng {
    let s = splitmix(splitmix(splitmix(seed ^ splitmix(tag)) ^ idx) ^ day);
    Rng::with_seed(s)
}

/// One address with what a flow record says about it.
#[derive(Clone)]
pub(crate) struct Host {
    pub ip: IpAddr,
    pub asn: u32,
    pub geo: Geo,
    /// The exporter that sees this host's traffic (internal hosts only).
    pub exporter: Option<IpAddr>,
    pub os: ClientOs,
}

impl ClientOs {
    pub(crate) fn port(self, rng: &mut Rng) -> u16 {
        let (lo, hi) = self.ephemeral_range();
        rng.u16(lo..=hi)
    }
}

struct Site {
    cc: &'static str,
    city: &'static str,
    lon: f64,
    lat: f64,
    asn: u32,
    first_octet: u8,
}

const fn site(
    cc: &'static str,
    city: &'static str,
    lon: f64,
    lat: f64,
    asn: u32,
    first_octet: u8,
) -> Site {
    Site {
        cc,
        city,
        lon,
        lat,
        asn,
        first_octet,
    }
}

/// External sites: country, city, coordinates, AS and the first octet of their space.
const EXT_SITES: [Site; 14] = [
    site("US", "Ashburn", -77.4875, 39.0437, 14618, 52),
    site("US", "Mountain_View", -122.0838, 37.386, 15169, 34),
    site("JP", "Tokyo", 139.6917, 35.6895, 2516, 61),
    site("CN", "Beijing", 116.3883, 39.9289, 4134, 58),
    site("HK", "Shatin", 114.177902, 22.3829, 152194, 103),
    site("DE", "Frankfurt", 8.6821, 50.1109, 24940, 78),
    site("NL", "Amsterdam", 4.8897, 52.374, 60781, 185),
    site("RU", "Moscow", 37.6156, 55.7522, 12389, 95),
    site("SG", "Singapore", 103.8501, 1.2897, 16509, 13),
    site("KR", "Seoul", 126.9784, 37.5665, 4766, 121),
    site("BR", "Sao_Paulo", -46.6333, -23.5505, 28573, 177),
    site("FR", "Paris", 2.3522, 48.8566, 16276, 51),
    site("VN", "Hanoi", 105.8412, 21.0245, 7552, 113),
    site("IN", "Mumbai", 72.8777, 19.076, 9498, 49),
];

/// Internal sites (one per internal network, cycling).
const INT_SITES: [(&str, f64, f64); 4] = [
    ("Taipei", 121.5319, 25.0478),
    ("Tainan_City", 120.214798, 22.991699),
    ("Taichung", 120.6839, 24.1469),
    ("Hsinchu", 120.9647, 24.8036),
];

/// The backbone's own AS.
pub(crate) const INTERNAL_ASN: u32 = 1659;

const EXPORTERS: [Ipv4Addr; 4] = [
    Ipv4Addr::new(192, 192, 68, 33),
    Ipv4Addr::new(192, 192, 68, 34),
    Ipv4Addr::new(192, 192, 68, 35),
    Ipv4Addr::new(192, 192, 68, 36),
];

fn geo(cc: &str, city: &str, lon: f64, lat: f64) -> Geo {
    let json = format!(
        r#"{{"country_code":"{cc}","city":"{city}","longitude":{lon},"latitude":{lat},"coordinates":[{lon},{lat}]}}"#
    );
    Geo::from_json(&json).expect("generated geo JSON is valid")
}

/// The internal side of a network: geo and exporter per configured network.
pub(crate) struct NetInfo {
    pub geo: Geo,
    pub exporter: IpAddr,
}

/// Bot in a family.
pub(crate) struct Bot {
    pub host: usize,
    /// Check-ins a day.
    pub per_day: u32,
    /// Packets per check-in (1 or 2).
    pub pkts: u64,
    /// Phase of the first check-in within its period, in [0, 1).
    pub phase: f64,
}

pub(crate) struct Family {
    pub id: u32,
    pub relay_ioc: usize,
    pub port: u16,
    pub proto: u8,
    pub pkt_base: u64,
    pub bots: Vec<Bot>,
    pub first_day: u32,
    pub last_day: u32,
    /// (first day on the new relay, the new relay)
    pub migration: Option<(u32, Host)>,
}

pub(crate) struct Scanner {
    pub ioc: usize,
    pub ports: Vec<u16>,
    /// Fixed source port (masscan style) or `None` for ephemeral ones.
    pub src_port: Option<u16>,
    pub probe_octets: u64,
    pub answer_rate: f64,
    pub days: Vec<bool>,
}

pub(crate) struct Dos {
    pub ioc: usize,
    pub kind: IocKind,
    /// Internal hosts: victim, flooder, or reflectors.
    pub peers: Vec<usize>,
    /// Flood target port, or the reflection victim's port.
    pub port: u16,
    pub days: Vec<bool>,
}

pub(crate) struct Apt {
    pub ioc: usize,
    pub target: usize,
    pub port: u16,
    pub days: Vec<bool>,
}

pub(crate) struct Contact {
    pub ioc: usize,
    pub targets: Vec<usize>,
    pub days: Vec<bool>,
}

pub(crate) enum WideService {
    Dns,
    Ntp,
    Https,
}

pub(crate) struct Wide {
    pub ioc: usize,
    pub service: WideService,
}

pub(crate) struct Cand {
    pub ioc: usize,
    /// Internal hosts of the IoC's IP version.
    pub remotes: Vec<usize>,
    pub port: u16,
    pub days: Vec<bool>,
}

pub(crate) struct Ioc {
    pub host: Host,
    pub kind: IocKind,
}

/// The world of a run.
pub(crate) struct World {
    pub cfg: GenConfig,
    pub day0_ms: i64,
    pub nets4: Vec<NetInfo>,
    pub int4: Vec<Host>,
    pub int6: Vec<Host>,
    pub ext4: Vec<Host>,
    pub ext6: Vec<Host>,
    /// Internal IPv4 hosts with no planted role (scan responders come from here).
    pub free4: Vec<usize>,
    pub iocs: Vec<Ioc>,
    pub families: Vec<Family>,
    pub scanners: Vec<Scanner>,
    pub dos: Vec<Dos>,
    pub apts: Vec<Apt>,
    pub contacts: Vec<Contact>,
    pub wides: Vec<Wide>,
    pub cands: Vec<Cand>,
    /// Cumulative distribution of flow start hours (a diurnal curve).
    pub hour_cdf: [f64; 24],
}

/// Zipf-like (exponent 1) index in `0..n`: P(k) ∝ ln((k + 2) / (k + 1)).
#[inline]
pub(crate) fn zipf(rng: &mut Rng, n: usize) -> usize {
    let x = ((n as f64 + 1.0).ln() * rng.f64()).exp() - 1.0;
    (x as usize).min(n.saturating_sub(1))
}

fn days_with(rng: &mut Rng, days: u32, p: f64, min: u32) -> Vec<bool> {
    let mut v: Vec<bool> = (0..days).map(|_| rng.f64() < p).collect();
    let min = min.min(days) as usize;
    while v.iter().filter(|b| **b).count() < min {
        let i = rng.usize(0..v.len());
        v[i] = true;
    }
    v
}

fn contiguous_days(rng: &mut Rng, days: u32, max_len: u32) -> Vec<bool> {
    let len = rng.u32(1..=max_len.min(days));
    let first = rng.u32(0..=days - len);
    (0..days).map(|d| d >= first && d < first + len).collect()
}

fn pick_os(rng: &mut Rng) -> ClientOs {
    let r = rng.f64();
    if r < 0.42 {
        ClientOs::Linux
    } else if r < 0.91 {
        ClientOs::Windows
    } else {
        ClientOs::WindowsXp
    }
}

struct AddrGen<'a> {
    used: HashSet<IpAddr>,
    cfg: &'a GenConfig,
}

/// Attempts at drawing a fresh address before the space counts as exhausted.
const MAX_TRIES: u32 = 1_000_000;

fn exhausted(what: &str) -> GenError {
    GenError::InvalidConfig(format!(
        "no free {what} address left: the networks are too small for the host counts"
    ))
}

impl AddrGen<'_> {
    fn internal4(&mut self, rng: &mut Rng, net_idx: usize) -> Result<Ipv4Addr, GenError> {
        let net = self.cfg.internal_v4[net_idx];
        let base = u32::from(net.network());
        let size = 1u64 << (32 - net.prefix_len());
        for _ in 0..MAX_TRIES {
            let off = rng.u64(1..size - 1) as u32;
            let a = Ipv4Addr::from(base | off);
            let last = a.octets()[3];
            if last != 0 && last != 255 && self.used.insert(IpAddr::V4(a)) {
                return Ok(a);
            }
        }
        Err(exhausted("internal IPv4"))
    }

    fn internal6(&mut self, rng: &mut Rng, net_idx: usize) -> Result<Ipv6Addr, GenError> {
        let net = self.cfg.internal_v6[net_idx];
        let base = u128::from(net.network());
        let mask = u128::MAX >> net.prefix_len();
        for _ in 0..MAX_TRIES {
            let subnet = (rng.u16(..) as u128) << 64;
            let host = rng.u16(1..) as u128;
            let a = Ipv6Addr::from(base | ((subnet | host) & mask));
            if self.used.insert(IpAddr::V6(a)) {
                return Ok(a);
            }
        }
        Err(exhausted("internal IPv6"))
    }

    fn external4(&mut self, rng: &mut Rng, site_idx: usize) -> Result<Ipv4Addr, GenError> {
        for i in 0..MAX_TRIES {
            // Move on to another site's space if the configured internal networks
            // cover this one.
            let site = (site_idx + (i / 64) as usize) % EXT_SITES.len();
            let first = EXT_SITES[site].first_octet;
            let a = Ipv4Addr::new(first, rng.u8(..), rng.u8(..), rng.u8(1..=254));
            let internal = self.cfg.internal_v4.iter().any(|n| n.contains(&a));
            if !internal && self.used.insert(IpAddr::V4(a)) {
                return Ok(a);
            }
        }
        Err(exhausted("external IPv4"))
    }

    fn external6(&mut self, rng: &mut Rng, site_idx: usize) -> Result<Ipv6Addr, GenError> {
        for _ in 0..MAX_TRIES {
            let a = Ipv6Addr::new(
                0x2400 + 0x10 * site_idx as u16,
                rng.u16(..),
                rng.u16(..),
                0,
                0,
                0,
                0,
                rng.u16(1..),
            );
            let internal = self.cfg.internal_v6.iter().any(|n| n.contains(&a));
            if !internal && self.used.insert(IpAddr::V6(a)) {
                return Ok(a);
            }
        }
        Err(exhausted("external IPv6"))
    }
}

/// Takes `n` hosts off the shuffled free pool.
fn take(pool: &mut Vec<usize>, n: usize, what: &str) -> Result<Vec<usize>, GenError> {
    if pool.len() < n + 16 {
        return Err(GenError::InvalidConfig(format!(
            "internal_hosts is too small: no free internal host left for {what}"
        )));
    }
    Ok(pool.split_off(pool.len() - n))
}

impl World {
    pub(crate) fn build(cfg: GenConfig) -> Result<Self, GenError> {
        cfg.validate()?;
        let mut rng = rng_for(cfg.seed, tag::WORLD, 0, 0);
        let day0_ms = cfg
            .start
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp_millis();
        let mut ag = AddrGen {
            used: HashSet::new(),
            cfg: &cfg,
        };

        let nets4: Vec<NetInfo> = (0..cfg.internal_v4.len())
            .map(|i| {
                let (city, lon, lat) = INT_SITES[i % INT_SITES.len()];
                NetInfo {
                    geo: geo("TW", city, lon, lat),
                    exporter: IpAddr::V4(EXPORTERS[i % EXPORTERS.len()]),
                }
            })
            .collect();
        let mut int4 = Vec::with_capacity(cfg.internal_hosts);
        for i in 0..cfg.internal_hosts {
            let n = i % nets4.len();
            int4.push(Host {
                ip: IpAddr::V4(ag.internal4(&mut rng, n)?),
                asn: INTERNAL_ASN,
                geo: nets4[n].geo.clone(),
                exporter: Some(nets4[n].exporter),
                os: pick_os(&mut rng),
            });
        }
        let mut int6 = Vec::new();
        if !cfg.internal_v6.is_empty() {
            for i in 0..(cfg.internal_hosts / 10).max(50) {
                let n = i % cfg.internal_v6.len();
                let net4 = &nets4[n % nets4.len()];
                int6.push(Host {
                    ip: IpAddr::V6(ag.internal6(&mut rng, n)?),
                    asn: INTERNAL_ASN,
                    geo: net4.geo.clone(),
                    exporter: Some(net4.exporter),
                    os: pick_os(&mut rng),
                });
            }
        }
        let ext_geos: Vec<Geo> = EXT_SITES
            .iter()
            .map(|s| geo(s.cc, s.city, s.lon, s.lat))
            .collect();
        let ext_host = |ag: &mut AddrGen<'_>, rng: &mut Rng, v6: bool| {
            let s = rng.usize(0..EXT_SITES.len());
            let ip = if v6 {
                IpAddr::V6(ag.external6(rng, s)?)
            } else {
                IpAddr::V4(ag.external4(rng, s)?)
            };
            Ok::<Host, GenError>(Host {
                ip,
                asn: EXT_SITES[s].asn,
                geo: ext_geos[s].clone(),
                exporter: None,
                os: pick_os(rng),
            })
        };
        let ext4: Vec<Host> = (0..cfg.external_hosts)
            .map(|_| ext_host(&mut ag, &mut rng, false))
            .collect::<Result<_, _>>()?;
        let ext6: Vec<Host> = (0..(cfg.external_hosts / 10).max(50))
            .map(|_| ext_host(&mut ag, &mut rng, true))
            .collect::<Result<_, _>>()?;

        // Internal hosts with a planted role come off a shuffled pool, so roles never
        // overlap (a bot is never also a contacted-only host).
        let mut free4: Vec<usize> = (0..int4.len()).collect();
        rng.shuffle(&mut free4);

        // IoC mix.
        let n = cfg.iocs;
        let share = |s: f64| (n as f64 * s).round() as usize;
        let n_nodata = share(cfg.nodata_share);
        let n_wide = if cfg.wide_share > 0.0 {
            share(cfg.wide_share).max(1)
        } else {
            0
        };
        let n_scan = share(cfg.scanner_share);
        let n_dos = share(cfg.dos_share);
        let n_contact = share(cfg.contact_share);
        let fixed = n_nodata + n_wide + n_scan + n_dos + n_contact + cfg.families + cfg.apt;
        if fixed > n {
            return Err(GenError::InvalidConfig(format!(
                "iocs {n} is fewer than the {fixed} IoCs the shares and counts ask for"
            )));
        }
        let n_cand = n - fixed;

        let mut iocs: Vec<Ioc> = Vec::with_capacity(n);
        let new_ioc =
            |iocs: &mut Vec<Ioc>, ag: &mut AddrGen<'_>, rng: &mut Rng, kind: IocKind, v6: bool| {
                let host = ext_host(ag, rng, v6)?;
                iocs.push(Ioc { host, kind });
                Ok::<usize, GenError>(iocs.len() - 1)
            };
        let well_known_resolver: IpAddr = IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8));

        let mut wides = Vec::new();
        for i in 0..n_wide {
            let idx = new_ioc(&mut iocs, &mut ag, &mut rng, IocKind::Wide, false)?;
            let service = match i % 3 {
                0 => WideService::Dns,
                1 => WideService::Https,
                _ => WideService::Ntp,
            };
            if i == 0 && ag.used.insert(well_known_resolver) {
                // The classic benign entry on a blocklist: a public resolver.
                let h = &mut iocs[idx].host;
                h.ip = well_known_resolver;
                h.asn = 15169;
                h.geo = ext_geos[1].clone();
            }
            wides.push(Wide { ioc: idx, service });
        }

        let days = cfg.days;
        let mut families = Vec::new();
        let (smin, smax) = cfg.family_size;
        for f in 0..cfg.families {
            let relay_ioc = new_ioc(&mut iocs, &mut ag, &mut rng, IocKind::Relay, false)?;
            let size = if f == 0 {
                // The migrating family is big enough to be a clear CheckIn.
                let lo = smin.max(20).min(smax);
                lo + rng.usize(0..=(smax - lo) / 2)
            } else {
                // Persistent families (odd numbers) are big enough to be a CheckIn every
                // day; the others may be small (5–9 bots give a Candidate relay).
                let lo_size = if f % 2 == 1 {
                    smin.max(15).min(smax)
                } else {
                    smin
                };
                let (lo, hi) = ((lo_size as f64).ln(), (smax as f64 + 1.0).ln());
                ((lo + (hi - lo) * rng.f64()).exp() as usize).clamp(lo_size, smax)
            };
            let proto = if f % 3 == 1 { 6 } else { 17 };
            let port = if proto == 6 {
                [8080, 4444, 1604, 5552, 8443, 2222, 7777, 1177][rng.usize(0..8)]
            } else {
                [16464, 16471, 9987, 8000, 1604, 6892][rng.usize(0..6)]
            };
            let hosts = take(&mut free4, size, "bots")?;
            let bots = hosts
                .into_iter()
                .map(|h| {
                    let r = rng.f64();
                    Bot {
                        host: h,
                        per_day: if r < 0.55 {
                            1
                        } else if r < 0.9 {
                            2
                        } else if r < 0.97 {
                            3
                        } else {
                            4
                        },
                        pkts: if rng.f64() < 0.7 { 1 } else { 2 },
                        phase: rng.f64(),
                    }
                })
                .collect();
            let (first_day, last_day) = if f == 0 || f % 2 == 1 || days < 4 {
                (0, days - 1)
            } else {
                let first = rng.u32(0..=days / 2);
                let last = (first + 2 + rng.u32(0..days - first)).min(days - 1);
                (first, last)
            };
            let migration = if f == 0 && days >= 2 {
                // The new relay is a fresh address: on no blocklist, in no background.
                let mut relay = ext_host(&mut ag, &mut rng, false)?;
                relay.os = ClientOs::Linux;
                Some((days / 2, relay))
            } else {
                None
            };
            families.push(Family {
                id: f as u32,
                relay_ioc,
                port,
                proto,
                pkt_base: rng.u64(48..120),
                bots,
                first_day,
                last_day,
                migration,
            });
        }

        let mut scanners = Vec::new();
        for _ in 0..n_scan {
            let ioc = new_ioc(&mut iocs, &mut ag, &mut rng, IocKind::Scanner, false)?;
            let all = [22u16, 23, 445, 3389, 80, 8080, 5555, 2323, 6379, 9200];
            let k = rng.usize(1..=3);
            let mut ports: Vec<u16> = Vec::new();
            while ports.len() < k {
                let p = all[rng.usize(0..all.len())];
                if !ports.contains(&p) {
                    ports.push(p);
                }
            }
            scanners.push(Scanner {
                ioc,
                ports,
                src_port: rng.bool().then(|| rng.u16(1024..=65535)),
                probe_octets: [40, 44, 60][rng.usize(0..3)],
                answer_rate: 0.04 + 0.08 * rng.f64(),
                days: days_with(&mut rng, days, 0.85, 1),
            });
        }

        let mut dos = Vec::new();
        for i in 0..n_dos {
            let kind = [
                IocKind::DosFloodFrom,
                IocKind::DosReflection,
                IocKind::DosFloodTo,
            ][i % 3];
            let ioc = new_ioc(&mut iocs, &mut ag, &mut rng, kind, false)?;
            let peers = match kind {
                IocKind::DosReflection => {
                    let k = rng.usize(5..=30);
                    take(&mut free4, k, "reflectors")?
                }
                _ => take(&mut free4, 1, "flood peers")?,
            };
            let port = match kind {
                IocKind::DosReflection => {
                    if rng.bool() {
                        80
                    } else {
                        rng.u16(1024..=65535)
                    }
                }
                _ => [80, 443, 22][rng.usize(0..3)],
            };
            dos.push(Dos {
                ioc,
                kind,
                peers,
                port,
                days: contiguous_days(&mut rng, days, 4),
            });
        }

        let mut apts = Vec::new();
        for _ in 0..cfg.apt {
            let ioc = new_ioc(&mut iocs, &mut ag, &mut rng, IocKind::Apt, false)?;
            let target = take(&mut free4, 1, "APT targets")?[0];
            apts.push(Apt {
                ioc,
                target,
                port: [22, 3389, 445, 1433, 3306, 5900][rng.usize(0..6)],
                days: days_with(&mut rng, days, 0.6, 3),
            });
        }

        let mut contacts = Vec::new();
        for _ in 0..n_contact {
            let ioc = new_ioc(&mut iocs, &mut ag, &mut rng, IocKind::ContactOnly, false)?;
            let k = rng.usize(3..=6);
            contacts.push(Contact {
                ioc,
                targets: take(&mut free4, k, "contacted-only hosts")?,
                days: days_with(&mut rng, days, 0.8, 1),
            });
        }

        let mut cands = Vec::new();
        for _ in 0..n_cand {
            let v6 = !int6.is_empty() && rng.f64() < 0.08;
            let ioc = new_ioc(&mut iocs, &mut ag, &mut rng, IocKind::Candidate, v6)?;
            let k = rng.usize(1..=8);
            let remotes = (0..k)
                .map(|_| {
                    if v6 {
                        rng.usize(0..int6.len())
                    } else {
                        free4[rng.usize(0..free4.len())]
                    }
                })
                .collect();
            cands.push(Cand {
                ioc,
                remotes,
                port: [443, 80, 8443, 8080, 25][rng.usize(0..5)],
                days: days_with(&mut rng, days, 0.85, 1),
            });
        }

        for _ in 0..n_nodata {
            let v6 = rng.f64() < 0.05;
            new_ioc(&mut iocs, &mut ag, &mut rng, IocKind::NoData, v6)?;
        }

        let weights = [
            2.0, 1.5, 1.0, 1.0, 1.0, 1.5, 2.5, 4.0, 6.0, 7.0, 7.5, 7.5, 7.0, 7.5, 7.5, 7.0, 6.5,
            6.0, 5.5, 5.0, 4.5, 4.0, 3.5, 3.0,
        ];
        let total: f64 = weights.iter().sum();
        let mut hour_cdf = [0.0; 24];
        let mut acc = 0.0;
        for (i, w) in weights.iter().enumerate() {
            acc += w / total;
            hour_cdf[i] = acc;
        }
        hour_cdf[23] = 1.0;

        Ok(World {
            cfg,
            day0_ms,
            nets4,
            int4,
            int6,
            ext4,
            ext6,
            free4,
            iocs,
            families,
            scanners,
            dos,
            apts,
            contacts,
            wides,
            cands,
            hour_cdf,
        })
    }

    /// A random time of day (ms since midnight) following the diurnal curve.
    #[inline]
    pub(crate) fn tod(&self, rng: &mut Rng) -> i64 {
        let u = rng.f64();
        let h = self.hour_cdf.iter().position(|c| u < *c).unwrap_or(23);
        h as i64 * 3_600_000 + rng.i64(0..3_600_000)
    }

    /// A host for a random address of the internal IPv4 networks (live or dark).
    pub(crate) fn random_internal4(&self, rng: &mut Rng) -> Host {
        let n = rng.usize(0..self.cfg.internal_v4.len());
        let net = self.cfg.internal_v4[n];
        let base = u32::from(net.network());
        let size = 1u64 << (32 - net.prefix_len());
        let a = loop {
            let a = Ipv4Addr::from(base | rng.u64(1..size - 1) as u32);
            let last = a.octets()[3];
            if last != 0 && last != 255 {
                break a;
            }
        };
        Host {
            ip: IpAddr::V4(a),
            asn: INTERNAL_ASN,
            geo: self.nets4[n].geo.clone(),
            exporter: Some(self.nets4[n].exporter),
            os: ClientOs::Linux,
        }
    }
}
