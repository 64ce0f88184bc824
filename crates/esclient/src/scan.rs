//! Deep pagination as a stream of pages: point in time + `search_after`, or scroll.

use crate::client::{Body, Client, PitApi, Product, decode, to_json};
use crate::error::{Error, Result};
use crate::search::{Hit, PitRef, SearchBody, SearchResponse, search_path};
use futures::stream::{self, Stream};
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// How [`Client::scan`] pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScanMode {
    /// PIT where the server has it (ES ≥ 7.10; OS ≥ 2.4 only with
    /// [`ScanOptions::unique_sort`], since OpenSearch < 3.3 has no `_shard_doc`
    /// tiebreaker), else scroll.
    #[default]
    Auto,
    /// PIT or fail.
    Pit,
    /// Scroll (works everywhere).
    Scroll,
}

/// Options of [`Client::scan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanOptions {
    /// Hits per page (default 1,000; at most `index.max_result_window`, 10,000).
    pub page_size: usize,
    /// `keep_alive` / `scroll` time (default `"5m"`).
    pub keep_alive: String,
    /// Skip missing indices (sent when opening the PIT or starting the scroll; never
    /// with a PIT search, where ES rejects it).
    pub ignore_unavailable: bool,
    /// Paging method.
    pub mode: ScanMode,
    /// The caller's sort ends in a field unique per document, so OpenSearch PIT
    /// paging cannot skip or repeat hits.
    pub unique_sort: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            page_size: 1000,
            keep_alive: "5m".into(),
            ignore_unavailable: false,
            mode: ScanMode::Auto,
            unique_sort: false,
        }
    }
}

#[derive(Clone, Debug)]
enum Ctx {
    Pit(PitApi, String),
    Scroll(String),
}

/// Releases an open PIT or scroll: explicitly at the end of the stream or on error,
/// and from `Drop` (on a spawned task) when the consumer stops early.
struct Release {
    client: Client,
    ctx: Option<Ctx>,
}

impl Release {
    async fn release(&mut self) {
        if let Some(ctx) = self.ctx.take() {
            close(&self.client, ctx).await;
        }
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        if let Some(ctx) = self.ctx.take()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            let client = self.client.clone();
            handle.spawn(async move { close(&client, ctx).await });
        }
    }
}

async fn close(client: &Client, ctx: Ctx) {
    let (path, body) = match &ctx {
        Ctx::Pit(PitApi::Elasticsearch, id) => ("/_pit", json!({ "id": id })),
        Ctx::Pit(PitApi::OpenSearch, id) => ("/_search/point_in_time", json!({ "pit_id": [id] })),
        Ctx::Scroll(id) => ("/_search/scroll", json!({ "scroll_id": [id] })),
    };
    if let Err(e) = client
        .send_accepting(
            Method::DELETE,
            path,
            &[],
            Body::Json(to_json(&body)),
            &[404],
        )
        .await
    {
        tracing::warn!(error = %e, %path, "could not release search context; it expires by itself");
    }
}

enum Phase {
    Start,
    Pit {
        api: PitApi,
        after: Option<Vec<Value>>,
    },
    Scroll {
        started: bool,
    },
    Done,
}

struct State {
    indices: Vec<String>,
    body: SearchBody,
    opts: ScanOptions,
    phase: Phase,
    guard: Release,
}

impl Client {
    /// Page through every hit of a search as a stream of pages (`Vec<Hit<T>>`).
    ///
    /// Uses PIT + `search_after` or scroll as [`ScanOptions::mode`] says; the PIT or
    /// scroll is released when the stream ends, when a page fails (the error is the
    /// last item), and when the stream is dropped early.
    pub fn scan<T: DeserializeOwned + Send + 'static>(
        &self,
        indices: Vec<String>,
        body: SearchBody,
        opts: ScanOptions,
    ) -> impl Stream<Item = Result<Vec<Hit<T>>>> + Send + 'static {
        let state = State {
            indices,
            body,
            opts,
            phase: Phase::Start,
            guard: Release {
                client: self.clone(),
                ctx: None,
            },
        };
        stream::unfold(state, |mut st| async move {
            if matches!(st.phase, Phase::Done) {
                return None;
            }
            match step::<T>(&mut st).await {
                Ok(Some(page)) => Some((Ok(page), st)),
                Ok(None) => {
                    st.guard.release().await;
                    None
                }
                Err(e) => {
                    st.guard.release().await;
                    st.phase = Phase::Done;
                    Some((Err(e), st))
                }
            }
        })
    }
}

async fn open_pit(client: &Client, st: &State, api: PitApi) -> Result<String> {
    let mut query = vec![("keep_alive", st.opts.keep_alive.clone())];
    if st.opts.ignore_unavailable && api == PitApi::Elasticsearch {
        query.push(("ignore_unavailable", "true".into()));
    }
    let endpoint = match api {
        PitApi::Elasticsearch => "_pit",
        PitApi::OpenSearch => "_search/point_in_time",
    };
    let a = client
        .send(
            Method::POST,
            &search_path(&st.indices, endpoint),
            &query,
            Body::None,
        )
        .await?;
    #[derive(Deserialize)]
    struct Opened {
        id: Option<String>,
        pit_id: Option<String>,
    }
    let o: Opened = decode("open point in time", &a.body)?;
    o.id.or(o.pit_id).ok_or_else(|| Error::Protocol {
        context: "open point in time",
        detail: "no id in response".into(),
    })
}

/// One step: `Ok(Some(page))`, or `Ok(None)` at the end.
async fn step<T: DeserializeOwned>(st: &mut State) -> Result<Option<Vec<Hit<T>>>> {
    let client = st.guard.client.clone();
    if matches!(st.phase, Phase::Start) {
        if st.opts.page_size == 0 {
            return Err(Error::Config("scan page_size must be at least 1".into()));
        }
        let pit_api = match st.opts.mode {
            ScanMode::Scroll => None,
            mode => {
                let info = client.probe().await?;
                let api = info.pit_api();
                let usable = match api {
                    Some(PitApi::OpenSearch) => mode == ScanMode::Pit || st.opts.unique_sort,
                    Some(PitApi::Elasticsearch) => true,
                    None => false,
                };
                if mode == ScanMode::Pit && api.is_none() {
                    return Err(Error::Config(format!(
                        "{:?} {}.{} has no point-in-time API; use scroll",
                        info.product, info.version.0, info.version.1
                    )));
                }
                if st.body.sort.is_none() {
                    if info.product == Product::Elasticsearch && info.version >= (7, 12) {
                        st.body.sort = Some(vec![json!({"_shard_doc": "asc"})]);
                    } else if mode == ScanMode::Pit {
                        return Err(Error::Config(
                            "PIT paging on this server needs a sort ending in a unique field"
                                .into(),
                        ));
                    }
                }
                if usable && st.body.sort.is_some() {
                    api
                } else {
                    None
                }
            }
        };
        st.phase = Phase::Scroll { started: false };
        if let Some(api) = pit_api {
            match open_pit(&client, st, api).await {
                Ok(id) => {
                    st.guard.ctx = Some(Ctx::Pit(api, id));
                    st.phase = Phase::Pit { api, after: None };
                }
                Err(e)
                    if st.opts.mode == ScanMode::Auto
                        && client.server_info().is_some_and(|i| i.compat_mode)
                        && e.status().is_some_and(|s| (400..500).contains(&s)) =>
                {
                    tracing::info!(error = %e, "point in time unavailable; falling back to scroll");
                }
                Err(e) => return Err(e),
            }
        }
        if matches!(st.phase, Phase::Scroll { .. }) && st.body.sort.is_none() {
            st.body.sort = Some(vec![json!("_doc")]);
        }
    }
    match &mut st.phase {
        Phase::Pit { api, after } => {
            let api = *api;
            let Some(Ctx::Pit(_, id)) = &st.guard.ctx else {
                return Ok(None);
            };
            let mut body = st.body.clone();
            body.size = Some(st.opts.page_size);
            body.pit = Some(PitRef {
                id: id.clone(),
                keep_alive: st.opts.keep_alive.clone(),
            });
            body.search_after = after.clone();
            if body.track_total_hits.is_none() {
                body.track_total_hits = Some(json!(false));
            }
            let a = client
                .send(Method::POST, "/_search", &[], Body::Json(to_json(&body)))
                .await?;
            let resp: SearchResponse<T> = decode("_search (point in time)", &a.body)?;
            if let Some(new_id) = resp.pit_id.clone() {
                st.guard.ctx = Some(Ctx::Pit(api, new_id));
            }
            let hits = resp.hits.hits;
            let last_page = hits.len() < st.opts.page_size;
            match hits.last().and_then(|h| h.sort.clone()) {
                Some(sort) => *after = Some(sort),
                None if !last_page => {
                    return Err(Error::Protocol {
                        context: "_search (point in time)",
                        detail: "hit without sort values; cannot continue with search_after".into(),
                    });
                }
                None => {}
            }
            if last_page {
                st.phase = Phase::Done;
                st.guard.release().await;
                if hits.is_empty() {
                    return Ok(None);
                }
            }
            Ok(Some(hits))
        }
        Phase::Scroll { started } => {
            let a = if !*started {
                let mut query = vec![("scroll", st.opts.keep_alive.clone())];
                if st.opts.ignore_unavailable {
                    query.push(("ignore_unavailable", "true".into()));
                }
                let mut body = st.body.clone();
                body.size = Some(st.opts.page_size);
                client
                    .send(
                        Method::POST,
                        &search_path(&st.indices, "_search"),
                        &query,
                        Body::Json(to_json(&body)),
                    )
                    .await?
            } else {
                let Some(Ctx::Scroll(id)) = &st.guard.ctx else {
                    return Ok(None);
                };
                let body = json!({"scroll": st.opts.keep_alive, "scroll_id": id});
                client
                    .send(
                        Method::POST,
                        "/_search/scroll",
                        &[],
                        Body::Json(to_json(&body)),
                    )
                    .await?
            };
            *started = true;
            let resp: SearchResponse<T> = decode("_search (scroll)", &a.body)?;
            if let Some(id) = resp.scroll_id.clone() {
                st.guard.ctx = Some(Ctx::Scroll(id));
            }
            if resp.hits.hits.is_empty() {
                st.phase = Phase::Done;
                return Ok(None);
            }
            Ok(Some(resp.hits.hits))
        }
        Phase::Start | Phase::Done => Ok(None),
    }
}
