//! Building and running the catalog: [`AppState::new`] connects, migrates and seeds;
//! [`app`] assembles the service (tests drive it with `tower::ServiceExt::oneshot`);
//! [`run`] serves it on a listener until `shutdown` resolves, with each connection's peer
//! address as `ConnectInfo<SocketAddr>` (tests driving [`app`] directly have none).

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{HeaderName, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::Router;
use lectern_packager::Storage;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::util::BoxCloneSyncService;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::attempt_sweeper::AttemptSweeper;
use crate::auth;
use crate::config::Config;
use crate::cross_site;
use crate::error::ApiError;
use crate::media::cache::PlaylistCache;
use crate::media_token::MediaSigner;
use crate::ops::{self, Metrics};
use crate::staging::Staging;
use crate::store::{DemoSeed, Store, StoreError};

/// The largest request body the catalog reads (reports and logins are small), but for raw
/// chunk uploads (`lectern_wire::chunks::MAX_CHUNK_BYTES`) and job completions
/// (`api::jobs::MAX_COMPLETION_BYTES`).
const BODY_LIMIT: usize = 1024 * 1024;

/// How often expired resumable uploads are swept away with their bytes.
const UPLOAD_SWEEP: std::time::Duration = std::time::Duration::from_secs(600);

/// How often the retention job deletes what institutes keep no longer (it deletes by the
/// day, so an hour late is never a day late).
const RETENTION_RUN: std::time::Duration = std::time::Duration::from_secs(3600);

/// How often the metrics' latency samples are folded into their histograms (what
/// `metrics-exporter-prometheus` does itself when it runs its own exporter).
const METRICS_UPKEEP: std::time::Duration = std::time::Duration::from_secs(5);

/// Why the catalog could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened, migrated or seeded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The storage settings do not open a storage.
    #[error(transparent)]
    Storage(#[from] crate::config::ConfigError),
    /// The listener failed.
    #[error("serving HTTP: {0}")]
    Serve(#[from] std::io::Error),
}

/// What every handler shares: the store, the media token signer, the storage and the config.
/// One `Arc`: the state is cloned for each request by every middleware layer, router level
/// and extractor that takes it, so a clone must be one counter, not one per field.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

/// The fields of [`AppState`], reached through it.
#[derive(Debug)]
pub struct Shared {
    pub(crate) store: Store,
    pub(crate) signer: MediaSigner,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) config: Config,
    pub(crate) metrics: Metrics,
    /// Rendered playlists (see `media::cache`).
    pub(crate) playlists: PlaylistCache,
    /// Where resumable uploads' bytes wait (see `staging`).
    pub(crate) staging: Staging,
    /// Deletes what jobs' unfinished attempts stored; stops with the state.
    _sweeper: AttemptSweeper,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Connects to `config.database_url`, migrates it and seeds the demo when asked.
    pub async fn new(config: Config) -> Result<AppState, StartupError> {
        let store = Store::connect(&config.database_url).await?;
        store.migrate().await?;
        store.follow_other_replicas();
        if config.demo.seed {
            let hash_password = || auth::hash_password(crate::store::DEMO_PASSWORD);
            let seed = DemoSeed {
                agent_token_hash: auth::token_hash(
                    config.demo.agent_token.as_deref().unwrap_or_default(),
                ),
                worker_token_hash: auth::token_hash(
                    config.demo.worker_token.as_deref().unwrap_or_default(),
                ),
                hash_password: &hash_password,
            };
            store.seed_demo(&seed).await?;
        }
        let storage = config
            .storage
            .open(&config.storage_dir)
            .map_err(crate::config::storage_error)?;
        let staging = Staging::open(&config.storage, &config.storage_dir)
            .map_err(crate::config::storage_error)?;
        let sweeper = AttemptSweeper::spawn(store.clone(), Arc::clone(&storage));
        Ok(AppState(Arc::new(Shared {
            signer: MediaSigner::new(
                config.media_key_id.clone(),
                config.media_key.clone(),
                config.previous_media_keys.clone(),
            ),
            storage,
            staging,
            config,
            metrics: Metrics::new(),
            playlists: PlaylistCache::new(Arc::clone(store.media_changes())),
            _sweeper: sweeper,
            store,
        })))
    }

    /// The store behind this catalog (for tests and tools that need it directly).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The configuration this catalog runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The signer of media tokens (e.g. for a test that mints an expired one).
    pub fn signer(&self) -> &MediaSigner {
        &self.signer
    }
}

/// The whole catalog as one service, as [`app`] builds it. Cloned per connection, not per
/// request.
pub type App = BoxCloneSyncService<Request, Response, Infallible>;

/// The whole catalog: `/api/v1`, `/media`, `/healthz`, `/readyz`, `/metrics` and the player's
/// static files at `/` (when `web_dir` exists), falling back to its `index.html` for client
/// routes.
///
/// Middleware that needs the matched route (metrics by route template) wraps each route, so
/// it is cloned with the route for every request; the rest wraps the router once.
pub fn app(state: AppState) -> App {
    let mut router = Router::new()
        .merge(crate::ops::router())
        .nest("/api/v1", crate::api::router())
        .merge(crate::media::router());
    let web = state
        .config
        .web_dir
        .as_ref()
        .filter(|dir| dir.is_dir())
        .map(|dir| ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html"))));
    router = router.fallback(move |request: Request| fallback(web.clone(), request));
    // Every route reads at most BODY_LIMIT, but the raw chunk upload, the CSV imports, a
    // job's completion (a segment index) and a course's file uploads (whole or resumable),
    // which have their own.
    let uploads = Router::new()
        .nest("/api/v1", crate::api::chunks::upload_router())
        .layer(RequestBodyLimitLayer::new(
            lectern_wire::chunks::MAX_CHUNK_BYTES,
        ))
        .merge(
            Router::new()
                .nest("/api/v1", crate::api::imports::router())
                .layer(RequestBodyLimitLayer::new(crate::import::MAX_CSV_BYTES)),
        )
        .merge(Router::new().nest("/api/v1", crate::api::jobs::complete_router()))
        .merge(
            Router::new()
                .nest("/api/v1", crate::api::uploads::router())
                .nest("/api/v1", crate::api::resumable::router())
                .layer(RequestBodyLimitLayer::new(upload_limit(&state.config))),
        );
    let routes = router
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .merge(uploads)
        // Inside the metrics, so its 403s are counted.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cross_site::refuse_cross_site,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), ops::track))
        .with_state(state);
    let service = ServiceBuilder::new()
        .map_response(|response: axum::http::Response<_>| response.map(Body::new))
        // Outermost: every log line of a request, and its answer, carry its id.
        .layer(SetRequestIdLayer::x_request_id(NewRequestId))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Media URLs carry tokens: never leak them to another origin in a Referer.
        .layer(SetResponseHeaderLayer::if_not_present(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        .layer(middleware::map_response(payload_too_large_as_api_error))
        .service(routes);
    BoxCloneSyncService::new(service)
}

/// What no route takes: below `/media` a plain 404, as every media refusal; elsewhere the
/// player's files (`web`, its `index.html` for client routes) when they are served, else the
/// API's 404.
async fn fallback(web: Option<ServeDir<ServeFile>>, request: Request) -> Response {
    if crate::media::is_media_path(request.uri().path()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(web) = web else {
        return ApiError::NotFound.into_response();
    };
    match web.oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(infallible) => match infallible {},
    }
}

/// Makes a request id, a random UUID, from the thread's generator: tower-http's
/// `MakeRequestUuid` asks the kernel each time (a system call per request), and an id is no
/// secret.
#[derive(Clone, Copy)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let mut text = uuid::Uuid::encode_buffer();
        HeaderValue::from_str(id.hyphenated().encode_lower(&mut text))
            .ok()
            .map(RequestId::new)
    }
}

/// The span every log line of a request is written in: its id (`x-request-id`, given by a
/// proxy or made here), method and path. Never the query: media URLs carry tokens there.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", id, method = %request.method(), path = %request.uri().path())
}

/// tower-http's body limit refuses a body whose `Content-Length` is over it with a plain-text
/// 413 before any handler runs; callers get the API's error body instead, as for every
/// other refusal. (A body that only turns out too long while it is read is refused by the
/// extractor reading it, which answers with the error body itself.)
/// `max_upload_bytes` plus room for the multipart framing and the title.
fn upload_limit(config: &Config) -> usize {
    usize::try_from(config.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024)
}

async fn payload_too_large_as_api_error(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        ApiError::PayloadTooLarge("the request body is over the limit".into()).into_response()
    } else {
        response
    }
}

/// Starts the catalog on `listener` and serves until `shutdown` resolves and every open
/// request has been answered. Tests bind `127.0.0.1:0` and pass their own shutdown.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    let state = AppState::new(config).await?;
    let store = state.store.clone();
    let metrics = state.metrics.clone();
    let upkeep = tokio::spawn(async move {
        let mut every = tokio::time::interval(METRICS_UPKEEP);
        loop {
            every.tick().await;
            metrics.run_upkeep();
        }
    });
    let sweeper = tokio::spawn({
        let state = state.clone();
        async move {
            let mut every = tokio::time::interval(UPLOAD_SWEEP);
            loop {
                every.tick().await;
                if let Err(e) = crate::api::resumable::sweep(&state, chrono::Utc::now()).await {
                    tracing::warn!(error = %e, "sweeping expired uploads failed; trying again later");
                }
            }
        }
    });
    let retention = tokio::spawn({
        let store = store.clone();
        async move {
            let mut every = tokio::time::interval(RETENTION_RUN);
            loop {
                every.tick().await;
                if let Err(e) = store.purge_expired(chrono::Utc::now()).await {
                    tracing::warn!(error = %e, "the retention job failed; it runs again in an hour");
                }
            }
        }
    });
    tracing::info!(address = %listener.local_addr()?, "catalog listening");
    // The peer's address reaches handlers as `ConnectInfo` (login throttling).
    let service = axum::ServiceExt::into_make_service_with_connect_info::<SocketAddr>(app(state));
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await?;
    upkeep.abort();
    sweeper.abort();
    retention.abort();
    store.close().await;
    tracing::info!("catalog stopped");
    Ok(())
}
