//! The writer of one track's pictures: sampled frames in, poster, sheets, WebVTT files and
//! reports out (see the module above for what is written when).

use super::picture::{Gray, Picture};
use super::slides::{SlideDetector, GRAY_SIZE};
use super::sprites::{Sheet, Sprites};
use super::{jpeg, Frame, INTERVAL_SECONDS, THUMBNAIL_WIDTH};
use crate::error::WorkerError;
use bytes::Bytes;
use lectern_packager::vtt::Cue;
use lectern_packager::ThumbnailStore;
use lectern_wire::worker::ThumbnailReport;
use tokio::sync::{mpsc, oneshot};

/// The poster is picked from this many seconds on: lectures (and files) tend to begin black.
const POSTER_FROM: f64 = 3.0;
const POSTER_QUALITY: i32 = 85;
const SHEET_QUALITY: i32 = 75;

/// Writes the pictures of `store`'s track from `frames` until `done`, then what is left.
/// Returns the last report, `None` when nothing was stored.
pub(super) async fn run(
    mut frames: mpsc::Receiver<Frame>,
    mut done: oneshot::Receiver<()>,
    store: ThumbnailStore,
    chapters: bool,
    offset: f64,
) -> Option<ThumbnailReport> {
    let mut writer = match Writer::resume(store, chapters, offset).await {
        Ok(writer) => writer,
        Err(e) => {
            // Carrying on would overwrite pictures viewers may have cached.
            tracing::warn!(error = %e, "cannot read this track's stored pictures; it gets no more");
            return None;
        }
    };
    loop {
        tokio::select! {
            frame = frames.recv() => match frame {
                Some(frame) => writer.take(frame).await,
                None => break,
            },
            _ = &mut done => break,
        }
    }
    // The pipeline has stopped: what is in the channel is all there is.
    frames.close();
    while let Some(frame) = frames.recv().await {
        writer.take(frame).await;
    }
    writer.finish().await
}

/// The slide detector and the chapters so far.
struct Chapters {
    detector: SlideDetector,
    cues: Vec<Cue>,
}

struct Writer {
    store: ThumbnailStore,
    report: ThumbnailReport,
    /// Whether anything has been stored (by this session or one before).
    stored_any: bool,
    offset: f64,
    first_pts: Option<gst::ClockTime>,
    /// The last sample's instant.
    last: Option<f64>,
    sprites: Sprites,
    chapters: Option<Chapters>,
    /// The most varied sample so far, in case no sample qualifies as the poster.
    fallback_poster: Option<(f64, Picture)>,
}

impl Writer {
    /// A writer that continues what storage holds of the track.
    async fn resume(
        store: ThumbnailStore,
        chapters: bool,
        offset: f64,
    ) -> Result<Writer, WorkerError> {
        let stored = store.stored().await?;
        let sheets = stored.sprites();
        let report = ThumbnailReport {
            track: store.track().to_owned(),
            poster: stored.poster,
            sprites: sheets,
            chapters: u32::try_from(stored.chapters.len()).unwrap_or(u32::MAX),
        };
        let chapters = chapters.then(|| {
            let cues = stored.chapters;
            Chapters {
                detector: SlideDetector::new(cues.last().map_or(0.0, |c| c.start)),
                cues,
            }
        });
        Ok(Writer {
            stored_any: report.poster || sheets > 0 || report.chapters > 0,
            store,
            report,
            offset,
            first_pts: None,
            last: None,
            sprites: Sprites::new(stored.thumbnails, sheets, f64::from(INTERVAL_SECONDS)),
            chapters,
            fallback_poster: None,
        })
    }

    /// One sampled frame: thumbnail, maybe the poster, maybe a chapter.
    async fn take(&mut self, frame: Frame) {
        let first = *self.first_pts.get_or_insert(frame.pts);
        let since_start = frame.pts.saturating_sub(first).nseconds() as f64 / 1e9;
        let at = self.offset + since_start;
        self.last = Some(at);
        let picture = frame.picture;
        let shrunk = tokio::task::spawn_blocking(move || {
            let thumbnail = picture.resized_to_width(THUMBNAIL_WIDTH);
            let gray = picture.gray(GRAY_SIZE.0, GRAY_SIZE.1);
            (picture, thumbnail, gray)
        })
        .await;
        let Ok((picture, thumbnail, gray)) = shrunk else {
            return;
        };

        if !self.report.poster {
            self.consider_poster(since_start, picture, &gray).await;
        }
        if let Some(sheet) = self.sprites.add(at, &thumbnail) {
            self.store_sheet(sheet).await;
        }
        if let Some(chapters) = &mut self.chapters {
            if let Some(start) = chapters.detector.push(at, gray) {
                add_chapter(&mut chapters.cues, start, at + f64::from(INTERVAL_SECONDS));
                self.store_chapters().await;
            }
        }
    }

    /// Stores the poster when this sample is the first good one; else keeps it in mind.
    async fn consider_poster(&mut self, since_start: f64, picture: Picture, gray: &Gray) {
        if since_start >= POSTER_FROM && !gray.is_near_uniform() {
            self.store_poster(picture).await;
            return;
        }
        let contrast = gray.contrast();
        if self
            .fallback_poster
            .as_ref()
            .is_none_or(|(best, _)| contrast > *best)
        {
            self.fallback_poster = Some((contrast, picture));
        }
    }

    async fn store_poster(&mut self, picture: Picture) {
        let stored = async {
            let jpeg = encode(picture, POSTER_QUALITY).await?;
            Ok::<_, WorkerError>(self.store.put_poster(jpeg).await?)
        };
        match stored.await {
            Ok(()) => {
                self.report.poster = true;
                self.fallback_poster = None;
                self.send_report().await;
            }
            Err(e) => self.failed("the poster", &e),
        }
    }

    async fn store_sheet(&mut self, sheet: Sheet) {
        let index = sheet.index;
        let stored = async {
            let jpeg = encode(sheet.picture, SHEET_QUALITY).await?;
            let cues = self.sprites.cues();
            Ok::<_, WorkerError>(self.store.put_sprite(index, jpeg, cues).await?)
        };
        match stored.await {
            Ok(()) => {
                self.report.sprites = index + 1;
                self.send_report().await;
            }
            Err(e) => {
                // The next thumbnails.vtt must not name a sheet that is not there.
                self.sprites.forget_sheet(index);
                self.failed(&format!("timeline thumbnail sheet {index}"), &e);
            }
        }
    }

    /// Stores `chapters.vtt`, once there are two chapters to tell apart.
    async fn store_chapters(&mut self) {
        let Some(chapters) = &self.chapters else {
            return;
        };
        if chapters.cues.len() < 2 {
            return;
        }
        match self.store.put_chapters(&chapters.cues).await {
            Ok(()) => {
                self.report.chapters = u32::try_from(chapters.cues.len()).unwrap_or(u32::MAX);
                self.send_report().await;
            }
            Err(e) => self.failed("the chapters", &e.into()),
        }
    }

    /// The track ended: the last sheet, a poster if none was good enough, the chapters'
    /// final end.
    async fn finish(mut self) -> Option<ThumbnailReport> {
        if let Some(sheet) = self.sprites.finish() {
            self.store_sheet(sheet).await;
        }
        if let Some((_, picture)) = self.fallback_poster.take() {
            if !self.report.poster {
                self.store_poster(picture).await;
            }
        }
        if let (Some(chapters), Some(last)) = (&mut self.chapters, self.last) {
            if let Some(cue) = chapters.cues.last_mut() {
                cue.end = cue.end.max(last + f64::from(INTERVAL_SECONDS));
            }
            self.store_chapters().await;
        }
        tracing::info!(lecture = %self.store.lecture(), track = %self.store.track(), poster = self.report.poster, sheets = self.report.sprites, chapters = self.report.chapters, "pictures of the track stored");
        self.stored_any.then_some(self.report)
    }

    async fn send_report(&mut self) {
        self.stored_any = true;
        if let Err(e) = self.store.report(&self.report).await {
            tracing::warn!(lecture = %self.store.lecture(), track = %self.store.track(), error = %e, "could not tell the catalog about the track's pictures; the next report will");
        }
    }

    fn failed(&self, what: &str, e: &WorkerError) {
        tracing::warn!(lecture = %self.store.lecture(), track = %self.store.track(), error = %e, "could not store {what}; the lecture plays without it");
    }
}

/// Starts a chapter at `start` (the last one now ends there); it lasts to `end` for now.
fn add_chapter(cues: &mut Vec<Cue>, start: f64, end: f64) {
    if cues.is_empty() {
        cues.push(Cue {
            start: 0.0,
            end: start,
            text: "Slide 1".into(),
        });
    }
    if let Some(last) = cues.last_mut() {
        last.end = start;
    }
    cues.push(Cue {
        start,
        end: end.max(start),
        text: format!("Slide {}", cues.len() + 1),
    });
}

async fn encode(picture: Picture, quality: i32) -> Result<Bytes, WorkerError> {
    tokio::task::spawn_blocking(move || jpeg::encode(&picture, quality))
        .await
        .map_err(|e| WorkerError::Gst(format!("the JPEG encoder stopped: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_packager::{vtt, LocalDir, NoCatalog, Packager};
    use std::sync::Arc;

    /// A 640 × 360 slide: white, with dark text-like bars placed by `seed`.
    fn slide(seed: u32) -> Picture {
        let mut picture = Picture {
            width: 640,
            height: 360,
            rgb: vec![250; 640 * 360 * 3],
        };
        for line in 0..5 {
            let width = 200 + (seed * 97 + line * 61) % 300;
            let bar = Picture {
                width,
                height: 14,
                rgb: vec![20; width as usize * 14 * 3],
            };
            picture.paste(&bar, 40 + (seed * 13 + line * 29) % 60, 40 + line * 60);
        }
        picture
    }

    /// Runs a writer over `seeds` (one frame each 5 s) on `offset`, as one session would.
    async fn session(store: ThumbnailStore, offset: f64, seeds: &[u32]) -> ThumbnailReport {
        let (frames_tx, frames) = mpsc::channel(seeds.len());
        for (i, &seed) in seeds.iter().enumerate() {
            let pts = gst::ClockTime::from_seconds(5 * i as u64);
            frames_tx
                .try_send(Frame {
                    pts,
                    picture: slide(seed),
                })
                .unwrap();
        }
        let (done_tx, done) = oneshot::channel();
        done_tx.send(()).unwrap();
        run(frames, done, store, true, offset)
            .await
            .expect("pictures stored")
    }

    #[tokio::test]
    async fn a_resumed_session_continues_the_stored_pictures_and_overwrites_no_sheet() {
        gst::init().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(LocalDir::new(dir.path()));
        let packager = Packager::new("lec", storage, Arc::new(NoCatalog));
        let track = dir.path().join("lectures/lec/v1/screen");

        let first = session(packager.thumbnail_store("screen"), 0.0, &[1, 1, 1, 2, 2, 2]).await;
        assert_eq!((first.poster, first.sprites, first.chapters), (true, 1, 2));
        let sheet = std::fs::read(track.join("sprite-0.jpg")).unwrap();
        let poster = std::fs::read(track.join("poster.jpg")).unwrap();

        // The stream broke after 30 s; the next session shows slide 3, then slide 4.
        let second = session(
            packager.thumbnail_store("screen"),
            30.0,
            &[3, 3, 3, 4, 4, 4],
        )
        .await;
        assert_eq!(
            (second.poster, second.sprites, second.chapters),
            (true, 2, 3)
        );
        assert_eq!(
            std::fs::read(track.join("sprite-0.jpg")).unwrap(),
            sheet,
            "sheet 0 kept"
        );
        assert_eq!(
            std::fs::read(track.join("poster.jpg")).unwrap(),
            poster,
            "poster kept"
        );

        let read =
            |name: &str| vtt::parse(&std::fs::read_to_string(track.join(name)).unwrap()).unwrap();
        let thumbnails = read("thumbnails.vtt");
        let starts: Vec<f64> = thumbnails.iter().map(|c| c.start).collect();
        assert_eq!(
            starts,
            [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0, 55.0]
        );
        assert!(
            thumbnails[5].text.starts_with("sprite-0.jpg#"),
            "{:?}",
            thumbnails[5]
        );
        assert!(
            thumbnails[6].text.starts_with("sprite-1.jpg#xywh=0,0,"),
            "{:?}",
            thumbnails[6]
        );
        let chapters: Vec<(f64, String)> = read("chapters.vtt")
            .into_iter()
            .map(|c| (c.start, c.text))
            .collect();
        // Slide 3 showed from the break on, but with no frame before it to differ from, only
        // slide 4 is told apart.
        assert_eq!(
            chapters,
            [
                (0.0, "Slide 1".into()),
                (15.0, "Slide 2".into()),
                (45.0, "Slide 3".into())
            ]
        );
    }

    #[test]
    fn the_first_change_opens_slide_1_at_the_start_and_slide_2_at_the_change() {
        let mut cues = Vec::new();
        add_chapter(&mut cues, 30.0, 35.0);
        add_chapter(&mut cues, 60.0, 65.0);
        let seen: Vec<(f64, f64, &str)> = cues
            .iter()
            .map(|c| (c.start, c.end, c.text.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (0.0, 30.0, "Slide 1"),
                (30.0, 60.0, "Slide 2"),
                (60.0, 65.0, "Slide 3")
            ]
        );
    }
}
