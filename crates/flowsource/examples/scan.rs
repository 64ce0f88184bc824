//! Scans flow files against a blocklist and prints what was found and how fast.
//!
//! `cargo run --release -p flowsource --example scan -- FILE[,FILE…] IOCS.txt [first|random]`
//!
//! `FILE` may be `-` for stdin. The blocklist is one address a line (`#` comments).

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Instant;

use flowsource::{Input, SampleMode, ScanOptions, scan};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: scan FILE[,FILE...] IOCS.txt [first|random]".into());
    }
    let inputs: Vec<Input> = args[1].split(',').map(Input::from_arg).collect();
    let iocs: HashSet<IpAddr> = std::fs::read_to_string(&args[2])?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.parse().ok())
        .collect();
    let mut opts = ScanOptions::new(&iocs);
    if args.get(3).map(String::as_str) == Some("random") {
        opts.mode = SampleMode::Random { seed: 20250905 };
    }
    let t = Instant::now();
    let r = scan(&inputs, &opts)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "scanned {} bytes, {} lines in {:.3} s: {:.0} MB/s on {} threads",
        r.bytes,
        r.lines,
        secs,
        r.bytes as f64 / 1e6 / secs,
        rayon::current_num_threads()
    );
    println!(
        "iocs listed {}, (day, ioc) pairs with flows {}, flows matched {}, malformed {}, read errors {}",
        iocs.len(),
        r.iocs.len(),
        r.flows_matched,
        r.malformed,
        r.read_errors.len()
    );
    for b in r.bad_lines.iter().take(5) {
        println!("bad line {}:{}: {}", b.file, b.line, b.reason);
    }
    Ok(())
}
