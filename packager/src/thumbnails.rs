//! A track's pictures in storage, beside its playlists (`lectures/<id>/<version>/<track>/`):
//! the poster, the sprite sheets of the timeline thumbnails with the WebVTT file that maps the
//! timeline onto their tiles, and the chapters. As for segments and playlists, what a file
//! names is stored before the file: a sprite sheet before the `thumbnails.vtt` that lists it,
//! and everything before the report that tells the catalog.
//!
//! Pictures are not media: a store that stays away is waited out only briefly
//! (some 20 seconds), and the caller logs and carries on.

use crate::keys;
use crate::packager::{put, PackagerError, Patience, Reporter};
use crate::storage::Storage;
use crate::vtt::{self, Cue};
use bytes::Bytes;
use lectern_wire::worker::ThumbnailReport;
use std::sync::Arc;

const JPEG: &str = "image/jpeg";
const WEBVTT: &str = "text/vtt";

/// The URI of a tile of a sprite sheet, as `thumbnails.vtt` names it:
/// `sprite-<sheet>.jpg#xywh=<x>,<y>,<w>,<h>` (a media fragment, pixels).
pub fn tile_uri(sheet: u32, x: u32, y: u32, width: u32, height: u32) -> String {
    format!("{}#xywh={x},{y},{width},{height}", keys::sprite_name(sheet))
}

/// The sheet and the fragment (`xywh=…`) of a URI made by [`tile_uri`].
pub fn parse_tile_uri(uri: &str) -> Option<(u32, &str)> {
    let (name, fragment) = uri.split_once('#')?;
    let sheet = keys::parse_sprite_name(name)?;
    let xywh = fragment.strip_prefix("xywh=")?;
    let numbers = xywh.split(',');
    let well_formed =
        numbers.clone().count() == 4 && numbers.into_iter().all(|n| n.parse::<u32>().is_ok());
    well_formed.then_some((sheet, fragment))
}

/// What storage already holds of a track's pictures: a live session that resumes after a
/// break continues from it rather than overwriting sheets viewers may have cached.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredPictures {
    pub poster: bool,
    /// The cues of `thumbnails.vtt`.
    pub thumbnails: Vec<Cue>,
    /// The cues of `chapters.vtt`.
    pub chapters: Vec<Cue>,
}

impl StoredPictures {
    /// How many sprite sheets the stored thumbnails name (the highest index, plus one).
    pub fn sprites(&self) -> u32 {
        self.thumbnails
            .iter()
            .filter_map(|c| parse_tile_uri(&c.text))
            .map(|(sheet, _)| sheet + 1)
            .max()
            .unwrap_or(0)
    }
}

/// Stores the pictures of one track of one lecture version.
pub struct ThumbnailStore {
    lecture: String,
    version: String,
    track: String,
    storage: Arc<dyn Storage>,
    reporter: Arc<dyn Reporter>,
}

impl ThumbnailStore {
    /// Made by [`crate::Packager::thumbnail_store`].
    pub(crate) fn new(
        lecture: &str,
        version: &str,
        track: &str,
        storage: Arc<dyn Storage>,
        reporter: Arc<dyn Reporter>,
    ) -> Self {
        ThumbnailStore {
            lecture: lecture.to_owned(),
            version: version.to_owned(),
            track: track.to_owned(),
            storage,
            reporter,
        }
    }

    /// The lecture the pictures belong to.
    pub fn lecture(&self) -> &str {
        &self.lecture
    }

    /// The track the pictures are of.
    pub fn track(&self) -> &str {
        &self.track
    }

    fn key(&self, name: &str) -> String {
        keys::track_file(&self.lecture, &self.version, &self.track, name)
    }

    /// What is stored already; a WebVTT file that is not one of ours is an error rather than
    /// something to overwrite.
    pub async fn stored(&self) -> Result<StoredPictures, PackagerError> {
        let read = |key: String| async move {
            self.storage
                .get(&key)
                .await
                .map_err(|source| PackagerError::Read {
                    key: key.clone(),
                    source,
                })
                .map(|body| (key, body))
        };
        let cues = |(key, body): (String, Option<Bytes>)| match body {
            None => Ok(Vec::new()),
            Some(body) => std::str::from_utf8(&body)
                .ok()
                .and_then(vtt::parse)
                .ok_or(PackagerError::ForeignPlaylist { key }),
        };
        let (_, poster) = read(self.key(keys::POSTER)).await?;
        Ok(StoredPictures {
            poster: poster.is_some(),
            thumbnails: cues(read(self.key(keys::THUMBNAILS)).await?)?,
            chapters: cues(read(self.key(keys::CHAPTERS)).await?)?,
        })
    }

    /// Stores the poster.
    pub async fn put_poster(&self, jpeg: Bytes) -> Result<(), PackagerError> {
        self.put(keys::POSTER, jpeg, JPEG).await
    }

    /// Stores sprite sheet `sheet`, then `thumbnails.vtt` with `cues` (which name it).
    pub async fn put_sprite(
        &self,
        sheet: u32,
        jpeg: Bytes,
        cues: &[Cue],
    ) -> Result<(), PackagerError> {
        self.put(&keys::sprite_name(sheet), jpeg, JPEG).await?;
        self.put(keys::THUMBNAILS, vtt::render(cues).into(), WEBVTT)
            .await
    }

    /// Stores `chapters.vtt` with `cues`.
    pub async fn put_chapters(&self, cues: &[Cue]) -> Result<(), PackagerError> {
        self.put(keys::CHAPTERS, vtt::render(cues).into(), WEBVTT)
            .await
    }

    /// Tells the catalog what is stored (call it after the objects are).
    pub async fn report(&self, report: &ThumbnailReport) -> Result<(), PackagerError> {
        self.reporter
            .thumbnails(&self.lecture, report)
            .await
            .map_err(PackagerError::Report)
    }

    async fn put(&self, name: &str, body: Bytes, content_type: &str) -> Result<(), PackagerError> {
        let key = self.key(name);
        put(&*self.storage, &key, body, content_type, Patience::Brief).await
    }
}

impl std::fmt::Debug for ThumbnailStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThumbnailStore")
            .field("lecture", &self.lecture)
            .field("version", &self.version)
            .field("track", &self.track)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::LocalDir;
    use crate::{NoCatalog, Packager};

    #[test]
    fn tile_uris_round_trip_and_others_are_refused() {
        let uri = tile_uri(3, 160, 90, 160, 90);
        assert_eq!(uri, "sprite-3.jpg#xywh=160,90,160,90");
        assert_eq!(parse_tile_uri(&uri), Some((3, "xywh=160,90,160,90")));
        for bad in [
            "sprite-3.jpg",
            "sprite-3.jpg#xywh=1,2,3",
            "sprite-3.jpg#xywh=1,2,3,x",
            "sprite-03.jpg#xywh=1,2,3,4",
            "../x.jpg#xywh=1,2,3,4",
            "Slide 1",
        ] {
            assert_eq!(parse_tile_uri(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn sheets_are_stored_before_the_file_that_names_them_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(LocalDir::new(dir.path()));
        let packager = Packager::with_version("lec", "v2", storage.clone(), Arc::new(NoCatalog));
        let store = packager.thumbnail_store("screen");
        assert_eq!(store.stored().await.unwrap(), StoredPictures::default());

        let cues = vec![Cue {
            start: 0.0,
            end: 5.0,
            text: tile_uri(0, 0, 0, 160, 90),
        }];
        store
            .put_sprite(0, Bytes::from_static(b"jpeg"), &cues)
            .await
            .unwrap();
        store.put_poster(Bytes::from_static(b"jpeg")).await.unwrap();
        let sheet = dir.path().join("lectures/lec/v2/screen/sprite-0.jpg");
        assert_eq!(std::fs::read(sheet).unwrap(), b"jpeg");
        let stored = store.stored().await.unwrap();
        assert!(stored.poster);
        assert_eq!(stored.thumbnails, cues);
        assert_eq!(stored.sprites(), 1);
        assert!(stored.chapters.is_empty());
    }

    #[tokio::test]
    async fn a_foreign_webvtt_file_is_an_error_not_something_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(LocalDir::new(dir.path()));
        storage
            .put(
                "lectures/lec/v1/screen/chapters.vtt",
                Bytes::from_static(b"garbage"),
                WEBVTT,
            )
            .await
            .unwrap();
        let packager = Packager::new("lec", storage, Arc::new(NoCatalog));
        let err = packager
            .thumbnail_store("screen")
            .stored()
            .await
            .unwrap_err();
        assert!(
            matches!(err, PackagerError::ForeignPlaylist { .. }),
            "{err}"
        );
    }
}
