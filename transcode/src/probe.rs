//! What an uploaded file holds, asked of GStreamer's Discoverer before anything is encoded, so
//! a file that is not media, is empty or is cut short fails with a sentence a person
//! understands instead of a pipeline error.

use std::path::Path;
use std::time::Duration;

/// How long the Discoverer may take to read a file's headers.
const DISCOVER_TIMEOUT: Duration = Duration::from_secs(15);

/// What a readable media file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    /// The file's duration.
    pub duration: Duration,
    pub has_video: bool,
    pub has_audio: bool,
}

/// Why a file cannot become a lecture. The messages are shown to staff as they are.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProbeError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is not a video or audio file GStreamer can read (it may be damaged or incomplete): {0}")]
    Unreadable(String),
    #[error("The file is a still image, not a video or audio file.")]
    Image,
    #[error("The file is not a video or audio file GStreamer can read: it holds no video or audio stream.")]
    NoStreams,
    #[error("The file's video or audio has no length (it may be damaged or incomplete).")]
    NoDuration,
}

/// Reads `path`'s headers (and, where the container needs it, its index) with the Discoverer.
/// Blocking: call it from a blocking task.
pub fn probe(path: &Path) -> Result<MediaInfo, ProbeError> {
    let size = std::fs::metadata(path)
        .map_err(|e| ProbeError::Unreadable(e.to_string()))?
        .len();
    if size == 0 {
        return Err(ProbeError::Empty);
    }
    let uri = gst::glib::filename_to_uri(path, None)
        .map_err(|e| ProbeError::Unreadable(e.to_string()))?;
    let timeout = gst::ClockTime::from_nseconds(DISCOVER_TIMEOUT.as_nanos() as u64);
    let discoverer = gst_pbutils::Discoverer::new(timeout)
        .map_err(|e| ProbeError::Unreadable(format!("the Discoverer did not start: {e}")))?;
    let info = discoverer
        .discover_uri(&uri)
        .map_err(|e| ProbeError::Unreadable(e.message().to_owned()))?;
    // A timeout or a missing decoder comes back as an info whose result says so.
    match info.result() {
        gst_pbutils::DiscovererResult::Ok => {}
        gst_pbutils::DiscovererResult::Timeout => {
            return Err(ProbeError::Unreadable(
                "GStreamer took too long to read it".into(),
            ))
        }
        gst_pbutils::DiscovererResult::MissingPlugins => {
            return Err(ProbeError::Unreadable(
                "it needs a decoder this server lacks".into(),
            ))
        }
        other => return Err(ProbeError::Unreadable(format!("{other:?}"))),
    }
    let video = info.video_streams();
    let has_audio = !info.audio_streams().is_empty();
    let has_video = video.iter().any(|v| !v.is_image());
    if !has_video && !has_audio {
        return Err(if video.is_empty() {
            ProbeError::NoStreams
        } else {
            ProbeError::Image
        });
    }
    let duration = info
        .duration()
        .map(|d| Duration::from_nanos(d.nseconds()))
        .filter(|d| !d.is_zero())
        .ok_or(ProbeError::NoDuration)?;
    Ok(MediaInfo {
        duration,
        has_video,
        has_audio,
    })
}
