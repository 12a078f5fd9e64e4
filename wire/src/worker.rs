//! What a transcode worker and the catalog say to each other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// `POST /api/v1/worker/register`: the worker is up and takes live sessions, one per
/// port of `srt_ports`, at `srt_host`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterWorker {
    /// The host name or IP address capture boxes reach the worker's SRT listeners at.
    pub srt_host: String,
    /// The first and last UDP port (inclusive) the worker opens listeners on.
    pub srt_ports: [u16; 2],
}

/// One entry of `GET /api/v1/worker/sessions`: a capturing lecture assigned to this worker,
/// to be received on its own listener port.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveSession {
    pub lecture_id: String,
    /// The UDP port of the worker's range this session listens on.
    pub port: u16,
    /// The only `streamid`s the listener accepts (see [`StreamId`]).
    pub stream_ids: Vec<String>,
    /// The SRT passphrase (AES, `pbkeylen` 32) the listener requires: a secret, never
    /// logged (the `Debug` output hides it).
    pub passphrase: String,
}

impl fmt::Debug for LiveSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveSession")
            .field("lecture_id", &self.lecture_id)
            .field("port", &self.port)
            .field("stream_ids", &self.stream_ids)
            .field("passphrase", &"<hidden>")
            .finish()
    }
}

/// `POST /api/v1/worker/lectures/{id}/renditions`: a rendition of one track exists.
/// Sent before its first segment; sending it again updates it (e.g. a truer bandwidth).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenditionReport {
    pub track: String,
    /// The rung's name, e.g. `720p`; also its directory in storage.
    pub rung: String,
    pub width: u32,
    pub height: u32,
    /// Peak bits per second over the segments so far.
    pub bandwidth: u64,
    /// The RFC 6381 codecs string, e.g. `avc1.64001f,mp4a.40.2`.
    pub codecs: String,
    pub frame_rate: f64,
}

/// `POST /api/v1/worker/lectures/{id}/segments`: a segment is stored (sent only after its
/// upload succeeded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentReport {
    pub track: String,
    pub rung: String,
    /// Position in the rendition, from 0; also the object's name (`<sequence>.ts`).
    pub sequence: u64,
    pub duration: f64,
    /// Wall-clock instant of the segment's first frame at the capture box.
    pub program_date_time: DateTime<Utc>,
    /// True when the stream broke before this segment.
    pub discontinuity: bool,
    pub bytes: u64,
}

/// `POST /api/v1/worker/lectures/{id}/thumbnails`: what a track's pictures are in storage,
/// below `lectures/<id>/<version>/<track>/`: `poster.jpg`, the sprite sheets `sprite-<n>.jpg`
/// (`n` from 0) that `thumbnails.vtt` maps the timeline onto, and `chapters.vtt` (slide
/// changes). Sent only after those objects are stored; each report replaces the track's last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThumbnailReport {
    pub track: String,
    /// `poster.jpg` is stored.
    pub poster: bool,
    /// How many sprite sheets are stored (`sprite-0.jpg` to `sprite-<sprites - 1>.jpg`);
    /// `thumbnails.vtt` is stored when there is at least one.
    #[serde(default)]
    pub sprites: u32,
    /// How many chapters `chapters.vtt` lists; it is stored when there is at least one.
    #[serde(default)]
    pub chapters: u32,
}

/// `POST /api/v1/worker/lectures/{id}/finish`: the live input ended and every segment is
/// reported; the lecture can become on-demand.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FinishLecture {
    /// A message a person understands when the session failed.
    pub error: Option<String>,
}

/// The SRT `streamid` a box presents: `lectern:<lecture-id>:<track>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamId {
    pub lecture_id: String,
    pub track: String,
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lectern:{}:{}", self.lecture_id, self.track)
    }
}

/// A `streamid` that is not `lectern:<lecture-id>:<track>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadStreamId(pub String);

impl fmt::Display for BadStreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "streamid {:?} is not of the form lectern:<lecture-id>:<track>",
            self.0
        )
    }
}

impl std::error::Error for BadStreamId {}

impl FromStr for StreamId {
    type Err = BadStreamId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadStreamId(s.to_owned());
        let rest = s.strip_prefix("lectern:").ok_or_else(bad)?;
        let (lecture_id, track) = rest.split_once(':').ok_or_else(bad)?;
        let is_name = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !is_name(lecture_id) || !is_name(track) {
            return Err(bad());
        }
        Ok(StreamId {
            lecture_id: lecture_id.to_owned(),
            track: track.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_id_round_trips() {
        let id = StreamId {
            lecture_id: "abc-1".into(),
            track: "presenter".into(),
        };
        assert_eq!(id.to_string().parse::<StreamId>().unwrap(), id);
    }

    #[test]
    fn stream_id_refuses_other_shapes() {
        for bad in [
            "",
            "lectern:",
            "lectern:a",
            "other:a:b",
            "lectern:a:b:c",
            "lectern:../x:y",
        ] {
            assert!(bad.parse::<StreamId>().is_err(), "{bad} was accepted");
        }
    }
}
