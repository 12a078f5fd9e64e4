//! What an uploaded file holds, asked of GStreamer's Discoverer before anything is encoded, so
//! a file that is not media, is empty or is cut short fails with a sentence a person
//! understands instead of a pipeline error, and the ladder is cut to the file's picture.

use gst_pbutils::prelude::*;
use std::path::Path;
use std::time::Duration;

/// How long the Discoverer may take to read a file's headers.
const DISCOVER_TIMEOUT: Duration = Duration::from_secs(15);

/// What a readable media file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    /// The file's duration.
    pub duration: Duration,
    /// Its (first) moving picture; `None` for sound alone.
    pub video: Option<VideoInfo>,
    pub has_audio: bool,
}

impl MediaInfo {
    pub fn has_video(&self) -> bool {
        self.video.is_some()
    }
}

/// A file's picture as stored, and how it is meant to be shown.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// Stored width and height, in pixels.
    pub width: u32,
    pub height: u32,
    /// The pixel aspect ratio (numerator, denominator); 1:1 for square pixels.
    pub par: (u32, u32),
    /// Frames per second, 0 when the file does not say.
    pub frame_rate: f64,
    /// Fields rather than frames (TV-style interlaced video).
    pub interlaced: bool,
    /// How the picture is turned for display (a phone's rotation metadata).
    pub orientation: Orientation,
}

impl VideoInfo {
    /// The picture's size as shown: square pixels, turned upright.
    pub fn display_size(&self) -> (u32, u32) {
        let (n, d) = self.par;
        let width = if n > 0 && d > 0 && n != d {
            ((f64::from(self.width) * f64::from(n) / f64::from(d)).round() as u32).max(1)
        } else {
            self.width
        };
        if self.orientation.swaps_sides() {
            (self.height, width)
        } else {
            (width, self.height)
        }
    }
}

/// GStreamer's `image-orientation` tag: how a picture must be turned (clockwise) or mirrored
/// to be upright, as phones record it instead of turning the pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Orientation {
    #[default]
    Upright,
    Rotate90,
    Rotate180,
    Rotate270,
    Flip,
    FlipRotate90,
    FlipRotate180,
    FlipRotate270,
}

impl Orientation {
    /// The orientation an `image-orientation` tag value names (`rotate-90`, `flip-rotate-0`,
    /// …); upright for anything else.
    pub fn from_tag(value: &str) -> Orientation {
        match value {
            "rotate-90" => Orientation::Rotate90,
            "rotate-180" => Orientation::Rotate180,
            "rotate-270" => Orientation::Rotate270,
            "flip-rotate-0" => Orientation::Flip,
            "flip-rotate-90" => Orientation::FlipRotate90,
            "flip-rotate-180" => Orientation::FlipRotate180,
            "flip-rotate-270" => Orientation::FlipRotate270,
            _ => Orientation::Upright,
        }
    }

    /// True when the shown picture's width is the stored height.
    pub fn swaps_sides(self) -> bool {
        matches!(
            self,
            Orientation::Rotate90
                | Orientation::Rotate270
                | Orientation::FlipRotate90
                | Orientation::FlipRotate270
        )
    }

    /// The `video-direction` of `videoflip` that makes the picture upright (the same mapping
    /// as its `auto`).
    pub fn video_direction(self) -> &'static str {
        match self {
            Orientation::Upright => "identity",
            Orientation::Rotate90 => "90r",
            Orientation::Rotate180 => "180",
            Orientation::Rotate270 => "90l",
            Orientation::Flip => "horiz",
            Orientation::FlipRotate90 => "ul-lr",
            Orientation::FlipRotate180 => "vert",
            Orientation::FlipRotate270 => "ur-ll",
        }
    }
}

/// Why a file cannot become a lecture. The messages are shown to staff as they are.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProbeError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is not a video or audio file GStreamer can read (it may be damaged or incomplete): {0}")]
    Unreadable(String),
    #[error("The file's video or audio is in a format this server cannot decode: {0}")]
    Unsupported(String),
    #[error("The file is a still image, not a video or audio file.")]
    Image,
    #[error("The file is not a video or audio file GStreamer can read: it holds no video or audio stream.")]
    NoStreams,
    #[error("The file's video or audio has no length (it may be damaged or incomplete).")]
    NoDuration,
    /// Reading the file took too long: a damaged file, or a worker too busy to read it.
    #[error("GStreamer took too long to read the file (it may be damaged).")]
    Timeout,
    /// The worker could not look at the file at all: its fault, not the file's.
    #[error("The worker could not read the file: {0}")]
    Worker(String),
}

impl ProbeError {
    /// True when the same file would fail the same way on any worker, so the job should
    /// not be tried again: the file is not media, is empty, an image, cut short, or in a
    /// format no worker decodes. A slow read or a worker's own trouble is worth another try.
    pub fn is_final(&self) -> bool {
        !matches!(self, ProbeError::Timeout | ProbeError::Worker(_))
    }
}

/// Reads `path`'s headers (and, where the container needs it, its index) with the Discoverer.
/// Blocking: call it from a blocking task.
pub fn probe(path: &Path) -> Result<MediaInfo, ProbeError> {
    let size = std::fs::metadata(path)
        .map_err(|e| ProbeError::Worker(e.to_string()))?
        .len();
    if size == 0 {
        return Err(ProbeError::Empty);
    }
    // A URI needs an absolute path (the `file` command takes relative ones).
    let absolute = std::path::absolute(path).map_err(|e| ProbeError::Worker(e.to_string()))?;
    let uri = gst::glib::filename_to_uri(&absolute, None)
        .map_err(|e| ProbeError::Worker(e.to_string()))?;
    let timeout = gst::ClockTime::from_nseconds(DISCOVER_TIMEOUT.as_nanos() as u64);
    let discoverer = gst_pbutils::Discoverer::new(timeout)
        .map_err(|e| ProbeError::Worker(format!("the Discoverer did not start: {e}")))?;
    let info = match discoverer.discover_uri(&uri) {
        Ok(info) => info,
        Err(e) if e.matches(gst::CoreError::MissingPlugin) => {
            return Err(ProbeError::Unsupported(e.message().to_owned()))
        }
        Err(e) => return Err(ProbeError::Unreadable(e.message().to_owned())),
    };
    // A timeout or a missing decoder comes back as an info whose result says so.
    match info.result() {
        gst_pbutils::DiscovererResult::Ok => {}
        gst_pbutils::DiscovererResult::Timeout => return Err(ProbeError::Timeout),
        gst_pbutils::DiscovererResult::MissingPlugins => {
            let missing = info.missing_elements_installer_details();
            return Err(ProbeError::Unsupported(if missing.is_empty() {
                "it needs a decoder this server lacks".into()
            } else {
                missing
                    .iter()
                    .filter_map(|d| d.split('|').nth(3).map(str::to_owned))
                    .collect::<Vec<_>>()
                    .join(", ")
            }));
        }
        other => return Err(ProbeError::Unreadable(format!("{other:?}"))),
    }
    let videos = info.video_streams();
    let has_audio = !info.audio_streams().is_empty();
    let video = videos.iter().find(|v| !v.is_image()).map(|v| {
        let rate = v.framerate();
        let frame_rate = if rate.denom() > 0 && rate.numer() > 0 {
            f64::from(rate.numer()) / f64::from(rate.denom())
        } else {
            0.0
        };
        let par = v.par();
        let orientation = [v.tags(), info.tags()]
            .into_iter()
            .flatten()
            .find_map(|tags| {
                tags.get::<gst::tags::ImageOrientation>()
                    .map(|t| Orientation::from_tag(t.get()))
            })
            .unwrap_or_default();
        VideoInfo {
            width: v.width(),
            height: v.height(),
            par: (
                u32::try_from(par.numer()).unwrap_or(1),
                u32::try_from(par.denom()).unwrap_or(1),
            ),
            frame_rate,
            interlaced: v.is_interlaced(),
            orientation,
        }
    });
    if video.is_none() && !has_audio {
        return Err(if videos.is_empty() {
            ProbeError::NoStreams
        } else {
            ProbeError::Image
        });
    }
    if video
        .as_ref()
        .is_some_and(|v| v.width == 0 || v.height == 0)
    {
        return Err(ProbeError::Unreadable("its picture has no size".into()));
    }
    let duration = info
        .duration()
        .map(|d| Duration::from_nanos(d.nseconds()))
        .filter(|d| !d.is_zero())
        .ok_or(ProbeError::NoDuration)?;
    Ok(MediaInfo {
        duration,
        video,
        has_audio,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(width: u32, height: u32) -> VideoInfo {
        VideoInfo {
            width,
            height,
            par: (1, 1),
            frame_rate: 25.0,
            interlaced: false,
            orientation: Orientation::Upright,
        }
    }

    #[test]
    fn the_display_size_turns_quarter_rotations_and_widens_non_square_pixels() {
        assert_eq!(video(1920, 1080).display_size(), (1920, 1080));
        let phone = VideoInfo {
            orientation: Orientation::from_tag("rotate-90"),
            ..video(1920, 1080)
        };
        assert_eq!(phone.display_size(), (1080, 1920));
        let upside_down = VideoInfo {
            orientation: Orientation::from_tag("rotate-180"),
            ..video(1920, 1080)
        };
        assert_eq!(upside_down.display_size(), (1920, 1080));
        // PAL 16:9 DV: 720x576 with 64:45 pixels is shown 1024 wide.
        let dv = VideoInfo {
            par: (64, 45),
            ..video(720, 576)
        };
        assert_eq!(dv.display_size(), (1024, 576));
        let dv_turned = VideoInfo {
            orientation: Orientation::Rotate270,
            ..dv
        };
        assert_eq!(dv_turned.display_size(), (576, 1024));
    }

    #[test]
    fn orientations_map_to_videoflip_directions() {
        assert_eq!(Orientation::from_tag("rotate-0"), Orientation::Upright);
        assert_eq!(Orientation::from_tag("nonsense"), Orientation::Upright);
        assert_eq!(Orientation::from_tag("rotate-90").video_direction(), "90r");
        assert_eq!(Orientation::from_tag("rotate-270").video_direction(), "90l");
        assert!(Orientation::from_tag("flip-rotate-90").swaps_sides());
        assert!(!Orientation::from_tag("flip-rotate-180").swaps_sides());
    }

    #[test]
    fn only_a_slow_read_or_the_workers_own_trouble_is_tried_again() {
        for final_error in [
            ProbeError::Empty,
            ProbeError::Unreadable("x".into()),
            ProbeError::Unsupported("x".into()),
            ProbeError::Image,
            ProbeError::NoStreams,
            ProbeError::NoDuration,
        ] {
            assert!(final_error.is_final(), "{final_error}");
        }
        assert!(!ProbeError::Timeout.is_final());
        assert!(!ProbeError::Worker("disk".into()).is_final());
    }
}
