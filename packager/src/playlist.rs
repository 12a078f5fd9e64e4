//! Master and media playlists, rendered with m3u8-rs. Pure: rows in, bytes out. The packager
//! writes the canonical copies to storage with plain URIs; the catalog renders the copies a
//! viewer receives with a token on every URI, from the same functions.

use chrono::{DateTime, Utc};
use lectern_wire::worker::{RenditionReport, SegmentReport};
use m3u8_rs::{
    MasterPlaylist, MediaPlaylist, MediaPlaylistType, MediaSegment, Resolution, VariantStream,
};

/// The HLS version our playlists need (EXT-X-PROGRAM-DATE-TIME, decimal durations).
const VERSION: usize = 3;

/// What a media playlist needs to know about one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentEntry {
    pub sequence: u64,
    pub duration: f64,
    pub program_date_time: DateTime<Utc>,
    pub discontinuity: bool,
}

impl From<&SegmentReport> for SegmentEntry {
    fn from(s: &SegmentReport) -> Self {
        SegmentEntry {
            sequence: s.sequence,
            duration: s.duration,
            program_date_time: s.program_date_time,
            discontinuity: s.discontinuity,
        }
    }
}

/// The master playlist of one track: a variant per rendition, highest bandwidth first.
/// `uri` names each rendition's media playlist. A rendition without a picture (width or
/// height 0: sound alone) has no `RESOLUTION` and no `FRAME-RATE`, so players take it for
/// the audio-only variant its `CODECS` says it is.
pub fn master(renditions: &[RenditionReport], uri: impl Fn(&RenditionReport) -> String) -> Vec<u8> {
    let mut sorted: Vec<&RenditionReport> = renditions.iter().collect();
    sorted.sort_by_key(|r| std::cmp::Reverse(r.bandwidth));
    let playlist = MasterPlaylist {
        version: Some(VERSION),
        independent_segments: true,
        variants: sorted
            .into_iter()
            .map(|r| VariantStream {
                uri: uri(r),
                bandwidth: r.bandwidth.max(1),
                codecs: Some(r.codecs.clone()),
                resolution: (r.width > 0 && r.height > 0).then(|| Resolution {
                    width: r.width.into(),
                    height: r.height.into(),
                }),
                frame_rate: (r.width > 0 && r.height > 0 && r.frame_rate > 0.0)
                    .then_some(r.frame_rate),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let mut out = Vec::new();
    playlist
        .write_to(&mut out)
        .expect("writing to a Vec cannot fail");
    out
}

/// A media playlist. Live (`ended == false`) it is an `EVENT` playlist a viewer can seek back
/// through to the start; ended, `EXT-X-ENDLIST` makes the same segments the on-demand copy.
/// Segments must be in sequence order; `uri` names each one.
pub fn media(
    segments: &[SegmentEntry],
    ended: bool,
    uri: impl Fn(&SegmentEntry) -> String,
) -> Vec<u8> {
    let longest = segments.iter().map(|s| s.duration).fold(0.0_f64, f64::max);
    let playlist = MediaPlaylist {
        version: Some(VERSION),
        // EXT-X-TARGETDURATION is an integer no segment may exceed once rounded.
        target_duration: (longest.round() as u64).max(1),
        media_sequence: segments.first().map_or(0, |s| s.sequence),
        playlist_type: Some(if ended {
            MediaPlaylistType::Vod
        } else {
            MediaPlaylistType::Event
        }),
        end_list: ended,
        independent_segments: true,
        segments: segments
            .iter()
            .map(|s| MediaSegment {
                uri: uri(s),
                duration: s.duration as f32,
                discontinuity: s.discontinuity,
                program_date_time: Some(s.program_date_time.fixed_offset()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let mut out = Vec::new();
    playlist
        .write_to(&mut out)
        .expect("writing to a Vec cannot fail");
    out
}

/// The segments of a media playlist this module wrote (segment URIs `<sequence>.ts`), so a
/// packager can resume a rendition after its stream broke. `None` when the text is not such a
/// playlist.
pub fn parse_media(text: &[u8]) -> Option<Vec<SegmentEntry>> {
    let playlist = m3u8_rs::parse_media_playlist_res(text).ok()?;
    playlist
        .segments
        .iter()
        .map(|s| {
            Some(SegmentEntry {
                sequence: s.uri.strip_suffix(".ts")?.parse().ok()?,
                duration: f64::from(s.duration),
                program_date_time: s.program_date_time?.with_timezone(&Utc),
                discontinuity: s.discontinuity,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn segment(sequence: u64, duration: f64) -> SegmentEntry {
        SegmentEntry {
            sequence,
            duration,
            program_date_time: Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
                + chrono::Duration::milliseconds((sequence * 2000) as i64),
            discontinuity: sequence == 2,
        }
    }

    fn rendition(rung: &str, height: u32, bandwidth: u64) -> RenditionReport {
        RenditionReport {
            track: "presenter".into(),
            rung: rung.into(),
            width: height * 16 / 9,
            height,
            bandwidth,
            codecs: "avc1.64001f,mp4a.40.2".into(),
            frame_rate: 30.0,
        }
    }

    #[test]
    fn live_media_playlist_is_an_event_without_endlist() {
        let text = String::from_utf8(media(&[segment(0, 2.0), segment(1, 2.0)], false, |s| {
            format!("{}.ts", s.sequence)
        }))
        .unwrap();
        assert!(text.contains("#EXT-X-PLAYLIST-TYPE:EVENT"), "{text}");
        assert!(!text.contains("#EXT-X-ENDLIST"), "{text}");
        assert!(
            text.contains("#EXT-X-PROGRAM-DATE-TIME:2026-11-24T09:00:02"),
            "{text}"
        );
        assert!(text.contains("1.ts"), "{text}");
    }

    #[test]
    fn ended_media_playlist_is_vod_with_endlist_and_marks_discontinuities() {
        let segments = [segment(0, 2.0), segment(1, 2.0), segment(2, 2.6)];
        let text = String::from_utf8(media(&segments, true, |s| {
            format!("{}.ts?token=t", s.sequence)
        }))
        .unwrap();
        assert!(text.contains("#EXT-X-ENDLIST"), "{text}");
        assert!(text.contains("#EXT-X-PLAYLIST-TYPE:VOD"), "{text}");
        assert!(text.contains("#EXT-X-TARGETDURATION:3"), "{text}");
        assert_eq!(text.matches("#EXT-X-DISCONTINUITY\n").count(), 1, "{text}");
        assert!(text.contains("2.ts?token=t"), "{text}");
        let parsed = m3u8_rs::parse_media_playlist_res(text.as_bytes()).unwrap();
        assert_eq!(parsed.segments.len(), 3);
    }

    #[test]
    fn a_written_media_playlist_parses_back_to_its_segments() {
        let segments = [segment(0, 2.0), segment(1, 2.0), segment(2, 1.5)];
        let text = media(&segments, true, |s| format!("{}.ts", s.sequence));
        assert_eq!(parse_media(&text).unwrap(), segments);
        assert_eq!(parse_media(b"not a playlist"), None);
    }

    #[test]
    fn a_rendition_of_sound_alone_has_no_resolution_or_frame_rate() {
        let audio = RenditionReport {
            track: "main".into(),
            rung: "audio".into(),
            width: 0,
            height: 0,
            bandwidth: 131_000,
            codecs: "mp4a.40.2".into(),
            frame_rate: 0.0,
        };
        let text =
            String::from_utf8(master(&[audio], |r| format!("{}/index.m3u8", r.rung))).unwrap();
        assert!(
            text.contains(
                "#EXT-X-STREAM-INF:BANDWIDTH=131000,CODECS=\"mp4a.40.2\"\naudio/index.m3u8"
            ),
            "{text}"
        );
        assert!(!text.contains("RESOLUTION"), "{text}");
        assert!(!text.contains("FRAME-RATE"), "{text}");
        let parsed = m3u8_rs::parse_master_playlist_res(text.as_bytes()).unwrap();
        assert_eq!(parsed.variants.len(), 1);
        assert_eq!(parsed.variants[0].resolution, None);
    }

    #[test]
    fn master_lists_renditions_highest_first_with_codecs_and_resolution() {
        let text = String::from_utf8(master(
            &[
                rendition("360p", 360, 900_000),
                rendition("720p", 720, 3_000_000),
            ],
            |r| format!("{}/index.m3u8", r.rung),
        ))
        .unwrap();
        let first = text.find("720p/index.m3u8").unwrap();
        let second = text.find("360p/index.m3u8").unwrap();
        assert!(first < second, "{text}");
        assert!(text.contains("BANDWIDTH=3000000"), "{text}");
        assert!(text.contains("RESOLUTION=1280x720"), "{text}");
        assert!(text.contains("CODECS=\"avc1.64001f,mp4a.40.2\""), "{text}");
    }
}
