//! Pushes the live tap to the worker over SRT, in its own pipeline, so a network failure only
//! ever costs the live copy: the pusher reconnects with backoff while the spool records on.

use crate::capture::LiveChunk;
use crate::error::{pipeline_error, IngestError};
use futures_util::StreamExt;
use gst::prelude::*;
use lectern_wire::agent::LiveTarget;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long the pusher waits for the last packets to leave after the recording ended.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Where to push one track.
#[derive(Clone)]
pub struct Destination {
    pub srt_url: String,
    pub stream_id: String,
    /// The SRT passphrase of this recording's listener: a secret, never logged.
    pub passphrase: String,
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Destination")
            .field("srt_url", &self.srt_url)
            .field("stream_id", &self.stream_id)
            .finish_non_exhaustive()
    }
}

/// The SRT key length (AES-256) the worker's listeners require.
const PBKEYLEN: &str = "32";

impl Destination {
    /// The destination of the track at `index` in a [`LiveTarget`].
    pub fn from_target(target: &LiveTarget, index: usize) -> Option<Destination> {
        Some(Destination {
            srt_url: target.srt_url.clone(),
            stream_id: target.stream_ids.get(index)?.clone(),
            passphrase: target.passphrase.clone(),
        })
    }
}

/// Pushes `live` to `destination` until the recording ends, reconnecting after failures.
pub async fn run(destination: Destination, mut live: mpsc::Receiver<LiveChunk>) {
    let mut delay = Duration::from_millis(500);
    loop {
        match push(&destination, &mut live).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(url = %destination.srt_url, error = %e, retry_in = ?delay, "live push failed; recording continues locally");
            }
        }
        // Drop what piled up while disconnected, but notice the end of the recording.
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                chunk = live.recv() => match chunk {
                    Some(LiveChunk::Data(_)) => continue,
                    Some(LiveChunk::End) | None => return,
                },
                _ = &mut sleep => break,
            }
        }
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// One connection: returns `Ok` when the recording ended and was flushed.
async fn push(
    destination: &Destination,
    live: &mut mpsc::Receiver<LiveChunk>,
) -> Result<(), IngestError> {
    let pipeline = gst::Pipeline::with_name("live-push");
    let src = gst_app::AppSrc::builder()
        .caps(
            &gst::Caps::builder("video/mpegts")
                .field("systemstream", true)
                .field("packetsize", 188i32)
                .build(),
        )
        .is_live(true)
        .format(gst::Format::Time)
        .build();
    let sink =
        gst::ElementFactory::make("srtsink")
            .build()
            .map_err(|_| IngestError::ElementMissing {
                name: "srtsink".into(),
            })?;
    sink.set_property("uri", format!("{}?mode=caller", destination.srt_url));
    sink.set_property("streamid", &destination.stream_id);
    sink.set_property("passphrase", &destination.passphrase);
    sink.set_property_from_str("pbkeylen", PBKEYLEN);
    sink.set_property("sync", false);
    pipeline.add_many([src.upcast_ref(), &sink])?;
    src.link(&sink)?;

    let result = async {
        let bus = pipeline.bus().expect("a pipeline has a bus");
        let mut messages = bus.stream();
        pipeline.set_state(gst::State::Playing)?;
        tracing::info!(url = %destination.srt_url, stream_id = %destination.stream_id, "pushing live");
        loop {
            tokio::select! {
                chunk = live.recv() => match chunk {
                    Some(LiveChunk::Data(buffer)) => {
                        if src.push_buffer(buffer).is_err() {
                            return Err(IngestError::Gst("the SRT sink stopped taking data".into()));
                        }
                    }
                    Some(LiveChunk::End) | None => break,
                },
                Some(message) = messages.next() => {
                    if let Some(e) = pipeline_error(&message) {
                        return Err(e);
                    }
                }
            }
        }
        // Let the last packets leave before closing the connection.
        let _ = src.end_of_stream();
        let flushed = tokio::time::timeout(FLUSH_TIMEOUT, async {
            while let Some(message) = messages.next().await {
                match message.view() {
                    gst::MessageView::Eos(_) => return Ok(()),
                    _ => {
                        if let Some(e) = pipeline_error(&message) {
                            return Err(e);
                        }
                    }
                }
            }
            Ok(())
        })
        .await;
        // The recording has ended either way; the spool holds what the live copy lacks.
        match flushed {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the live stream failed while flushing"),
            Err(_) => tracing::warn!("the live stream did not flush in time"),
        }
        Ok(())
    }
    .await;
    let _ = pipeline.set_state(gst::State::Null);
    result
}
