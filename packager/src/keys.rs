//! Object keys: the one place that knows where each object of a lecture is stored.

/// The version directory of a lecture's media. A repaired copy gets a new version so the
/// switch from the live copy is atomic.
pub const FIRST_VERSION: &str = "v1";

/// `lectures/<lecture>/<version>/<track>/<rung>/<sequence>.ts`
pub fn segment(lecture: &str, version: &str, track: &str, rung: &str, sequence: u64) -> String {
    format!("lectures/{lecture}/{version}/{track}/{rung}/{sequence}.ts")
}

/// `lectures/<lecture>/<version>/<track>/<rung>/index.m3u8`
pub fn media_playlist(lecture: &str, version: &str, track: &str, rung: &str) -> String {
    format!("lectures/{lecture}/{version}/{track}/{rung}/index.m3u8")
}

/// `lectures/<lecture>/<version>/<track>/master.m3u8`
pub fn master_playlist(lecture: &str, version: &str, track: &str) -> String {
    format!("lectures/{lecture}/{version}/{track}/master.m3u8")
}

/// A track's poster, beside its master playlist (no rung is named with a dot, so the names
/// of a track's pictures never meet a rung's directory).
pub const POSTER: &str = "poster.jpg";
/// A track's timeline thumbnails: WebVTT cues onto tiles of its sprite sheets.
pub const THUMBNAILS: &str = "thumbnails.vtt";
/// A track's chapters (slide changes), as WebVTT.
pub const CHAPTERS: &str = "chapters.vtt";

/// `sprite-<index>.jpg`: a sprite sheet of timeline thumbnails, numbered from 0.
pub fn sprite_name(index: u32) -> String {
    format!("sprite-{index}.jpg")
}

/// The index of a name made by [`sprite_name`] (no sign, no leading zeros, no other form).
pub fn parse_sprite_name(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("sprite-")?.strip_suffix(".jpg")?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    canonical.then(|| digits.parse().ok()).flatten()
}

/// `lectures/<lecture>/<version>/<track>/<name>`: a picture or WebVTT file of a track
/// ([`POSTER`], [`THUMBNAILS`], [`CHAPTERS`], [`sprite_name`]).
pub fn track_file(lecture: &str, version: &str, track: &str, name: &str) -> String {
    format!("lectures/{lecture}/{version}/{track}/{name}")
}

/// `lectures/<lecture>`: every version of a lecture's media lies below it.
pub fn lecture_prefix(lecture: &str) -> String {
    format!("lectures/{lecture}")
}

/// `lectures/<lecture>/<version>`: one version of a lecture's media.
pub fn version_prefix(lecture: &str, version: &str) -> String {
    format!("lectures/{lecture}/{version}")
}

/// `<job>-a<attempt>`: the media version attempt `attempt` of job `job` writes. Each attempt
/// has its own, so a re-run never mixes with what a dead attempt stored, and what that one
/// stored can be found and deleted.
pub fn attempt_version(job: &str, attempt: u32) -> String {
    format!("{job}-a{attempt}")
}

/// `raw/<recording>`: every raw chunk of a recording lies below it.
pub fn raw_prefix(recording: &str) -> String {
    format!("raw/{recording}")
}

/// `raw/<recording>/<track>/<index:05>.ts`: a chunk of a capture box's spool, as uploaded
/// (the same five-digit name as on the box, so keys sort in recording order).
pub fn raw_chunk(recording: &str, track: &str, index: u32) -> String {
    format!("raw/{recording}/{track}/{index:05}.ts")
}

/// `uploads/<lecture>`: the file a person uploaded to become the lecture lies below it.
pub fn upload_prefix(lecture: &str) -> String {
    format!("uploads/{lecture}")
}

/// `uploads/<lecture>/source`: the uploaded file as it came, whatever its container (the
/// worker probes it; a name from the uploader never reaches a key).
pub fn upload_source(lecture: &str) -> String {
    format!("uploads/{lecture}/source")
}

/// `uploads/<lecture>/staging`: the bytes of a resumable upload received so far lie below it
/// until they become [`upload_source`].
pub fn upload_staging_prefix(lecture: &str) -> String {
    format!("uploads/{lecture}/staging")
}

/// `uploads/<lecture>/staging/received`: where storage is a local directory, the bytes of a
/// resumable upload received so far, as one file (renamed to [`upload_source`] when whole).
pub fn upload_staged_file(lecture: &str) -> String {
    format!("uploads/{lecture}/staging/received")
}

/// `uploads/<lecture>/staging/tail-<end>`: where storage is S3, the bytes of a resumable
/// upload after its last whole multipart part, up to byte `end` (S3 takes no part but the
/// last below 5 MiB, so a cut-off upload keeps its remainder here until it grows a part).
pub fn upload_staged_tail(lecture: &str, end: u64) -> String {
    format!("uploads/{lecture}/staging/tail-{end}")
}

/// True for a name that may stand as one path component of a key: ASCII letters, digits,
/// `-` and `_`, not empty. Everything that reaches a key from outside is checked with this.
pub fn is_safe_component(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_documented_layout() {
        assert_eq!(
            segment("l1", "v1", "presenter", "720p", 7),
            "lectures/l1/v1/presenter/720p/7.ts"
        );
        assert_eq!(
            media_playlist("l1", "v1", "presenter", "720p"),
            "lectures/l1/v1/presenter/720p/index.m3u8"
        );
        assert_eq!(raw_chunk("r1", "presenter", 7), "raw/r1/presenter/00007.ts");
        assert_eq!(upload_source("l1"), "uploads/l1/source");
        assert_eq!(upload_staged_file("l1"), "uploads/l1/staging/received");
        assert_eq!(upload_staged_tail("l1", 7), "uploads/l1/staging/tail-7");
        assert_eq!(
            master_playlist("l1", "v1", "presenter"),
            "lectures/l1/v1/presenter/master.m3u8"
        );
        assert_eq!(
            version_prefix("l1", &attempt_version("j1", 2)),
            "lectures/l1/j1-a2"
        );
    }

    #[test]
    fn sprite_names_round_trip_and_nothing_else_parses() {
        assert_eq!(
            track_file("l1", "v1", "screen", &sprite_name(12)),
            "lectures/l1/v1/screen/sprite-12.jpg"
        );
        assert_eq!(parse_sprite_name(&sprite_name(0)), Some(0));
        assert_eq!(parse_sprite_name(&sprite_name(12)), Some(12));
        for bad in [
            "sprite-.jpg",
            "sprite-01.jpg",
            "sprite-+1.jpg",
            "sprite--1.jpg",
            "sprite-1.jpeg",
            "sprite-99999999999.jpg",
            "poster.jpg",
        ] {
            assert_eq!(parse_sprite_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn unsafe_components_are_refused() {
        for bad in ["", "..", "a/b", "a b", "é", &"x".repeat(65)] {
            assert!(!is_safe_component(bad), "{bad:?}");
        }
        assert!(is_safe_component("720p"));
    }
}
