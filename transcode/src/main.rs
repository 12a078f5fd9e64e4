//! `lectern-transcode`: the transcode worker binary. All logic is in the library.

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;

/// Lectern's transcode worker.
///
/// It registers with the catalog, listens for capture boxes' live streams over SRT, encodes
/// each into an adaptive bitrate ladder (all rungs cut at the same instants) and writes HLS
/// segments and playlists to storage, reporting each segment to the catalog once stored.
///
/// Settings come from the TOML file given with --config, then from environment variables
/// prefixed LECTERN_TRANSCODE_ (e.g. LECTERN_TRANSCODE_TOKEN, LECTERN_TRANSCODE_SRT_LISTEN,
/// LECTERN_TRANSCODE_CATALOG_URL). Ctrl-C flushes the session in progress and stops.
#[derive(Parser)]
#[command(version, verbatim_doc_comment)]
struct Args {
    /// A TOML file with the worker's settings (see deploy/transcode.example.toml).
    #[arg(long, env = "LECTERN_TRANSCODE_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = lectern_transcode::Config::load(args.config.as_deref())?;
    lectern_transcode::run(config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the transcode worker stopped")
}
