//! The [`Packager`]: one per live session or job. It stores each segment, rewrites that
//! rendition's canonical playlist, and only then reports the segment to the catalog, so the
//! catalog never lists a segment that storage does not hold.

use crate::error::StorageError;
use crate::keys;
use crate::playlist::{self, SegmentEntry};
use crate::storage::Storage;
use crate::thumbnails::ThumbnailStore;
use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use lectern_wire::worker::{FinishLecture, RenditionReport, SegmentReport, ThumbnailReport};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The longest wait between two attempts to store an object.
const MAX_STORE_RETRY_DELAY: Duration = Duration::from_secs(5);

/// A failed report to the catalog, after the reporter's own retries.
pub type ReportError = Box<dyn std::error::Error + Send + Sync>;

/// Tells the catalog what the packager has stored. The worker implements it over HTTP.
#[async_trait]
pub trait Reporter: Send + Sync + 'static {
    async fn rendition(
        &self,
        lecture: &str,
        rendition: &RenditionReport,
    ) -> Result<(), ReportError>;
    async fn segment(&self, lecture: &str, segment: &SegmentReport) -> Result<(), ReportError>;
    async fn finish(&self, lecture: &str, finish: &FinishLecture) -> Result<(), ReportError>;
    /// A track's pictures are stored (see [`ThumbnailReport`]). Reporters with no use for
    /// them (offline transcodes) keep this default, which drops them.
    async fn thumbnails(&self, lecture: &str, report: &ThumbnailReport) -> Result<(), ReportError> {
        let _ = (lecture, report);
        Ok(())
    }
}

/// A [`Reporter`] for packaging without a catalog: offline transcodes and benchmarks, where
/// the storage alone is the archive.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCatalog;

#[async_trait]
impl Reporter for NoCatalog {
    async fn rendition(&self, _: &str, _: &RenditionReport) -> Result<(), ReportError> {
        Ok(())
    }
    async fn segment(&self, _: &str, _: &SegmentReport) -> Result<(), ReportError> {
        Ok(())
    }
    async fn finish(&self, _: &str, _: &FinishLecture) -> Result<(), ReportError> {
        Ok(())
    }
}

/// An encoded segment of one rendition, as the pipeline hands it over.
#[derive(Debug, Clone)]
pub struct Segment {
    pub track: String,
    pub rung: String,
    pub duration: f64,
    pub program_date_time: DateTime<Utc>,
    pub discontinuity: bool,
    pub body: Bytes,
}

/// Why packaging a segment failed.
#[derive(Debug, thiserror::Error)]
pub enum PackagerError {
    #[error("segment of unknown rendition {track}/{rung}: announce it with add_rendition first")]
    UnknownRendition { track: String, rung: String },
    #[error("storing {key} failed: {source}")]
    Store { key: String, source: StorageError },
    #[error("the stored playlist {key} is not one the packager wrote; refusing to overwrite it")]
    ForeignPlaylist { key: String },
    #[error("reading {key} failed: {source}")]
    Read { key: String, source: StorageError },
    #[error("reporting to the catalog failed: {0}")]
    Report(ReportError),
}

struct Rendition {
    info: RenditionReport,
    segments: Vec<SegmentEntry>,
    /// The rendition resumes after a break: its next segment starts a discontinuity.
    broken: bool,
}

/// Packages the segments of one lecture version.
pub struct Packager {
    lecture: String,
    version: String,
    storage: Arc<dyn Storage>,
    reporter: Arc<dyn Reporter>,
    renditions: BTreeMap<(String, String), Rendition>,
}

impl Packager {
    /// A packager for `lecture`, writing its first version.
    pub fn new(
        lecture: impl Into<String>,
        storage: Arc<dyn Storage>,
        reporter: Arc<dyn Reporter>,
    ) -> Self {
        Packager {
            lecture: lecture.into(),
            version: keys::FIRST_VERSION.to_owned(),
            storage,
            reporter,
            renditions: BTreeMap::new(),
        }
    }

    /// A packager for `version` of `lecture` (a job's own version, so a re-run writes its
    /// own objects and completion switches to them at once).
    pub fn with_version(
        lecture: impl Into<String>,
        version: impl Into<String>,
        storage: Arc<dyn Storage>,
        reporter: Arc<dyn Reporter>,
    ) -> Self {
        Packager {
            version: version.into(),
            ..Packager::new(lecture, storage, reporter)
        }
    }

    /// The lecture this packager writes.
    pub fn lecture(&self) -> &str {
        &self.lecture
    }

    /// Where the pictures of `track` (poster, timeline thumbnails, chapters) go: beside its
    /// playlists in this packager's version, reported through the same reporter.
    pub fn thumbnail_store(&self, track: &str) -> ThumbnailStore {
        ThumbnailStore::new(
            &self.lecture,
            &self.version,
            track,
            self.storage.clone(),
            self.reporter.clone(),
        )
    }

    /// Seconds of `track` stored so far (its first rendition's segments): 0 for a new
    /// version; where the timeline of a session resumed after a break continues.
    pub fn seconds_stored(&self, track: &str) -> f64 {
        self.renditions
            .values()
            .find(|r| r.info.track == track)
            .map_or(0.0, |r| r.segments.iter().map(|s| s.duration).sum())
    }

    /// Announces a rendition (its bandwidth is the planned bitrate until segments show the
    /// true peak). When storage already holds segments of it (the stream broke and came back),
    /// the rendition continues after them, behind a discontinuity, and overwrites nothing.
    pub async fn add_rendition(&mut self, info: RenditionReport) -> Result<(), PackagerError> {
        let key = keys::media_playlist(&self.lecture, &self.version, &info.track, &info.rung);
        let stored = self
            .storage
            .get(&key)
            .await
            .map_err(|source| PackagerError::Read {
                key: key.clone(),
                source,
            })?;
        let segments = match stored {
            Some(text) => {
                playlist::parse_media(&text).ok_or(PackagerError::ForeignPlaylist { key })?
            }
            None => Vec::new(),
        };
        if !segments.is_empty() {
            tracing::info!(lecture = %self.lecture, track = %info.track, rung = %info.rung, segments = segments.len(), "resuming a rendition after a break");
        }
        self.reporter
            .rendition(&self.lecture, &info)
            .await
            .map_err(PackagerError::Report)?;
        let broken = !segments.is_empty();
        self.renditions.insert(
            (info.track.clone(), info.rung.clone()),
            Rendition {
                info,
                segments,
                broken,
            },
        );
        Ok(())
    }

    /// Stores a segment, then the rendition's playlist, then reports the segment.
    pub async fn push(&mut self, segment: Segment) -> Result<SegmentReport, PackagerError> {
        let key = (segment.track.clone(), segment.rung.clone());
        let rendition =
            self.renditions
                .get_mut(&key)
                .ok_or_else(|| PackagerError::UnknownRendition {
                    track: segment.track.clone(),
                    rung: segment.rung.clone(),
                })?;
        let sequence = rendition.segments.last().map_or(0, |s| s.sequence + 1);
        let discontinuity = segment.discontinuity || std::mem::take(&mut rendition.broken);
        let segment_key = keys::segment(
            &self.lecture,
            &self.version,
            &segment.track,
            &segment.rung,
            sequence,
        );
        put(
            &*self.storage,
            &segment_key,
            segment.body.clone(),
            "video/mp2t",
            Patience::Forever,
        )
        .await?;

        let entry = SegmentEntry {
            sequence,
            duration: segment.duration,
            program_date_time: segment.program_date_time,
            discontinuity,
        };
        rendition.segments.push(entry);
        // BANDWIDTH must be the true peak, so it only ever rises.
        let bits_per_second =
            (segment.body.len() as f64 * 8.0 / segment.duration.max(0.1)).ceil() as u64;
        let peak_rose = bits_per_second > rendition.info.bandwidth;
        if peak_rose {
            rendition.info.bandwidth = bits_per_second;
        }
        let info = rendition.info.clone();
        self.write_media_playlist(&segment.track, &segment.rung, false)
            .await?;
        if peak_rose || sequence == 0 {
            self.reporter
                .rendition(&self.lecture, &info)
                .await
                .map_err(PackagerError::Report)?;
            self.write_master(&segment.track).await?;
        }

        let report = SegmentReport {
            track: segment.track,
            rung: segment.rung,
            sequence,
            duration: segment.duration,
            program_date_time: segment.program_date_time,
            discontinuity,
            bytes: segment.body.len() as u64,
        };
        self.reporter
            .segment(&self.lecture, &report)
            .await
            .map_err(PackagerError::Report)?;
        Ok(report)
    }

    /// Closes every playlist with `EXT-X-ENDLIST` and tells the catalog the lecture is
    /// complete (or failed, with `error`).
    pub async fn finish(self, error: Option<String>) -> Result<(), PackagerError> {
        for (track, rung) in self.renditions.keys() {
            self.write_media_playlist(track, rung, true).await?;
        }
        let finish = FinishLecture { error };
        self.reporter
            .finish(&self.lecture, &finish)
            .await
            .map_err(PackagerError::Report)
    }

    async fn write_media_playlist(
        &self,
        track: &str,
        rung: &str,
        ended: bool,
    ) -> Result<(), PackagerError> {
        let rendition = &self.renditions[&(track.to_owned(), rung.to_owned())];
        let body = playlist::media(&rendition.segments, ended, |s| format!("{}.ts", s.sequence));
        let key = keys::media_playlist(&self.lecture, &self.version, track, rung);
        put(
            &*self.storage,
            &key,
            body.into(),
            "application/vnd.apple.mpegurl",
            Patience::Forever,
        )
        .await
    }

    async fn write_master(&self, track: &str) -> Result<(), PackagerError> {
        let renditions: Vec<RenditionReport> = self
            .renditions
            .values()
            .filter(|r| r.info.track == track)
            .map(|r| r.info.clone())
            .collect();
        let body = playlist::master(&renditions, |r| format!("{}/index.m3u8", r.rung));
        let key = keys::master_playlist(&self.lecture, &self.version, track);
        put(
            &*self.storage,
            &key,
            body.into(),
            "application/vnd.apple.mpegurl",
            Patience::Forever,
        )
        .await
    }
}

/// How long [`put`] waits out a store that is away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Patience {
    /// As long as it takes: media is held, never dropped.
    Forever,
    /// About 20 seconds: for what the media can do without (pictures), so that an outage
    /// never holds up the lecture behind them.
    Brief,
}

/// Stores an object, waiting out a store that is away (an S3 outage, a full disk) as
/// `patience` says. Only a mistake no retry mends, or the end of patience, is an error.
pub(crate) async fn put(
    storage: &dyn Storage,
    key: &str,
    body: Bytes,
    content_type: &str,
    patience: Patience,
) -> Result<(), PackagerError> {
    let backoff = ExponentialBuilder::default().with_max_delay(MAX_STORE_RETRY_DELAY);
    let backoff = match patience {
        Patience::Forever => backoff.without_max_times(),
        Patience::Brief => backoff.with_max_times(5),
    };
    let attempt = || storage.put(key, body.clone(), content_type);
    attempt
        .retry(backoff)
        .when(StorageError::is_transient)
        .notify(|e, after| {
            tracing::warn!(%key, error = %e, ?after, "storage is unavailable; holding the object and retrying")
        })
        .await
        .map_err(|source| PackagerError::Store {
            key: key.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::LocalDir;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorded {
        events: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Reporter for Recorded {
        async fn rendition(&self, _: &str, r: &RenditionReport) -> Result<(), ReportError> {
            self.events
                .lock()
                .unwrap()
                .push(format!("rendition {} {}", r.rung, r.bandwidth));
            Ok(())
        }
        async fn segment(&self, _: &str, s: &SegmentReport) -> Result<(), ReportError> {
            self.events
                .lock()
                .unwrap()
                .push(format!("segment {} {}", s.rung, s.sequence));
            Ok(())
        }
        async fn finish(&self, _: &str, _: &FinishLecture) -> Result<(), ReportError> {
            self.events.lock().unwrap().push("finish".into());
            Ok(())
        }
    }

    fn info() -> RenditionReport {
        RenditionReport {
            track: "presenter".into(),
            rung: "360p".into(),
            width: 640,
            height: 360,
            bandwidth: 100,
            codecs: "avc1.4d401e,mp4a.40.2".into(),
            frame_rate: 30.0,
        }
    }

    fn segment(len: usize) -> Segment {
        Segment {
            track: "presenter".into(),
            rung: "360p".into(),
            duration: 2.0,
            program_date_time: Utc::now(),
            discontinuity: false,
            body: Bytes::from(vec![0x47; len]),
        }
    }

    #[tokio::test]
    async fn segments_are_stored_before_they_are_reported_and_end_as_vod() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(LocalDir::new(dir.path()));
        let reporter = Arc::new(Recorded::default());
        let mut packager = Packager::new("lec", storage.clone(), reporter.clone());
        packager.add_rendition(info()).await.unwrap();
        packager.push(segment(1000)).await.unwrap();
        packager.push(segment(500)).await.unwrap();
        assert!(storage
            .get("lectures/lec/v1/presenter/360p/1.ts")
            .await
            .unwrap()
            .is_some());
        let live = storage
            .get("lectures/lec/v1/presenter/360p/index.m3u8")
            .await
            .unwrap()
            .unwrap();
        assert!(!String::from_utf8_lossy(&live).contains("ENDLIST"));
        packager.finish(None).await.unwrap();
        let vod = storage
            .get("lectures/lec/v1/presenter/360p/index.m3u8")
            .await
            .unwrap()
            .unwrap();
        assert!(String::from_utf8_lossy(&vod).contains("#EXT-X-ENDLIST"));
        let master = storage
            .get("lectures/lec/v1/presenter/master.m3u8")
            .await
            .unwrap()
            .unwrap();
        assert!(String::from_utf8_lossy(&master).contains("BANDWIDTH=4000"));
        let events = reporter.events.lock().unwrap().clone();
        assert_eq!(
            events,
            [
                "rendition 360p 100",
                "rendition 360p 4000",
                "segment 360p 0",
                "segment 360p 1",
                "finish"
            ]
        );
    }

    #[tokio::test]
    async fn a_rendition_resumed_after_a_break_continues_behind_a_discontinuity() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(LocalDir::new(dir.path()));
        let reporter = Arc::new(Recorded::default());
        let mut first = Packager::new("lec", storage.clone(), reporter.clone());
        first.add_rendition(info()).await.unwrap();
        first.push(segment(100)).await.unwrap();
        first.push(segment(100)).await.unwrap();
        first.finish(None).await.unwrap();

        let mut second = Packager::new("lec", storage.clone(), reporter.clone());
        assert_eq!(second.seconds_stored("presenter"), 0.0);
        second.add_rendition(info()).await.unwrap();
        assert_eq!(
            second.seconds_stored("presenter"),
            4.0,
            "the break comes after 4 s"
        );
        let report = second.push(segment(300)).await.unwrap();
        assert_eq!(report.sequence, 2);
        assert!(report.discontinuity);
        assert!(!second.push(segment(300)).await.unwrap().discontinuity);

        let text = storage
            .get("lectures/lec/v1/presenter/360p/index.m3u8")
            .await
            .unwrap()
            .unwrap();
        let segments = crate::playlist::parse_media(&text).unwrap();
        let sequences: Vec<u64> = segments.iter().map(|s| s.sequence).collect();
        assert_eq!(sequences, [0, 1, 2, 3]);
        assert_eq!(segments.iter().filter(|s| s.discontinuity).count(), 1);
        let first_segment = storage
            .get("lectures/lec/v1/presenter/360p/0.ts")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            first_segment.len(),
            100,
            "the earlier segment was not overwritten"
        );
    }

    #[tokio::test]
    async fn a_foreign_playlist_in_storage_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(LocalDir::new(dir.path()));
        let key = "lectures/lec/v1/presenter/360p/index.m3u8";
        storage
            .put(key, Bytes::from_static(b"garbage"), "text/plain")
            .await
            .unwrap();
        let mut packager = Packager::new("lec", storage.clone(), Arc::new(Recorded::default()));
        let err = packager.add_rendition(info()).await.unwrap_err();
        assert!(
            matches!(err, PackagerError::ForeignPlaylist { .. }),
            "{err}"
        );
        assert_eq!(&storage.get(key).await.unwrap().unwrap()[..], b"garbage");
    }

    #[tokio::test]
    async fn a_segment_of_an_unannounced_rendition_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut packager = Packager::new(
            "lec",
            Arc::new(LocalDir::new(dir.path())),
            Arc::new(Recorded::default()),
        );
        assert!(matches!(
            packager.push(segment(10)).await,
            Err(PackagerError::UnknownRendition { .. })
        ));
    }
}
