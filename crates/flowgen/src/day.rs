//! One day of flows: the planted behaviours first, then background traffic up to the
//! day's total.

use std::collections::HashSet;
use std::net::IpAddr;

use fastrand::Rng;
use flowmodel::RawFlow;

use crate::truth::IocKind;
use crate::world::{DAY_MS, Family, Host, Scanner, WideService, World, rng_for, tag, zipf};

const TCP: u8 = 6;
const UDP: u8 = 17;
const SYN: u16 = 0x02;
const RST_ACK: u16 = 0x14;
const SYN_ACK: u16 = 0x12;
/// FIN|SYN|PSH|ACK: the cumulative bits of a complete connection, one direction.
const FULL: u16 = 0x1B;

/// Where generated flows go, with the day's bounds.
pub(crate) struct Out<'a, F> {
    sink: &'a mut F,
    pub n: u64,
    day_ms: i64,
}

impl<'a, F: FnMut(RawFlow)> Out<'a, F> {
    pub(crate) fn new(sink: &'a mut F, day_ms: i64) -> Self {
        Self { sink, n: 0, day_ms }
    }

    /// Emits one flow starting `t` ms after midnight, lasting `dur` ms (kept inside
    /// the day).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn flow(
        &mut self,
        s: &Host,
        d: &Host,
        sp: u16,
        dp: u16,
        proto: u8,
        flags: u16,
        pkts: u64,
        octets: u64,
        t: i64,
        dur: i64,
    ) {
        let dur = dur.clamp(0, DAY_MS - 1);
        let t = t.clamp(0, DAY_MS - 1 - dur);
        let start = self.day_ms + t;
        (self.sink)(RawFlow {
            src: s.ip,
            dst: d.ip,
            src_port: sp,
            dst_port: dp,
            protocol: proto,
            tcp_flags: if proto == TCP { flags } else { 0 },
            octets,
            packets: pkts,
            start_ms: start,
            end_ms: Some(start + dur),
            exporter: s.exporter.or(d.exporter),
            src_as: s.asn,
            dst_as: d.asn,
            src_geo: Some(s.geo.clone()),
            dst_geo: Some(d.geo.clone()),
        });
        self.n += 1;
    }
}

/// Packets of a data-carrying connection side: mostly few, sometimes many.
#[inline]
fn conn_pkts(rng: &mut Rng) -> u64 {
    let u = rng.f64();
    3 + (u * u * u * 80.0) as u64
}

impl World {
    pub(crate) fn day_ms(&self, day: u32) -> i64 {
        self.day0_ms + day as i64 * DAY_MS
    }

    /// Generates day `day` (already range-checked) into `sink`; returns the flow count.
    pub(crate) fn generate<F: FnMut(RawFlow)>(&self, day: u32, sink: &mut F) -> u64 {
        let mut out = Out::new(sink, self.day_ms(day));
        self.planted(day, &mut out);
        let target = self.cfg.flows_per_day;
        self.background(day, target.saturating_sub(out.n), &mut out);
        out.n
    }

    fn planted<F: FnMut(RawFlow)>(&self, day: u32, out: &mut Out<'_, F>) {
        for (i, w) in self.wides.iter().enumerate() {
            self.wide_day(i, w.ioc, &w.service, day, out);
        }
        for f in &self.families {
            self.family_day(f, day, out);
        }
        for (i, s) in self.scanners.iter().enumerate() {
            if s.days[day as usize] {
                self.scan_day(i, s, day, out);
            }
        }
        for i in 0..self.dos.len() {
            if self.dos[i].days[day as usize] {
                self.dos_day(i, day, out);
            }
        }
        for i in 0..self.apts.len() {
            if self.apts[i].days[day as usize] {
                self.apt_day(i, day, out);
            }
        }
        for i in 0..self.contacts.len() {
            if self.contacts[i].days[day as usize] {
                self.contact_day(i, day, out);
            }
        }
        for i in 0..self.cands.len() {
            if self.cands[i].days[day as usize] {
                self.cand_day(i, day, out);
            }
        }
    }

    /// Flows a day of wide IoC number `i`.
    pub(crate) fn wide_flows(&self, i: usize, day: u32) -> u64 {
        let (lo, hi) = self.cfg.wide_flows;
        rng_for(self.cfg.seed, tag::WIDE, i as u64, day as u64 ^ 0xFFFF).u64(lo..=hi)
    }

    fn wide_day<F: FnMut(RawFlow)>(
        &self,
        i: usize,
        ioc: usize,
        svc: &WideService,
        day: u32,
        out: &mut Out<'_, F>,
    ) {
        let mut rng = rng_for(self.cfg.seed, tag::WIDE, i as u64, day as u64);
        let srv = &self.iocs[ioc].host;
        let total = self.wide_flows(i, day);
        let mut n = 0u64;
        while n < total {
            let c = &self.int4[zipf(&mut rng, self.int4.len())];
            let t = self.tod(&mut rng);
            let rtt = rng.i64(1..60);
            let reply = n + 1 < total;
            match svc {
                WideService::Dns => {
                    let sp = c.os.port(&mut rng);
                    out.flow(c, srv, sp, 53, UDP, 0, 1, rng.u64(60..100), t, 0);
                    if reply {
                        let o = rng.u64(90..500);
                        out.flow(srv, c, 53, sp, UDP, 0, 1, o, t + rtt, 0);
                    }
                }
                WideService::Ntp => {
                    let sp = if rng.bool() { 123 } else { c.os.port(&mut rng) };
                    out.flow(c, srv, sp, 123, UDP, 0, 1, 76, t, 0);
                    if reply {
                        out.flow(srv, c, 123, sp, UDP, 0, 1, 76, t + rtt, 0);
                    }
                }
                WideService::Https => {
                    let sp = c.os.port(&mut rng);
                    let dur = rng.i64(50..30_000);
                    let p = conn_pkts(&mut rng);
                    out.flow(c, srv, sp, 443, TCP, FULL, p, p * 60 + 500, t, dur);
                    if reply {
                        let q = conn_pkts(&mut rng);
                        let o = q * rng.u64(400..1400);
                        out.flow(srv, c, 443, sp, TCP, FULL, q, o, t + rtt, dur);
                    }
                }
            }
            n += if reply { 2 } else { 1 };
        }
    }

    /// Whether bot `b` of family `f` is active on `day`, and how many check-ins it makes.
    pub(crate) fn bot_checkins(&self, f: &Family, b: usize, day: u32) -> u32 {
        if day < f.first_day || day > f.last_day {
            return 0;
        }
        let key = ((f.id as u64) << 32) | b as u64;
        let mut rng = rng_for(self.cfg.seed, tag::BOT_ACTIVE, key, day as u64);
        if rng.f64() < 0.93 {
            f.bots[b].per_day
        } else {
            0
        }
    }

    /// The relay family `f` checks in to on `day`: the blocklisted one, or the new one
    /// after a migration.
    pub(crate) fn family_relay<'w>(&'w self, f: &'w Family, day: u32) -> &'w Host {
        match &f.migration {
            Some((m, new)) if day >= *m => new,
            _ => &self.iocs[f.relay_ioc].host,
        }
    }

    fn family_day<F: FnMut(RawFlow)>(&self, f: &Family, day: u32, out: &mut Out<'_, F>) {
        let relay = self.family_relay(f, day);
        for (b, bot) in f.bots.iter().enumerate() {
            let k = self.bot_checkins(f, b, day);
            if k == 0 {
                continue;
            }
            let key = ((f.id as u64) << 32) | b as u64;
            let mut rng = rng_for(self.cfg.seed, tag::BOT_TIMES, key, day as u64);
            let host = &self.int4[bot.host];
            let period = DAY_MS / k as i64;
            for j in 0..k as i64 {
                let jitter = rng.i64(-600_000..=600_000);
                // Jitter wraps around midnight instead of piling up at 00:00.
                let t =
                    ((bot.phase * period as f64) as i64 + j * period + jitter).rem_euclid(DAY_MS);
                let sp = host.os.port(&mut rng);
                let octets = bot.pkts * (f.pkt_base + rng.u64(0..16));
                let dur = if bot.pkts == 2 { rng.i64(1..3_000) } else { 0 };
                out.flow(
                    host, relay, sp, f.port, f.proto, SYN, bot.pkts, octets, t, dur,
                );
            }
        }
    }

    /// Scans of scanner `i` on `day`; returns the internal hosts that answered.
    pub(crate) fn scan_day<F: FnMut(RawFlow)>(
        &self,
        i: usize,
        s: &Scanner,
        day: u32,
        out: &mut Out<'_, F>,
    ) -> Vec<IpAddr> {
        let mut rng = rng_for(self.cfg.seed, tag::SCAN, i as u64, day as u64);
        let ioc = &self.iocs[s.ioc].host;
        let (lo, hi) = self.cfg.scan_probes;
        let n = rng.u32(lo..=hi);
        let gap = rng.i64(20..2_000);
        // The sweep (n gaps of up to 1.25 × gap) fits in the day.
        let sweep = (gap + gap / 4) * n as i64;
        let mut t = self.tod(&mut rng).min(DAY_MS - 1 - sweep).max(0);
        let mut seen: HashSet<IpAddr> = HashSet::with_capacity(n as usize);
        let mut responders = Vec::new();
        let mut k = 0usize;
        while k < n as usize {
            let answers = rng.f64() < s.answer_rate;
            let target = if answers {
                self.int4[self.free4[rng.usize(0..self.free4.len())]].clone()
            } else {
                self.random_internal4(&mut rng)
            };
            if !seen.insert(target.ip) {
                continue;
            }
            // One port per target: a horizontal sweep port after port.
            let port = s.ports[k % s.ports.len()];
            let sp = s.src_port.unwrap_or_else(|| rng.u16(32768..=60999));
            out.flow(ioc, &target, sp, port, TCP, SYN, 1, s.probe_octets, t, 0);
            if answers {
                let (flags, octets) = if rng.f64() < 0.6 {
                    (SYN_ACK, 44)
                } else {
                    (RST_ACK, 40)
                };
                let rtt = rng.i64(1..300);
                out.flow(&target, ioc, port, sp, TCP, flags, 1, octets, t + rtt, 0);
                responders.push(target.ip);
            }
            t += gap + rng.i64(0..=gap / 4);
            k += 1;
        }
        responders
    }

    fn dos_day<F: FnMut(RawFlow)>(&self, i: usize, day: u32, out: &mut Out<'_, F>) {
        let d = &self.dos[i];
        let mut rng = rng_for(self.cfg.seed, tag::DOS, i as u64, day as u64);
        let ioc = &self.iocs[d.ioc].host;
        let window = rng.i64(3_600_000..4 * 3_600_000);
        let t0 = rng.i64(0..DAY_MS - window);
        match d.kind {
            IocKind::DosFloodFrom | IocKind::DosFloodTo => {
                let peer = &self.int4[d.peers[0]];
                let (src, dst) = if d.kind == IocKind::DosFloodFrom {
                    (ioc, peer)
                } else {
                    (peer, ioc)
                };
                let n = rng.u32(300..3_000);
                for _ in 0..n {
                    let t = t0 + rng.i64(0..window);
                    let sp = rng.u16(1024..=65535);
                    let pkts = rng.u64(1..=3);
                    let o = pkts * [40, 44, 60][rng.usize(0..3)];
                    out.flow(src, dst, sp, d.port, TCP, SYN, pkts, o, t, pkts as i64 - 1);
                    if d.kind == IocKind::DosFloodFrom && rng.f64() < 0.05 {
                        out.flow(dst, src, d.port, sp, TCP, RST_ACK, 1, 40, t + 1, 0);
                    }
                }
            }
            _ => {
                // Reflection: the IoC is the spoofed victim; internal reflectors answer
                // spoofed requests with large UDP replies from their service port.
                for &p in &d.peers {
                    let refl = &self.int4[p];
                    let (port, bpp_lo, bpp_hi) = [
                        (53, 1200, 1460),
                        (123, 440, 490),
                        (1900, 300, 400),
                        (11211, 1300, 1460),
                        (389, 1200, 1460),
                    ][p % 5];
                    let n = rng.u32(20..150);
                    for _ in 0..n {
                        let t = t0 + rng.i64(0..window);
                        let pkts = rng.u64(2..40);
                        let o = pkts * rng.u64(bpp_lo..=bpp_hi);
                        out.flow(
                            refl,
                            ioc,
                            port,
                            d.port,
                            UDP,
                            0,
                            pkts,
                            o,
                            t,
                            rng.i64(10..5_000),
                        );
                        if rng.f64() < 0.1 {
                            // A spoofed request that crossed the backbone.
                            out.flow(
                                ioc,
                                refl,
                                d.port,
                                port,
                                UDP,
                                0,
                                1,
                                rng.u64(60..80),
                                t - 5,
                                0,
                            );
                        }
                    }
                }
            }
        }
    }

    fn apt_day<F: FnMut(RawFlow)>(&self, i: usize, day: u32, out: &mut Out<'_, F>) {
        let a = &self.apts[i];
        let mut rng = rng_for(self.cfg.seed, tag::APT, i as u64, day as u64);
        let ioc = &self.iocs[a.ioc].host;
        let target = &self.int4[a.target];
        for _ in 0..rng.u32(4..=30) {
            let t = self.tod(&mut rng);
            let sp = rng.u16(32768..=60999);
            let dur = rng.i64(2_000..600_000);
            let p = rng.u64(6..60);
            out.flow(
                ioc,
                target,
                sp,
                a.port,
                TCP,
                FULL,
                p,
                p * rng.u64(60..400),
                t,
                dur,
            );
            let q = rng.u64(5..50);
            let o = q * rng.u64(60..1_200);
            out.flow(
                target,
                ioc,
                a.port,
                sp,
                TCP,
                FULL,
                q,
                o,
                t + rng.i64(1..80),
                dur,
            );
        }
    }

    fn contact_day<F: FnMut(RawFlow)>(&self, i: usize, day: u32, out: &mut Out<'_, F>) {
        let c = &self.contacts[i];
        let mut rng = rng_for(self.cfg.seed, tag::CONTACT, i as u64, day as u64);
        let ioc = &self.iocs[c.ioc].host;
        for &h in &c.targets {
            let target = &self.int4[h];
            for _ in 0..rng.u32(1..=3) {
                let t = self.tod(&mut rng);
                let sp = rng.u16(32768..=60999);
                if rng.f64() < 0.3 {
                    out.flow(ioc, target, sp, 5060, UDP, 0, 1, rng.u64(380..520), t, 0);
                } else {
                    let port = [445, 23, 3389, 22][rng.usize(0..4)];
                    out.flow(ioc, target, sp, port, TCP, SYN, 1, 60, t, 0);
                }
            }
        }
    }

    fn cand_day<F: FnMut(RawFlow)>(&self, i: usize, day: u32, out: &mut Out<'_, F>) {
        let c = &self.cands[i];
        let mut rng = rng_for(self.cfg.seed, tag::CAND, i as u64, day as u64);
        let ioc = &self.iocs[c.ioc].host;
        let pool = if ioc.ip.is_ipv4() {
            &self.int4
        } else {
            &self.int6
        };
        for &r in &c.remotes {
            let h = &pool[r];
            for _ in 0..rng.u32(1..=6) {
                let t = self.tod(&mut rng);
                let sp = h.os.port(&mut rng);
                let dur = rng.i64(100..60_000);
                let p = conn_pkts(&mut rng);
                out.flow(h, ioc, sp, c.port, TCP, FULL, p, p * 80 + 300, t, dur);
                let q = conn_pkts(&mut rng);
                let o = q * rng.u64(100..1_400);
                out.flow(
                    ioc,
                    h,
                    c.port,
                    sp,
                    TCP,
                    FULL,
                    q,
                    o,
                    t + rng.i64(1..200),
                    dur,
                );
            }
        }
    }

    /// `n` background flows: Zipf-popular hosts, real services, replies as their own
    /// flows.
    fn background<F: FnMut(RawFlow)>(&self, day: u32, n: u64, out: &mut Out<'_, F>) {
        if n == 0 {
            return;
        }
        let mut rng = rng_for(self.cfg.seed, tag::BACKGROUND, 0, day as u64);
        let end = out.n + n;
        let v6_share = if self.int6.is_empty() {
            0.0
        } else {
            self.cfg.ipv6_share
        };
        // A few popular external hosts serve DNS and NTP.
        let resolvers4 = self.ext4.len().min(8);
        let resolvers6 = self.ext6.len().min(4);
        while out.n < end {
            let v6 = rng.f64() < v6_share;
            let (ints, exts, nres) = if v6 {
                (&self.int6, &self.ext6, resolvers6)
            } else {
                (&self.int4, &self.ext4, resolvers4)
            };
            let c = &ints[zipf(&mut rng, ints.len())];
            let t = self.tod(&mut rng);
            let rtt = rng.i64(1..200);
            let r = rng.f64();
            if r < 0.48 {
                // Internal client → external service.
                let e = &exts[zipf(&mut rng, exts.len())];
                let u = rng.f64();
                let port = if u < 0.62 {
                    443
                } else if u < 0.84 {
                    80
                } else {
                    [22, 25, 993, 8080, 8443, 587, 3389, 5222][rng.usize(0..8)]
                };
                let sp = c.os.port(&mut rng);
                if rng.f64() < 0.92 {
                    let dur = rng.i64(20..120_000);
                    let p = conn_pkts(&mut rng);
                    out.flow(c, e, sp, port, TCP, FULL, p, p * rng.u64(52..200), t, dur);
                    if out.n < end {
                        let q = conn_pkts(&mut rng);
                        let o = q * rng.u64(52..1_460);
                        out.flow(e, c, port, sp, TCP, FULL, q, o, t + rtt, dur);
                    }
                } else {
                    // Failed connection: SYN (with retries), RST or nothing back.
                    let p = rng.u64(1..=3);
                    out.flow(
                        c,
                        e,
                        sp,
                        port,
                        TCP,
                        SYN,
                        p,
                        p * 60,
                        t,
                        (p as i64 - 1) * 1_000,
                    );
                    if out.n < end && rng.bool() {
                        out.flow(e, c, port, sp, TCP, RST_ACK, 1, 40, t + rtt, 0);
                    }
                }
            } else if r < 0.63 {
                // External client → internal server.
                let e = &exts[zipf(&mut rng, exts.len())];
                let port = [443, 80, 22, 25, 443, 80][rng.usize(0..6)];
                let sp = e.os.port(&mut rng);
                let dur = rng.i64(20..60_000);
                let p = conn_pkts(&mut rng);
                out.flow(e, c, sp, port, TCP, FULL, p, p * rng.u64(52..300), t, dur);
                if out.n < end {
                    let q = conn_pkts(&mut rng);
                    let o = q * rng.u64(52..1_460);
                    out.flow(c, e, port, sp, TCP, FULL, q, o, t + rtt, dur);
                }
            } else if r < 0.85 {
                // DNS.
                let e = &exts[rng.usize(0..nres)];
                let sp = c.os.port(&mut rng);
                out.flow(c, e, sp, 53, UDP, 0, 1, rng.u64(60..100), t, 0);
                if out.n < end {
                    out.flow(e, c, 53, sp, UDP, 0, 1, rng.u64(90..500), t + rtt, 0);
                }
            } else if r < 0.90 {
                // NTP.
                let e = &exts[rng.usize(0..nres)];
                let sp = if rng.bool() { 123 } else { c.os.port(&mut rng) };
                out.flow(c, e, sp, 123, UDP, 0, 1, 76, t, 0);
                if out.n < end {
                    out.flow(e, c, 123, sp, UDP, 0, 1, 76, t + rtt, 0);
                }
            } else {
                // QUIC.
                let e = &exts[zipf(&mut rng, exts.len())];
                let sp = c.os.port(&mut rng);
                let dur = rng.i64(20..60_000);
                let p = conn_pkts(&mut rng);
                out.flow(c, e, sp, 443, UDP, 0, p, p * rng.u64(60..1_250), t, dur);
                if out.n < end {
                    let q = conn_pkts(&mut rng);
                    let o = q * rng.u64(60..1_250);
                    out.flow(e, c, 443, sp, UDP, 0, q, o, t + rtt, dur);
                }
            }
        }
    }
}
