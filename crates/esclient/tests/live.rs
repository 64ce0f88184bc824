//! Against a real cluster, only when `IOCFLOW_TEST_ES_URL` is set (e.g.
//! `http://127.0.0.1:9200`); otherwise it prints that it was skipped.

use esclient::{
    BulkDoc, BulkOptions, Client, ClientConfig, CreateOutcome, SearchBody, SearchOptions, VecSink,
};
use serde_json::json;

#[tokio::test]
async fn live_cluster_round_trip_create_bulk_refresh_search() {
    let Ok(url) = std::env::var("IOCFLOW_TEST_ES_URL") else {
        println!("skipped: IOCFLOW_TEST_ES_URL is not set");
        return;
    };
    let client = Client::new(ClientConfig::for_nodes([url])).unwrap();
    let info = client.probe().await.unwrap();
    println!("live server: {info:?}");
    let index = "iocflow-esclient-live-test";
    let created = client
        .create_index(
            index,
            &json!({"mappings": {"properties": {"IocIP": {"type": "ip"}}}}),
        )
        .await
        .unwrap();
    assert!(matches!(
        created,
        CreateOutcome::Created | CreateOutcome::AlreadyExists
    ));
    let docs = (0..10).map(|i| {
        BulkDoc::new(
            index,
            format!("d{i}"),
            &json!({"IocIP": format!("10.0.0.{i}")}),
        )
        .unwrap()
    });
    let mut sink = VecSink::default();
    let stats = client
        .bulk_index(docs, &mut sink, &BulkOptions::default())
        .await
        .unwrap();
    assert_eq!(stats.indexed, 10);
    client.refresh(index).await.unwrap();
    let body = SearchBody {
        size: Some(0),
        track_total_hits: Some(json!(true)),
        ..Default::default()
    };
    let r = client
        .search::<serde_json::Value>(&[index.to_string()], &body, &SearchOptions::default())
        .await
        .unwrap();
    assert_eq!(
        r.hits.total.map(|t| t.value),
        Some(10),
        "re-runs overwrite by _id"
    );
}
