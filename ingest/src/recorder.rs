//! One recording, from the first frame to a clean stop: record locally at once, then learn
//! the live destination from the catalog, push live, and finalise every chunk on stop.

use crate::capture::{self, LiveChunk};
use crate::catalog::CatalogClient;
use crate::config::Config;
use crate::error::{pipeline_error, IngestError};
use crate::live_push::{self, Destination};
use crate::spool::{self, ChunkWriter, DiskGuard};
use crate::upload;
use futures_util::StreamExt;
use gst::prelude::*;
use lectern_wire::agent::{StartRecording, StopRecording};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long a stop waits for the pipeline to finalise its last chunk.
const FINALISE_TIMEOUT: Duration = Duration::from_secs(10);
/// The one track the simulated classroom records.
const TRACK: &str = "presenter";
/// How long a stopping box spends uploading before it leaves the rest for its next start.
const UPLOAD_BUDGET: Duration = Duration::from_secs(60);

/// Records until `stop` resolves (or the capture fails), then finalises and reports.
///
/// Before recording, chunks a killed daemon left unjournaled are repaired; while recording,
/// every closed chunk is journaled and the disk guard keeps the spool within its limits.
pub async fn run(config: Config, stop: impl Future<Output = ()>) -> Result<(), IngestError> {
    gst::init().map_err(|e| IngestError::Gst(format!("GStreamer did not initialise: {e}")))?;
    let spool_dir = config.spool_dir.clone();
    let journal = tokio::task::spawn_blocking(move || {
        spool::repair_spool(&spool_dir)?;
        let journal = spool::create_recording(&spool_dir, chrono::Utc::now())?;
        spool::create_track_dir(&journal, TRACK).map(|dir| (journal, dir))
    })
    .await
    .map_err(|e| IngestError::Gst(format!("the spool set-up panicked: {e}")))?;
    let (journal, chunk_dir) = journal?;
    let recording_dir = journal.recording_dir().to_owned();

    let (stop_guard, guard_stopped) = tokio::sync::oneshot::channel::<()>();
    let guard = DiskGuard::new(&config.spool_dir, config.disk_guard.limits());
    let guard = tokio::spawn(guard.run(config.disk_guard.interval(), async move {
        let _ = guard_stopped.await;
    }));

    let capture = capture::build(&config, TRACK, &chunk_dir)?;
    let pipeline = capture.pipeline.clone();
    let mut writer = ChunkWriter::new(journal);
    // Recordings an earlier run left are uploaded beside this one.
    let catalog = CatalogClient::new(&config.catalog_url, &config.token);
    let leftovers = {
        let (catalog, spool_dir, current) = (
            catalog.clone(),
            config.spool_dir.clone(),
            recording_dir.clone(),
        );
        tokio::spawn(
            async move { upload::upload_spool(&catalog, &spool_dir, Some(&current)).await },
        )
    };
    let result = record(&catalog, capture, &mut writer, &recording_dir, stop).await;
    let _ = pipeline.set_state(gst::State::Null);
    let journaled = writer.finish().await;
    let _ = stop_guard.send(());
    let _ = guard.await;
    tracing::info!(spool = %recording_dir.display(), "recording closed");
    let chunks = journaled?;
    tracing::info!(chunks = chunks.len(), "every closed chunk is journaled");
    // Bounded, so a catalog that is away does not keep the box from stopping: what is not
    // uploaded now is uploaded at the next start.
    match tokio::time::timeout(
        UPLOAD_BUDGET,
        upload::upload_recording(&catalog, &recording_dir),
    )
    .await
    {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "upload left for the next start"),
        Err(_) => tracing::warn!("upload not finished in time; the rest goes at the next start"),
    }
    leftovers.abort();
    result
}

async fn record(
    catalog: &CatalogClient,
    capture: capture::Capture,
    writer: &mut ChunkWriter,
    recording_dir: &Path,
    stop: impl Future<Output = ()>,
) -> Result<(), IngestError> {
    let capture::Capture { pipeline, live } = capture;
    let bus = pipeline.bus().expect("a pipeline has a bus");
    let mut messages = bus.stream();
    pipeline.set_state(gst::State::Playing)?;
    let started = Instant::now();
    tracing::info!(track = TRACK, "recording to the local spool");

    let announce = tokio::spawn(announce_and_push(
        catalog.clone(),
        live,
        recording_dir.to_owned(),
    ));
    tokio::pin!(stop);
    let failure = loop {
        tokio::select! {
            _ = &mut stop => break None,
            Some(message) = messages.next() => {
                if let Some(e) = pipeline_error(&message) {
                    break Some(e);
                }
                writer.handle(&message);
            }
        }
    };

    // Stop cleanly: EOS through every branch so the last chunk is finalised.
    pipeline.send_event(gst::event::Eos::new());
    let finalised = tokio::time::timeout(FINALISE_TIMEOUT, async {
        while let Some(message) = messages.next().await {
            if matches!(message.view(), gst::MessageView::Eos(_)) {
                return;
            }
            writer.handle(&message);
        }
    })
    .await;
    if finalised.is_err() {
        tracing::warn!(
            "the capture pipeline did not finalise in time; earlier chunks are complete"
        );
    }
    let recorded_seconds = started.elapsed().as_secs_f64();
    let _ = pipeline.set_state(gst::State::Null);
    drop(pipeline);

    match announce.await {
        Ok(Some(recording)) => {
            let stop = StopRecording { recorded_seconds };
            if let Err(e) = catalog.stop(&recording, &stop).await {
                tracing::error!(error = %e, "could not tell the catalog the recording stopped");
            }
        }
        Ok(None) => {
            tracing::warn!("the catalog never answered; the recording is kept in the spool")
        }
        Err(e) => tracing::error!(error = %e, "the live task failed"),
    }
    tracing::info!(
        seconds = format!("{recorded_seconds:.1}"),
        "recording stopped"
    );
    failure.map_or(Ok(()), Err)
}

/// Tells the catalog about the recording, then pushes live if it names a worker. Returns
/// the recording's id once the live stream has ended.
async fn announce_and_push(
    catalog: CatalogClient,
    mut live: mpsc::Receiver<LiveChunk>,
    recording_dir: PathBuf,
) -> Option<String> {
    let request = StartRecording {
        title: None,
        tracks: vec![TRACK.to_owned()],
    };
    let announce = catalog.start(&request);
    tokio::pin!(announce);
    // Keep draining the live tap while the catalog is away, so the tap never backs up.
    let started = loop {
        tokio::select! {
            answer = &mut announce => break answer,
            chunk = live.recv() => if matches!(chunk, Some(LiveChunk::End) | None) { return None },
        }
    };
    let started = match started {
        Ok(started) => started,
        Err(e) => {
            tracing::error!(error = %e, "the catalog refused the recording; keeping it in the spool");
            return None;
        }
    };
    tracing::info!(lecture = %started.lecture_id, "the catalog knows the recording");
    if let Err(e) = upload::link_recording(&recording_dir, &started.recording_id) {
        tracing::error!(error = %e, "could not note the catalog's recording id; its upload waits");
    }
    match started
        .live
        .as_ref()
        .and_then(|t| Destination::from_target(t, 0))
    {
        Some(destination) => live_push::run(destination, live).await,
        None => {
            tracing::warn!("no transcode worker is available; recording locally only");
            while let Some(LiveChunk::Data(_)) = live.recv().await {}
        }
    }
    Some(started.recording_id)
}
