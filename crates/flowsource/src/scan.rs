//! The scan: one streaming, parallel pass over every input.

use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::io::{BufRead, Read};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;

use chrono::{DateTime, NaiveDate};
use flowmodel::{FieldMap, IocSet, RawFlow};
use rayon::iter::{ParallelBridge, ParallelIterator};
use rustc_hash::FxHashMap;

use crate::error::ScanError;
use crate::formats::{CsvCheck, LineReader, NfJsonFlattener, Parsed};
use crate::input::{Format, Input};

/// Bytes read per block: large enough that the per-block work (one pre-filter search,
/// one merge) is noise, small enough that blocks in flight stay a few tens of MiB.
const BLOCK: usize = 4 << 20;
/// The longest line kept whole.
const MAX_LINE: usize = 64 << 20;

/// Which flows of an IoC are kept as its sample when it has more than `sample_cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleMode {
    /// The first `sample_cap` flows in input order (file order, then line order).
    First,
    /// A uniform random sample: the `sample_cap` flows with the lowest
    /// `hash(seed, file, position)`. The choice depends only on the seed and the input,
    /// never on thread count or timing (a bottom-k sketch merges exactly).
    Random {
        /// The seed; [`SampleMode::random_for_date`] derives it from the day.
        seed: u64,
    },
}

impl SampleMode {
    /// `Random` seeded by the date (`YYYYMMDD` as a number), so re-running a day picks
    /// the same sample.
    pub fn random_for_date(date: NaiveDate) -> Self {
        let ymd = date.format("%Y%m%d").to_string();
        SampleMode::Random {
            seed: ymd.parse().unwrap_or(0),
        }
    }
}

/// What to scan for and how.
#[derive(Clone)]
pub struct ScanOptions<'a> {
    /// The format of every input; `None` detects it per input from its first bytes.
    pub format: Option<Format>,
    /// Where the fields of JSON documents live (JSON Lines and ES hits only).
    pub field_map: FieldMap,
    /// The blocklist.
    pub iocs: &'a dyn IocSet,
    /// At most this many sampled flows per (day, IoC); totals are always exact.
    pub sample_cap: usize,
    /// Which flows make the sample.
    pub mode: SampleMode,
    /// Keep only flows starting on this UTC day; `None` keeps every day, grouped per day.
    pub date: Option<NaiveDate>,
    /// How many malformed lines are reported in detail (all are counted).
    pub max_bad_lines: usize,
}

impl<'a> ScanOptions<'a> {
    /// Defaults: detect the format, IPFIX field names, a sample of 10,000 in `First`
    /// mode, every day, 100 malformed lines reported in detail.
    pub fn new(iocs: &'a dyn IocSet) -> Self {
        Self {
            format: None,
            field_map: FieldMap::default(),
            iocs,
            sample_cap: 10_000,
            mode: SampleMode::First,
            date: None,
            max_bad_lines: 100,
        }
    }
}

/// A sampled flow and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SampledFlow {
    /// The flow.
    pub raw: RawFlow,
    /// The `_index` of an Elasticsearch hit, else the input's file name (`-` for stdin).
    pub from_index: Arc<str>,
}

/// One IoC on one day: its exact total and its sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IocHits {
    /// Every flow of the day where the IoC is the source or the destination.
    pub total: u64,
    /// At most `sample_cap` of them, in input order (`First`) or hash order (`Random`).
    pub sample: Vec<SampledFlow>,
}

/// A line that could not be read as a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// The input, as given.
    pub file: String,
    /// 1-based line number (for nfdump JSON: the record's position in the array).
    pub line: u64,
    /// What was wrong.
    pub reason: String,
}

/// An input that stopped early (e.g. a gzip stream cut in the middle). The lines read
/// before the fault are in the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// The input, as given.
    pub file: String,
    /// Bytes of (decompressed) content read before the fault.
    pub after_bytes: u64,
    /// The reader's error.
    pub reason: String,
}

/// What a scan found.
#[derive(Debug, Clone, Default)]
pub struct ScanResult {
    /// Per (UTC day, IoC): the exact total and the sample. Only IoCs with flows appear.
    pub iocs: BTreeMap<(NaiveDate, IpAddr), IocHits>,
    /// The days of the flows that touched an IoC (within the date filter). Lines that
    /// touch no IoC are never parsed, so their days are not known.
    pub days: BTreeSet<NaiveDate>,
    /// Lines read (non-empty and empty; headers and footers included).
    pub lines: u64,
    /// Bytes of content read (after decompression).
    pub bytes: u64,
    /// Flows touching at least one IoC, within the date filter.
    pub flows_matched: u64,
    /// Flows touching an IoC but starting on another day than the filter's.
    pub other_days: u64,
    /// Malformed lines, all of them.
    pub malformed: u64,
    /// Records of non-IP frames (binetflow rows with MAC addresses), skipped.
    pub non_ip: u64,
    /// The first `max_bad_lines` malformed lines, in input order.
    pub bad_lines: Vec<BadLine>,
    /// Inputs that stopped early.
    pub read_errors: Vec<ReadError>,
    /// The format of each input, in input order.
    pub formats: Vec<(String, Format)>,
}

impl ScanResult {
    /// The hits of `ioc` on `day`, if it had any.
    pub fn get(&self, day: NaiveDate, ioc: IpAddr) -> Option<&IocHits> {
        self.iocs.get(&(day, ioc))
    }

    /// Whether every input was read to its end.
    pub fn is_complete(&self) -> bool {
        self.read_errors.is_empty()
    }
}

/// Scans `inputs` in order (the order decides `First` samples) for flows touching the
/// IoCs of `opts`.
///
/// Inputs are read one after the other by a reader thread in blocks split at newlines;
/// blocks are scanned in parallel on rayon's pool and their results merged. Memory is
/// bounded by the blocks in flight and by `sample_cap` per (day, IoC), not by the input
/// size. A malformed line is counted and reported and the scan goes on; an input that
/// breaks off (a truncated gzip) is reported in [`ScanResult::read_errors`].
///
/// # Errors
/// An input that cannot be opened, whose format cannot be detected (and `opts.format`
/// is `None`), or a CSV input whose header lacks the address or time columns.
pub fn scan(inputs: &[Input], opts: &ScanOptions<'_>) -> Result<ScanResult, ScanError> {
    let threads = rayon::current_num_threads().max(1);
    let (tx, rx) = sync_channel::<Block>(threads * 2);
    std::thread::scope(|s| {
        let reader = s.spawn(move || read_all(inputs, opts, tx));
        let acc = rx
            .into_iter()
            .par_bridge()
            .fold(Acc::default, |mut acc, block| {
                acc.scan_block(&block, opts);
                acc
            })
            .reduce(Acc::default, |a, b| a.merge(b, opts));
        let read = match reader.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }?;
        Ok(acc.finish(read, opts))
    })
}

/// One block of whole lines of one input.
struct Block {
    file: u32,
    /// Offset of the block's first byte in the input's (decompressed) content.
    offset: u64,
    data: Vec<u8>,
    ctx: Arc<FileCtx>,
}

struct FileCtx {
    reader: LineReader,
    index: Arc<str>,
}

/// What the reader thread reports besides the blocks.
struct ReadSummary {
    names: Vec<String>,
    formats: Vec<(String, Format)>,
    bytes: u64,
    errors: Vec<ReadError>,
}

fn read_all(
    inputs: &[Input],
    opts: &ScanOptions<'_>,
    tx: std::sync::mpsc::SyncSender<Block>,
) -> Result<ReadSummary, ScanError> {
    let mut sum = ReadSummary {
        names: inputs.iter().map(Input::display_name).collect(),
        formats: Vec::new(),
        bytes: 0,
        errors: Vec::new(),
    };
    for (i, input) in inputs.iter().enumerate() {
        let name = input.display_name();
        let mut r = input.open()?;
        let head = match r.fill_buf() {
            Ok(h) => h,
            Err(e) => {
                sum.errors.push(ReadError {
                    file: name,
                    after_bytes: 0,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        if head.is_empty() {
            continue;
        }
        let format = match opts.format.or_else(|| Format::detect(head)) {
            Some(f) => f,
            None => return Err(ScanError::UnknownFormat { file: name }),
        };
        let header = memchr::memchr(b'\n', head).map_or(head, |e| &head[..e]);
        let reader = LineReader::new(format, &opts.field_map, header, &name)?;
        sum.formats.push((name.clone(), format));
        let ctx = Arc::new(FileCtx {
            reader,
            index: input.index_name(),
        });
        let mut flattener = (format == Format::NfdumpJson).then(NfJsonFlattener::default);
        let mut offset = 0u64;
        let mut carry: Vec<u8> = Vec::new();
        let mut raw = vec![0u8; if flattener.is_some() { 1 << 20 } else { 0 }];
        let mut target = BLOCK;
        loop {
            let mut buf = std::mem::take(&mut carry);
            buf.reserve(target.saturating_sub(buf.len()));
            let mut eof = false;
            let mut fault = None;
            while buf.len() < target {
                let before = buf.len();
                let res = match flattener.as_mut() {
                    Some(fl) => r.read(&mut raw).inspect(|&n| fl.push(&raw[..n], &mut buf)),
                    // `read_to_end` on a `Take` fills spare capacity without zeroing it
                    // first, and keeps what it read before an error.
                    None => (&mut r)
                        .take((target - buf.len()) as u64)
                        .read_to_end(&mut buf),
                };
                match res {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => sum.bytes += n as u64,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        if flattener.is_none() {
                            sum.bytes += (buf.len() - before) as u64;
                        }
                        fault = Some(e);
                        break;
                    }
                }
            }
            let done = eof || fault.is_some();
            if let Some(e) = fault {
                sum.errors.push(ReadError {
                    file: name.clone(),
                    after_bytes: sum.bytes,
                    reason: e.to_string(),
                });
            }
            if !done {
                match memchr::memrchr(b'\n', &buf) {
                    Some(last) => {
                        carry = buf.split_off(last + 1);
                        target = BLOCK;
                    }
                    // A line longer than a block: keep reading until it ends (up to
                    // MAX_LINE; past that the piece goes on as a line of its own, which
                    // is reported as malformed).
                    None if buf.len() < MAX_LINE => {
                        target = buf.len() + BLOCK;
                        carry = buf;
                        continue;
                    }
                    None => buf.push(b'\n'),
                }
            }
            let len = buf.len() as u64;
            if len > 0 {
                let block = Block {
                    file: i as u32,
                    offset,
                    data: buf,
                    ctx: Arc::clone(&ctx),
                };
                if tx.send(block).is_err() {
                    return Ok(sum);
                }
            }
            offset += len;
            if done {
                break;
            }
        }
    }
    Ok(sum)
}

/// A sample entry, ordered by its key (the max-heap keeps the `cap` smallest keys).
struct Entry {
    key: (u64, u64, u64),
    flow: SampledFlow,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.key.cmp(&o.key)
    }
}

#[derive(Default)]
struct Slot {
    total: u64,
    heap: BinaryHeap<Entry>,
}

impl Slot {
    fn wants(&self, key: (u64, u64, u64), cap: usize) -> bool {
        self.heap.len() < cap || self.heap.peek().is_some_and(|top| key < top.key)
    }

    fn offer(&mut self, e: Entry, cap: usize) {
        if self.heap.len() < cap {
            self.heap.push(e);
        } else if self.wants(e.key, cap) {
            self.heap.pop();
            self.heap.push(e);
        }
    }
}

/// A malformed line before its global line number is known.
struct RawBad {
    file: u32,
    block: u64,
    local_line: u64,
    reason: String,
}

#[derive(Default)]
struct Acc {
    slots: FxHashMap<(NaiveDate, IpAddr), Slot>,
    days: BTreeSet<NaiveDate>,
    lines: u64,
    flows_matched: u64,
    other_days: u64,
    malformed: u64,
    non_ip: u64,
    bad: Vec<RawBad>,
    /// (file, block offset, lines in block), to number lines once all blocks are in.
    blocks: Vec<(u32, u64, u64)>,
    cands: Vec<usize>,
}

fn mix(mut z: u64) -> u64 {
    // splitmix64's finaliser.
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn sample_key(mode: SampleMode, file: u32, pos: u64) -> (u64, u64, u64) {
    match mode {
        SampleMode::First => (u64::from(file), pos, 0),
        SampleMode::Random { seed } => {
            let h = mix(mix(mix(seed) ^ u64::from(file)) ^ pos);
            (h, u64::from(file), pos)
        }
    }
}

fn is_object_line(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    t.first() == Some(&b'{') && t.last() == Some(&b'}')
}

impl Acc {
    fn scan_block(&mut self, b: &Block, opts: &ScanOptions<'_>) {
        let data = &b.data[..];
        let reader = &b.ctx.reader;
        let json = matches!(reader, LineReader::Json { .. });
        let mut cands = std::mem::take(&mut self.cands);
        cands.clear();
        if let LineReader::Json { prefilter, .. } = reader {
            prefilter.candidates(data, opts.iocs, &mut cands);
        }
        let mut next_cand = 0usize;
        let mut start = 0usize;
        let mut local = 0u64;
        while start < data.len() {
            let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |e| start + e);
            local += 1;
            let mut line = &data[start..end];
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            let line_start = start;
            start = end + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if json {
                while next_cand < cands.len() && cands[next_cand] < line_start {
                    next_cand += 1;
                }
                let is_cand = cands.get(next_cand) == Some(&line_start);
                if !is_object_line(line) {
                    self.bad(
                        b,
                        local,
                        "not a JSON object (truncated or garbled line)".into(),
                    );
                    continue;
                }
                if !is_cand {
                    continue;
                }
            } else if reader.is_furniture(line) {
                continue;
            } else {
                match reader.csv_check(line, opts.iocs) {
                    CsvCheck::Skip => continue,
                    CsvCheck::NonIp => {
                        self.non_ip += 1;
                        continue;
                    }
                    CsvCheck::Parse => {}
                }
            }
            match reader.parse(line) {
                Ok(p) => self.add(b, line_start, p, opts),
                Err(reason) => self.bad(b, local, reason),
            }
        }
        self.cands = cands;
        self.lines += local;
        self.blocks.push((b.file, b.offset, local));
    }

    fn bad(&mut self, b: &Block, local_line: u64, reason: String) {
        self.malformed += 1;
        self.bad.push(RawBad {
            file: b.file,
            block: b.offset,
            local_line,
            reason,
        });
    }

    fn add(&mut self, b: &Block, line_start: usize, p: Parsed, opts: &ScanOptions<'_>) {
        let index = p.index.unwrap_or_else(|| Arc::clone(&b.ctx.index));
        let line_pos = b.offset + line_start as u64;
        for (sub, flow) in p.flows.into_iter().enumerate() {
            let src_hit = opts.iocs.contains(flow.src);
            let dst_hit = flow.dst != flow.src && opts.iocs.contains(flow.dst);
            if !src_hit && !dst_hit {
                continue;
            }
            let day = match DateTime::from_timestamp_millis(flow.start_ms) {
                Some(t) => t.date_naive(),
                None => {
                    self.malformed += 1;
                    self.bad.push(RawBad {
                        file: b.file,
                        block: b.offset,
                        local_line: 1 + memchr::memchr_iter(b'\n', &b.data[..line_start]).count()
                            as u64,
                        reason: format!("start time {} ms is out of range", flow.start_ms),
                    });
                    continue;
                }
            };
            if opts.date.is_some_and(|d| d != day) {
                self.other_days += 1;
                continue;
            }
            self.flows_matched += 1;
            self.days.insert(day);
            let key = sample_key(opts.mode, b.file, line_pos * 2 + sub as u64);
            for (hit, ip) in [(src_hit, flow.src), (dst_hit, flow.dst)] {
                if !hit {
                    continue;
                }
                let slot = self.slots.entry((day, ip)).or_default();
                slot.total += 1;
                if slot.wants(key, opts.sample_cap) {
                    slot.offer(
                        Entry {
                            key,
                            flow: SampledFlow {
                                raw: flow.clone(),
                                from_index: Arc::clone(&index),
                            },
                        },
                        opts.sample_cap,
                    );
                }
            }
        }
        // Keep the detailed bad lines bounded per accumulator too.
        if self.bad.len() > opts.max_bad_lines.saturating_mul(4).max(64) {
            self.trim_bad(opts.max_bad_lines);
        }
    }

    fn trim_bad(&mut self, max: usize) {
        self.bad.sort_by_key(|r| (r.file, r.block, r.local_line));
        self.bad.truncate(max);
    }

    fn merge(mut self, mut o: Acc, opts: &ScanOptions<'_>) -> Acc {
        if o.slots.len() > self.slots.len() {
            std::mem::swap(&mut self.slots, &mut o.slots);
        }
        for (k, slot) in o.slots {
            let mine = self.slots.entry(k).or_default();
            mine.total += slot.total;
            for e in slot.heap {
                mine.offer(e, opts.sample_cap);
            }
        }
        self.days.extend(o.days);
        self.lines += o.lines;
        self.flows_matched += o.flows_matched;
        self.other_days += o.other_days;
        self.malformed += o.malformed;
        self.non_ip += o.non_ip;
        self.bad.extend(o.bad);
        if self.bad.len() > opts.max_bad_lines {
            self.trim_bad(opts.max_bad_lines);
        }
        self.blocks.extend(o.blocks);
        self
    }

    fn finish(mut self, read: ReadSummary, opts: &ScanOptions<'_>) -> ScanResult {
        // Number lines: the first line of a block follows all lines of earlier blocks.
        self.blocks.sort_unstable();
        let mut first_line: FxHashMap<(u32, u64), u64> = FxHashMap::default();
        let mut cur_file = u32::MAX;
        let mut seen = 0u64;
        for &(file, off, n) in &self.blocks {
            if file != cur_file {
                cur_file = file;
                seen = 0;
            }
            first_line.insert((file, off), seen);
            seen += n;
        }
        self.trim_bad(opts.max_bad_lines);
        let bad_lines = self
            .bad
            .into_iter()
            .map(|r| BadLine {
                file: read.names.get(r.file as usize).cloned().unwrap_or_default(),
                line: first_line.get(&(r.file, r.block)).copied().unwrap_or(0) + r.local_line,
                reason: r.reason,
            })
            .collect();
        let iocs = self
            .slots
            .into_iter()
            .map(|(k, slot)| {
                let sample = slot
                    .heap
                    .into_sorted_vec()
                    .into_iter()
                    .map(|e| e.flow)
                    .collect();
                (
                    k,
                    IocHits {
                        total: slot.total,
                        sample,
                    },
                )
            })
            .collect();
        ScanResult {
            iocs,
            days: self.days,
            lines: self.lines,
            bytes: read.bytes,
            flows_matched: self.flows_matched,
            other_days: self.other_days,
            malformed: self.malformed,
            non_ip: self.non_ip,
            bad_lines,
            read_errors: read.errors,
            formats: read.formats,
        }
    }
}
