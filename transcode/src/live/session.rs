//! Runs one live session: listens on the session's own port for the capture box the catalog
//! assigned it, then packages its stream until it ends.

use super::pipeline;
use crate::catalog::CatalogClient;
use crate::config::Config;
use crate::error::WorkerError;
use crate::gst_util::bus_error;
use crate::ladder::{Ladder, Streams};
use crate::packaging::package;
use futures_util::StreamExt;
use gst::prelude::*;
use lectern_packager::{Packager, Storage};
use lectern_wire::worker::{LiveSession, StreamId};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

/// How a session ended.
#[derive(Debug)]
pub enum Outcome {
    /// The worker was asked to stop, or the catalog withdrew the session, before its
    /// capture box connected.
    Stopped,
    /// A lecture was received and packaged to its end.
    Finished { lecture: String, segments: u64 },
}

/// Runs `session` on its own port until its stream ends or `shutdown` resolves; `withdrawn`
/// (the catalog no longer lists it) stops it only while no caller has connected.
pub async fn run(
    config: &Config,
    session: &LiveSession,
    storage: Arc<dyn Storage>,
    catalog: CatalogClient,
    shutdown: impl Future<Output = ()>,
    withdrawn: impl Future<Output = ()>,
) -> Result<Outcome, WorkerError> {
    let ladder = Ladder {
        rungs: config.ladder.clone(),
        frame_rate: config.frame_rate,
        segment_seconds: config.segment_seconds,
        streams: Streams::BOTH,
    };
    let listen = SocketAddr::new(config.srt_bind, session.port);
    let mut live = pipeline::build(
        listen,
        &session.passphrase,
        session.stream_ids.clone(),
        &ladder,
        &config.thumbnails,
    )?;
    let pipeline = live.pipeline.clone();
    let result = drive(
        listen, &ladder, &mut live, storage, catalog, shutdown, withdrawn,
    )
    .await;
    // Every exit path stops the pipeline.
    let _ = pipeline.set_state(gst::State::Null);
    result
}

async fn drive(
    listen: SocketAddr,
    ladder: &Ladder,
    live: &mut pipeline::LivePipeline,
    storage: Arc<dyn Storage>,
    catalog: CatalogClient,
    shutdown: impl Future<Output = ()>,
    withdrawn: impl Future<Output = ()>,
) -> Result<Outcome, WorkerError> {
    let pipeline = live.pipeline.clone();
    let bus = pipeline.bus().expect("a pipeline has a bus");
    let mut messages = bus.stream();
    pipeline.set_state(gst::State::Playing)?;
    tracing::info!(%listen, "waiting for a capture box to connect over SRT");
    tokio::pin!(shutdown);
    tokio::pin!(withdrawn);

    let stream_id: StreamId = loop {
        tokio::select! {
            id = live.connected.recv() => break id.expect("the listener lives as long as the pipeline"),
            Some(message) = messages.next() => if let Some(e) = bus_error(&message) { return Err(e) },
            _ = &mut shutdown => return Ok(Outcome::Stopped),
            _ = &mut withdrawn => return Ok(Outcome::Stopped),
        }
    };
    let lecture = stream_id.lecture_id.clone();
    tracing::info!(%lecture, track = %stream_id.track, "capture box connected; transcoding live");

    let mut packager = Packager::new(&lecture, storage, Arc::new(catalog));
    for rendition in ladder.renditions(&stream_id.track) {
        packager.add_rendition(rendition).await?;
    }
    let track = &stream_id.track;
    // After the renditions: a session resumed after a break continues the track's timeline.
    let pictures = live.thumbnails.take().map(|branch| {
        branch.start(
            packager.thumbnail_store(track),
            packager.seconds_stored(track),
        )
    });
    let packaged = package(
        &pipeline,
        &mut messages,
        &mut live.fragments,
        &mut packager,
        track,
        shutdown,
    )
    .await;
    if let Some(pictures) = pictures {
        pictures.finish().await;
    }
    let packaged = packaged?;
    let error = packaged
        .failure
        .as_ref()
        .map(|e| format!("the live stream failed: {e}"));
    packager.finish(error).await?;
    tracing::info!(%lecture, segments = packaged.segments, "live session finished");
    match packaged.failure {
        Some(e) if packaged.segments == 0 => Err(e),
        _ => Ok(Outcome::Finished {
            lecture,
            segments: packaged.segments,
        }),
    }
}
