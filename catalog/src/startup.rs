//! Building and running the catalog: [`AppState::new`] connects, migrates and seeds;
//! [`app`] assembles the router (tests drive it with `tower::ServiceExt::oneshot`);
//! [`run`] serves it on a listener until `shutdown` resolves, with each connection's peer
//! address as `ConnectInfo<SocketAddr>` (tests driving [`app`] directly have none).

use axum::http::header::{HeaderName, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::Router;
use lectern_packager::Storage;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth;
use crate::config::Config;
use crate::cross_site;
use crate::error::ApiError;
use crate::media_token::MediaSigner;
use crate::ops::{self, Metrics};
use crate::store::{DemoSeed, Store, StoreError};

/// The largest request body the catalog reads (reports and logins are small), but for raw
/// chunk uploads (`lectern_wire::chunks::MAX_CHUNK_BYTES`) and job completions
/// (`api::jobs::MAX_COMPLETION_BYTES`).
const BODY_LIMIT: usize = 1024 * 1024;

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
#[derive(Clone, Debug)]
pub struct AppState {
    pub(crate) store: Store,
    pub(crate) signer: MediaSigner,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) config: Arc<Config>,
    pub(crate) metrics: Metrics,
}

impl AppState {
    /// Connects to `config.database_url`, migrates it and seeds the demo when asked.
    pub async fn new(config: Config) -> Result<AppState, StartupError> {
        let store = Store::connect(&config.database_url).await?;
        store.migrate().await?;
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
        Ok(AppState {
            signer: MediaSigner::new(
                config.media_key_id.clone(),
                config.media_key.clone(),
                config.previous_media_keys.clone(),
            ),
            storage,
            config: Arc::new(config),
            metrics: Metrics::new(),
            store,
        })
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

/// The whole catalog as one router: `/api/v1`, `/media`, `/healthz`, `/readyz`, `/metrics` and the player's static
/// files at `/` (when `web_dir` exists), falling back to its `index.html` for client routes.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new()
        .merge(crate::ops::router())
        .nest("/api/v1", crate::api::router())
        .nest("/media", crate::media::router());
    router = match state.config.web_dir.as_ref().filter(|dir| dir.is_dir()) {
        Some(dir) => {
            let spa = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
            router.fallback_service(spa)
        }
        None => router.fallback(|| async { ApiError::NotFound }),
    };
    // Every route reads at most BODY_LIMIT, but the raw chunk upload, the CSV imports, a
    // job's completion (a segment index) and a course's file uploads, which have their own.
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
                .layer(RequestBodyLimitLayer::new(upload_limit(&state.config))),
        );
    router
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .merge(uploads)
        .layer(middleware::map_response(payload_too_large_as_api_error))
        // Innermost, so its 403s get the headers below, the metrics and the trace.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cross_site::refuse_cross_site,
        ))
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
        .layer(middleware::from_fn_with_state(state.clone(), ops::track))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::x_request_id())
        // Outermost: every log line of a request, and its answer, carry its id.
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
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
    tracing::info!(address = %listener.local_addr()?, "catalog listening");
    // The peer's address reaches handlers as `ConnectInfo` (login throttling).
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await?;
    store.close().await;
    tracing::info!("catalog stopped");
    Ok(())
}
