//! `lectern-catalog`: parses arguments, loads the configuration, sets up logging and runs
//! the catalog until Ctrl-C or SIGTERM, or runs one operator's command
//! (`lectern_catalog::cli`) and prints its answer.

use anyhow::Context;
use clap::Parser;
use lectern_catalog::cli::{self, Command};
use lectern_catalog::{run, Config};
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;

/// mimalloc, not the system's malloc: under load glibc's arenas serialise the many small
/// allocations of a request (hyper, axum, tokio) whenever threads free each other's memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Lectern's catalog: people, courses, lectures, capture boxes and workers, and the
/// playback authorisation for every byte of lecture media.
#[derive(Parser, Debug)]
#[command(
    name = "lectern-catalog",
    version,
    after_help = "Configuration: a TOML file (--config) overridden by environment variables \
prefixed LECTERN_CATALOG_, with __ between nested keys, e.g. LECTERN_CATALOG_LISTEN=127.0.0.1:0, \
LECTERN_CATALOG_MEDIA_KEY=<64 hex digits>, LECTERN_CATALOG_DEMO__SEED=true. Keys: listen, \
database_url, storage_dir, web_dir, media_key (required), media_key_id, [previous_media_keys], media_token_ttl_seconds, \
secure_cookies, metrics_token, public_origin, trusted_proxy, invitation_ttl_hours, [login_throttle] \
max_failures_per_account, max_failures_per_address, window_seconds, [demo] seed, agent_token, worker_token. Logging: RUST_LOG (default info)."
)]
struct Args {
    /// The TOML configuration file.
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Run one command against the configured database instead of serving.
    #[command(subcommand)]
    command: Option<Command>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // A command's logs go to stderr, so its answer alone is on stdout.
    let default_filter = if args.command.is_some() {
        "warn"
    } else {
        "info,sqlx=warn"
    };
    let logs = tracing_subscriber::fmt().with_env_filter(
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
    );
    if args.command.is_some() {
        logs.with_writer(std::io::stderr).init();
    } else {
        logs.init();
    }
    let config = Config::load(args.config.as_deref())?;
    if let Some(command) = args.command {
        println!("{}", cli::run(command, &config).await?);
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    run(config, listener, shutdown_signal()).await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
