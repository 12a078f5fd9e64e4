//! `lectern-transcode`: the transcode worker binary. All logic is in the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use lectern_transcode::ladder::{Ladder, Rung, Streams};
use std::path::PathBuf;

/// Lectern's transcode worker.
///
/// It registers with the catalog, listens for capture boxes' live streams over SRT, encodes
/// each into an adaptive bitrate ladder (all rungs cut at the same instants) and writes HLS
/// segments and playlists to storage, reporting each segment to the catalog once stored.
/// Between and beside live sessions it takes on-demand jobs from the catalog's queue
/// (uploaded files; jobs = false turns that off), one at a time.
///
/// Settings come from the TOML file given with --config, then from environment variables
/// prefixed LECTERN_TRANSCODE_ (e.g. LECTERN_TRANSCODE_TOKEN, LECTERN_TRANSCODE_SRT_PORT_RANGE,
/// LECTERN_TRANSCODE_CATALOG_URL). Ctrl-C flushes the session in progress and stops; a job in
/// progress runs again on a worker after its lease.
///
/// Monitoring: with metrics_listen set (e.g. LECTERN_TRANSCODE_METRICS_LISTEN=127.0.0.1:9464)
/// the worker serves Prometheus text at /metrics there (live sessions, jobs running and how
/// they ended, the realtime factor of encodes, storage upload latency) and 200 ok at
/// /healthz. The job queue's depth is on the catalog's /metrics (lectern_jobs).
#[derive(Parser)]
#[command(version, verbatim_doc_comment)]
struct Args {
    /// A TOML file with the worker's settings (see deploy/transcode.example.toml).
    #[arg(long, env = "LECTERN_TRANSCODE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the worker (the default).
    Serve,
    /// Transcode a media file into an HLS ladder in a directory, without a catalog:
    /// <OUT>/lectures/<NAME>/v1/main/<rung>/index.m3u8 and its segments.
    File {
        /// Any file GStreamer decodes (MP4, MKV, TS, …).
        input: PathBuf,
        /// The directory to write into.
        #[arg(long)]
        out: PathBuf,
        /// The lecture's name in the output tree.
        #[arg(long, default_value = "file")]
        name: String,
        /// A rung as <name>=<width>x<height>@<kbps>; repeat for each. Default: the worker's ladder.
        #[arg(long = "rung", value_name = "RUNG")]
        rungs: Vec<Rung>,
        /// Frames per second of every rung.
        #[arg(long, default_value_t = 30)]
        frame_rate: u32,
        /// Segment length in seconds.
        #[arg(long, default_value_t = 2)]
        segment_seconds: u32,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match args.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let config = lectern_transcode::Config::load(args.config.as_deref())?;
            lectern_transcode::run(config, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("the transcode worker stopped")
        }
        Command::File {
            input,
            out,
            name,
            rungs,
            frame_rate,
            segment_seconds,
        } => {
            let rungs = if rungs.is_empty() {
                lectern_transcode::Config::default().ladder
            } else {
                rungs
            };
            let ladder = Ladder {
                rungs,
                frame_rate,
                segment_seconds,
                streams: Streams::BOTH,
            };
            gst::init().context("GStreamer did not initialise")?;
            let segments =
                lectern_transcode::file::transcode_to_directory(&input, &out, &name, &ladder)
                    .await?;
            println!(
                "{segments} segments written to {}",
                out.join("lectures").join(&name).display()
            );
            Ok(())
        }
    }
}
