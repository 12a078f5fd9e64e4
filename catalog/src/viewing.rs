//! What the catalog keeps of people's viewing, and what it tells instructors about it
//! (issue 7): the rules, apart from the SQL in `store::progress`.
//!
//! - Everyone: where they stopped in each lecture, to resume there.
//! - Unless the account is under 13: how many times they started it (views) and how long
//!   they played it (watch time), for them and the course's staff.
//! - Unless they are also opted out of research: which 10-second parts of the timeline they
//!   played ([`Timeline`]), which only feeds the aggregate retention curve.
//!
//! Aggregates are shown only over at least [`MIN_COHORT`] students, and never count someone
//! under 13 or opted out. No client address is kept: nothing here needs one.

use lectern_wire::api::{AgeBand, ProgressReport};

/// The length of one part of a lecture's timeline, in seconds.
pub const BUCKET_SECONDS: u64 = 10;

/// The fewest students an aggregate is shown over: fewer, and one person's viewing could be
/// told from it.
pub const MIN_COHORT: usize = 5;

/// The most parts a timeline records (24 hours): a bitmap of at most 1080 bytes.
pub const MAX_BUCKETS: usize = 24 * 3600 / BUCKET_SECONDS as usize;

/// The most seconds one view may claim to have played (a day).
pub const MAX_VIEW_SECONDS: f64 = 24.0 * 3600.0;

/// The most `[from, to]` parts one report may carry.
pub const MAX_PARTS: usize = 64;

/// How far past the media the catalog knows a position may be: players round, and a live
/// lecture grows while the report is on its way.
pub const SLACK_SECONDS: f64 = 10.0;

/// How much of a person's viewing is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recording {
    /// Where they stopped, nothing else: accounts under 13.
    ResumeOnly,
    /// Also views and watch time: people who opted out of research.
    WatchTime,
    /// Also which parts of the timeline they played.
    Full,
}

impl Recording {
    /// For a person of `age_band` who did or did not opt out of research.
    pub fn of(age_band: AgeBand, research_opt_out: bool) -> Recording {
        match (age_band, research_opt_out) {
            (AgeBand::Under13, _) => Recording::ResumeOnly,
            (_, true) => Recording::WatchTime,
            (_, false) => Recording::Full,
        }
    }
}

/// Which parts of a lecture's timeline someone played: bit `i` (of byte `i / 8`, least
/// significant first) is seconds `10·i` to `10·i + 10`. Kept as hex text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    bits: Vec<u8>,
}

/// A stored timeline that is not hex.
#[derive(Debug, thiserror::Error)]
#[error("a timeline bitmap that is not hex: {0}")]
pub struct CorruptTimeline(#[from] hex::FromHexError);

impl Timeline {
    pub fn from_hex(text: &str) -> Result<Timeline, CorruptTimeline> {
        Ok(Timeline {
            bits: hex::decode(text)?,
        })
    }

    /// The hex text to store; `None` when no part was played.
    pub fn to_hex(&self) -> Option<String> {
        (!self.is_empty()).then(|| hex::encode(&self.bits))
    }

    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|byte| *byte == 0)
    }

    /// Part `bucket` was played (parts past [`MAX_BUCKETS`] are not recorded).
    pub fn set(&mut self, bucket: usize) {
        if bucket >= MAX_BUCKETS {
            return;
        }
        let byte = bucket / 8;
        if self.bits.len() <= byte {
            self.bits.resize(byte + 1, 0);
        }
        self.bits[byte] |= 1 << (bucket % 8);
    }

    pub fn has(&self, bucket: usize) -> bool {
        self.bits
            .get(bucket / 8)
            .is_some_and(|byte| byte & (1 << (bucket % 8)) != 0)
    }

    /// Seconds `from` to `to` were played: every part they overlap by more than an instant.
    pub fn mark(&mut self, from: f64, to: f64) {
        if !(from.is_finite() && to.is_finite()) || to <= from || from < 0.0 {
            return;
        }
        let bucket = BUCKET_SECONDS as f64;
        let first = (from / bucket).floor() as usize;
        let end = ((to / bucket).ceil() as usize).min(MAX_BUCKETS);
        for part in first..end {
            self.set(part);
        }
    }

    /// Adds the parts `other` played.
    pub fn union(&mut self, other: &Timeline) {
        if self.bits.len() < other.bits.len() {
            self.bits.resize(other.bits.len(), 0);
        }
        for (mine, theirs) in self.bits.iter_mut().zip(&other.bits) {
            *mine |= theirs;
        }
    }
}

/// Why a progress report is refused (400), in words for the player's developer.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReportError {
    #[error("view must be 1 to 64 ASCII letters, digits, '-' or '_' (an id the player picks for one playback)")]
    View,
    #[error(
        "position_seconds must be a number of seconds from 0 to the lecture's length ({0:.0} s)"
    )]
    Position(f64),
    #[error("watched_seconds must be the seconds played in this view, from 0 to 86400")]
    WatchedSeconds,
    #[error("watched may hold at most {MAX_PARTS} parts; report more often")]
    TooManyParts,
    #[error("each part of watched must be [from, to] seconds with 0 <= from <= to <= the lecture's length ({0:.0} s)")]
    Part(f64),
}

/// A report checked against the lecture's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub view: String,
    pub position_seconds: f64,
    pub watched_seconds: f64,
    /// The parts it says were played.
    pub parts: Timeline,
}

impl Report {
    /// `report`, if it fits a timeline of `length` seconds (the media the catalog holds).
    pub fn check(report: &ProgressReport, length: f64) -> Result<Report, ReportError> {
        if !lectern_packager::keys::is_safe_component(&report.view) {
            return Err(ReportError::View);
        }
        let limit = length.max(0.0) + SLACK_SECONDS;
        let within = |seconds: f64| seconds.is_finite() && (0.0..=limit).contains(&seconds);
        if !within(report.position_seconds) {
            return Err(ReportError::Position(length));
        }
        let watched = report.watched_seconds;
        if !(watched.is_finite() && (0.0..=MAX_VIEW_SECONDS).contains(&watched)) {
            return Err(ReportError::WatchedSeconds);
        }
        if report.watched.len() > MAX_PARTS {
            return Err(ReportError::TooManyParts);
        }
        let mut parts = Timeline::default();
        for [from, to] in &report.watched {
            if !(within(*from) && within(*to) && from <= to) {
                return Err(ReportError::Part(length));
            }
            parts.mark(*from, *to);
        }
        Ok(Report {
            view: report.view.clone(),
            position_seconds: report.position_seconds,
            watched_seconds: watched,
            parts,
        })
    }
}

/// What is kept of one person's viewing of one lecture besides where they stopped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kept {
    pub views: i64,
    /// Over every view; `None`: not recorded.
    pub watched_seconds: Option<f64>,
    /// The view the last report was of, and how much it had played: a repeated report, or
    /// one that arrives late, then adds nothing.
    pub view_id: Option<String>,
    pub view_watched_seconds: Option<f64>,
    pub parts: Option<Timeline>,
}

impl Kept {
    /// What is kept after `report`, for a person whose viewing is recorded as `recording`
    /// says. Reports carry running totals and parts, so repeating one changes nothing.
    pub fn after(self, report: &Report, recording: Recording) -> Kept {
        if recording == Recording::ResumeOnly {
            return Kept::default();
        }
        let total = self.watched_seconds.unwrap_or(0.0);
        let (views, watched_seconds, view_watched) =
            if self.view_id.as_deref() == Some(report.view.as_str()) {
                let before = self.view_watched_seconds.unwrap_or(0.0);
                let now = before.max(report.watched_seconds);
                (self.views, total + (now - before), now)
            } else {
                (
                    self.views + 1,
                    total + report.watched_seconds,
                    report.watched_seconds,
                )
            };
        let parts = match recording {
            Recording::Full => {
                let mut parts = self.parts.unwrap_or_default();
                parts.union(&report.parts);
                Some(parts)
            }
            Recording::WatchTime | Recording::ResumeOnly => None,
        };
        Kept {
            views,
            watched_seconds: Some(watched_seconds),
            view_id: Some(report.view.clone()),
            view_watched_seconds: Some(view_watched),
            parts: parts.filter(|parts| !parts.is_empty()),
        }
    }
}

/// For each of the first `buckets` parts of a timeline, the share (0 to 1, three decimals)
/// of `viewers` whose `timelines` played it.
pub fn retention(timelines: &[Timeline], viewers: usize, buckets: usize) -> Vec<f64> {
    (0..buckets.min(MAX_BUCKETS))
        .map(|part| {
            let played = timelines.iter().filter(|t| t.has(part)).count();
            if viewers == 0 {
                0.0
            } else {
                (played as f64 / viewers as f64 * 1000.0).round() / 1000.0
            }
        })
        .collect()
}

/// How many parts a timeline of `seconds` has.
pub fn buckets_in(seconds: f64) -> usize {
    if seconds.is_finite() && seconds > 0.0 {
        ((seconds / BUCKET_SECONDS as f64).ceil() as usize).min(MAX_BUCKETS)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(view: &str, position: f64, watched: f64, parts: &[[f64; 2]]) -> ProgressReport {
        ProgressReport {
            view: view.into(),
            position_seconds: position,
            watched_seconds: watched,
            watched: parts.to_vec(),
        }
    }

    #[test]
    fn parts_are_the_ten_second_buckets_a_range_overlaps() {
        let mut t = Timeline::default();
        t.mark(5.0, 25.0);
        assert_eq!(
            (0..4).map(|b| t.has(b)).collect::<Vec<_>>(),
            [true, true, true, false]
        );
        let mut edge = Timeline::default();
        edge.mark(10.0, 20.0);
        assert!(!edge.has(0) && edge.has(1) && !edge.has(2));
        let mut nothing = Timeline::default();
        nothing.mark(7.0, 7.0);
        assert!(nothing.is_empty() && nothing.to_hex().is_none());
        let back = Timeline::from_hex(&t.to_hex().unwrap()).unwrap();
        assert_eq!(back, t);
        assert_eq!(t.to_hex().unwrap(), "07");
        let mut far = Timeline::default();
        far.mark(0.0, 1e9);
        assert_eq!(far.to_hex().unwrap().len(), MAX_BUCKETS / 4, "bounded");
    }

    #[test]
    fn reports_outside_the_timeline_are_refused_with_the_reason() {
        let ok = Report::check(&report("v-1", 30.0, 12.0, &[[18.0, 30.0]]), 60.0).unwrap();
        assert!(ok.parts.has(1) && ok.parts.has(2) && !ok.parts.has(3));
        for (bad, error) in [
            (report("", 1.0, 1.0, &[]), ReportError::View),
            (report("a/b", 1.0, 1.0, &[]), ReportError::View),
            (report("v", -1.0, 1.0, &[]), ReportError::Position(60.0)),
            (report("v", 71.0, 1.0, &[]), ReportError::Position(60.0)),
            (report("v", f64::NAN, 1.0, &[]), ReportError::Position(60.0)),
            (report("v", 1.0, -1.0, &[]), ReportError::WatchedSeconds),
            (report("v", 1.0, 1e9, &[]), ReportError::WatchedSeconds),
            (
                report("v", 1.0, 1.0, &[[5.0, 4.0]]),
                ReportError::Part(60.0),
            ),
            (
                report("v", 1.0, 1.0, &[[0.0, 500.0]]),
                ReportError::Part(60.0),
            ),
            (
                report("v", 1.0, 1.0, &[[0.0, 1.0]; MAX_PARTS + 1]),
                ReportError::TooManyParts,
            ),
        ] {
            assert_eq!(Report::check(&bad, 60.0).unwrap_err(), error, "{bad:?}");
        }
    }

    #[test]
    fn repeated_and_late_reports_count_once_and_a_new_view_counts_anew() {
        let first = Report::check(&report("a", 20.0, 20.0, &[[0.0, 20.0]]), 100.0).unwrap();
        let kept = Kept::default().after(&first, Recording::Full);
        assert_eq!((kept.views, kept.watched_seconds), (1, Some(20.0)));
        assert_eq!(
            kept.clone().after(&first, Recording::Full),
            kept,
            "idempotent"
        );
        let later = Report::check(&report("a", 35.0, 35.0, &[[20.0, 35.0]]), 100.0).unwrap();
        let kept = kept.after(&later, Recording::Full);
        assert_eq!((kept.views, kept.watched_seconds), (1, Some(35.0)));
        let kept = kept.after(&first, Recording::Full);
        assert_eq!(
            kept.watched_seconds,
            Some(35.0),
            "a late report adds nothing"
        );
        let again = Report::check(&report("b", 10.0, 10.0, &[[0.0, 10.0]]), 100.0).unwrap();
        let kept = kept.after(&again, Recording::Full);
        assert_eq!((kept.views, kept.watched_seconds), (2, Some(45.0)));
        let parts = kept.parts.clone().unwrap();
        assert_eq!((0..5).filter(|b| parts.has(*b)).count(), 4);
    }

    #[test]
    fn children_keep_nothing_and_opted_out_people_keep_no_parts() {
        let r = Report::check(&report("a", 20.0, 20.0, &[[0.0, 20.0]]), 100.0).unwrap();
        assert_eq!(
            Recording::of(AgeBand::Under13, false),
            Recording::ResumeOnly
        );
        assert_eq!(
            Kept::default().after(&r, Recording::of(AgeBand::Under13, false)),
            Kept::default()
        );
        let opted_out = Kept::default().after(&r, Recording::of(AgeBand::Adult, true));
        assert_eq!(opted_out.watched_seconds, Some(20.0));
        assert_eq!(opted_out.parts, None);
        assert_eq!(Recording::of(AgeBand::From13To17, false), Recording::Full);
    }

    #[test]
    fn retention_is_the_share_of_viewers_per_part() {
        let mut a = Timeline::default();
        a.mark(0.0, 30.0);
        let mut b = Timeline::default();
        b.mark(0.0, 10.0);
        let curve = retention(&[a, b], 3, buckets_in(35.0));
        assert_eq!(curve, [0.667, 0.333, 0.333, 0.0]);
        assert_eq!(buckets_in(0.0), 0);
    }
}
