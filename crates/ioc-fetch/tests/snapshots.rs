//! Dated snapshots, diffs and the fetch-or-fall-back call.

use std::time::Duration;

use chrono::NaiveDate;
use httpmock::prelude::*;
use ioc_fetch::{FetchOptions, ParseOptions, SnapshotStore, Source, acquire, parse_blocklist};
use ipnet::IpNet;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn quick() -> FetchOptions {
    FetchOptions {
        retries: 0,
        timeout: Duration::from_secs(5),
        ..FetchOptions::default()
    }
}

#[test]
fn save_writes_raw_sha_and_entries_and_diff_gives_added_removed_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::new(dir.path());
    let o = ParseOptions::default();
    let raw1 = b"1.1.1.0/24\n2.2.2.2\n3.3.3.3\n";
    let raw2 = b"2.2.2.2\n3.3.3.3\n4.4.4.4\n";
    store
        .save(
            day("2026-12-04"),
            raw1,
            &parse_blocklist(raw1, &o).unwrap(),
            &Default::default(),
            "file",
        )
        .unwrap();
    store
        .save(
            day("2026-12-05"),
            raw2,
            &parse_blocklist(raw2, &o).unwrap(),
            &Default::default(),
            "file",
        )
        .unwrap();

    let d = dir.path().join("2026-12-05");
    assert_eq!(std::fs::read(d.join("raw")).unwrap(), raw2);
    let sha = std::fs::read_to_string(d.join("raw.sha256")).unwrap();
    assert!(sha.starts_with(&ioc_fetch::sha256_hex(raw2)));
    assert_eq!(
        std::fs::read_to_string(d.join("entries.txt")).unwrap(),
        "2.2.2.2/32\n3.3.3.3/32\n4.4.4.4/32\n"
    );

    let diff = store.diff(day("2026-12-04"), day("2026-12-05")).unwrap();
    assert_eq!(diff.added, vec![net("4.4.4.4/32")]);
    assert_eq!(diff.removed, vec![net("1.1.1.0/24")]);
    assert_eq!(diff.unchanged, vec![net("2.2.2.2/32"), net("3.3.3.3/32")]);
    assert_eq!(
        store.dates().unwrap(),
        vec![day("2026-12-04"), day("2026-12-05")]
    );
    assert_eq!(store.load(day("2026-12-05")).unwrap().list.entries.len(), 3);
}

#[test]
fn tampered_raw_body_is_detected_on_load() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::new(dir.path());
    let raw = b"1.2.3.4\n";
    store
        .save(
            day("2026-12-05"),
            raw,
            &parse_blocklist(raw, &ParseOptions::default()).unwrap(),
            &Default::default(),
            "f",
        )
        .unwrap();
    std::fs::write(dir.path().join("2026-12-05/raw"), b"6.6.6.6\n").unwrap();
    let err = store.load(day("2026-12-05")).unwrap_err();
    assert!(
        matches!(err, ioc_fetch::SnapshotError::Corrupt { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn failed_fetch_falls_back_to_the_newest_earlier_snapshot_marked_with_its_date() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::new(dir.path().join("snaps"));
    let good = dir.path().join("good.txt");
    std::fs::write(&good, "1.2.3.4\n5.6.7.0/24\n").unwrap();
    let src: Source = good.to_str().unwrap().parse().unwrap();
    let first = acquire(
        &src,
        day("2026-12-03"),
        &store,
        &quick(),
        &ParseOptions::default(),
    )
    .await
    .unwrap();
    assert!(!first.fallback);
    assert_eq!(first.diff_vs_previous, None);

    // Next day the "download" is an HTML error page: it must not replace the good list.
    std::fs::write(&good, "<html><body>503 Service Unavailable</body></html>").unwrap();
    let second = acquire(
        &src,
        day("2026-12-05"),
        &store,
        &quick(),
        &ParseOptions::default(),
    )
    .await
    .unwrap();
    assert!(second.fallback);
    assert_eq!(second.date_of_list, day("2026-12-03"));
    assert_eq!(second.requested_date, day("2026-12-05"));
    assert!(second.fallback_reason.as_deref().unwrap().contains("HTML"));
    assert_eq!(
        second.list.entries,
        vec![net("1.2.3.4/32"), net("5.6.7.0/24")]
    );
    assert_eq!(
        store.dates().unwrap(),
        vec![day("2026-12-03")],
        "no snapshot saved for the bad day"
    );

    // A missing file also falls back; with no snapshot at all it is an error.
    let missing: Source = dir
        .path()
        .join("gone.txt")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        acquire(
            &missing,
            day("2026-12-06"),
            &store,
            &quick(),
            &ParseOptions::default()
        )
        .await
        .unwrap()
        .fallback
    );
    let empty = SnapshotStore::new(dir.path().join("none"));
    assert!(
        acquire(
            &missing,
            day("2026-12-06"),
            &empty,
            &quick(),
            &ParseOptions::default()
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn second_day_304_reuses_the_previous_body_and_diffs_against_it() {
    let server = MockServer::start_async().await;
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::new(dir.path());
    let src: Source = server.url("/list?token=abc").parse().unwrap();
    let first = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/list")
                .query_param("token", "abc")
                .header_missing("if-none-match");
            then.status(200)
                .header("etag", "\"d1\"")
                .body("9.9.9.9\n8.8.4.0/24\n");
        })
        .await;
    let a = acquire(
        &src,
        day("2026-12-04"),
        &store,
        &quick(),
        &ParseOptions::default(),
    )
    .await
    .unwrap();
    first.assert_calls_async(1).await;
    assert_eq!(a.list.entries.len(), 2);
    let meta = store.load(day("2026-12-04")).unwrap().meta;
    assert_eq!(meta.validators.etag.as_deref(), Some("\"d1\""));
    assert!(
        !meta.source.contains("abc"),
        "token must not be stored: {}",
        meta.source
    );

    let second = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/list")
                .query_param("token", "abc")
                .header("if-none-match", "\"d1\"");
            then.status(304).header("etag", "\"d1\"");
        })
        .await;
    let b = acquire(
        &src,
        day("2026-12-05"),
        &store,
        &quick(),
        &ParseOptions::default(),
    )
    .await
    .unwrap();
    second.assert_calls_async(1).await;
    assert!(b.not_modified && !b.fallback);
    assert_eq!(b.date_of_list, day("2026-12-05"));
    assert_eq!(b.previous_date, Some(day("2026-12-04")));
    let diff = b.diff_vs_previous.unwrap();
    assert!(diff.added.is_empty() && diff.removed.is_empty());
    assert_eq!(diff.unchanged.len(), 2);
}

#[tokio::test]
async fn empty_200_body_never_replaces_the_good_list() {
    let server = MockServer::start_async().await;
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::new(dir.path());
    let src: Source = server.url("/list?token=abc").parse().unwrap();
    let good = server
        .mock_async(|when, then| {
            when.method(GET).path("/list").query_param("token", "abc");
            then.status(200).body("7.7.7.7\n");
        })
        .await;
    acquire(
        &src,
        day("2026-12-04"),
        &store,
        &quick(),
        &ParseOptions::default(),
    )
    .await
    .unwrap();
    good.assert_calls_async(1).await;
    good.delete_async().await;
    let empty = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/list")
                .query_param("token", "abc")
                .header_missing("if-none-match")
                .header_missing("if-modified-since");
            then.status(200).body("");
        })
        .await;
    let a = acquire(
        &src,
        day("2026-12-05"),
        &store,
        &quick(),
        &ParseOptions::default(),
    )
    .await
    .unwrap();
    empty.assert_calls_async(1).await;
    assert!(a.fallback);
    assert_eq!(a.date_of_list, day("2026-12-04"));
    assert_eq!(a.list.entries, vec![net("7.7.7.7/32")]);
    assert!(a.fallback_reason.unwrap().contains("empty"));
    assert!(!dir.path().join("2026-12-05").exists());
}
