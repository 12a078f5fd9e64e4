//! Which lectures' media changed, and in what order: how something that keeps what it read
//! about a lecture's media (the playlist cache, `crate::media::cache`) can tell whether it is
//! still current without asking the database.
//!
//! Every [`Store`](super::Store) method that changes what a lecture's playlists list (its
//! trim, segments, renditions, media version or state, or its deletion) records the change
//! here once its write is committed and before it returns, so a request answered after it
//! never sees the old media from this catalog. On PostgreSQL the change is also announced to
//! the other replicas (`NOTIFY`, see `postgres/changes.rs`), which record it here as it
//! arrives.
//!
//! Changes are counted on one clock. A reader takes a [`Mark`] *before* it reads the
//! database; what it read is current for as long as no change to the lecture was recorded
//! after the mark. When changes may have been missed (the feed from the other replicas broke
//! and came back), everything read before is forgotten at once; while there is no feed, no
//! mark is given, so nothing is kept. SQLite is the embedded database of one catalog process,
//! which sees every change itself: its feed is complete from the start.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Lectures remembered as changed before the memory is folded into the floor. Distinct
/// lectures, not changes: a day of live lectures is well under it.
const REMEMBERED: usize = 10_000;

/// A point on the change clock, taken before reading what it vouches for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark(u64);

/// The change clock of one catalog process. Shared by every clone of its store.
#[derive(Debug)]
pub struct MediaChanges {
    /// Read on every playlist served from memory, written on every change.
    clock: RwLock<Clock>,
    /// Tells this replica's own announcements from the others' (`NOTIFY` reaches the sender
    /// too).
    replica: String,
}

#[derive(Debug)]
struct Clock {
    now: u64,
    /// Each lecture changed since the floor was last raised, with the time of its last change.
    changed: HashMap<String, u64>,
    /// Marks before it vouch for nothing (forgotten, or their lectures no longer remembered).
    floor: u64,
    /// Whether every change reaches this clock (false while the feed from other replicas is
    /// down).
    complete: bool,
}

impl MediaChanges {
    /// A clock that sees every change (`complete`) or that waits for its feed to come up.
    pub(crate) fn new(complete: bool) -> MediaChanges {
        MediaChanges {
            clock: RwLock::new(Clock {
                now: 0,
                changed: HashMap::new(),
                floor: 0,
                complete,
            }),
            replica: super::new_id(),
        }
    }

    // The clock is consistent after every statement: a panic elsewhere cannot break it.
    fn read(&self) -> RwLockReadGuard<'_, Clock> {
        self.clock.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Clock> {
        self.clock.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Now, to be taken before reading; `None` while changes may go unseen (keep nothing).
    pub fn mark(&self) -> Option<Mark> {
        let clock = self.read();
        clock.complete.then_some(Mark(clock.now))
    }

    /// True when nothing of `lecture` changed after `mark` and nothing was forgotten since.
    pub fn unchanged_since(&self, lecture: &str, mark: Mark) -> bool {
        let clock = self.read();
        clock.complete
            && mark.0 >= clock.floor
            && clock.changed.get(lecture).is_none_or(|&at| at <= mark.0)
    }

    /// `lecture`'s media changed (its write is committed).
    pub(crate) fn record(&self, lecture: &str) {
        let mut clock = self.write();
        if clock.changed.len() >= REMEMBERED && !clock.changed.contains_key(lecture) {
            // Every change so far is at or before `now`: a mark of `now` or later does
            // without them.
            clock.floor = clock.now;
            clock.changed.clear();
        }
        clock.now += 1;
        let now = clock.now;
        clock.changed.insert(lecture.to_owned(), now);
    }

    /// Changes may have been missed until now: nothing marked before vouches any more, and
    /// every change from here on is seen.
    pub(super) fn resume(&self) {
        let mut clock = self.write();
        clock.now += 1;
        clock.floor = clock.now;
        clock.changed.clear();
        clock.complete = true;
    }

    /// Changes may go unseen from now on, until [`MediaChanges::resume`].
    pub(super) fn suspend(&self) {
        self.write().complete = false;
    }

    /// The id this process puts in its announcements.
    pub(super) fn replica(&self) -> &str {
        &self.replica
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_vouches_until_its_lecture_changes() {
        let changes = MediaChanges::new(true);
        let before = changes.mark().unwrap();
        assert!(changes.unchanged_since("a", before));
        changes.record("a");
        assert!(
            !changes.unchanged_since("a", before),
            "changed after the mark"
        );
        assert!(changes.unchanged_since("b", before), "another lecture");
        let after = changes.mark().unwrap();
        assert!(changes.unchanged_since("a", after), "read after the change");
    }

    #[test]
    fn nothing_vouches_while_changes_may_go_unseen_nor_for_before_the_gap() {
        let changes = MediaChanges::new(false);
        assert_eq!(changes.mark(), None, "no feed yet");
        changes.resume();
        let before = changes.mark().unwrap();
        changes.suspend();
        assert!(!changes.unchanged_since("a", before));
        assert_eq!(changes.mark(), None);
        changes.resume();
        assert!(!changes.unchanged_since("a", before), "from before the gap");
        assert!(changes.unchanged_since("a", changes.mark().unwrap()));
    }

    #[test]
    fn forgetting_old_changes_keeps_only_marks_taken_after_them() {
        let changes = MediaChanges::new(true);
        let old = changes.mark().unwrap();
        for n in 0..REMEMBERED {
            changes.record(&format!("lecture-{n}"));
        }
        let recent = changes.mark().unwrap();
        changes.record("one-too-many");
        assert!(
            !changes.unchanged_since("lecture-0", old),
            "its change is forgotten, so the old mark no longer vouches"
        );
        assert!(!changes.unchanged_since("never-changed", old));
        assert!(changes.unchanged_since("lecture-0", recent));
        assert!(!changes.unchanged_since("one-too-many", recent));
    }
}
