//! Recurring schedules with iCalendar semantics (RFC 5545): a first start as a local
//! wall-clock time in an IANA time zone, a recurrence rule (RRULE) and a length. The `rrule`
//! crate expands the rule *in the zone*, so a 09:15 lecture stays 09:15 local across a
//! daylight saving change; only then are the instants turned into UTC.
//!
//! Expansion is always bounded: a rule without COUNT or UNTIL recurs for ever and is allowed
//! (a course that runs until someone ends it), because nothing ever asks for more than a
//! window of it. What keeps every window cheap is checked when the rule is written: the rule
//! recurs at most daily (several times a day through BYHOUR/BYMINUTE), starts between 2000
//! and 2100, yields at most [`MAX_PER_YEAR`] occurrences in its first year and its
//! occurrences do not overlap each other.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, RRuleSet, Unvalidated};

/// The longest occurrence: a lecture day, not a week of recording.
pub const MAX_DURATION_MINUTES: i64 = 12 * 60;
/// The most occurrences a rule may yield in its first year (five a day, every day, and more).
pub const MAX_PER_YEAR: usize = 2_000;
/// A safety net under every expansion: validation keeps rules far below it (2000 a year
/// from 2000 on is 200 000 by 2100), so it only guards against what validation missed.
const MAX_STEPS: usize = 500_000;
/// The years a first start may fall in: expansion walks from the first start, so an ancient
/// one would make every window expensive.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Why a schedule's timing was refused. Each message says what was wrong and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecurrenceError {
    #[error("timezone {0:?} is not an IANA time zone name (such as Europe/Berlin)")]
    UnknownTimeZone(String),
    #[error("first_start {0} is outside the years 2000 to 2100")]
    StartOutOfRange(NaiveDateTime),
    #[error(
        "first_start {start} does not exist in {zone}: the clocks skip that hour \
         (daylight saving time); pick another time"
    )]
    NonexistentStart { start: NaiveDateTime, zone: String },
    #[error("duration_minutes must be 1 to {MAX_DURATION_MINUTES} (12 hours), not {0}")]
    Duration(i64),
    #[error("rrule {rule:?} is not a valid RFC 5545 recurrence rule: {reason}")]
    BadRule { rule: String, reason: String },
    #[error(
        "rrule FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY, not {0}: for several \
         occurrences a day use FREQ=DAILY with BYHOUR and BYMINUTE"
    )]
    TooFrequent(String),
    #[error("rrule {0:?} yields no occurrence from first_start on")]
    NoOccurrence(String),
    #[error("the rule yields more than {MAX_PER_YEAR} occurrences in its first year")]
    TooMany,
    #[error(
        "occurrences overlap each other (the one at {first} lasts past the start of the next \
         at {second}): the duration is longer than the gap between them"
    )]
    SelfOverlap {
        first: NaiveDateTime,
        second: NaiveDateTime,
    },
}

/// One occurrence: UTC instants, start inclusive, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A validated schedule timing, ready to expand.
#[derive(Debug, Clone)]
pub struct Recurrence {
    zone: Tz,
    first_start: DateTime<Utc>,
    set: RRuleSet,
    duration: Duration,
}

/// The rule as stored: trimmed, without a leading `RRULE:`.
pub fn normalize_rule(rule: &str) -> &str {
    let rule = rule.trim();
    match rule.get(..6) {
        Some(prefix) if prefix.eq_ignore_ascii_case("RRULE:") => rule[6..].trim(),
        _ => rule,
    }
}

impl Recurrence {
    /// Parses and checks a schedule's timing (`rule` with or without `RRULE:`).
    pub fn new(
        first_start: NaiveDateTime,
        timezone: &str,
        rule: &str,
        duration_minutes: i64,
    ) -> Result<Recurrence, RecurrenceError> {
        let recurrence = Recurrence::parse(first_start, timezone, rule, duration_minutes)?;
        recurrence.check_first_year(normalize_rule(rule))?;
        Ok(recurrence)
    }

    /// Parses a stored timing (checked when it was written) without walking its first year.
    pub fn parse(
        first_start: NaiveDateTime,
        timezone: &str,
        rule: &str,
        duration_minutes: i64,
    ) -> Result<Recurrence, RecurrenceError> {
        let zone: Tz = timezone
            .parse()
            .map_err(|_| RecurrenceError::UnknownTimeZone(timezone.to_owned()))?;
        if !YEARS.contains(&chrono::Datelike::year(&first_start)) {
            return Err(RecurrenceError::StartOutOfRange(first_start));
        }
        if !(1..=MAX_DURATION_MINUTES).contains(&duration_minutes) {
            return Err(RecurrenceError::Duration(duration_minutes));
        }
        let rule = normalize_rule(rule);
        let bad = |reason: String| RecurrenceError::BadRule {
            rule: rule.to_owned(),
            reason,
        };
        // One rule, no other iCalendar lines (DTSTART, EXDATE): those are fields of their own.
        if rule.is_empty() || rule.chars().any(|c| c.is_control() || c == ':') {
            return Err(bad("give one rule such as FREQ=WEEKLY;BYDAY=MO,WE".into()));
        }
        let parsed: RRule<Unvalidated> = rule.parse().map_err(|e| bad(plain(&e)))?;
        match parsed.get_freq() {
            Frequency::Daily | Frequency::Weekly | Frequency::Monthly | Frequency::Yearly => {}
            other => return Err(RecurrenceError::TooFrequent(other.to_string())),
        }
        // In a fall-back hour the earlier of the two instants is the one meant.
        let start = rrule::Tz::Tz(zone)
            .from_local_datetime(&first_start)
            .earliest()
            .ok_or_else(|| RecurrenceError::NonexistentStart {
                start: first_start,
                zone: timezone.to_owned(),
            })?;
        let set = parsed.build(start).map_err(|e| bad(plain(&e)))?.limit();
        Ok(Recurrence {
            zone,
            first_start: start.with_timezone(&Utc),
            set,
            duration: Duration::minutes(duration_minutes),
        })
    }

    /// The zone the rule recurs in.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The first start as an instant.
    pub fn first_start(&self) -> DateTime<Utc> {
        self.first_start
    }

    /// The occurrences that overlap `[from, to)`, in order, at most `max` of them (the rest are
    /// cut off).
    pub fn occurrences(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        max: usize,
    ) -> Vec<Occurrence> {
        let mut found = Vec::new();
        for start in self.set.clone().into_iter().take(MAX_STEPS) {
            let start = start.with_timezone(&Utc);
            if start >= to || found.len() >= max {
                break;
            }
            let end = start + self.duration;
            if end > from {
                found.push(Occurrence { start, end });
            }
        }
        found
    }

    /// A local wall-clock time of an instant, in the rule's zone (for messages and titles).
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.zone).naive_local()
    }

    /// The first year: at least one occurrence, not too many, none overlapping the next.
    fn check_first_year(&self, rule: &str) -> Result<(), RecurrenceError> {
        let year = self.occurrences(
            self.first_start,
            self.first_start + Duration::days(366),
            MAX_PER_YEAR + 1,
        );
        if year.len() > MAX_PER_YEAR {
            return Err(RecurrenceError::TooMany);
        }
        if year.is_empty()
            && self
                .occurrences(self.first_start, DateTime::<Utc>::MAX_UTC, 1)
                .is_empty()
        {
            return Err(RecurrenceError::NoOccurrence(rule.to_owned()));
        }
        if let Some(pair) = year.windows(2).find(|w| w[0].end > w[1].start) {
            return Err(RecurrenceError::SelfOverlap {
                first: self.local(pair[0].start),
                second: self.local(pair[1].start),
            });
        }
        Ok(())
    }
}

/// The `rrule` crate's message without its "RRule parsing error: " preamble, with the form
/// UNTIL must take when it is about UNTIL (the crate's words for it are puzzling).
fn plain(e: &rrule::RRuleError) -> String {
    let message = match e {
        rrule::RRuleError::ParserError(e) => e.to_string(),
        rrule::RRuleError::ValidationError(e) => e.to_string(),
        rrule::RRuleError::IterError(e) => e.clone(),
    };
    if message.contains("UNTIL") {
        format!("{message} (UNTIL must be a UTC time after first_start, such as 20261221T230000Z)")
    } else {
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_weekly_lecture_stays_at_its_local_time_across_the_dst_change() {
        // Berlin leaves summer time on Sunday 25 October 2026.
        let r = Recurrence::new(
            local(2026, 10, 19, 9, 15),
            "Europe/Berlin",
            "FREQ=WEEKLY;BYDAY=MO",
            90,
        )
        .unwrap();
        let found = r.occurrences(utc("2026-10-01T00:00:00Z"), utc("2026-11-03T00:00:00Z"), 10);
        let starts: Vec<_> = found.iter().map(|o| o.start).collect();
        assert_eq!(
            starts,
            [
                utc("2026-10-19T07:15:00Z"),
                utc("2026-10-26T08:15:00Z"),
                utc("2026-11-02T08:15:00Z")
            ]
        );
        assert!(found
            .iter()
            .all(|o| r.local(o.start).time() == local(2026, 1, 1, 9, 15).time()));
        assert_eq!(found[1].end, utc("2026-10-26T09:45:00Z"));
    }

    #[test]
    fn a_window_keeps_the_occurrence_in_progress_and_stops_at_its_end() {
        let r = Recurrence::new(local(2026, 9, 7, 9, 0), "UTC", "FREQ=DAILY;COUNT=5", 60).unwrap();
        let found = r.occurrences(utc("2026-09-08T09:30:00Z"), utc("2026-09-10T09:00:00Z"), 10);
        let starts: Vec<_> = found.iter().map(|o| o.start).collect();
        assert_eq!(
            starts,
            [utc("2026-09-08T09:00:00Z"), utc("2026-09-09T09:00:00Z")]
        );
        assert_eq!(
            r.occurrences(utc("2026-09-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"), 3)
                .len(),
            3
        );
    }

    #[test]
    fn a_rule_that_never_ends_is_allowed_and_expanded_only_within_the_window() {
        let r = Recurrence::new(
            local(2026, 9, 7, 9, 15),
            "Europe/Berlin",
            "RRULE:FREQ=WEEKLY",
            90,
        )
        .unwrap();
        let found = r.occurrences(
            utc("2090-01-01T00:00:00Z"),
            utc("2090-01-29T00:00:00Z"),
            100,
        );
        assert_eq!(found.len(), 4);
    }

    #[test]
    fn bad_timings_are_refused_saying_what_was_wrong() {
        let start = local(2026, 9, 7, 9, 15);
        let err = |zone: &str, rule: &str, minutes: i64| {
            Recurrence::new(start, zone, rule, minutes)
                .unwrap_err()
                .to_string()
        };
        let weekly = "FREQ=WEEKLY";
        assert!(err("Europe/Berln", weekly, 90).contains("\"Europe/Berln\" is not an IANA"));
        assert!(err("Europe/Berlin", weekly, 0).contains("duration_minutes must be 1 to 720"));
        assert!(err("Europe/Berlin", weekly, 721).contains("not 721"));
        assert!(err("Europe/Berlin", "FREQ=FORTNIGHTLY", 90).contains("not a valid RFC 5545"));
        assert!(err("Europe/Berlin", "BYDAY=MO", 90).contains("not a valid RFC 5545"));
        assert!(err("Europe/Berlin", "FREQ=HOURLY;BYMINUTE=0", 90).contains("FREQ must be DAILY"));
        assert!(
            err("Europe/Berlin", "FREQ=WEEKLY\nDTSTART:20260907T091500Z", 90)
                .contains("give one rule")
        );
        assert!(err("Europe/Berlin", "FREQ=DAILY;BYHOUR=9,10", 90).contains("overlap each other"));
        assert!(
            err("Europe/Berlin", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", 90)
                .contains("yields no occurrence")
        );
        let many = "FREQ=DAILY;BYHOUR=8,9,10,11,12,13;BYMINUTE=0";
        assert!(err("Europe/Berlin", many, 30).contains("more than 2000"));
        let gap = Recurrence::new(local(2026, 3, 29, 2, 30), "Europe/Berlin", weekly, 60);
        assert!(gap
            .unwrap_err()
            .to_string()
            .contains("does not exist in Europe/Berlin"));
        let ancient = Recurrence::new(local(1970, 1, 1, 9, 0), "UTC", weekly, 60);
        assert!(ancient.unwrap_err().to_string().contains("2000 to 2100"));
    }

    #[test]
    fn until_must_be_utc_and_not_before_the_first_start() {
        let start = local(2026, 9, 7, 9, 15);
        let ok = Recurrence::new(
            start,
            "Europe/Berlin",
            "FREQ=WEEKLY;UNTIL=20261221T000000Z",
            90,
        )
        .unwrap();
        assert_eq!(
            ok.occurrences(
                utc("2026-09-01T00:00:00Z"),
                utc("2027-06-01T00:00:00Z"),
                100
            )
            .len(),
            15
        );
        let before = Recurrence::new(
            start,
            "Europe/Berlin",
            "FREQ=WEEKLY;UNTIL=20250101T000000Z",
            90,
        );
        let message = before.unwrap_err().to_string();
        assert!(message.contains("UNTIL"), "{message}");
    }

    #[test]
    fn the_prefix_and_blanks_are_not_part_of_the_stored_rule() {
        assert_eq!(normalize_rule("  RRULE:FREQ=WEEKLY "), "FREQ=WEEKLY");
        assert_eq!(normalize_rule("rrule: FREQ=DAILY"), "FREQ=DAILY");
        assert_eq!(normalize_rule("FREQ=DAILY"), "FREQ=DAILY");
    }
}
