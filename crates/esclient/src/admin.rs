//! Index lifecycle (create, load mode, restore, refresh, templates) and upserts.

use crate::client::{Body, Client, decode, encode_segment, to_json};
use crate::error::Result;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Outcome of [`Client::create_index`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateOutcome {
    /// The index was created.
    Created,
    /// It existed already (`resource_already_exists_exception`): not an error.
    AlreadyExists,
}

/// What a single-document update did (`result` of `_update`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateResult {
    /// The document was created (HTTP 201).
    Created,
    /// It was changed.
    Updated,
    /// Nothing changed.
    Noop,
    /// A script deleted it.
    Deleted,
}

/// Settings a load changed, so [`Client::restore_after_load`] can put them back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadMode {
    /// Index name.
    pub index: String,
    /// Replicas were set to 0.
    pub zero_replicas: bool,
    /// `translog.flush_threshold_size` was set to 512mb (ES 7 / ES ≤ 8.7 / OpenSearch only).
    pub translog_set: bool,
}

#[derive(Deserialize)]
struct UpdateResp {
    result: UpdateResult,
}

impl Client {
    /// `PUT /{index}` with `body` (`{"settings": …, "mappings": …}`, supplied by the
    /// caller). An index that already exists is [`CreateOutcome::AlreadyExists`].
    pub async fn create_index(&self, index: &str, body: &Value) -> Result<CreateOutcome> {
        match self
            .send(
                Method::PUT,
                &format!("/{index}"),
                &[],
                Body::Json(to_json(body)),
            )
            .await
        {
            Ok(_) => Ok(CreateOutcome::Created),
            Err(e) if e.error_type() == Some("resource_already_exists_exception") => {
                Ok(CreateOutcome::AlreadyExists)
            }
            Err(e) => Err(e),
        }
    }

    /// `DELETE /{index}`: `true` when it was deleted, `false` when there was none
    /// (`index_not_found_exception`). A re-run of a day replaces its write-once indices
    /// this way instead of leaving documents of the previous run behind.
    pub async fn delete_index(&self, index: &str) -> Result<bool> {
        match self
            .send(Method::DELETE, &format!("/{index}"), &[], Body::None)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_index_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `PUT /{index}/_settings` for a bulk load: `refresh_interval: -1`, optionally zero
    /// replicas, and `translog.flush_threshold_size: 512mb` only where that is the
    /// default anyway (ES ≥ 8.8 defaults to 10gb and is left alone). Probes the server.
    pub async fn set_load_mode(&self, index: &str, zero_replicas: bool) -> Result<LoadMode> {
        let info = self.probe().await?;
        let mut settings = Map::new();
        settings.insert("refresh_interval".into(), json!("-1"));
        if zero_replicas {
            settings.insert("number_of_replicas".into(), json!(0));
        }
        let translog_set = info.translog_512mb_is_default();
        if translog_set {
            settings.insert("translog.flush_threshold_size".into(), json!("512mb"));
        }
        self.put_settings(index, settings).await?;
        Ok(LoadMode {
            index: index.to_owned(),
            zero_replicas,
            translog_set,
        })
    }

    /// Undo [`Client::set_load_mode`]: `refresh_interval` (and the translog threshold,
    /// if it was set) back to their defaults with `null`, replicas to `replicas`.
    pub async fn restore_after_load(&self, mode: &LoadMode, replicas: u32) -> Result<()> {
        let mut settings = Map::new();
        settings.insert("refresh_interval".into(), Value::Null);
        if mode.zero_replicas {
            settings.insert("number_of_replicas".into(), json!(replicas));
        }
        if mode.translog_set {
            settings.insert("translog.flush_threshold_size".into(), Value::Null);
        }
        self.put_settings(&mode.index, settings).await
    }

    async fn put_settings(&self, index: &str, settings: Map<String, Value>) -> Result<()> {
        let body = json!({ "index": settings });
        self.send(
            Method::PUT,
            &format!("/{index}/_settings"),
            &[],
            Body::Json(to_json(&body)),
        )
        .await
        .map(|_| ())
    }

    /// `POST /{index}/_refresh`.
    pub async fn refresh(&self, index: &str) -> Result<()> {
        self.send(Method::POST, &format!("/{index}/_refresh"), &[], Body::None)
            .await
            .map(|_| ())
    }

    /// `PUT /_index_template/{name}` (composable template, ES ≥ 7.8 and OpenSearch).
    pub async fn put_index_template(&self, name: &str, body: &Value) -> Result<()> {
        self.send(
            Method::PUT,
            &format!("/_index_template/{}", encode_segment(name)),
            &[],
            Body::Json(to_json(body)),
        )
        .await
        .map(|_| ())
    }

    /// Partial update that creates the document when missing:
    /// `POST /{index}/_update/{id}?retry_on_conflict=N` with `{"doc", "doc_as_upsert": true}`.
    pub async fn upsert_doc(
        &self,
        index: &str,
        id: &str,
        doc: &Value,
        retry_on_conflict: u32,
    ) -> Result<UpdateResult> {
        self.update(
            index,
            id,
            &json!({"doc": doc, "doc_as_upsert": true}),
            retry_on_conflict,
        )
        .await
    }

    /// Scripted upsert: the painless `source` runs with `params` on the existing
    /// document, or on `upsert` when it is missing (`scripted_upsert: true`). Keep
    /// `source` constant and put all variable data in `params`.
    pub async fn scripted_upsert(
        &self,
        index: &str,
        id: &str,
        source: &str,
        params: &Value,
        upsert: &Value,
        retry_on_conflict: u32,
    ) -> Result<UpdateResult> {
        let body = json!({
            "scripted_upsert": true,
            "script": {"lang": "painless", "source": source, "params": params},
            "upsert": upsert,
        });
        self.update(index, id, &body, retry_on_conflict).await
    }

    async fn update(
        &self,
        index: &str,
        id: &str,
        body: &Value,
        retry_on_conflict: u32,
    ) -> Result<UpdateResult> {
        let a = self
            .send(
                Method::POST,
                &format!("/{index}/_update/{}", encode_segment(id)),
                &[("retry_on_conflict", retry_on_conflict.to_string())],
                Body::Json(to_json(body)),
            )
            .await?;
        let r: UpdateResp = decode("_update", &a.body)?;
        Ok(r.result)
    }
}
