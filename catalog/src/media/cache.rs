//! Rendered playlists kept in memory, so that the common request (a viewer's player polling a
//! media playlist) is answered without the database: a token check, a lookup and one copy.
//!
//! **What is kept.** Master and media playlists, each rendered once as a [`Template`] with a
//! hole wherever a URI takes the token and filled with each viewer's token per request, so
//! what a viewer gets is byte for byte what rendering with their token gives. The token is
//! checked on every request before the cache is asked: access is the token's (checked when
//! playback was handed out), and nothing about access is kept here. Refusals (no such
//! lecture, nothing to play) are not kept. At most [`BUDGET`] bytes, the least recently
//! stored first out: a playlist in use is stored again at least once a lifetime, so that is
//! nearly least recently used, and a hit only takes a read lock.
//!
//! **When it is current.** The key is the lecture and the playlist, not the lecture's media
//! version or trim points: reading those per request is the database round trip this cache
//! exists to save. Instead, an entry remembers a [`Mark`] of the media change clock
//! ([`crate::store::changes`]) taken *before* its rows were read, and is served only while
//!
//! - no change to its lecture was recorded after the mark. Every store write that changes what
//!   a playlist lists records the change after it commits and before the request that made it
//!   is answered: trim (any settings write), deletion, segment and rendition reports, the end
//!   of a recording, a job's completion (a new media version) or last failure. So a trimmed-away
//!   segment is never listed again once the PATCH has answered, and a deleted lecture's
//!   playlists are 404 at once; and
//! - it is younger than its lifetime: [`ENDED_LIFETIME`] for a `ready` or `failed` lecture
//!   (immutable until someone trims, deletes or reprocesses it, all recorded), and
//!   [`LIVE_LIFETIME`] for one still `capturing` or `processing`. A live playlist changes with
//!   every segment, and each segment report records a change, so on the replica that took the
//!   report the next request lists it; the short lifetime bounds what a replica could miss.
//!   Live playlists are kept at all because every viewer's player polls every rendition once a
//!   target duration: a popular live lecture is exactly where the database round trips add up,
//!   and 500 ms is a quarter of a segment, small beside the ~3 target durations players stay
//!   behind the live edge.
//!
//! Unpublishing needs nothing: a token handed out before stays good until it expires, for the
//! playlists as for the segments (it records a change anyway, as every settings write does).
//!
//! **Replicas.** Each catalog process has its own cache. On SQLite there is one process and
//! it records every change itself. On PostgreSQL every change is also announced to the other
//! replicas (`NOTIFY`), which record it when it arrives, a few milliseconds after the writer
//! answered; while a replica is not listening it keeps nothing, and when it listens again it
//! forgets everything read before. The lifetimes bound whatever slips through regardless (a
//! dead connection not yet noticed, a lost announcement, a write path that forgot to record):
//! 500 ms live, 10 s ended.

use lru::LruCache;
use std::sync::{Arc, PoisonError, RwLock, RwLockWriteGuard};
use std::time::{Duration, Instant};

use super::template::Template;
use crate::store::changes::{Mark, MediaChanges};

/// The most the cache holds, in bytes of rendered text (about 200 two-hour media playlists
/// of 2 s segments, or thousands of short ones). A playlist over a sixteenth of it is
/// rendered per request rather than crowding out the rest.
pub const BUDGET: usize = 64 * 1024 * 1024;
/// How long a playlist of a lecture that is still live is served from memory at most.
pub const LIVE_LIFETIME: Duration = Duration::from_millis(500);
/// How long a playlist of an ended lecture is served from memory at most.
pub const ENDED_LIFETIME: Duration = Duration::from_secs(10);
/// What an entry costs beside its text (key, bookkeeping), roughly.
const OVERHEAD: usize = 128;

/// Which playlist of a lecture (or WebVTT file: kept the same way, see `pictures`).
#[derive(Clone, Copy, Debug)]
pub enum Playlist<'a> {
    Master,
    Media {
        track: &'a str,
        rung: &'a str,
    },
    /// A WebVTT file of a track (`thumbnails.vtt`, `chapters.vtt`).
    Cues {
        track: &'a str,
        name: &'a str,
    },
}

impl Playlist<'_> {
    /// The `Content-Type` it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Playlist::Master | Playlist::Media { .. } => "application/vnd.apple.mpegurl",
            Playlist::Cues { .. } => "text/vtt; charset=utf-8",
        }
    }
}

/// The cache of one catalog process.
#[derive(Debug)]
pub struct PlaylistCache {
    changes: Arc<MediaChanges>,
    budget: usize,
    entries: RwLock<Entries>,
}

#[derive(Debug)]
struct Entries {
    lru: LruCache<String, Entry>,
    /// The summed weight of the entries.
    weight: usize,
}

#[derive(Debug)]
struct Entry {
    template: Arc<Template>,
    /// Taken before the rows it was rendered from were read.
    mark: Mark,
    expires: Instant,
    weight: usize,
}

/// One key per lecture and playlist; the length prefix keeps any lecture id apart from the
/// names after it.
fn key(lecture: &str, playlist: Playlist<'_>) -> String {
    match playlist {
        Playlist::Master => format!("{}:{lecture}", lecture.len()),
        Playlist::Media { track, rung } => format!("{}:{lecture}/{track}/{rung}", lecture.len()),
        // A rung has no dot in its name, a WebVTT file has: the two never share a key.
        Playlist::Cues { track, name } => format!("{}:{lecture}/{track}/{name}", lecture.len()),
    }
}

impl PlaylistCache {
    /// An empty cache whose entries hold while `changes` says their lecture did not change.
    pub fn new(changes: Arc<MediaChanges>) -> PlaylistCache {
        PlaylistCache::with_budget(changes, BUDGET)
    }

    fn with_budget(changes: Arc<MediaChanges>, budget: usize) -> PlaylistCache {
        PlaylistCache {
            changes,
            budget,
            entries: RwLock::new(Entries {
                lru: LruCache::unbounded(),
                weight: 0,
            }),
        }
    }

    fn entries(&self) -> RwLockWriteGuard<'_, Entries> {
        // Consistent after every statement: a panic elsewhere cannot break it.
        self.entries.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The playlist as kept, if it is still current. (One that is not stays until the next
    /// [`PlaylistCache::put`] replaces it or the budget pushes it out.)
    pub fn get(&self, lecture: &str, playlist: Playlist<'_>) -> Option<Arc<Template>> {
        let key = key(lecture, playlist);
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.lru.peek(&key)?;
        let current =
            entry.expires > Instant::now() && self.changes.unchanged_since(lecture, entry.mark);
        current.then(|| Arc::clone(&entry.template))
    }

    /// Now on the change clock, to be taken before reading what a playlist is rendered from;
    /// `None` when nothing read now may be kept.
    pub fn mark(&self) -> Option<Mark> {
        self.changes.mark()
    }

    /// Keeps `template` of `lecture`, read after `mark`, for `lifetime` at most, unless the
    /// lecture changed since or it is too large.
    pub fn put(
        &self,
        lecture: &str,
        playlist: Playlist<'_>,
        mark: Mark,
        template: Arc<Template>,
        lifetime: Duration,
    ) {
        let key = key(lecture, playlist);
        let weight = template.weight() + key.len() + OVERHEAD;
        if weight > self.budget / 16 || !self.changes.unchanged_since(lecture, mark) {
            return;
        }
        let entry = Entry {
            template,
            mark,
            expires: Instant::now() + lifetime,
            weight,
        };
        let mut entries = self.entries();
        if let Some(replaced) = entries.lru.put(key, entry) {
            entries.weight -= replaced.weight;
        }
        entries.weight += weight;
        while entries.weight > self.budget {
            let Some((_, evicted)) = entries.lru.pop_lru() else {
                break;
            };
            entries.weight -= evicted.weight;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LECTURE: &str = "lecture-a";
    const MEDIA: Playlist<'static> = Playlist::Media {
        track: "presenter",
        rung: "720p",
    };

    fn template(text: &str) -> Arc<Template> {
        let template = Template::render(1, |token| format!("{text}?token={token}").into_bytes());
        Arc::new(template.unwrap())
    }

    fn cache() -> (PlaylistCache, Arc<MediaChanges>) {
        let changes = Arc::new(MediaChanges::new(true));
        (PlaylistCache::new(Arc::clone(&changes)), changes)
    }

    fn kept(cache: &PlaylistCache, lecture: &str, playlist: Playlist<'_>) -> Option<Vec<u8>> {
        cache.get(lecture, playlist).map(|t| t.fill("t"))
    }

    #[test]
    fn a_playlist_is_kept_until_its_lecture_changes() {
        let (cache, changes) = cache();
        let mark = cache.mark().unwrap();
        cache.put(LECTURE, MEDIA, mark, template("0.ts"), ENDED_LIFETIME);
        cache.put(
            LECTURE,
            Playlist::Master,
            mark,
            template("m"),
            ENDED_LIFETIME,
        );
        cache.put("lecture-b", MEDIA, mark, template("b.ts"), ENDED_LIFETIME);
        assert_eq!(kept(&cache, LECTURE, MEDIA).unwrap(), b"0.ts?token=t");
        assert_eq!(
            kept(&cache, LECTURE, Playlist::Master).unwrap(),
            b"m?token=t"
        );
        let other = Playlist::Media {
            track: "presenter",
            rung: "360p",
        };
        assert_eq!(kept(&cache, LECTURE, other), None, "another rendition");
        changes.record(LECTURE);
        assert_eq!(kept(&cache, LECTURE, MEDIA), None);
        assert_eq!(kept(&cache, LECTURE, Playlist::Master), None);
        assert!(
            kept(&cache, "lecture-b", MEDIA).is_some(),
            "another lecture"
        );
    }

    #[test]
    fn what_was_read_before_a_change_is_not_kept() {
        let (cache, changes) = cache();
        let mark = cache.mark().unwrap();
        changes.record(LECTURE);
        cache.put(LECTURE, MEDIA, mark, template("old"), ENDED_LIFETIME);
        assert_eq!(kept(&cache, LECTURE, MEDIA), None);
    }

    #[test]
    fn a_playlist_is_kept_no_longer_than_its_lifetime() {
        let (cache, _) = cache();
        let mark = cache.mark().unwrap();
        cache.put(LECTURE, MEDIA, mark, template("0.ts"), Duration::ZERO);
        assert_eq!(kept(&cache, LECTURE, MEDIA), None);
    }

    #[test]
    fn over_the_budget_the_least_recently_stored_go_first_and_the_largest_never_come_in() {
        let long = "x".repeat(700);
        let name = |n: usize| format!("lecture-{n:02}");
        let (probe, _) = cache();
        probe.put(
            &name(0),
            MEDIA,
            probe.mark().unwrap(),
            template(&long),
            ENDED_LIFETIME,
        );
        let weight = probe.entries().weight;
        // Room for 20, and the largest allowed is a sixteenth of that.
        let cache = PlaylistCache::with_budget(Arc::new(MediaChanges::new(true)), 20 * weight);
        let mark = cache.mark().unwrap();
        for n in 0..20 {
            cache.put(&name(n), MEDIA, mark, template(&long), ENDED_LIFETIME);
        }
        cache.put(&name(0), MEDIA, mark, template(&long), ENDED_LIFETIME);
        cache.put(&name(20), MEDIA, mark, template(&long), ENDED_LIFETIME);
        assert!(
            kept(&cache, &name(1), MEDIA).is_none(),
            "the least recently stored left"
        );
        for n in [0, 2, 20] {
            assert!(kept(&cache, &name(n), MEDIA).is_some(), "{n}");
        }
        assert_eq!(cache.entries().weight, 20 * weight);
        let huge = "x".repeat(2 * weight);
        cache.put("huge", MEDIA, mark, template(&huge), ENDED_LIFETIME);
        assert!(
            kept(&cache, "huge", MEDIA).is_none(),
            "over a sixteenth of the budget"
        );
    }

    #[test]
    fn nothing_is_kept_while_changes_may_go_unseen() {
        let changes = Arc::new(MediaChanges::new(false));
        let cache = PlaylistCache::new(Arc::clone(&changes));
        assert!(cache.mark().is_none());
    }
}
