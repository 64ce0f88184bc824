//! Inputs (a file or stdin, plain or gzip) and format detection.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use crate::error::ScanError;

/// The flow file formats the scanner reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JSON Lines, one raw flow document per line (laid out as the [`flowmodel::FieldMap`] says).
    JsonRaw,
    /// JSON Lines of Elasticsearch hits, `{"_index":…,"_id":…,"_source":{…}}` (an export
    /// tool's output); the `_index` becomes the sample's `from_index`.
    EsHits,
    /// `nfdump -o json`: one JSON array of pretty-printed objects (`src4_addr`,
    /// `in_packets`, `first`, …), read streaming one object at a time; `out_packets`/
    /// `out_bytes` give a reverse flow; `first` is UTC; ICMP type/code become the
    /// destination port (`type << 8 | code`) as nfdump's CSV prints them. A report's
    /// "line" is the object's position in the array.
    NfdumpJson,
    /// `nfdump -o csv`: a `ts,te,td,sa,da,…` header (columns found by name), one record a
    /// line, a `Summary` footer (skipped). `ts` has whole seconds only; `opkt`/`obyt` give a
    /// reverse flow.
    NfdumpCsv,
    /// Argus bidirectional flows (CTU-13 `.binetflow`): each row becomes two one-way flows
    /// — src→dst with `SrcBytes` and dst→src with `TotBytes − SrcBytes`, packets shared in
    /// proportion to bytes, TCP flags per side from `State` (`SR_SA`), `Dir` deciding
    /// which flow comes first; a side without bytes (State `S_`) gives no flow.
    /// `StartTime` (`2011/08/18 15:40:53.826372`) is taken as UTC. Rows of non-IP frames
    /// (MAC addresses) are counted in [`crate::ScanResult::non_ip`] and skipped.
    Binetflow,
}

impl Format {
    /// Every format, in the order [`Format::detect`] considers them.
    pub const ALL: [Format; 5] = [
        Format::JsonRaw,
        Format::EsHits,
        Format::NfdumpJson,
        Format::NfdumpCsv,
        Format::Binetflow,
    ];

    /// The name `--format` accepts.
    pub fn name(self) -> &'static str {
        match self {
            Format::JsonRaw => "json",
            Format::EsHits => "es-hits",
            Format::NfdumpJson => "nfdump-json",
            Format::NfdumpCsv => "nfdump-csv",
            Format::Binetflow => "binetflow",
        }
    }

    /// Guesses the format from the first bytes of a (decompressed) input: a JSON object
    /// line with an `_source` key is [`Format::EsHits`], any other object line
    /// [`Format::JsonRaw`], a JSON array [`Format::NfdumpJson`], a `ts,te,` header
    /// [`Format::NfdumpCsv`], a `StartTime,Dur,` header [`Format::Binetflow`].
    ///
    /// ```
    /// use flowsource::Format;
    /// assert_eq!(Format::detect(b"{\"_index\":\"x\",\"_source\":{}}\n"), Some(Format::EsHits));
    /// assert_eq!(Format::detect(b"StartTime,Dur,Proto,SrcAddr"), Some(Format::Binetflow));
    /// assert_eq!(Format::detect(b"hello"), None);
    /// ```
    pub fn detect(first_bytes: &[u8]) -> Option<Format> {
        let b = first_bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(first_bytes);
        let start = b.iter().position(|c| !c.is_ascii_whitespace())?;
        let b = &b[start..];
        match b[0] {
            b'[' => Some(Format::NfdumpJson),
            b'{' => {
                let line = match memchr::memchr(b'\n', b) {
                    Some(end) => &b[..end],
                    None => b,
                };
                if memchr::memmem::find(line, b"\"_source\"").is_some() {
                    Some(Format::EsHits)
                } else {
                    Some(Format::JsonRaw)
                }
            }
            _ if b.starts_with(b"ts,te,") => Some(Format::NfdumpCsv),
            _ if b.starts_with(b"StartTime,Dur,") => Some(Format::Binetflow),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `--format` names: `json` (or `jsonl`, `raw`), `es-hits` (or `hits`), `nfdump-json`,
/// `nfdump-csv`, `binetflow` (or `argus`).
impl FromStr for Format {
    type Err = ScanError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" | "jsonl" | "raw" | "json-raw" => Ok(Format::JsonRaw),
            "es-hits" | "hits" | "es" => Ok(Format::EsHits),
            "nfdump-json" => Ok(Format::NfdumpJson),
            "nfdump-csv" => Ok(Format::NfdumpCsv),
            "binetflow" | "argus" => Ok(Format::Binetflow),
            _ => Err(ScanError::UnknownFormatName(s.to_owned())),
        }
    }
}

/// Where flows come from: a file, or standard input (`-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file on disk, plain or gzip.
    Path(PathBuf),
    /// Standard input, plain or gzip.
    Stdin,
    /// Bytes already in memory (plain or gzip), with the name reports and samples use.
    Memory {
        /// The name, as a file name would be used.
        name: Arc<str>,
        /// The content.
        data: Arc<[u8]>,
    },
}

impl Input {
    /// `-` is stdin, anything else a path.
    pub fn from_arg(arg: &str) -> Self {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(arg))
        }
    }

    /// How reports name this input: the path as given, or `-`.
    pub fn display_name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin => "-".to_owned(),
            Input::Memory { name, .. } => name.to_string(),
        }
    }

    /// The name a sample's `from_index` carries when the format has no index of its own:
    /// the file name without directories, or `-`.
    pub fn index_name(&self) -> Arc<str> {
        match self {
            Input::Path(p) => Arc::from(
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| p.display().to_string()),
            ),
            Input::Stdin => Arc::from("-"),
            Input::Memory { name, .. } => Arc::clone(name),
        }
    }

    /// Opens the input, decompressing gzip when the stream starts with the gzip magic
    /// bytes (`1f 8b`), whatever the file is called. Concatenated gzip members are read
    /// as one stream.
    pub fn open(&self) -> Result<Box<dyn BufRead + Send>, ScanError> {
        let raw: Box<dyn Read + Send> = match self {
            Input::Path(p) => Box::new(File::open(p).map_err(|e| self.io_err(e))?),
            Input::Stdin => Box::new(io::stdin()),
            Input::Memory { data, .. } => Box::new(io::Cursor::new(Arc::clone(data))),
        };
        let mut buf = BufReader::with_capacity(1 << 20, raw);
        let head = buf.fill_buf().map_err(|e| self.io_err(e))?;
        if head.starts_with(&[0x1f, 0x8b]) {
            Ok(Box::new(BufReader::with_capacity(
                1 << 20,
                MultiGzDecoder::new(buf),
            )))
        } else {
            Ok(Box::new(buf))
        }
    }

    fn io_err(&self, e: io::Error) -> ScanError {
        ScanError::Open {
            file: self.display_name(),
            source: e,
        }
    }
}

impl From<PathBuf> for Input {
    fn from(p: PathBuf) -> Self {
        Input::Path(p)
    }
}
