//! Writes a synthetic run to a directory: gzip JSON Lines flows and a blocklist per day,
//! and `truth.json`. `cargo run -p flowgen --example demo -- OUT_DIR [small|demo|default]`

use flowgen::{GenConfig, Generator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .ok_or("usage: demo OUT_DIR [small|demo|default]")?;
    let cfg = match args.next().as_deref() {
        None | Some("demo") => GenConfig::demo(),
        Some("small") => GenConfig::small(1, 3),
        Some("default") => GenConfig::default(),
        Some(other) => return Err(format!("unknown preset {other:?}").into()),
    };
    let generator = Generator::new(cfg)?;
    let t0 = std::time::Instant::now();
    let paths = generator.write_dir(std::path::Path::new(&dir), true)?;
    for p in &paths {
        println!("{}", p.display());
    }
    let truth = generator.truth();
    println!(
        "{} days, {} IoCs, {} bots in {} families, written in {:.1?}",
        truth.days,
        truth.iocs.len(),
        truth.bots.len(),
        truth.families.len(),
        t0.elapsed()
    );
    Ok(())
}
