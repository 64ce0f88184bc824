//! `iocflow run` end to end against Elasticsearch mocks (httpmock): one mock server is
//! the flow cluster (`--es`), the other the result cluster (`--store-es`). Every request
//! the run makes is expected exactly (method, path, query parameters, content type,
//! body) with its hit count, and a last catch-all mock must stay unhit, so a request
//! nobody expected fails the test instead of vanishing into a 404.
//!
//! The same flows, given as a JSON Lines file to the embedded store, must give the same
//! IoC summaries, RemoteIP summaries and IoC-view flows as the documents the cluster run
//! bulk-indexed.
//!
//! Wire contract: `shared/docs/elasticsearch-api.md`; index names and mappings:
//! `design.md` §7.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use assert_cmd::Command;
use chrono::NaiveDate;
use httpmock::prelude::*;
use httpmock::{HttpMockRequest, Mock};
use serde_json::{Value, json};

const DATE: &str = "2025-09-05";
/// 2025-09-05T00:00:00Z in epoch ms.
const DAY_START: i64 = 1_757_030_400_000;
/// The next midnight: the end of the day's `[gte, lt)` range.
const DAY_END: i64 = DAY_START + 86_400_000;

/// Which flow indices a run reads and where each IoC's flows live.
#[derive(Clone, Copy)]
struct Layout {
    /// `--flow-index`.
    pattern: &'static str,
    /// The pattern for the day.
    indices: &'static [&'static str],
    talker_index: &'static str,
    checkin_index: &'static str,
    /// Documents in ECS shape, read with `--fields ecs` (else IPFIX, the default).
    ecs: bool,
    /// `--sample-mode first` (else the default, random).
    first: bool,
    /// `[flows] batch_size`: IoCs per totals search and per `_msearch`.
    batch: usize,
}

/// Two backbones' indices, one IoC's flows in each.
const TWO_INDICES: Layout = Layout {
    pattern: "twaren-{date},tanet-{date}",
    indices: &["twaren-2025.09.05", "tanet-2025.09.05"],
    talker_index: "twaren-2025.09.05",
    checkin_index: "tanet-2025.09.05",
    ecs: false,
    first: false,
    batch: 500,
};

/// One index holding everything.
const ONE_INDEX: Layout = Layout {
    pattern: "tanet-{date}",
    indices: &["tanet-2025.09.05"],
    talker_index: "tanet-2025.09.05",
    checkin_index: "tanet-2025.09.05",
    ecs: false,
    first: false,
    batch: 500,
};

/// Filebeat-style ECS documents, first-flows sampling, two IoCs per batch.
const ECS_FIRST_BATCHED: Layout = Layout {
    pattern: "filebeat-{date}",
    indices: &["filebeat-2025.09.05"],
    talker_index: "filebeat-2025.09.05",
    checkin_index: "filebeat-2025.09.05",
    ecs: true,
    first: true,
    batch: 2,
};

/// An IoC talking to one RemoteIP, once in the very last millisecond of the day.
const IOC_TALKER: &str = "163.26.171.228";
/// An IoC checking in with three servers on 443, twice each.
const IOC_CHECKIN: &str = "140.117.60.23";
/// An IoC without a single flow: NoData.
const IOC_SILENT: &str = "61.219.11.153";
const REMOTE_TALKER: &str = "134.122.129.10";
const CHECKIN_SERVERS: [&str; 3] = ["45.77.12.1", "45.77.12.2", "45.77.12.3"];

/// The `iocflow` binary, built once for this test run. `iocflow-cli` is a bin-only
/// package, which cargo does not build for a dependent crate, so the binary is built
/// here (a no-op when it is up to date) rather than risking a stale one.
fn iocflow() -> Command {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let status = std::process::Command::new(cargo)
            .current_dir(&root)
            .args(["build", "--quiet", "-p", "iocflow-cli", "--bin", "iocflow"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the iocflow binary failed");
    });
    #[allow(deprecated)]
    Command::cargo_bin("iocflow").expect("iocflow binary")
}

/// One raw flow document in design.md §3 shape.
fn flow_doc(src: &str, dst: &str, sport: u16, dport: u16, start: i64, octets: u64) -> Value {
    let geo_tw = json!({"country_code": "TW", "city": "Tainan_City", "longitude": 120.214798,
        "latitude": 22.991699, "coordinates": [120.214798, 22.991699]});
    let geo_hk = json!({"country_code": "HK", "city": "Shatin", "longitude": 114.177902,
        "latitude": 22.3829, "coordinates": [114.177902, 22.3829]});
    let (sg, dg, sas, das) = if src.starts_with("163.") || src.starts_with("140.") {
        (geo_tw, geo_hk, 1659, 152_194)
    } else {
        (geo_hk, geo_tw, 152_194, 1659)
    };
    json!({"exporterIP": "192.192.68.33", "sourceIPAddress": src, "destinationIPAddress": dst,
        "sourceIPv4Address": src, "destinationIPv4Address": dst,
        "protocolIdentifier": 6, "sourceTransportPort": sport, "destinationTransportPort": dport,
        "tcpControlBits": 24, "octetDeltaCount": octets, "packetDeltaCount": octets / 50 + 1,
        "flowStartMilliseconds": start, "flowEndMilliseconds": start + 1200,
        "bgpSourceAsNumber": sas, "bgpDestinationAsNumber": das, "ipVersion": 4,
        "srcGeoip": sg, "dstGeoip": dg})
}

/// The same flow as Filebeat's netflow module writes it (ECS, ISO timestamps).
fn ecs_of(d: &Value) -> Value {
    let iso = |ms: &Value| {
        chrono::DateTime::from_timestamp_millis(ms.as_i64().unwrap())
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    json!({"@timestamp": iso(&d["flowStartMilliseconds"]),
        "event": {"kind": "event", "start": iso(&d["flowStartMilliseconds"]),
            "end": iso(&d["flowEndMilliseconds"])},
        "source": {"ip": d["sourceIPAddress"], "port": d["sourceTransportPort"],
            "bytes": d["octetDeltaCount"], "packets": d["packetDeltaCount"],
            "as": {"number": d["bgpSourceAsNumber"]}, "geo": d["srcGeoip"]},
        "destination": {"ip": d["destinationIPAddress"], "port": d["destinationTransportPort"],
            "as": {"number": d["bgpDestinationAsNumber"]}, "geo": d["dstGeoip"]},
        "network": {"iana_number": d["protocolIdentifier"], "transport": "tcp"},
        "netflow": {"tcp_control_bits": d["tcpControlBits"]},
        "observer": {"ip": d["exporterIP"]}})
}

/// The day's flows as Elasticsearch hits (`_index`, `_id`, `_source`), per IoC.
fn talker_hits(layout: Layout) -> Vec<Value> {
    let docs = [
        flow_doc(IOC_TALKER, REMOTE_TALKER, 13216, 45, 1_757_057_835_008, 52),
        flow_doc(
            REMOTE_TALKER,
            IOC_TALKER,
            45,
            13216,
            1_757_057_836_008,
            1500,
        ),
        // The last millisecond of the day belongs to the day.
        flow_doc(IOC_TALKER, REMOTE_TALKER, 13217, 45, DAY_END - 1, 80),
    ];
    hits(layout, layout.talker_index, &docs, 0)
}

fn checkin_hits(layout: Layout) -> Vec<Value> {
    let mut docs = Vec::new();
    for (i, server) in CHECKIN_SERVERS.iter().enumerate() {
        for round in 0..2i64 {
            let start = DAY_START + 3_600_000 * (1 + round * 6) + i as i64 * 60_000;
            docs.push(flow_doc(
                IOC_CHECKIN,
                server,
                50_000 + i as u16,
                443,
                start,
                620,
            ));
        }
    }
    hits(layout, layout.checkin_index, &docs, 10)
}

fn hits(layout: Layout, index: &str, docs: &[Value], first_id: usize) -> Vec<Value> {
    docs.iter()
        .map(|d| if layout.ecs { ecs_of(d) } else { d.clone() })
        .enumerate()
        .map(|(i, d)| {
            json!({"_index": index, "_id": format!("f{}", first_id + i), "_score": 1.0, "_source": d})
        })
        .collect()
}

/// Writes the blocklist and the flow file (the same hits, as JSON Lines) to `dir`.
fn write_inputs(dir: &Path, layout: Layout) -> (PathBuf, PathBuf) {
    let list = dir.join("blocklist.txt");
    std::fs::write(
        &list,
        format!("# test blocklist {DATE}\n{IOC_TALKER}\n{IOC_CHECKIN}\n{IOC_SILENT}\n"),
    )
    .unwrap();
    let flows = dir.join("flows.jsonl");
    let mut text = String::new();
    let all = talker_hits(layout).into_iter().chain(checkin_hits(layout));
    for h in all {
        text.push_str(&h.to_string());
        text.push('\n');
    }
    std::fs::write(&flows, text).unwrap();
    (list, flows)
}

/// A config with a short retry backoff and replicas restored to 1 after the load.
fn write_config(dir: &Path, layout: Layout) -> PathBuf {
    let path = dir.join("iocflow.toml");
    std::fs::write(
        &path,
        format!(
            "[flows]\nbatch_size = {}\n\n[store]\nreplicas = 1\n\n\
             [es.retry]\nmax_retries = 3\ninitial_backoff_ms = 20\nmax_backoff_ms = 100\n",
            layout.batch
        ),
    )
    .unwrap();
    path
}

/// The range filter of the day on the primary start field.
fn day_range(layout: Layout) -> Value {
    let field = if layout.ecs {
        "event.start"
    } else {
        "flowStartMilliseconds"
    };
    json!({"range": {field: {"gte": DAY_START, "lt": DAY_END, "format": "epoch_millis"}}})
}

const ADDRESS_FIELDS: [&str; 6] = [
    "sourceIPAddress",
    "sourceIPv4Address",
    "sourceIPv6Address",
    "destinationIPAddress",
    "destinationIPv4Address",
    "destinationIPv6Address",
];

/// `bool` with `should` over every address field of the IPFIX preset and
/// `minimum_should_match: 1` (without it a `filter` makes the `should` optional).
fn ioc_bool(layout: Layout, filter: Vec<Value>, ips: &[&str]) -> Value {
    let fields: &[&str] = if layout.ecs {
        &["source.ip", "destination.ip"]
    } else {
        &ADDRESS_FIELDS
    };
    let should: Vec<Value> = fields
        .iter()
        .map(|f| match ips {
            [one] => json!({"term": {*f: one}}),
            many => json!({"terms": {*f: many}}),
        })
        .collect();
    json!({"bool": {"filter": filter, "should": should, "minimum_should_match": 1}})
}

/// Blocklist order as the matcher keeps it (addresses ascending).
const IOCS_IN_ORDER: [&str; 3] = [IOC_SILENT, IOC_CHECKIN, IOC_TALKER];

/// Flows of each IoC on the day.
fn flows_of(ip: &str) -> u64 {
    match ip {
        IOC_CHECKIN => 6,
        IOC_TALKER => 3,
        _ => 0,
    }
}

/// The totals requests, one per batch of IoCs: `size: 0`, a named `filters`
/// aggregation per IoC; and the answer to each.
fn totals(layout: Layout) -> Vec<(Value, Value)> {
    IOCS_IN_ORDER
        .chunks(layout.batch)
        .map(|chunk| {
            let mut filters = serde_json::Map::new();
            let mut buckets = serde_json::Map::new();
            for (i, ip) in chunk.iter().enumerate() {
                filters.insert(format!("ioc_{i}"), ioc_bool(layout, vec![], &[ip]));
                buckets.insert(format!("ioc_{i}"), json!({"doc_count": flows_of(ip)}));
            }
            let body = json!({"size": 0, "track_total_hits": false,
                "query": ioc_bool(layout, vec![day_range(layout)], chunk),
                "aggs": {"per_ioc": {"filters": {"filters": filters}}}});
            let answer = search_response(vec![], Some(json!({"per_ioc": {"buckets": buckets}})));
            (body, answer)
        })
        .collect()
}

/// The sample search of one IoC in random mode: `random_score` seeded by the date
/// (`YYYYMMDD`, as the file source seeds it), so a re-run picks the same flows.
fn sample_item(layout: Layout, ip: &str, size: usize) -> [Value; 2] {
    let index = match layout.indices {
        [one] => json!(one),
        many => json!(many),
    };
    let query = ioc_bool(layout, vec![day_range(layout)], &[ip]);
    let body = if layout.first {
        let start = if layout.ecs {
            "event.start"
        } else {
            "flowStartMilliseconds"
        };
        json!({"size": size, "track_total_hits": false, "query": query, "sort": [{start: "asc"}]})
    } else {
        json!({"size": size, "track_total_hits": false,
            "query": {"function_score": {"query": query,
                "random_score": {"seed": 20_250_905u64, "field": "_seq_no"}, "boost_mode": "replace"}}})
    };
    [json!({"index": index, "ignore_unavailable": true}), body]
}

/// True when `body` is NDJSON whose lines (each ending in `\n`) parse to `expected`.
fn ndjson_is(body: &[u8], expected: &[Value]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    if !text.ends_with('\n') {
        return false;
    }
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect();
    lines == expected
}

fn search_response(hits: Vec<Value>, aggs: Option<Value>) -> Value {
    let mut r = json!({"took": 3, "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"max_score": null, "hits": hits}});
    if let Some(a) = aggs {
        r["aggregations"] = a;
    }
    r
}

/// Records every request that reaches it; must stay unhit.
struct CatchAll<'a> {
    mock: Mock<'a>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl CatchAll<'_> {
    fn new(server: &MockServer) -> CatchAll<'_> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let mock = server.mock(move |when, then| {
            when.is_true(move |req: &HttpMockRequest| {
                log.lock().unwrap().push(format!(
                    "{} {} {}",
                    req.method_str(),
                    req.uri_str(),
                    req.body_string()
                ));
                true
            });
            then.status(404)
                .json_body(json!({"error": {"type": "unexpected_request",
                "reason": "no mock expects this request"}, "status": 404}));
        });
        CatchAll { mock, seen }
    }

    fn assert_unhit(&self, what: &str) {
        let seen = self.seen.lock().unwrap();
        assert!(
            seen.is_empty(),
            "{what}: unexpected requests:\n{}",
            seen.join("\n")
        );
        self.mock.assert_calls(0);
    }
}

/// The flow cluster: one totals search and one `_msearch` for the two IoCs with flows.
struct FlowCluster<'a> {
    totals: Vec<Mock<'a>>,
    samples: Mock<'a>,
    rest: CatchAll<'a>,
}

fn flow_cluster(server: &MockServer, layout: Layout) -> FlowCluster<'_> {
    let totals = totals(layout)
        .into_iter()
        .map(|(body, answer)| {
            server.mock(|when, then| {
                when.method(POST)
                    // The index list goes into the path literally: `,` is not
                    // percent-encoded.
                    .path(format!("/{}/_search", layout.indices.join(",")))
                    .query_param("ignore_unavailable", "true")
                    .query_param_count(".*", ".*", 1)
                    .header("content-type", "application/json")
                    .json_body(body);
                then.status(200).json_body(answer);
            })
        })
        .collect();
    assert!(layout.batch >= 2, "the two sampled IoCs fit one _msearch");
    let expected: Vec<Value> = [
        sample_item(layout, IOC_CHECKIN, 6),
        sample_item(layout, IOC_TALKER, 3),
    ]
    .into_iter()
    .flatten()
    .collect();
    let samples = server.mock(move |when, then| {
        when.method(POST)
            .path("/_msearch")
            .query_param("max_concurrent_searches", "2")
            .query_param_count(".*", ".*", 1)
            .header("content-type", "application/x-ndjson")
            .is_true(move |req: &HttpMockRequest| ndjson_is(req.body().as_ref(), &expected));
        let mut a = search_response(checkin_hits(layout), None);
        a["status"] = json!(200);
        let mut b = search_response(talker_hits(layout), None);
        b["status"] = json!(200);
        then.status(200)
            .json_body(json!({"took": 5, "responses": [a, b]}));
    });
    let rest = CatchAll::new(server);
    FlowCluster {
        totals,
        samples,
        rest,
    }
}

fn geo_mapping() -> Value {
    json!({"properties": {"coordinates": {"type": "geo_point"}, "location": {"type": "geo_point"}}})
}

/// Index name and expected mapping of the four daily indices (design.md §7).
fn daily_indices() -> Vec<(String, Value)> {
    let day = json!({"type": "date", "format": "yyyy-MM-dd"});
    let ms = json!({"type": "date", "format": "epoch_millis"});
    let long = json!({"type": "long"});
    let ip = json!({"type": "ip"});
    let kw = json!({"type": "keyword"});
    vec![
        (
            "iocflow-flows-2025.09.05".into(),
            json!({"dynamic": false, "properties": {
                "IocIP": ip, "RemoteIP": ip, "Exporter": ip, "TotalFlows": long,
                "RcvPackets": long, "RcvOctets": long, "SendPackets": long, "SendOctets": long,
                "IocPort": long, "RemotePort": long, "Direction": kw, "TimeStamp": ms,
                "IocAsName": kw, "IocAsNumber": long, "RemoteAsName": kw, "RemoteAsNumber": long,
                "IocGeoip": geo_mapping(), "RemoteGeoip": geo_mapping(),
                "TcpControlBits": long, "Protocol": long, "IpVersion": long,
                "FromIndex": kw, "Date": day}}),
        ),
        (
            "iocflow-ioc-2025.09.05".into(),
            json!({"dynamic": false, "properties": {
                "Date": day, "IocIP": ip, "Class": kw, "Detail": kw,
                "Reasons": {"type": "object", "enabled": false},
                "TotalFlows": long, "SampledFlows": long, "RemoteIps": long,
                "SendFlows": long, "RcvFlows": long, "SendPackets": long, "SendOctets": long,
                "RcvPackets": long, "RcvOctets": long, "FirstSeen": ms, "LastSeen": ms}}),
        ),
        (
            "iocflow-remote-2025.09.05".into(),
            json!({"dynamic": false, "properties": {
                "Date": day, "RemoteIP": ip, "Watched": {"type": "boolean"},
                "Iocs": {"properties": {"IocIP": ip, "Class": kw, "Role": kw}},
                "Roles": kw, "Protocols": long, "SendFlows": long, "RcvFlows": long,
                "SendPackets": long, "SendOctets": long, "RcvPackets": long, "RcvOctets": long,
                "FirstSeen": ms, "LastSeen": ms}}),
        ),
        (
            "iocflow-watched-2025.09.05".into(),
            json!({"dynamic": false, "properties": {
                "sourceIPAddress": ip, "destinationIPAddress": ip,
                "destinationTransportPort": long, "protocolIdentifier": long,
                "flowStartMilliseconds": ms}}),
        ),
    ]
}

/// The 404 a delete gets for an index that does not exist (elasticsearch-api.md §6.1).
fn index_not_found(index: &str) -> Value {
    let cause = json!({"type": "index_not_found_exception",
        "reason": format!("no such index [{index}]"),
        "resource.type": "index_or_alias", "resource.id": index,
        "index_uuid": "_na_", "index": index});
    let mut error = cause.clone();
    error["root_cause"] = json!([cause]);
    json!({"error": error, "status": 404})
}

/// How the result cluster answers `_bulk`.
#[derive(Clone, Copy)]
enum BulkAnswer {
    /// 200, every item 201.
    Ok,
    /// The first request is rejected as a whole with 429, the resend succeeds.
    RejectFirst,
    /// The first request is answered 200 with `errors: true` and this one item
    /// rejected with 429; only that document is resent.
    RejectItem(usize),
}

struct StoreCluster<'a> {
    mocks: Vec<(String, Mock<'a>)>,
    bulk_bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    rest: CatchAll<'a>,
}

impl StoreCluster<'_> {
    fn assert_each_once(&self) {
        for (name, m) in &self.mocks {
            assert_eq!(m.calls(), 1, "result cluster request {name}");
        }
        self.rest.assert_unhit("result cluster");
    }
}

/// The result cluster: the watched-host scan (PIT), the four daily indices deleted and created with
/// mappings and load settings, one bulk, restore, one refresh each, and the run report.
fn store_cluster(
    server: &MockServer,
    layout: Layout,
    bulk_items: usize,
    answer: BulkAnswer,
    existing: bool,
) -> StoreCluster<'_> {
    let mut mocks = Vec::new();
    mocks.push((
        "GET /".to_owned(),
        server.mock(|when, then| {
            when.method(GET).path("/").query_param_count(".*", ".*", 0);
            then.status(200).json_body(json!({"name": "es-node-1", "cluster_name": "noc",
                "version": {"number": "8.15.1", "build_flavor": "default", "lucene_version": "9.11.1"},
                "tagline": "You Know, for Search"}));
        }),
    ));
    // Hosts watched in the 14 days before: a PIT over the RemoteIP summaries.
    mocks.push((
        "open PIT".into(),
        server.mock(|when, then| {
            when.method(POST)
                .path("/iocflow-remote-*/_pit")
                .query_param("keep_alive", "5m")
                .query_param("ignore_unavailable", "true")
                .query_param_count(".*", ".*", 2);
            then.status(200).json_body(json!({"id": "pit-remote-1"}));
        }),
    ));
    mocks.push((
        "PIT search".into(),
        server.mock(|when, then| {
            when.method(POST)
                .path("/_search")
                .query_param_count(".*", ".*", 0)
                .header("content-type", "application/json")
                .json_body(json!({"size": 1000, "track_total_hits": false,
                    "query": {"range": {"Date": {"gte": "2025-08-22", "lte": "2025-09-04", "format": "yyyy-MM-dd"}}},
                    "sort": [{"Date": "asc"}],
                    "pit": {"id": "pit-remote-1", "keep_alive": "5m"}}));
            then.status(200).json_body({
                let mut r = search_response(vec![], None);
                r["pit_id"] = json!("pit-remote-1");
                r
            });
        }),
    ));
    mocks.push((
        "close PIT".into(),
        server.mock(|when, then| {
            when.method(DELETE)
                .path("/_pit")
                .json_body(json!({"id": "pit-remote-1"}));
            then.status(200)
                .json_body(json!({"succeeded": true, "num_freed": 1}));
        }),
    ));
    for (index, mappings) in daily_indices() {
        // The day's indices are write-once: a run deletes them first (404 on a first
        // run, 200 on a re-run) and creates them anew.
        mocks.push((
            format!("delete {index}"),
            server.mock(|when, then| {
                when.method(DELETE)
                    .path(format!("/{index}"))
                    .query_param_count(".*", ".*", 0);
                if existing {
                    then.status(200).json_body(json!({"acknowledged": true}));
                } else {
                    then.status(404).json_body(index_not_found(&index));
                }
            }),
        ));
        mocks.push((
            format!("create {index}"),
            server.mock(|when, then| {
                when.method(PUT)
                    .path(format!("/{index}"))
                    .query_param_count(".*", ".*", 0)
                    .header("content-type", "application/json")
                    // Load settings at creation: no refresh, no replicas while loading.
                    .json_body(json!({"settings": {"index": {"refresh_interval": "-1", "number_of_replicas": 0}},
                        "mappings": mappings}));
                then.status(200).json_body(
                    json!({"acknowledged": true, "shards_acknowledged": true, "index": index}),
                );
            }),
        ));
        mocks.push((
            format!("restore {index}"),
            server.mock(|when, then| {
                when.method(PUT)
                    .path(format!("/{index}/_settings"))
                    .query_param_count(".*", ".*", 0)
                    .header("content-type", "application/json")
                    .json_body(
                        json!({"index": {"refresh_interval": null, "number_of_replicas": 1}}),
                    );
                then.status(200).json_body(json!({"acknowledged": true}));
            }),
        ));
        mocks.push((
            format!("refresh {index}"),
            server.mock(|when, then| {
                when.method(POST)
                    .path(format!("/{index}/_refresh"))
                    .query_param_count(".*", ".*", 0);
                then.status(200)
                    .json_body(json!({"_shards": {"total": 2, "successful": 1, "failed": 0}}));
            }),
        ));
    }
    let bulk_bodies = Arc::new(Mutex::new(Vec::new()));
    let items: Vec<Value> = (0..bulk_items)
        .map(|i| {
            json!({"index": {"_index": "x", "_id": i.to_string(), "_version": 1,
            "result": "created", "_seq_no": i, "_primary_term": 1, "status": 201}})
        })
        .collect();
    let bulk_matches = {
        let bodies = bulk_bodies.clone();
        move |when: httpmock::When| {
            let bodies = bodies.clone();
            when.method(POST)
                .path("/_bulk")
                .query_param_count(".*", ".*", 0)
                .header("content-type", "application/x-ndjson")
                .is_true(move |req: &HttpMockRequest| {
                    bodies.lock().unwrap().push(req.body().to_vec());
                    true
                });
        }
    };
    if let BulkAnswer::RejectItem(k) = answer {
        let mut first = items.clone();
        first[k] = json!({"index": {"_index": "x", "_id": k.to_string(), "status": 429,
            "error": {"type": "es_rejected_execution_exception",
                "reason": "rejected execution of processing of [119310915][indices:data/write/bulk[s][p]] on EsThreadPoolExecutor[name = node03/write, queue capacity = 200]"}}});
        let m = server.mock(|when, then| {
            bulk_matches(when);
            then.status(200)
                .json_body(json!({"took": 30, "errors": true, "items": first}));
        });
        m.up_to_n_times(1);
        mocks.push(("bulk with a 429 item".into(), m));
        let m = server.mock(|when, then| {
            bulk_matches(when);
            then.status(200)
                .json_body(json!({"took": 3, "errors": false, "items": [items[k].clone()]}));
        });
        mocks.push(("bulk resend".into(), m));
    }
    if let BulkAnswer::RejectFirst = answer {
        let m = server.mock(|when, then| {
            bulk_matches(when);
            then.status(429).json_body(
                json!({"error": {"root_cause": [{"type": "es_rejected_execution_exception",
                "reason": "rejected execution of coordinating operation"}],
                "type": "es_rejected_execution_exception",
                "reason": "rejected execution of coordinating operation"}, "status": 429}),
            );
        });
        m.up_to_n_times(1);
        mocks.push(("bulk 429".into(), m));
    }
    if !matches!(answer, BulkAnswer::RejectItem(_)) {
        mocks.push((
            "bulk".into(),
            server.mock(|when, then| {
                bulk_matches(when);
                then.status(200)
                    .json_body(json!({"took": 30, "errors": false, "items": items}));
            }),
        ));
    }
    mocks.push((
        "create iocflow-runs".into(),
        server.mock(|when, then| {
            when.method(PUT)
                .path("/iocflow-runs")
                .query_param_count(".*", ".*", 0)
                .json_body(json!({"mappings": {"dynamic": false, "properties": {
                    "date": {"type": "date", "format": "yyyy-MM-dd"}}}}));
            then.status(200).json_body(
                json!({"acknowledged": true, "shards_acknowledged": true, "index": "iocflow-runs"}),
            );
        }),
    ));
    mocks.push((
        "run report upsert".into(),
        server.mock(|when, then| {
            when.method(POST)
                .path(format!("/iocflow-runs/_update/{DATE}"))
                .query_param("retry_on_conflict", "3")
                .query_param_count(".*", ".*", 1)
                .header("content-type", "application/json")
                .is_true(move |req: &HttpMockRequest| {
                    let Ok(v) = serde_json::from_slice::<Value>(req.body().as_ref()) else {
                        return false;
                    };
                    v["doc_as_upsert"] == json!(true)
                        && v["doc"]["date"] == json!(DATE)
                        && v["doc"]["exit_code"] == json!(0)
                        && v["doc"]["input"]["inputs"] == json!(layout.indices)
                        && v.as_object().map(|o| o.len()) == Some(2)
                });
            then.status(201)
                .json_body(json!({"_index": "iocflow-runs", "_id": DATE,
                "_version": 1, "result": "created", "_seq_no": 0, "_primary_term": 1}));
        }),
    ));
    let rest = CatchAll::new(server);
    StoreCluster {
        mocks,
        bulk_bodies,
        rest,
    }
}

/// The documents of the bulk bodies, per index, in order: `(_id, document)`.
fn bulk_docs(body: &[u8]) -> Vec<(String, String, Value)> {
    let text = std::str::from_utf8(body).expect("bulk body is UTF-8");
    assert!(text.ends_with('\n'), "a bulk body ends in a newline");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() % 2, 0, "bulk lines come in pairs");
    lines
        .chunks(2)
        .map(|pair| {
            let action: Value = serde_json::from_str(pair[0]).unwrap();
            let meta = action
                .get("index")
                .unwrap_or_else(|| panic!("only `index` actions: {action}"));
            assert_eq!(
                meta.as_object().unwrap().len(),
                2,
                "action is _index + _id: {action}"
            );
            (
                meta["_index"].as_str().unwrap().to_owned(),
                meta["_id"].as_str().unwrap().to_owned(),
                serde_json::from_str(pair[1]).unwrap(),
            )
        })
        .collect()
}

fn sorted(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by_key(|x| x.to_string());
    v
}

/// What the embedded store holds after `run --flows FILE --data-dir DIR`.
struct Embedded {
    iocs: Vec<Value>,
    remotes: Vec<Value>,
    flows: Vec<Value>,
}

/// `--fields` and `--sample-mode` of a layout.
fn flavor_args(layout: Layout) -> Vec<&'static str> {
    let mut args = Vec::new();
    if layout.ecs {
        args.extend(["--fields", "ecs"]);
    }
    if layout.first {
        args.extend(["--sample-mode", "first"]);
    }
    args
}

fn embedded_run(dir: &Path, list: &Path, flows: &Path, layout: Layout) -> Embedded {
    let data = dir.join("embedded");
    iocflow()
        .current_dir(dir)
        .env_remove("IOCFLOW_ES_PASSWORD")
        .env_remove("IOCFLOW_ES_API_KEY")
        .env_remove("IOCFLOW_BLOCKLIST_URL")
        .args(["run", "--date", DATE, "--blocklist"])
        .arg(list)
        .args(flavor_args(layout))
        .arg("--flows")
        .arg(flows)
        .arg("--data-dir")
        .arg(&data)
        .assert()
        .code(0);
    let store = store::SqliteStore::open(&data).unwrap();
    let d = NaiveDate::parse_from_str(DATE, "%Y-%m-%d").unwrap();
    let to_values = |v: Vec<Value>| sorted(v);
    Embedded {
        iocs: to_values(
            store
                .ioc_summaries(d, d)
                .unwrap()
                .iter()
                .map(|s| serde_json::to_value(s).unwrap())
                .collect(),
        ),
        remotes: to_values(
            store
                .remote_summaries(d, d)
                .unwrap()
                .iter()
                .map(|s| serde_json::to_value(s).unwrap())
                .collect(),
        ),
        flows: to_values(
            store
                .ioc_flows_of_day(d)
                .unwrap()
                .iter()
                .map(|s| serde_json::to_value(s).unwrap())
                .collect(),
        ),
    }
}

/// `run --es --store-es` with the given bulk behaviour; returns the bulk bodies.
fn cluster_run(
    dir: &Path,
    list: &Path,
    layout: Layout,
    answer: BulkAnswer,
    bulk_items: usize,
    existing: bool,
) -> Vec<Vec<u8>> {
    let flows = MockServer::start();
    let results = MockServer::start();
    let fc = flow_cluster(&flows, layout);
    let sc = store_cluster(&results, layout, bulk_items, answer, existing);
    let out = iocflow()
        .current_dir(dir)
        .env_remove("IOCFLOW_ES_PASSWORD")
        .env_remove("IOCFLOW_ES_API_KEY")
        .env_remove("IOCFLOW_BLOCKLIST_URL")
        .arg("--config")
        .arg(write_config(dir, layout))
        .args(["run", "--date", DATE, "--es", &flows.base_url()])
        .args(flavor_args(layout))
        .args(["--flow-index", layout.pattern, "--blocklist"])
        .arg(list)
        .args(["--store-es", &results.base_url()])
        .output()
        .unwrap();
    let diag = format!(
        "stdout:\n{}\nstderr:\n{}\nflow cluster unexpected: {:?}\nresult cluster unexpected: {:?}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        fc.rest.seen.lock().unwrap(),
        sc.rest.seen.lock().unwrap(),
    );
    assert_eq!(out.status.code(), Some(0), "{diag}");
    for m in &fc.totals {
        m.assert_calls(1);
    }
    fc.samples.assert_calls(1);
    fc.rest.assert_unhit("flow cluster");
    sc.assert_each_once();
    sc.bulk_bodies.lock().unwrap().clone()
}

/// Expected bulk item count: 9 IoC-view flows, 3 IoC summaries, 4 RemoteIP summaries.
const BULK_ITEMS: usize = 9 + 3 + 4;

/// The cluster run of `layout` makes exactly the expected requests, and what it
/// bulk-indexes equals what the embedded store holds for the same flows from a file.
fn cluster_run_matches_embedded(layout: Layout) {
    let dir = tempfile::tempdir().unwrap();
    let (list, flows) = write_inputs(dir.path(), layout);
    let embedded = embedded_run(dir.path(), &list, &flows, layout);
    assert_eq!(embedded.iocs.len(), 3, "three IoCs, one of them NoData");
    assert_eq!(embedded.remotes.len(), 4);
    assert_eq!(
        embedded.flows.len(),
        9,
        "the flow in the last millisecond counts"
    );

    let bodies = cluster_run(dir.path(), &list, layout, BulkAnswer::Ok, BULK_ITEMS, false);
    assert_eq!(bodies.len(), 1);
    let docs = bulk_docs(&bodies[0]);
    assert_eq!(docs.len(), BULK_ITEMS);

    let of = |index: &str| -> Vec<(String, Value)> {
        docs.iter()
            .filter(|(i, _, _)| i == index)
            .map(|(_, id, d)| (id.clone(), d.clone()))
            .collect()
    };
    let iocs = of("iocflow-ioc-2025.09.05");
    let remotes = of("iocflow-remote-2025.09.05");
    let flows = of("iocflow-flows-2025.09.05");
    assert_eq!(iocs.len() + remotes.len() + flows.len(), docs.len());

    // Deterministic ids: the address for summaries, address + sequence for flows.
    for (id, d) in &iocs {
        assert_eq!(d["IocIP"].as_str(), Some(id.as_str()));
    }
    for (id, d) in &remotes {
        assert_eq!(d["RemoteIP"].as_str(), Some(id.as_str()));
    }
    let mut flow_ids: Vec<&str> = flows.iter().map(|(id, _)| id.as_str()).collect();
    flow_ids.sort_unstable();
    flow_ids.dedup();
    assert_eq!(flow_ids.len(), flows.len(), "flow ids are unique");
    for (id, d) in &flows {
        let ioc = d["IocIP"].as_str().unwrap();
        assert!(id.starts_with(&format!("{ioc}-")), "flow id {id} of {ioc}");
    }

    let values = |v: Vec<(String, Value)>| sorted(v.into_iter().map(|(_, d)| d).collect());
    assert_eq!(values(iocs), embedded.iocs, "IoC summaries");
    assert_eq!(values(remotes), embedded.remotes, "RemoteIP summaries");
    assert_eq!(values(flows), embedded.flows, "IoC-view flows");
}

#[test]
fn cluster_run_sends_exactly_the_documented_requests_and_matches_the_embedded_store() {
    cluster_run_matches_embedded(TWO_INDICES);
}

#[test]
fn ecs_documents_first_sampling_and_small_batches_reach_the_cluster_as_configured() {
    cluster_run_matches_embedded(ECS_FIRST_BATCHED);
}

#[test]
fn bulk_rejected_with_429_is_resent_and_the_run_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let (list, _) = write_inputs(dir.path(), ONE_INDEX);
    let bodies = cluster_run(
        dir.path(),
        &list,
        ONE_INDEX,
        BulkAnswer::RejectFirst,
        BULK_ITEMS,
        false,
    );
    assert_eq!(bodies.len(), 2, "one rejected bulk, one resend");
    assert_eq!(
        bodies[0], bodies[1],
        "the resend carries the same documents with the same ids"
    );
    assert_eq!(bulk_docs(&bodies[1]).len(), BULK_ITEMS);
}

#[test]
fn bulk_item_rejected_with_429_is_resent_alone_and_the_run_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let (list, _) = write_inputs(dir.path(), ONE_INDEX);
    let k = 4;
    let bodies = cluster_run(
        dir.path(),
        &list,
        ONE_INDEX,
        BulkAnswer::RejectItem(k),
        BULK_ITEMS,
        false,
    );
    assert_eq!(bodies.len(), 2, "one bulk, one resend of the rejected item");
    let first = bulk_docs(&bodies[0]);
    let resend = bulk_docs(&bodies[1]);
    assert_eq!(first.len(), BULK_ITEMS);
    assert_eq!(
        resend,
        vec![first[k].clone()],
        "only the 429 item, same _id"
    );
    // Nothing was dead-lettered: the run was complete.
    assert!(!dir.path().join("iocflow-data/dead-letters").exists());
}

/// `terms` lists sorted, so a query matches whatever order the caller listed a set in.
fn terms_sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let x = match (k.as_str(), x) {
                        ("terms", Value::Object(t)) => Value::Object(
                            t.iter()
                                .map(|(f, list)| {
                                    let mut l = list.as_array().cloned().unwrap_or_default();
                                    l.sort_by_key(|e| e.to_string());
                                    (f.clone(), Value::Array(l))
                                })
                                .collect(),
                        ),
                        _ => terms_sorted(x),
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(terms_sorted).collect()),
        other => other.clone(),
    }
}

/// A PIT scan of the result cluster: open on `path_index`, one page, close.
fn pit_scan<'a>(
    server: &'a MockServer,
    mocks: &mut Vec<(String, Mock<'a>, usize)>,
    path_index: &str,
    pit: &str,
    searches: Vec<(Value, Value, Vec<Value>)>,
) {
    let n = searches.len();
    let pit_owned = pit.to_owned();
    mocks.push((
        format!("open PIT {path_index}"),
        server.mock(|when, then| {
            when.method(POST)
                .path(format!("/{path_index}/_pit"))
                .query_param("keep_alive", "5m")
                .query_param("ignore_unavailable", "true")
                .query_param_count(".*", ".*", 2);
            then.status(200).json_body(json!({"id": pit_owned}));
        }),
        n,
    ));
    for (query, sort, hits) in searches {
        let expected = terms_sorted(&json!({"size": 1000, "track_total_hits": false,
            "query": query, "sort": sort, "pit": {"id": pit, "keep_alive": "5m"}}));
        let mut answer = search_response(hits, None);
        answer["pit_id"] = json!(pit);
        mocks.push((
            format!("PIT search {pit} {query}"),
            server.mock(move |when, then| {
                when.method(POST)
                    .path("/_search")
                    .query_param_count(".*", ".*", 0)
                    .header("content-type", "application/json")
                    .is_true(move |req: &HttpMockRequest| {
                        serde_json::from_slice::<Value>(req.body().as_ref())
                            .is_ok_and(|v| terms_sorted(&v) == expected)
                    });
                then.status(200).json_body(answer);
            }),
            1,
        ));
    }
    mocks.push((
        format!("close PIT {pit}"),
        server.mock(|when, then| {
            when.method(DELETE)
                .path("/_pit")
                .json_body(json!({"id": pit}));
            then.status(200)
                .json_body(json!({"succeeded": true, "num_freed": 1}));
        }),
        n,
    ));
}

fn date_range(from: &str, to: &str) -> Value {
    json!({"range": {"Date": {"gte": from, "lte": to, "format": "yyyy-MM-dd"}}})
}

/// Creation of a single (non-daily) index and its refresh.
fn single_index<'a>(
    server: &'a MockServer,
    mocks: &mut Vec<(String, Mock<'a>, usize)>,
    index: &str,
    mappings: Value,
    replaced: bool,
) {
    if replaced {
        // A collection recomputed whole by every analysis is dropped first.
        mocks.push((
            format!("delete {index}"),
            server.mock(|when, then| {
                when.method(DELETE)
                    .path(format!("/{index}"))
                    .query_param_count(".*", ".*", 0);
                then.status(404).json_body(index_not_found(index));
            }),
            1,
        ));
    }
    mocks.push((
        format!("create {index}"),
        server.mock(|when, then| {
            when.method(PUT)
                .path(format!("/{index}"))
                .query_param_count(".*", ".*", 0)
                .header("content-type", "application/json")
                .json_body(json!({"mappings": mappings}));
            then.status(200).json_body(
                json!({"acknowledged": true, "shards_acknowledged": true, "index": index}),
            );
        }),
        1,
    ));
    mocks.push((
        format!("refresh {index}"),
        server.mock(|when, then| {
            when.method(POST)
                .path(format!("/{index}/_refresh"))
                .query_param_count(".*", ".*", 0);
            then.status(200)
                .json_body(json!({"_shards": {"total": 2, "successful": 1, "failed": 0}}));
        }),
        1,
    ));
}

#[test]
fn analyze_on_the_cluster_upserts_the_embedded_stores_verdicts_by_ip() {
    let dir = tempfile::tempdir().unwrap();
    let (list, flows) = write_inputs(dir.path(), TWO_INDICES);
    embedded_run(dir.path(), &list, &flows, TWO_INDICES);
    let data = dir.path().join("embedded");
    iocflow()
        .current_dir(dir.path())
        .args(["analyze", "--until", DATE, "--data-dir"])
        .arg(&data)
        .assert()
        .code(0);
    let embedded_verdicts: Vec<Value> = store::SqliteStore::open(&data)
        .unwrap()
        .verdicts(None)
        .unwrap()
        .into_iter()
        .map(|r| r.doc)
        .collect();
    assert_eq!(embedded_verdicts.len(), 2, "the two IoCs with flows");

    // The day as the cluster run indexed it.
    let bodies = cluster_run(
        dir.path(),
        &list,
        TWO_INDICES,
        BulkAnswer::Ok,
        BULK_ITEMS,
        false,
    );
    let docs = bulk_docs(&bodies[0]);
    let hits_of = |index: &str| -> Vec<Value> {
        docs.iter()
            .filter(|(i, _, _)| i == index)
            .map(|(i, id, d)| json!({"_index": i, "_id": id, "_score": null, "_source": d}))
            .collect()
    };
    let ioc_hits = hits_of("iocflow-ioc-2025.09.05");
    let remote_hits = hits_of("iocflow-remote-2025.09.05");
    let flow_hits = hits_of("iocflow-flows-2025.09.05");

    let server = MockServer::start();
    let mut mocks: Vec<(String, Mock<'_>, usize)> = Vec::new();
    mocks.push((
        "GET /".into(),
        server.mock(|when, then| {
            when.method(GET).path("/");
            then.status(200)
                .json_body(json!({"name": "es-node-1", "cluster_name": "noc",
                "version": {"number": "8.15.1", "build_flavor": "default"},
                "tagline": "You Know, for Search"}));
        }),
        1,
    ));
    // Days with data: one composite aggregation on `Date`, paged until a page is empty.
    let days_agg = |after: Option<Value>| {
        let mut composite =
            json!({"size": 1000, "sources": [{"key": {"terms": {"field": "Date"}}}]});
        if let Some(a) = after {
            composite["after"] = a;
        }
        json!({"size": 0, "aggs": {"per_key": {"composite": composite}}})
    };
    let day_ms = json!(1_757_030_400_000_i64); // 2025-09-05T00:00:00Z
    for (name, body, answer) in [
        (
            "days, first page",
            days_agg(None),
            json!({"buckets": [{"key": {"key": day_ms}, "doc_count": 3}], "after_key": {"key": day_ms}}),
        ),
        (
            "days, last page",
            days_agg(Some(json!({"key": day_ms}))),
            json!({"buckets": []}),
        ),
    ] {
        mocks.push((
            name.into(),
            server.mock(|when, then| {
                when.method(POST)
                    .path("/iocflow-ioc-*/_search")
                    .query_param("ignore_unavailable", "true")
                    .query_param_count(".*", ".*", 1)
                    .json_body(body);
                then.status(200).json_body(json!({"took": 2, "timed_out": false,
                    "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                    "hits": {"total": {"value": 3, "relation": "eq"}, "max_score": null, "hits": []},
                    "aggregations": {"per_key": answer}}));
            }),
            1,
        ));
    }
    // Then the 30-day window (RemoteIPs from 36 days back for the ranking and relay
    // migration), then the IoC-view flows of the selected RemoteIPs.
    pit_scan(
        &server,
        &mut mocks,
        "iocflow-ioc-*",
        "pit-ioc",
        vec![(
            date_range("2025-08-07", DATE),
            json!([{"Date": "asc"}]),
            ioc_hits,
        )],
    );
    pit_scan(
        &server,
        &mut mocks,
        "iocflow-remote-*",
        "pit-remote",
        vec![(
            date_range("2025-07-31", DATE),
            json!([{"Date": "asc"}]),
            remote_hits,
        )],
    );
    let mut remotes: Vec<&str> = CHECKIN_SERVERS.to_vec();
    remotes.push(REMOTE_TALKER);
    pit_scan(
        &server,
        &mut mocks,
        "iocflow-flows-*",
        "pit-flows",
        vec![(
            json!({"bool": {"filter": [{"terms": {"RemoteIP": remotes}}, date_range("2025-08-07", DATE)]}}),
            json!([{"TimeStamp": "asc"}]),
            flow_hits,
        )],
    );
    pit_scan(
        &server,
        &mut mocks,
        "iocflow-families",
        "pit-families",
        vec![(json!({"match_all": {}}), json!([{"_doc": "asc"}]), vec![])],
    );
    pit_scan(
        &server,
        &mut mocks,
        "iocflow-verdicts",
        "pit-verdicts",
        vec![(
            // Earlier verdicts of every analysed RemoteIP and IoC.
            json!({"terms": {"ip": [CHECKIN_SERVERS[0], CHECKIN_SERVERS[1], CHECKIN_SERVERS[2],
                REMOTE_TALKER, IOC_CHECKIN, IOC_TALKER]}}),
            json!([{"ip": "asc"}]),
            vec![],
        )],
    );
    let verdicts_mapping = json!({"dynamic": false, "properties": {
        "ip": {"type": "ip"}, "subject": {"type": "keyword"}, "score": {"type": "double"},
        "level": {"type": "keyword"}, "labels": {"type": "keyword"},
        "first_seen": {"type": "date", "format": "yyyy-MM-dd"},
        "last_seen": {"type": "date", "format": "yyyy-MM-dd"},
        "days_seen": {"type": "long"}, "related": {"type": "ip"}, "family": {"type": "keyword"},
        "scored_at": {"type": "date", "format": "yyyy-MM-dd"},
        "label_dates": {"type": "object", "enabled": false},
        "evidence": {"type": "object", "enabled": false}}});
    single_index(
        &server,
        &mut mocks,
        "iocflow-verdicts",
        verdicts_mapping,
        false,
    );
    let empty = json!({"dynamic": false, "properties": {}});
    single_index(&server, &mut mocks, "iocflow-families", empty.clone(), true);
    single_index(&server, &mut mocks, "iocflow-relays", empty, true);
    let bulk_bodies = Arc::new(Mutex::new(Vec::new()));
    let log = bulk_bodies.clone();
    let items: Vec<Value> = (0..2)
        .map(|i| {
            json!({"index": {"_index": "iocflow-verdicts", "_id": i.to_string(),
            "result": "created", "status": 201}})
        })
        .collect();
    mocks.push((
        "verdict bulk".into(),
        server.mock(move |when, then| {
            when.method(POST)
                .path("/_bulk")
                .query_param_count(".*", ".*", 0)
                .header("content-type", "application/x-ndjson")
                .is_true(move |req: &HttpMockRequest| {
                    log.lock().unwrap().push(req.body().to_vec());
                    true
                });
            then.status(200)
                .json_body(json!({"took": 3, "errors": false, "items": items}));
        }),
        1,
    ));
    let rest = CatchAll::new(&server);

    let out = iocflow()
        .current_dir(dir.path())
        .env_remove("IOCFLOW_ES_PASSWORD")
        .env_remove("IOCFLOW_ES_API_KEY")
        .arg("--config")
        .arg(write_config(dir.path(), TWO_INDICES))
        .args(["analyze", "--until", DATE, "--store-es", &server.base_url()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr:\n{}\nunexpected: {:?}",
        String::from_utf8_lossy(&out.stderr),
        rest.seen.lock().unwrap()
    );
    for (name, m, n) in &mocks {
        assert_eq!(m.calls(), *n, "analyze request {name}");
    }
    rest.assert_unhit("analyze");

    let bodies = bulk_bodies.lock().unwrap();
    let verdicts = bulk_docs(&bodies[0]);
    for (index, id, doc) in &verdicts {
        assert_eq!(index, "iocflow-verdicts");
        assert_eq!(
            doc["ip"].as_str(),
            Some(id.as_str()),
            "verdict _id is its IP"
        );
    }
    assert_eq!(
        sorted(verdicts.into_iter().map(|(_, _, d)| d).collect()),
        sorted(embedded_verdicts),
        "the cluster gets the verdicts the embedded store holds"
    );
}

#[test]
fn rerun_replaces_the_daily_indices_and_indexes_the_same_documents_under_the_same_ids() {
    let dir = tempfile::tempdir().unwrap();
    let (list, _) = write_inputs(dir.path(), ONE_INDEX);
    let first = cluster_run(
        dir.path(),
        &list,
        ONE_INDEX,
        BulkAnswer::Ok,
        BULK_ITEMS,
        false,
    );
    let again = cluster_run(
        dir.path(),
        &list,
        ONE_INDEX,
        BulkAnswer::Ok,
        BULK_ITEMS,
        true,
    );
    assert_eq!(
        first, again,
        "a re-run indexes the same documents under the same _ids, so it overwrites"
    );
}
