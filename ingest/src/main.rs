//! `lectern-ingest`: the capture daemon binary. All logic is in the library.

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// Lectern's capture daemon for classroom boxes.
///
/// It records the classroom's camera and microphone (here: GStreamer test sources with a
/// clock) to the local spool in short chunks first, then pushes the same stream live over SRT
/// to the transcode worker the catalog names. A network failure never stops the recording.
///
/// Settings come from the TOML file given with --config, then from environment variables
/// prefixed LECTERN_INGEST_ (e.g. LECTERN_INGEST_TOKEN, LECTERN_INGEST_CATALOG_URL,
/// LECTERN_INGEST_SPOOL_DIR). Ctrl-C stops the recording cleanly: every chunk is finalised.
#[derive(Parser)]
#[command(version, verbatim_doc_comment)]
struct Args {
    /// A TOML file with the box's settings (see deploy/ingest.example.toml).
    #[arg(long, env = "LECTERN_INGEST_CONFIG")]
    config: Option<PathBuf>,
    /// Stop the recording after this many seconds instead of waiting for Ctrl-C.
    #[arg(long, value_name = "SECONDS")]
    record_seconds: Option<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = lectern_ingest::Config::load(args.config.as_deref())?;
    let record_seconds = args.record_seconds;
    lectern_ingest::run(config, async move {
        match record_seconds {
            Some(seconds) => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(seconds)) => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    })
    .await
    .context("the capture daemon stopped")
}
