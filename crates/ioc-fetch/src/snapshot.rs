//! Dated snapshots of parsed lists, diffs, and the fetch-or-fall-back call.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::fetch::{FetchError, FetchOptions, Source, Validators, fetch, sha256_hex};
use crate::parse::{ParseError, ParseOptions, ParsedList, parse_blocklist};

const RAW: &str = "raw";
const SHA: &str = "raw.sha256";
const LIST: &str = "list.json";
const ENTRIES: &str = "entries.txt";
const META: &str = "meta.json";

/// Metadata kept with a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// The source, redacted (no token).
    pub source: String,
    /// Conditional-GET validators of the download.
    pub validators: Validators,
    /// Lower-case hex SHA-256 of the raw body.
    pub sha256: String,
    /// When it was saved (RFC 3339, UTC).
    pub saved_at: String,
}

/// One day's snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The day.
    pub date: NaiveDate,
    /// The parsed list.
    pub list: ParsedList,
    /// Its metadata.
    pub meta: SnapshotMeta,
}

/// Entries added, removed and unchanged between two lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListDiff {
    /// In the new list only.
    pub added: Vec<IpNet>,
    /// In the old list only.
    pub removed: Vec<IpNet>,
    /// In both.
    pub unchanged: Vec<IpNet>,
}

/// Compares two entry lists (exact entries: a /24 replaced by a /23 is one removal
/// and one addition).
pub fn diff_entries(old: &[IpNet], new: &[IpNet]) -> ListDiff {
    let old: BTreeSet<IpNet> = old.iter().copied().collect();
    let new: BTreeSet<IpNet> = new.iter().copied().collect();
    ListDiff {
        added: new.difference(&old).copied().collect(),
        removed: old.difference(&new).copied().collect(),
        unchanged: old.intersection(&new).copied().collect(),
    }
}

/// Why a snapshot operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// File-system error.
    #[error("snapshot {path}: {error}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// A snapshot file is not what was written.
    #[error("snapshot {path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No snapshot for that date.
    #[error("no snapshot for {0}")]
    Missing(NaiveDate),
}

/// A directory of daily snapshots, one subdirectory `YYYY-MM-DD` each holding the raw
/// body (`raw`), its SHA-256 (`raw.sha256`), the entries one a line (`entries.txt`),
/// the whole parse result (`list.json`) and metadata with the conditional-GET
/// validators (`meta.json`).
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SnapshotError + '_ {
    move |error| SnapshotError::Io {
        path: path.to_path_buf(),
        error,
    }
}

impl SnapshotStore {
    /// A store rooted at `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The root directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn day_dir(&self, date: NaiveDate) -> PathBuf {
        self.dir.join(date.format("%Y-%m-%d").to_string())
    }

    /// Saves a day's snapshot, replacing any earlier one for that day. Written into a
    /// temporary directory first and renamed, so a crash never leaves half a snapshot.
    pub fn save(
        &self,
        date: NaiveDate,
        raw: &[u8],
        list: &ParsedList,
        validators: &Validators,
        source: &str,
    ) -> Result<SnapshotMeta, SnapshotError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let final_dir = self.day_dir(date);
        let tmp = self.dir.join(format!(
            ".tmp-{}-{}",
            date.format("%Y-%m-%d"),
            std::process::id()
        ));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
        }
        std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        let meta = SnapshotMeta {
            source: source.to_string(),
            validators: validators.clone(),
            sha256: sha256_hex(raw),
            saved_at: chrono::Utc::now().to_rfc3339(),
        };
        let write = |name: &str, bytes: &[u8]| {
            let p = tmp.join(name);
            std::fs::write(&p, bytes).map_err(io(&p))
        };
        write(RAW, raw)?;
        write(SHA, format!("{}  {RAW}\n", meta.sha256).as_bytes())?;
        let mut entries = String::new();
        for e in &list.entries {
            entries.push_str(&e.to_string());
            entries.push('\n');
        }
        write(ENTRIES, entries.as_bytes())?;
        write(LIST, to_json(list).as_bytes())?;
        write(META, to_json(&meta).as_bytes())?;
        if final_dir.exists() {
            std::fs::remove_dir_all(&final_dir).map_err(io(&final_dir))?;
        }
        std::fs::rename(&tmp, &final_dir).map_err(io(&final_dir))?;
        Ok(meta)
    }

    /// Loads a day's snapshot, checking the raw body against its stored SHA-256.
    pub fn load(&self, date: NaiveDate) -> Result<Snapshot, SnapshotError> {
        let d = self.day_dir(date);
        if !d.is_dir() {
            return Err(SnapshotError::Missing(date));
        }
        let read = |name: &str| {
            let p = d.join(name);
            std::fs::read(&p).map_err(io(&p))
        };
        let corrupt = |name: &str, reason: String| SnapshotError::Corrupt {
            path: d.join(name),
            reason,
        };
        let meta: SnapshotMeta =
            serde_json::from_slice(&read(META)?).map_err(|e| corrupt(META, e.to_string()))?;
        let list: ParsedList =
            serde_json::from_slice(&read(LIST)?).map_err(|e| corrupt(LIST, e.to_string()))?;
        let actual = sha256_hex(&read(RAW)?);
        if actual != meta.sha256 {
            return Err(corrupt(
                RAW,
                format!(
                    "SHA-256 {actual} does not match the recorded {}",
                    meta.sha256
                ),
            ));
        }
        Ok(Snapshot { date, list, meta })
    }

    /// The raw body of a day's snapshot.
    pub fn load_raw(&self, date: NaiveDate) -> Result<Vec<u8>, SnapshotError> {
        let p = self.day_dir(date).join(RAW);
        std::fs::read(&p).map_err(io(&p))
    }

    /// The dates that have a snapshot, oldest first.
    pub fn dates(&self) -> Result<Vec<NaiveDate>, SnapshotError> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.dir)(e)),
        };
        let mut dates: Vec<NaiveDate> = rd
            .filter_map(Result::ok)
            .filter(|e| e.path().join(META).is_file())
            .filter_map(|e| {
                let name = e.file_name();
                NaiveDate::parse_from_str(name.to_str()?, "%Y-%m-%d").ok()
            })
            .collect();
        dates.sort();
        Ok(dates)
    }

    /// The newest snapshot date on or before `date`.
    pub fn latest_on_or_before(&self, date: NaiveDate) -> Result<Option<NaiveDate>, SnapshotError> {
        Ok(self.dates()?.into_iter().rev().find(|d| *d <= date))
    }

    /// The newest snapshot date strictly before `date`.
    pub fn latest_before(&self, date: NaiveDate) -> Result<Option<NaiveDate>, SnapshotError> {
        Ok(self.dates()?.into_iter().rev().find(|d| *d < date))
    }

    /// Entries added, removed and unchanged from snapshot `a` to snapshot `b`.
    pub fn diff(&self, a: NaiveDate, b: NaiveDate) -> Result<ListDiff, SnapshotError> {
        let a = self.load(a)?;
        let b = self.load(b)?;
        Ok(diff_entries(&a.list.entries, &b.list.entries))
    }
}

/// Pretty JSON of a snapshot type.
fn to_json<T: Serialize>(v: &T) -> String {
    // Snapshot types hold only strings, numbers, sequences and string-keyed maps:
    // serialisation cannot fail.
    serde_json::to_string_pretty(v).expect("snapshot types serialise to JSON")
}

/// Why the newest list could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AcquireError {
    /// Download failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The body was rejected (empty, HTML, no entries, too many entries).
    #[error("the downloaded list was rejected: {0}")]
    Parse(#[from] ParseError),
    /// Snapshot storage failed.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// The server said "not modified" but there is no earlier snapshot to reuse.
    #[error("the server answered 304 Not Modified but no earlier snapshot exists")]
    NotModifiedWithoutSnapshot,
}

/// Both the acquisition failure and the absence of any usable earlier snapshot.
#[derive(Debug, thiserror::Error)]
#[error("{cause}; and no earlier snapshot exists to fall back to")]
pub struct NoFallback {
    /// Why the fresh list could not be used.
    #[source]
    pub cause: AcquireError,
}

/// The list to use for a day.
#[derive(Debug, Clone, Serialize)]
pub struct Acquired {
    /// The list.
    pub list: ParsedList,
    /// The day requested.
    pub requested_date: NaiveDate,
    /// The day the list is from: `requested_date` unless `fallback`.
    pub date_of_list: NaiveDate,
    /// The fresh list could not be used; this is an earlier snapshot.
    pub fallback: bool,
    /// Why the fresh list could not be used (redacted), when `fallback`.
    pub fallback_reason: Option<String>,
    /// The server answered 304: the list is the previous snapshot's, saved again for
    /// `requested_date`.
    pub not_modified: bool,
    /// The snapshot compared against (newest before `date_of_list`).
    pub previous_date: Option<NaiveDate>,
    /// Changes against `previous_date`.
    pub diff_vs_previous: Option<ListDiff>,
}

/// Fetches `source` for `date`, parses it, saves the snapshot and diffs it against the
/// previous one. If anything fails before the snapshot is saved, falls back to the
/// newest snapshot on or before `date`, marked with `fallback` and its date. Errors
/// only when there is nothing to fall back to.
///
/// The conditional-GET validators of the newest snapshot on or before `date` are sent,
/// so an unchanged list is not downloaded again.
pub async fn acquire(
    source: &Source,
    date: NaiveDate,
    store: &SnapshotStore,
    fetch_opts: &FetchOptions,
    parse_opts: &ParseOptions,
) -> Result<Acquired, NoFallback> {
    match acquire_fresh(source, date, store, fetch_opts, parse_opts).await {
        Ok(a) => Ok(a),
        Err(cause) => {
            let reason = cause.to_string();
            tracing::warn!(source = %source, error = %reason, "blocklist acquisition failed, looking for a fallback snapshot");
            let fallback = store
                .latest_on_or_before(date)
                .ok()
                .flatten()
                .and_then(|d| store.load(d).ok());
            let Some(snap) = fallback else {
                return Err(NoFallback { cause });
            };
            let previous_date = store.latest_before(snap.date).ok().flatten();
            let diff_vs_previous = previous_date
                .and_then(|p| store.load(p).ok())
                .map(|p| diff_entries(&p.list.entries, &snap.list.entries));
            Ok(Acquired {
                list: snap.list,
                requested_date: date,
                date_of_list: snap.date,
                fallback: true,
                fallback_reason: Some(reason),
                not_modified: false,
                previous_date,
                diff_vs_previous,
            })
        }
    }
}

async fn acquire_fresh(
    source: &Source,
    date: NaiveDate,
    store: &SnapshotStore,
    fetch_opts: &FetchOptions,
    parse_opts: &ParseOptions,
) -> Result<Acquired, AcquireError> {
    let last = store.latest_on_or_before(date)?;
    let mut opts = fetch_opts.clone();
    if opts.validators == Validators::default()
        && let Some(d) = last
        && matches!(source, Source::Url(_))
    {
        opts.validators = store.load(d)?.meta.validators;
    }
    let fetched = fetch(source, &opts).await?;
    let (raw, validators) = if fetched.not_modified {
        let d = last.ok_or(AcquireError::NotModifiedWithoutSnapshot)?;
        (store.load_raw(d)?, fetched.validators)
    } else {
        (fetched.body, fetched.validators)
    };
    let list = parse_blocklist(&raw, parse_opts)?;
    store.save(date, &raw, &list, &validators, &source.to_string())?;
    let previous_date = store.latest_before(date)?;
    let diff_vs_previous = match previous_date {
        Some(p) => Some(diff_entries(&store.load(p)?.list.entries, &list.entries)),
        None => None,
    };
    Ok(Acquired {
        list,
        requested_date: date,
        date_of_list: date,
        fallback: false,
        fallback_reason: None,
        not_modified: fetched.not_modified,
        previous_date,
        diff_vs_previous,
    })
}
