//! On-demand jobs from the catalog's queue (design decision 6): the worker claims a job,
//! runs it while heartbeating its progress, and completes it with the whole segment index or
//! fails it with a sentence a person understands.
//!
//! A job may run more than once (a worker that died loses its lease and the job is claimed
//! again), so each attempt writes its own media version, `<job>-a<attempt>`
//! ([`keys::attempt_version`]), and completion (idempotent at the catalog) lists only what
//! this attempt stored. The versions of attempts that did not complete are deleted: by the
//! catalog when the job ends (their worker may be dead), and by this worker as soon as the
//! catalog confirms its attempt failed or was lost to another worker (it may have stored
//! more after the catalog's sweep).
//!
//! A failure is the file's or the worker's. A file that is not media, is empty, an image, cut
//! short or damaged fails the same way on every worker, so the failure is final (the catalog
//! fails the job and its lecture at once); a storage outage, an element missing from the
//! worker's pipeline, a failure of its own encoding elements or a crash is worth another
//! attempt.

use crate::catalog::CatalogClient;
use crate::config::Config;
use crate::error::WorkerError;
use crate::file::{cut_short, fit_ladder, transcode_file, Transcoded};
use crate::ladder::{Ladder, Streams};
use crate::metrics::{JobOutcome, WorkerMetrics};
use crate::probe::{probe, MediaInfo};
use async_trait::async_trait;
use lectern_packager::{keys, Packager, ReportError, Reporter, Storage};
use lectern_wire::jobs::{CompleteJob, Job, JobKind, TranscodeUpload};
use lectern_wire::worker::{FinishLecture, RenditionReport, SegmentReport, ThumbnailReport};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often an idle worker asks for a job.
const POLL: Duration = Duration::from_secs(1);

/// The track an upload becomes (a file has one picture).
const TRACK: &str = "main";

/// What running jobs takes: the worker's settings, storage, catalog client and figures.
pub struct JobRunner {
    pub config: Arc<Config>,
    pub storage: Arc<dyn Storage>,
    pub catalog: CatalogClient,
    pub metrics: WorkerMetrics,
}

/// Claims and runs jobs one at a time until `stop` turns true.
pub async fn run(runner: JobRunner, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        match runner.catalog.claim_job().await {
            Ok(Some(job)) => {
                tracing::info!(job = %job.id, kind = job.kind.as_str(), lecture = %job.lecture_id, attempt = job.attempt, "claimed a job");
                runner.metrics.job_started();
                let outcome = runner.run_job(&job).await;
                runner.metrics.job_ended(outcome);
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not ask the catalog for a job"),
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }
}

/// Why an attempt ended without completing.
#[derive(Debug)]
enum Ended {
    /// The job failed; the message is for a person. `retry` is false when another attempt
    /// would fail the same way (the file's fault).
    Failed { error: String, retry: bool },
    /// The catalog gave the job to another worker: stop, report nothing.
    LeaseLost,
}

impl Ended {
    /// A failure another attempt may mend (the worker's trouble, not the file's).
    fn retry(error: impl Into<String>) -> Ended {
        Ended::Failed {
            error: error.into(),
            retry: true,
        }
    }

    /// A failure every attempt would repeat: the file's.
    fn fatal(error: impl Into<String>) -> Ended {
        Ended::Failed {
            error: error.into(),
            retry: false,
        }
    }
}

impl JobRunner {
    /// Runs one attempt of `job` to its completion or failure at the catalog.
    async fn run_job(&self, job: &Job) -> JobOutcome {
        let version = keys::attempt_version(&job.id, job.attempt);
        let progress = Arc::new(Mutex::new(Index::default()));
        let work = async {
            match job.kind {
                JobKind::TranscodeUpload => {
                    upload(&self.config, &self.storage, job, &version, progress.clone()).await
                }
                other => Err(Ended::retry(format!(
                    "This worker does not run {} jobs.",
                    other.as_str()
                ))),
            }
        };
        let outcome = tokio::select! {
            outcome = work => outcome,
            lost = heartbeat(&self.catalog, &self.metrics, job, progress.clone()) => Err(lost),
        };
        let (media, wall) = progress.lock().expect("index lock").encoded();
        self.metrics.encoding(media, wall);
        let reported = match outcome {
            Ok(index) => self
                .catalog
                .complete_job(&job.id, &index)
                .await
                .map(|()| JobOutcome::Done),
            Err(Ended::Failed { error, retry }) => {
                tracing::warn!(job = %job.id, %error, retry, "job failed");
                self.catalog
                    .fail_job(&job.id, &error, retry)
                    .await
                    .map(|()| JobOutcome::Failed)
            }
            Err(Ended::LeaseLost) => Ok(JobOutcome::Lost),
        };
        let outcome = match reported {
            Ok(outcome) => outcome,
            Err(e) if lease_lost(&e) => JobOutcome::Lost,
            Err(e) => {
                tracing::error!(job = %job.id, error = %e, "could not report the job's end; it runs again after its lease");
                return JobOutcome::Unreported;
            }
        };
        if outcome == JobOutcome::Done {
            tracing::info!(job = %job.id, media_seconds = media, wall_seconds = wall.as_secs_f64(), "job done");
            return outcome;
        }
        if outcome == JobOutcome::Lost {
            tracing::warn!(job = %job.id, "the job went to another worker (this worker's lease ran out); stopped");
        }
        // Failed or lost, as the catalog answered: this attempt will never be served, so what
        // it stored goes.
        let prefix = keys::version_prefix(&job.lecture_id, &version);
        if let Err(e) = self.storage.delete_prefix(&prefix).await {
            tracing::warn!(job = %job.id, %prefix, error = %e, "could not delete what the attempt stored; the catalog deletes it when the job ends");
        }
        outcome
    }
}

/// True when the catalog answered that the job is not this worker's (any more).
fn lease_lost(e: &WorkerError) -> bool {
    matches!(
        e,
        WorkerError::Catalog(lectern_client::ApiError::Refused {
            status: 404 | 409,
            ..
        })
    )
}

/// Heartbeats every third of the lease with the progress so far (and shows the realtime
/// factor); returns only when the catalog says the job is no longer this worker's.
async fn heartbeat(
    catalog: &CatalogClient,
    metrics: &WorkerMetrics,
    job: &Job,
    index: Arc<Mutex<Index>>,
) -> Ended {
    let every = Duration::from_secs(u64::from(job.lease_seconds / 3).max(1));
    loop {
        tokio::time::sleep(every).await;
        let (progress, (media, wall)) = {
            let index = index.lock().expect("index lock");
            (index.progress(), index.encoded())
        };
        metrics.encoding(media, wall);
        match catalog.heartbeat_job(&job.id, progress).await {
            Ok(()) => {}
            Err(e) if lease_lost(&e) => return Ended::LeaseLost,
            // The catalog may be back before the lease runs out.
            Err(e) => tracing::warn!(job = %job.id, error = %e, "job heartbeat failed"),
        }
    }
}

/// Fetches the uploaded file, probes it, encodes the ladder into `version`.
async fn upload(
    config: &Config,
    storage: &Arc<dyn Storage>,
    job: &Job,
    version: &str,
    index: Arc<Mutex<Index>>,
) -> Result<CompleteJob, Ended> {
    let payload: TranscodeUpload = serde_json::from_value(job.payload.clone())
        .map_err(|e| Ended::fatal(format!("The job's description is malformed: {e}")))?;
    let work_dir = tempfile::tempdir().map_err(|e| internal("a working directory", e))?;
    let source = work_dir.path().join("source");
    let source = match storage.local_path(&payload.source_key) {
        Some(path) if path.is_file() => path,
        _ => {
            let found = storage
                .get_file(&payload.source_key, &source)
                .await
                .map_err(|e| internal("fetching the uploaded file", e))?;
            if !found {
                return Err(Ended::fatal(
                    "The uploaded file is no longer in storage: upload it again.",
                ));
            }
            source
        }
    };
    let info = probe_in_background(&source).await?;
    index.lock().expect("index lock").duration = info.duration.as_secs_f64();
    tracing::info!(job = %job.id, duration = info.duration.as_secs_f64(), video = ?info.video, audio = info.has_audio, "probed the upload");

    let ladder = fit_ladder(
        &Ladder {
            rungs: config.ladder.clone(),
            frame_rate: config.frame_rate,
            segment_seconds: config.segment_seconds,
            streams: Streams::BOTH,
        },
        &info,
    );
    let collector = Arc::new(Collector(index.clone()));
    let mut packager = Packager::with_version(&job.lecture_id, version, storage.clone(), collector);
    for rendition in ladder.renditions(TRACK) {
        packager
            .add_rendition(rendition)
            .await
            .map_err(|e| internal("starting the renditions", e))?;
    }
    index.lock().expect("index lock").encoding_since = Some(Instant::now());
    let transcoded = transcode_file(
        &source,
        &info,
        &ladder,
        TRACK,
        &mut packager,
        &config.thumbnails,
    )
    .await;
    index.lock().expect("index lock").encoding_ended();
    let Transcoded { packaged, decoded } =
        transcoded.map_err(|e| internal("encoding the file", e))?;
    let done = index.lock().expect("index lock").done_seconds();
    if let Some(failure) = packaged.failure {
        return Err(if reading_failed(&failure) {
            Ended::fatal(damaged(done, &info, &readable(&failure)))
        } else {
            internal("encoding the file", failure)
        });
    }
    if let Some(error) = cut_short(decoded, info.duration) {
        return Err(Ended::fatal(error));
    }
    if decoded.as_secs_f64() > done + 2.0 {
        tracing::warn!(job = %job.id, decoded = decoded.as_secs_f64(), encoded = done, "the file's video ends before its audio: the audio after it is left out");
    }
    packager
        .finish(None)
        .await
        .map_err(|e| internal("closing the playlists", e))?;
    let mut index = index.lock().expect("index lock");
    if index.segments.is_empty() {
        return Err(Ended::fatal(
            "The file holds no video or audio GStreamer could decode.",
        ));
    }
    Ok(CompleteJob {
        renditions: std::mem::take(&mut index.renditions),
        segments: std::mem::take(&mut index.segments),
        media_version: Some(version.to_owned()),
        thumbnails: std::mem::take(&mut index.thumbnails),
    })
}

async fn probe_in_background(source: &Path) -> Result<MediaInfo, Ended> {
    let path = source.to_owned();
    tokio::task::spawn_blocking(move || probe(&path))
        .await
        .map_err(|e| internal("probing the file", e))?
        .map_err(|e| Ended::Failed {
            error: e.to_string(),
            retry: !e.is_final(),
        })
}

/// A failure of ours, not of the file: said plainly, with the detail for the operator, and
/// worth another attempt.
fn internal(doing: &str, e: impl std::fmt::Display) -> Ended {
    Ended::retry(format!("The worker failed while {doing}: {e}"))
}

/// True when a pipeline error is the file's: raised while reading or decoding it (the file
/// source, or the demuxer or decoder inside `decodebin`), and not because our own elements
/// refused what it gave them (`not-negotiated`, which the demuxer reports too).
fn reading_failed(e: &WorkerError) -> bool {
    match e {
        WorkerError::Pipeline { element, debug, .. } => {
            (element.contains("GstDecodeBin") || element.contains("GstFileSrc"))
                && !debug.contains("not-negotiated")
        }
        _ => false,
    }
}

/// The sentence for a file GStreamer stopped decoding after `done` seconds.
fn damaged(done: f64, info: &MediaInfo, detail: &str) -> String {
    format!(
        "The file is damaged or cut short: GStreamer stopped after {done:.0} s of {:.0} s ({detail}).",
        info.duration.as_secs_f64()
    )
}

/// A transcode error as one line: the input's message without its temporary path.
fn readable(e: &WorkerError) -> String {
    let text = match e {
        WorkerError::Input { message, .. } => message.clone(),
        other => other.to_string(),
    };
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

/// What an attempt stored so far: the index it completes with, and its progress.
#[derive(Debug, Default)]
struct Index {
    renditions: Vec<RenditionReport>,
    segments: Vec<SegmentReport>,
    /// The pictures stored, per track.
    thumbnails: Vec<ThumbnailReport>,
    /// The source's duration in seconds.
    duration: f64,
    /// When encoding began (after fetching and probing the source).
    encoding_since: Option<Instant>,
    /// Seconds encoded and the time it took, once encoding ended (the segments are handed
    /// over at completion).
    encoded_in: Option<(f64, Duration)>,
}

impl Index {
    /// Seconds encoded: the first rendition's segments (every rung cuts at the same instants).
    fn done_seconds(&self) -> f64 {
        let Some(first) = self.renditions.first() else {
            return 0.0;
        };
        self.segments
            .iter()
            .filter(|s| s.track == first.track && s.rung == first.rung)
            .map(|s| s.duration)
            .sum()
    }

    /// Seconds encoded, and the wall-clock time encoding took (so far).
    fn encoded(&self) -> (f64, Duration) {
        self.encoded_in.unwrap_or_else(|| {
            let wall = self.encoding_since.map_or(Duration::ZERO, |s| s.elapsed());
            (self.done_seconds(), wall)
        })
    }

    /// Encoding ended: what [`Index::encoded`] says from now on.
    fn encoding_ended(&mut self) {
        self.encoded_in = Some(self.encoded());
    }

    /// From 0 to 0.99: 1 is for completion.
    fn progress(&self) -> f64 {
        if self.duration <= 0.0 {
            return 0.0;
        }
        (self.done_seconds() / self.duration).clamp(0.0, 0.99)
    }
}

/// The packager's reporter for a job: the index is sent once, at completion.
struct Collector(Arc<Mutex<Index>>);

#[async_trait]
impl Reporter for Collector {
    async fn rendition(&self, _: &str, rendition: &RenditionReport) -> Result<(), ReportError> {
        let mut index = self.0.lock().expect("index lock");
        let same =
            |r: &&mut RenditionReport| r.track == rendition.track && r.rung == rendition.rung;
        match index.renditions.iter_mut().find(same) {
            Some(known) => *known = rendition.clone(),
            None => index.renditions.push(rendition.clone()),
        }
        Ok(())
    }

    async fn segment(&self, _: &str, segment: &SegmentReport) -> Result<(), ReportError> {
        self.0
            .lock()
            .expect("index lock")
            .segments
            .push(segment.clone());
        Ok(())
    }

    async fn finish(&self, _: &str, _: &FinishLecture) -> Result<(), ReportError> {
        Ok(())
    }

    async fn thumbnails(&self, _: &str, report: &ThumbnailReport) -> Result<(), ReportError> {
        let mut index = self.0.lock().expect("index lock");
        index.thumbnails.retain(|t| t.track != report.track);
        index.thumbnails.push(report.clone());
        Ok(())
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn pipeline_error(element: &str, debug: &str) -> WorkerError {
        WorkerError::Pipeline {
            element: element.into(),
            message: "Internal data stream error.".into(),
            debug: debug.into(),
        }
    }

    #[test]
    fn only_errors_reading_the_file_are_the_files_fault() {
        let demuxer = "/GstPipeline:file-transcode/GstDecodeBin:decodebin0/GstQTDemux:qtdemux0";
        assert!(reading_failed(&pipeline_error(
            demuxer,
            "streaming stopped, reason error (-5)"
        )));
        assert!(reading_failed(&pipeline_error(
            "/GstPipeline:file-transcode/GstFileSrc:filesrc0",
            "read error"
        )));
        // Our elements refusing what the file gave is ours, even when the demuxer says it.
        assert!(!reading_failed(&pipeline_error(
            demuxer,
            "streaming stopped, reason not-negotiated (-4)"
        )));
        assert!(!reading_failed(&pipeline_error(
            "/GstPipeline:file-transcode/GstX264Enc:x264enc0",
            "could not encode"
        )));
        assert!(!reading_failed(&WorkerError::Gst("state change".into())));
    }
}
