//! The HTTP side against httpmock: every mock asserts the exact request it expects.

use std::io::Write;
use std::time::Duration;

use httpmock::prelude::*;
use ioc_fetch::{FetchError, FetchOptions, Source, Validators, fetch, sha256_hex};

const LIST: &str = "# CERT daily list\n1.2.3.4\n5.6.7.0/24\n";
const TOKEN: &str = "s3cr3t-t0ken";

fn source(server: &MockServer) -> Source {
    server
        .url(format!("/cert/list.txt?token={TOKEN}"))
        .parse()
        .unwrap()
}

fn quick() -> FetchOptions {
    FetchOptions {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        retries: 2,
        backoff: Duration::from_millis(20),
        ..FetchOptions::default()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn ok_200_returns_body_sha_and_validators() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/cert/list.txt")
                .query_param("token", TOKEN)
                .header_missing("if-none-match")
                .header_missing("if-modified-since");
            then.status(200)
                .header("etag", "\"v1\"")
                .header("last-modified", "Sat, 05 Dec 2026 23:59:00 GMT")
                .body(LIST);
        })
        .await;
    let f = fetch(&source(&server), &quick()).await.unwrap();
    m.assert_calls_async(1).await;
    assert_eq!(f.body, LIST.as_bytes());
    assert_eq!(f.sha256, sha256_hex(LIST.as_bytes()));
    assert!(!f.not_modified);
    assert_eq!(f.validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        f.validators.last_modified.as_deref(),
        Some("Sat, 05 Dec 2026 23:59:00 GMT")
    );
}

#[tokio::test]
async fn unchanged_list_is_not_downloaded_twice_304_with_etag() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/cert/list.txt")
                .query_param("token", TOKEN)
                .header("if-none-match", "\"v1\"")
                .header("if-modified-since", "Sat, 05 Dec 2026 23:59:00 GMT");
            then.status(304).header("etag", "\"v1\"");
        })
        .await;
    let opts = FetchOptions {
        validators: Validators {
            etag: Some("\"v1\"".into()),
            last_modified: Some("Sat, 05 Dec 2026 23:59:00 GMT".into()),
        },
        ..quick()
    };
    let f = fetch(&source(&server), &opts).await.unwrap();
    m.assert_calls_async(1).await;
    assert!(f.not_modified);
    assert!(f.body.is_empty());
    assert_eq!(f.validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(f.status, Some(304));
}

#[tokio::test]
async fn not_found_404_fails_at_once_without_leaking_the_token() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/cert/list.txt")
                .query_param("token", TOKEN);
            then.status(404).body("no such list");
        })
        .await;
    let err = fetch(&source(&server), &quick()).await.unwrap_err();
    m.assert_calls_async(1).await; // 4xx is not retried
    assert!(
        matches!(
            err,
            FetchError::Status {
                status: 404,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("/cert/list.txt?***"), "{shown}");
}

#[tokio::test]
async fn server_error_500_is_retried_until_200() {
    let server = MockServer::start_async().await;
    let failing = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/cert/list.txt")
                .query_param("token", TOKEN);
            then.status(500);
        })
        .await;
    let src = source(&server);
    let opts = FetchOptions {
        backoff: Duration::from_millis(800),
        ..quick()
    };
    let task = tokio::spawn(async move { fetch(&src, &opts).await });
    // Wait for the first (failing) attempt, then let the server recover during backoff.
    for _ in 0..100 {
        if failing.calls_async().await >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    failing.assert_calls_async(1).await;
    failing.delete_async().await;
    let ok = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/cert/list.txt")
                .query_param("token", TOKEN);
            then.status(200).body(LIST);
        })
        .await;
    let f = task.await.unwrap().unwrap();
    ok.assert_calls_async(1).await;
    assert_eq!(f.attempts, 2);
    assert_eq!(f.body, LIST.as_bytes());
}

#[tokio::test]
async fn persistent_5xx_gives_up_after_the_bounded_retries() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/cert/list.txt")
                .query_param("token", TOKEN);
            then.status(503);
        })
        .await;
    let err = fetch(&source(&server), &quick()).await.unwrap_err();
    m.assert_calls_async(3).await; // 1 + 2 retries
    assert!(
        matches!(
            err,
            FetchError::Status {
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn slow_server_hits_the_timeout_and_the_error_hides_the_token() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/cert/list.txt")
                .query_param("token", TOKEN);
            then.status(200)
                .body(LIST)
                .delay(Duration::from_millis(1500));
        })
        .await;
    let opts = FetchOptions {
        timeout: Duration::from_millis(300),
        retries: 1,
        ..quick()
    };
    let err = fetch(&source(&server), &opts).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    m.assert_calls_async(2).await;
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let server = MockServer::start_async().await;
    let big = "1.2.3.4\n".repeat(1000);
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/cert/list.txt")
                .query_param("token", TOKEN);
            then.status(200).body(big.clone());
        })
        .await;
    let opts = FetchOptions {
        max_bytes: 4096,
        ..quick()
    };
    let err = fetch(&source(&server), &opts).await.unwrap_err();
    m.assert_calls_async(1).await;
    assert!(
        matches!(err, FetchError::TooLarge { limit: 4096, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn gzip_bomb_is_limited_after_decompression() {
    let server = MockServer::start_async().await;
    let bomb = gzip(&vec![b'\n'; 1 << 20]);
    assert!(bomb.len() < 4096);
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/cert/list.txt")
                .query_param("token", TOKEN);
            then.status(200)
                .header("content-encoding", "gzip")
                .body(bomb.clone());
        })
        .await;
    let opts = FetchOptions {
        max_bytes: 64 * 1024,
        ..quick()
    };
    let err = fetch(&source(&server), &opts).await.unwrap_err();
    m.assert_calls_async(1).await;
    assert!(matches!(err, FetchError::TooLarge { .. }), "{err:?}");
}

#[tokio::test]
async fn gzip_transfer_encoding_is_decoded() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/cert/list.txt")
                .query_param("token", TOKEN)
                .header("accept-encoding", "gzip");
            then.status(200)
                .header("content-encoding", "gzip")
                .body(gzip(LIST.as_bytes()));
        })
        .await;
    let f = fetch(&source(&server), &quick()).await.unwrap();
    m.assert_calls_async(1).await;
    assert_eq!(f.body, LIST.as_bytes());
}

#[tokio::test]
async fn gzip_file_served_as_octet_stream_is_decoded() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/list.txt.gz");
            then.status(200)
                .header("content-type", "application/octet-stream")
                .body(gzip(LIST.as_bytes()));
        })
        .await;
    let src: Source = server.url("/list.txt.gz").parse().unwrap();
    let f = fetch(&src, &quick()).await.unwrap();
    m.assert_calls_async(1).await;
    assert_eq!(f.body, LIST.as_bytes());
}

#[tokio::test]
async fn html_error_page_served_with_200_is_rejected_by_the_parser() {
    let server = MockServer::start_async().await;
    let page = "<!DOCTYPE html>\n<html><head><title>Session expired</title></head><body>Log in</body></html>\n";
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/cert/list.txt")
                .query_param("token", TOKEN);
            then.status(200)
                .header("content-type", "text/html")
                .body(page);
        })
        .await;
    let f = fetch(&source(&server), &quick()).await.unwrap();
    m.assert_calls_async(1).await;
    let err = ioc_fetch::parse_blocklist(&f.body, &ioc_fetch::ParseOptions::default()).unwrap_err();
    assert!(matches!(err, ioc_fetch::ParseError::Html { .. }), "{err:?}");
}

#[tokio::test]
async fn connection_refused_error_hides_query_and_credentials() {
    // Bind then drop a listener to get a closed loopback port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let src: Source = format!("http://noc:hunter2@127.0.0.1:{port}/list?token={TOKEN}")
        .parse()
        .unwrap();
    let err = fetch(
        &src,
        &FetchOptions {
            retries: 1,
            ..quick()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, FetchError::Network { attempts: 2, .. }),
        "{err:?}"
    );
    let shown = format!("{err} {err:?} {src} {src:?}");
    for secret in [TOKEN, "hunter2", "noc:"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
}

#[test]
fn unsupported_scheme_is_refused_without_echoing_the_url() {
    let err = format!("ftp://user:pw@host/list?token={TOKEN}")
        .parse::<Source>()
        .unwrap_err();
    assert!(!err.to_string().contains(TOKEN));
    assert!(!err.to_string().contains("pw"));
}

#[test]
fn missing_ca_file_is_a_clear_error() {
    let opts = FetchOptions {
        ca_file: Some("/nonexistent/ca.pem".into()),
        ..quick()
    };
    let err = ioc_fetch::http_client(&opts).unwrap_err();
    assert!(matches!(err, FetchError::CaFile { .. }), "{err:?}");
}

#[test]
fn ca_file_without_certificates_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, "not a certificate\n").unwrap();
    let opts = FetchOptions {
        ca_file: Some(path),
        ..quick()
    };
    let err = ioc_fetch::http_client(&opts).unwrap_err();
    assert!(matches!(err, FetchError::CaFile { .. }), "{err:?}");
}
