//! The `iocflow` binary end to end on the embedded store: real captures, generated
//! days with planted truth, re-runs, crashes and bad input.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

/// The `iocflow` binary, built once per test process: it belongs to another package of
/// the workspace, so `cargo test -p iocflow-tests` alone would not rebuild it.
fn binary() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", "iocflow-cli", "--bin", "iocflow"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the iocflow binary failed");
        assert_cmd::cargo::cargo_bin("iocflow")
    })
}

fn iocflow() -> Command {
    let mut c = Command::new(binary());
    c.env_remove("IOCFLOW_BLOCKLIST_URL")
        .env_remove("IOCFLOW_ES_PASSWORD")
        .env_remove("IOCFLOW_ES_API_KEY")
        .env("RUST_LOG", "warn");
    c
}

fn run_ok(args: &[&str]) -> Output {
    let out = iocflow().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "iocflow {args:?} failed ({:?}):\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(&out.stdout)))
}

fn ctu() -> (String, String) {
    let d = shared().join("ctu13-scenario11-rbot");
    (
        d.join("capture20110818-2.binetflow").display().to_string(),
        d.join("cc-blocklist-derived.txt").display().to_string(),
    )
}

/// Source addresses of rows labelled `From-Normal` in the capture.
fn normal_hosts() -> BTreeSet<IpAddr> {
    let text =
        std::fs::read_to_string(shared().join("ctu13-scenario11-rbot/capture20110818-2.binetflow"))
            .unwrap();
    text.lines()
        .skip(1)
        .filter(|l| l.contains("From-Normal"))
        .filter_map(|l| l.split(',').nth(3)?.trim().parse().ok())
        .collect()
}

#[test]
fn ctu13_infected_hosts_come_out_as_c2_checkins_and_no_normal_host_is_labelled() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (flows, list) = ctu();
    run_ok(&[
        "run",
        "--flows",
        &flows,
        "--blocklist",
        &list,
        "--data-dir",
        d,
    ]);
    run_ok(&["analyze", "--data-dir", d]);
    let suspects = json_of(&run_ok(&["suspects", "--data-dir", d, "--json"]));
    let rows = suspects.as_array().unwrap();
    let labelled = |ip: &str| {
        rows.iter()
            .find(|r| r["ip"] == ip)
            .map(|r| {
                r["labels"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l == "C2CheckIn")
            })
            .unwrap_or(false)
    };
    for bot in ["147.32.84.165", "147.32.84.191", "147.32.84.192"] {
        assert!(
            labelled(bot),
            "{bot} is not a C2CheckIn suspect: {suspects:#}"
        );
    }
    // The three bots rank above every host without C&C contact.
    let top: BTreeSet<&str> = rows
        .iter()
        .take(3)
        .filter_map(|r| r["ip"].as_str())
        .collect();
    assert_eq!(
        top,
        BTreeSet::from(["147.32.84.165", "147.32.84.191", "147.32.84.192"])
    );
    for r in rows {
        for key in ["ip", "score", "level", "labels", "first_seen", "last_seen"] {
            assert!(r.get(key).is_some(), "suspect without {key}: {r}");
        }
    }
    let normal = normal_hosts();
    assert!(
        normal.contains(&"147.32.84.164".parse::<IpAddr>().unwrap()),
        "the capture's From-Normal hosts: {normal:?}"
    );
    for r in rows {
        let ip: IpAddr = r["ip"].as_str().unwrap().parse().unwrap();
        assert!(
            !normal.contains(&ip) || r["labels"].as_array().unwrap().is_empty(),
            "From-Normal host {ip} got labels: {r}"
        );
    }
    // `ip` shows the verdict with its evidence.
    let one = json_of(&run_ok(&["ip", "147.32.84.165", "--json", "--data-dir", d]));
    assert_eq!(one["ip"], "147.32.84.165");
    assert!(one["evidence"]["2011-08-18"].is_object(), "{one:#}");
    // `--within` keeps an institution to its own block.
    let within = json_of(&run_ok(&[
        "suspects",
        "--data-dir",
        d,
        "--json",
        "--within",
        "147.32.84.160/28",
    ]));
    let ips: Vec<&str> = within
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["ip"].as_str())
        .collect();
    assert_eq!(ips, ["147.32.84.165"]);
}

#[test]
fn demo_meets_the_classifier_and_scorer_bars_against_the_planted_truth() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = run_ok(&[
        "demo",
        "--days",
        "12",
        "--flows-per-day",
        "60000",
        "--iocs",
        "80",
        "--seed",
        "7",
        "--json",
        "--data-dir",
        d,
    ]);
    let c = json_of(&out);
    let f = |k: &str| {
        c[k].as_f64()
            .unwrap_or_else(|| panic!("{k} missing: {c:#}"))
    };
    assert!(f("ioc_class_accuracy") >= 0.95, "{c:#}");
    for (class, counts) in c["ioc_class_detail"].as_object().unwrap() {
        let (ok, n) = (counts[0].as_f64().unwrap(), counts[1].as_f64().unwrap());
        assert!(ok / n >= 0.95, "class {class}: {ok}/{n}");
    }
    assert!(f("checkin_precision") >= 0.95, "{c:#}");
    assert!(f("checkin_recall") >= 0.95, "{c:#}");
    assert_eq!(c["contacted_only_watched"], 0, "{c:#}");
    assert!(f("family_ari") >= 0.9, "{c:#}");
    let after = c["migration_found_after_days"].as_i64();
    assert!(
        matches!(after, Some(0..=2)),
        "migration not found in time: {c:#}"
    );
    assert_eq!(c["migration_top_candidate"], c["migration_new_relay"]);
    assert_eq!(c["bots_rank_above_benign"], true, "{c:#}");
    // The results are queryable afterwards.
    let families = json_of(&run_ok(&["families", "--json", "--data-dir", d]));
    assert!(!families.as_array().unwrap().is_empty());
    let relays = run_ok(&["relays", "--txt", "--data-dir", d]);
    assert!(
        String::from_utf8_lossy(&relays.stdout)
            .contains(c["migration_new_relay"].as_str().unwrap())
    );
}

/// Every table of the store, as sorted text, for exact comparisons.
fn dump(dir: &Path) -> Vec<String> {
    let db = store::SqliteStore::open(dir).unwrap();
    let days = db.days().unwrap();
    let (first, last) = (days[0], days[days.len() - 1]);
    let mut out = Vec::new();
    for s in db.ioc_summaries(first, last).unwrap() {
        out.push(serde_json::to_string(&s).unwrap());
    }
    for s in db.remote_summaries(first, last).unwrap() {
        out.push(serde_json::to_string(&s).unwrap());
    }
    for d in &days {
        for f in db.ioc_flows_of_day(*d).unwrap() {
            out.push(serde_json::to_string(&f).unwrap());
        }
    }
    for v in db.verdicts(None).unwrap() {
        out.push(v.doc.to_string());
    }
    out.sort();
    out
}

#[test]
fn rerun_of_the_same_day_leaves_the_store_identical() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (flows, list) = ctu();
    let args = [
        "run",
        "--flows",
        &flows,
        "--blocklist",
        &list,
        "--data-dir",
        d,
    ];
    run_ok(&args);
    run_ok(&["analyze", "--data-dir", d]);
    let first = dump(dir.path());
    run_ok(&args);
    run_ok(&["analyze", "--data-dir", d]);
    assert_eq!(dump(dir.path()), first);
    assert!(first.len() > 10);
}

fn generated_day(dir: &Path) -> (PathBuf, PathBuf) {
    run_ok(&[
        "generate",
        "--days",
        "1",
        "--flows-per-day",
        "400000",
        "--iocs",
        "200",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let flows = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(".jsonl"))
        .unwrap();
    let list = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("blocklist-")
        })
        .unwrap();
    (flows, list)
}

#[test]
fn a_run_killed_half_way_and_started_again_completes_correctly() {
    let input = tempfile::tempdir().unwrap();
    let (flows, list) = generated_day(input.path());
    let (flows, list) = (flows.to_str().unwrap(), list.to_str().unwrap());
    let clean = tempfile::tempdir().unwrap();
    run_ok(&[
        "run",
        "--flows",
        flows,
        "--blocklist",
        list,
        "--data-dir",
        clean.path().to_str().unwrap(),
    ]);

    let crashed = tempfile::tempdir().unwrap();
    let cd = crashed.path().to_str().unwrap();
    // Kill the run at several points of its life; each time the next run must still
    // produce exactly the clean result.
    let mut killed_mid_run = 0;
    for delay_ms in [150u64, 600, 1200] {
        let mut child = std::process::Command::new(binary())
            .args([
                "-q",
                "run",
                "--flows",
                flows,
                "--blocklist",
                list,
                "--data-dir",
                cd,
            ])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let still_running = child.try_wait().unwrap().is_none();
        let _ = child.kill();
        let _ = child.wait();
        killed_mid_run += usize::from(still_running);
    }
    assert!(
        killed_mid_run > 0,
        "no run was still going when killed: the test proved nothing"
    );
    run_ok(&[
        "run",
        "--flows",
        flows,
        "--blocklist",
        list,
        "--data-dir",
        cd,
    ]);
    assert_eq!(dump(crashed.path()), dump(clean.path()));
}

#[test]
fn nfdump_json_and_csv_of_the_same_export_give_the_same_ioc_views() {
    let base = shared().join("softflowd-exports/slips-ssh-bruteforce/v5");
    let list_dir = tempfile::tempdir().unwrap();
    let list = list_dir.path().join("list.txt");
    std::fs::write(&list, "# the SSH brute-forcer\n147.32.80.40\n").unwrap();
    let mut views = Vec::new();
    for file in ["flows.json", "flows.csv"] {
        let dir = tempfile::tempdir().unwrap();
        run_ok(&[
            "run",
            "--flows",
            base.join(file).to_str().unwrap(),
            "--blocklist",
            list.to_str().unwrap(),
            "--data-dir",
            dir.path().to_str().unwrap(),
        ]);
        let db = store::SqliteStore::open(dir.path()).unwrap();
        let days = db.days().unwrap();
        let mut flows: Vec<String> = days
            .iter()
            .flat_map(|d| db.ioc_flows_of_day(*d).unwrap())
            .map(|f| {
                // nfdump's CSV prints whole seconds: compare at that precision.
                format!(
                    "{} {} {:?} {} {} {} {} {} {} {}",
                    f.ioc_ip,
                    f.remote_ip,
                    f.direction,
                    f.ioc_port,
                    f.remote_port,
                    f.protocol,
                    f.send_packets + f.rcv_packets,
                    f.send_octets + f.rcv_octets,
                    f.time_stamp / 1000,
                    f.total_flows
                )
            })
            .collect();
        flows.sort();
        views.push(flows);
    }
    assert!(
        views[0].len() >= 100,
        "expected the brute force's flows: {}",
        views[0].len()
    );
    assert_eq!(views[0], views[1]);
}

#[test]
fn malformed_lines_are_reported_with_file_and_line_and_the_run_is_partial() {
    let dir = tempfile::tempdir().unwrap();
    let (flows, list) = ctu();
    let text = std::fs::read_to_string(&flows).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(20, "2011/08/18 15:41:00.0,not,a,binetflow,row");
    let bad = dir.path().join("capture.binetflow");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let data = dir.path().join("data");
    let out = iocflow()
        .args([
            "run",
            "--flows",
            bad.to_str().unwrap(),
            "--blocklist",
            &list,
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("capture.binetflow:21"), "{stderr}");
    // The rest of the capture was used: the three C&C servers still have their flows.
    let report: Value =
        serde_json::from_slice(&std::fs::read(data.join("reports/run-2011-08-18.json")).unwrap())
            .unwrap();
    assert_eq!(report["input"]["malformed"], 1);
    assert_eq!(report["days"][0]["iocs_per_class"]["Candidate"], 3);
    assert_eq!(report["exit_code"], 3);
}

#[test]
fn a_gzip_cut_in_the_middle_keeps_what_was_read_and_the_run_is_partial() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let (flows, list) = ctu();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(&flows).unwrap()).unwrap();
    let bytes = gz.finish().unwrap();
    let cut = dir.path().join("capture.binetflow.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = iocflow()
        .args([
            "run",
            "--flows",
            cut.to_str().unwrap(),
            "--blocklist",
            &list,
            "--data-dir",
            dir.path().join("d").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("capture.binetflow.gz"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("input read errors"), "{stdout}");
}

#[test]
fn an_unknown_format_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, "hello\nthis is not a flow file\n").unwrap();
    let (_, list) = ctu();
    let out = iocflow()
        .args([
            "run",
            "--flows",
            junk.to_str().unwrap(),
            "--blocklist",
            &list,
            "--data-dir",
            dir.path().join("d").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("notes.txt"));
}

#[test]
fn a_blocklist_url_that_is_down_falls_back_to_the_last_snapshot_with_exit_3() {
    let server = httpmock::MockServer::start();
    let down = server.mock(|when, then| {
        when.method(httpmock::Method::GET).path("/feed/list.txt");
        then.status(503).body("maintenance");
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (flows, list) = ctu();
    // Day 1: the list comes from a file and is snapshotted.
    run_ok(&[
        "run",
        "--date",
        "2011-08-18",
        "--flows",
        &flows,
        "--blocklist",
        &list,
        "--data-dir",
        d,
    ]);
    // Day 2: the URL (with a secret token) is down.
    let url = format!("{}/feed/list.txt?token=s3cr3t", server.base_url());
    let out = iocflow()
        .env("IOCFLOW_BLOCKLIST_URL", &url)
        .args([
            "run",
            "--date",
            "2011-08-19",
            "--flows",
            &flows,
            "--data-dir",
            d,
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("FALLBACK to the snapshot of 2011-08-18"),
        "{stdout}"
    );
    assert!(down.calls() >= 1);
    assert!(
        !stdout.contains("s3cr3t") && !stderr.contains("s3cr3t"),
        "the token leaked"
    );
}

#[test]
fn blocklist_show_json_counts_entries_set_aside_and_bad_lines() {
    let list = shared().join("blocklists/firehol-2016-12/firehol_level1.netset");
    let out = run_ok(&["blocklist", "show", list.to_str().unwrap(), "--json"]);
    let v = json_of(&out);
    assert_eq!(v["parsed"], 17257);
    assert_eq!(v["entries"], 17193);
    assert_eq!(v["set_aside"], 64);
    assert_eq!(v["bad_lines"], 0);
    assert!(
        v["set_aside_list"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["entry"] == "10.0.0.0/8")
    );
}

#[test]
fn help_documents_the_exit_codes() {
    let out = run_ok(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "0  complete",
        "1  failed",
        "2  usage",
        "3  partial",
        "IOCFLOW_ES_PASSWORD",
    ] {
        assert!(text.contains(needle), "--help lacks {needle:?}");
    }
    let out = iocflow().args(["run", "--data-dir", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
