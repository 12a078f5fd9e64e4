//! Recurring schedules of courses in rooms, and what they mean for capture boxes: the
//! occurrences a room has coming ([`Store::room_occurrences`]) and the occurrence a recording
//! starts in ([`Store::occurrence_at`]). The timing rules themselves are in
//! [`crate::recurrence`].
//!
//! Two schedules of one room may not overlap: a box records one lecture at a time, and a
//! recording must know its course. Writing a schedule compares it with each other schedule
//! of the room over the first [`CLASH_HORIZON_DAYS`] days in which both run (from now on);
//! rules repeat at most yearly, so a clash shows within that horizon.

use chrono::{DateTime, Duration, NaiveDateTime, SubsecRound, Utc};
use lectern_wire::admin::{NewSchedule, Schedule};
use lectern_wire::agent::ScheduledOccurrence;

use super::{new_id, Page, Store, StoreError};
use crate::recurrence::{
    normalize_rule, Occurrence, Recurrence, RecurrenceError, MAX_DURATION_MINUTES, MAX_PER_YEAR,
};

/// How `schedules.first_start` holds a local time (sorts as text).
pub(super) const FIRST_START_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";
/// How far ahead two schedules of a room are compared.
pub const CLASH_HORIZON_DAYS: i64 = 366;
/// A box that starts recording this long before an occurrence (clock skew, a pre-roll)
/// records into it.
pub const EARLY_START: Duration = Duration::minutes(5);

/// Why a schedule could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The timing is not one the catalog accepts (400).
    #[error(transparent)]
    Invalid(#[from] RecurrenceError),
    /// Another schedule of the room has an occurrence at the same time (409).
    #[error(
        "the room already has {title:?} (schedule {id}) at {theirs}, which overlaps this \
         schedule's occurrence at {ours} ({zone}); move one of them or use another room"
    )]
    Clash {
        id: String,
        title: String,
        ours: NaiveDateTime,
        theirs: NaiveDateTime,
        zone: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The occurrence a recording started in, and the schedule it belongs to.
#[derive(Debug, Clone)]
pub struct ScheduledStart {
    pub schedule: Schedule,
    pub occurrence: Occurrence,
    /// The occurrence's start as a local time in the schedule's zone (for the title).
    pub local_start: NaiveDateTime,
}

/// A schedule as it is stored, so that what a write answers is what a read gives back: no
/// blanks around text, the rule without `RRULE:`, whole seconds in the local start and
/// microseconds in `updated_at` (as both databases keep it).
fn tidy(s: &mut Schedule) {
    s.title = s.title.trim().to_owned();
    s.timezone = s.timezone.trim().to_owned();
    s.rrule = normalize_rule(&s.rrule).to_owned();
    s.first_start = s.first_start.trunc_subsecs(0);
    s.updated_at = s.updated_at.trunc_subsecs(6);
}

/// A stored schedule's timing (checked when it was written).
fn recurrence_of(s: &Schedule) -> Result<Recurrence, StoreError> {
    Recurrence::parse(
        s.first_start,
        &s.timezone,
        &s.rrule,
        i64::from(s.duration_minutes),
    )
    .map_err(|e| StoreError::Corrupt(format!("schedule {}: {e}", s.id)))
}

/// The first overlap of two sorted lists of occurrences that do not overlap themselves.
fn first_overlap(a: &[Occurrence], b: &[Occurrence]) -> Option<(Occurrence, Occurrence)> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].end <= b[j].start {
            i += 1;
        } else if b[j].end <= a[i].start {
            j += 1;
        } else {
            return Some((a[i], b[j]));
        }
    }
    None
}

impl Store {
    /// A schedule by id (the caller checks that the caller may see its course).
    pub async fn schedule(&self, id: &str) -> Result<Option<Schedule>, StoreError> {
        on_backend!(self, db => db.schedule(id))
    }

    /// A course's schedules by first start.
    pub async fn course_schedules(
        &self,
        course_id: &str,
        page: Page,
    ) -> Result<Vec<Schedule>, StoreError> {
        on_backend!(self, db => db.course_schedules(course_id, page))
    }

    /// Adds a schedule; the caller has checked that the course and room are the institute's.
    #[tracing::instrument(skip(self))]
    pub async fn create_schedule(
        &self,
        new: &NewSchedule,
        now: DateTime<Utc>,
    ) -> Result<Schedule, ScheduleError> {
        let mut schedule = Schedule {
            id: new_id(),
            course_id: new.course_id.clone(),
            room_id: new.room_id.clone(),
            title: new.title.clone(),
            first_start: new.first_start,
            timezone: new.timezone.clone(),
            rrule: new.rrule.clone(),
            duration_minutes: new.duration_minutes,
            updated_at: now,
        };
        tidy(&mut schedule);
        self.check_schedule(&schedule, now).await?;
        on_backend!(self, db => db.insert_schedule(&schedule))?;
        Ok(schedule)
    }

    /// Writes a changed schedule (checked as a new one is, against the room's others).
    #[tracing::instrument(skip(self))]
    pub async fn update_schedule(
        &self,
        schedule: &mut Schedule,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        schedule.updated_at = now;
        tidy(schedule);
        self.check_schedule(schedule, now).await?;
        on_backend!(self, db => db.update_schedule(schedule))?;
        Ok(())
    }

    /// Deletes a schedule; lectures recorded under it stay in their course.
    #[tracing::instrument(skip(self))]
    pub async fn delete_schedule(&self, id: &str) -> Result<(), StoreError> {
        on_backend!(self, db => db.delete_schedule(id))
    }

    /// The timing is valid and no other schedule of the room overlaps it.
    ///
    /// Two admins writing clashing schedules of one room at the same instant could both pass;
    /// schedules are written rarely and by hand, so this is left to the next edit to notice.
    async fn check_schedule(&self, s: &Schedule, now: DateTime<Utc>) -> Result<(), ScheduleError> {
        let ours = Recurrence::new(
            s.first_start,
            &s.timezone,
            &s.rrule,
            i64::from(s.duration_minutes),
        )?;
        let others = on_backend!(self, db => db.room_schedules(&s.room_id))?;
        for other in others.iter().filter(|o| o.id != s.id) {
            let theirs = recurrence_of(other)?;
            let from = now.max(ours.first_start()).max(theirs.first_start());
            let to = from + Duration::days(CLASH_HORIZON_DAYS);
            // Each rule yields at most MAX_PER_YEAR a year: the cap never cuts a real window.
            let cap = 2 * MAX_PER_YEAR;
            let found = first_overlap(
                &ours.occurrences(from, to, cap),
                &theirs.occurrences(from, to, cap),
            );
            if let Some((a, b)) = found {
                return Err(ScheduleError::Clash {
                    id: other.id.clone(),
                    title: other.title.clone(),
                    ours: ours.local(a.start),
                    theirs: ours.local(b.start),
                    zone: s.timezone.clone(),
                });
            }
        }
        Ok(())
    }

    /// The occurrences of a room's schedules that have not ended at `from` and start before
    /// `to`, by start (then schedule id, so equal content always comes out the same).
    pub async fn room_occurrences(
        &self,
        room_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ScheduledOccurrence>, StoreError> {
        let schedules = on_backend!(self, db => db.room_schedules(room_id))?;
        let mut found = Vec::new();
        for s in schedules {
            for o in recurrence_of(&s)?.occurrences(from, to, MAX_PER_YEAR) {
                found.push(ScheduledOccurrence {
                    schedule_id: s.id.clone(),
                    course_id: s.course_id.clone(),
                    title: s.title.clone(),
                    start: o.start,
                    end: o.end,
                });
            }
        }
        found.sort_by(|a, b| (a.start, &a.schedule_id).cmp(&(b.start, &b.schedule_id)));
        Ok(found)
    }

    /// The occurrence of a room's schedules that a recording starting at `now` belongs to:
    /// the one in progress, else one starting within [`EARLY_START`].
    pub async fn occurrence_at(
        &self,
        room_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ScheduledStart>, StoreError> {
        let schedules = on_backend!(self, db => db.room_schedules(room_id))?;
        let mut best: Option<ScheduledStart> = None;
        for schedule in schedules {
            let recurrence = recurrence_of(&schedule)?;
            let window = recurrence.occurrences(
                now - Duration::minutes(MAX_DURATION_MINUTES),
                now + EARLY_START,
                MAX_PER_YEAR,
            );
            // Started occurrences first, then the soonest to start.
            let Some(occurrence) = window
                .into_iter()
                .filter(|o| o.end > now && o.start <= now + EARLY_START)
                .min_by_key(|o| (o.start > now, o.start))
            else {
                continue;
            };
            let better = best.as_ref().is_none_or(|b| {
                let key = |o: &Occurrence| (o.start > now, o.start);
                key(&occurrence) < key(&b.occurrence)
            });
            if better {
                best = Some(ScheduledStart {
                    local_start: recurrence.local(occurrence.start),
                    schedule,
                    occurrence,
                });
            }
        }
        Ok(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes)
    }

    fn occ(start: i64, end: i64) -> Occurrence {
        Occurrence {
            start: at(start),
            end: at(end),
        }
    }

    #[test]
    fn occurrences_that_only_touch_do_not_overlap() {
        let a = [occ(0, 60), occ(120, 180)];
        assert_eq!(first_overlap(&a, &[occ(60, 120), occ(180, 240)]), None);
        assert_eq!(
            first_overlap(&a, &[occ(60, 120), occ(170, 200)]),
            Some((occ(120, 180), occ(170, 200)))
        );
        assert_eq!(first_overlap(&a, &[]), None);
    }
}
