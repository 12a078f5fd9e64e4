//! Seeds a [`Shape`] into a fresh catalog database: the catalog's own migrations
//! (`Store::connect` + `Store::migrate`) make the schema, `Store::ensure_institute` the
//! institutes, and [`Bulk`] the rest, table by table.

use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use indicatif::{HumanCount, ProgressBar, ProgressStyle};
use lectern_catalog::store::Store;
use std::time::Instant;

use crate::bulk::{Bulk, Value};
use crate::shape::Shape;

/// Every rendition in the seed: the presenter camera's 720p rung.
pub const TRACK: &str = "presenter";
const RUNG: &str = "720p";
const SEGMENT_SECONDS: f64 = 2.0;
/// A 2 s segment at the rung's 3 Mb/s.
const SEGMENT_BYTES: i64 = 750_000;
const TERM: &str = "2026 Autumn";

/// When the term's first lectures start: courses start at different hours of the week.
fn lecture_start(course: usize, number: u32) -> DateTime<Utc> {
    let term_start = Utc.with_ymd_and_hms(2026, 9, 7, 8, 0, 0).unwrap();
    term_start
        + Duration::hours((course % 50) as i64 * 2)
        + Duration::days(i64::from(number) * 7 / 2)
}

/// A time as the catalog stores it on SQLite (and PostgreSQL parses).
fn ts(t: DateTime<Utc>) -> Value {
    Value::Text(t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// Migrates `url` and seeds `shape` into it; every user's password hash is `password_hash`.
/// Returns the rows written.
pub async fn seed(url: &str, shape: &Shape, password_hash: &str) -> anyhow::Result<u64> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let mut institutes = Vec::new();
    for i in 0..shape.sizes.institutes.max(1) {
        institutes.push(
            store
                .ensure_institute(&format!("Bench Institute {i}"))
                .await?,
        );
    }
    store.close().await;

    let total = (shape.users.len()
        + shape.courses.len()
        + shape.enrolments.len()
        + 2 * shape.lectures.len()) as u64
        + shape.segments();
    let progress = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "  {msg:12} [{bar:30}] {human_pos}/{human_len} rows, {per_sec}, {eta} left",
        )?
        .progress_chars("=> "),
    );
    let mut bulk = Bulk::connect(url).await?;
    let table = |name: &'static str| {
        progress.set_message(name);
        let started = Instant::now();
        let before = progress.position();
        let progress = progress.clone();
        move || {
            // Not inside suspend(): it holds the bar's lock that position() takes.
            let line = format!(
                "  {name}: {} rows in {:.1} s",
                HumanCount(progress.position() - before),
                started.elapsed().as_secs_f64()
            );
            progress.suspend(|| eprintln!("{line}"));
        }
    };

    let done = table("users");
    let users = shape.users.iter().map(|u| {
        vec![
            text(&u.id),
            text(&institutes[u.institute]),
            text(&u.email),
            text(u.email.split('@').next().unwrap_or_default()),
            text(password_hash),
            text(u.role.as_str()),
        ]
    });
    let columns = [
        "id",
        "institute_id",
        "email",
        "name",
        "password_hash",
        "role",
    ];
    bulk.insert("users", &columns, users, &progress).await?;
    done();

    let done = table("courses");
    let courses = shape.courses.iter().map(|c| {
        vec![
            text(&c.id),
            text(&institutes[c.institute]),
            text(format!("C{:05}", c.number)),
            text(format!("Bench course {}", c.number)),
            text(TERM),
        ]
    });
    let columns = ["id", "institute_id", "code", "title", "term"];
    bulk.insert("courses", &columns, courses, &progress).await?;
    done();

    let done = table("enrolments");
    let enrolments = shape.enrolments.iter().map(|e| {
        let user = &shape.users[e.user as usize];
        vec![
            text(&shape.courses[e.course as usize].id),
            text(&user.id),
            text(user.role.as_str()),
        ]
    });
    let columns = ["course_id", "user_id", "role"];
    bulk.insert("enrolments", &columns, enrolments, &progress)
        .await?;
    done();

    let done = table("lectures");
    let lectures = shape.lectures.iter().map(|l| {
        let start = lecture_start(l.course as usize, l.number);
        vec![
            text(&l.id),
            text(&shape.courses[l.course as usize].id),
            text(format!("Lecture {}", l.number + 1)),
            text("ready"),
            text(TRACK),
            ts(start),
            ts(start),
            ts(start + Duration::minutes(90)),
        ]
    });
    let columns = [
        "id",
        "course_id",
        "title",
        "state",
        "main_track",
        "created_at",
        "started_at",
        "ended_at",
    ];
    bulk.insert("lectures", &columns, lectures, &progress)
        .await?;
    done();

    let done = table("renditions");
    let renditions = shape.lectures.iter().map(|l| {
        vec![
            text(&l.id),
            text(TRACK),
            text(RUNG),
            Value::Int(1280),
            Value::Int(720),
            Value::Int(3_000_000),
            text("avc1.64001f,mp4a.40.2"),
            Value::Real(30.0),
            // The totals the catalog keeps beside each rendition as segments are reported.
            Value::Int(i64::from(l.segments)),
            Value::Real(f64::from(l.segments) * SEGMENT_SECONDS),
        ]
    });
    let columns = [
        "lecture_id",
        "track",
        "rung",
        "width",
        "height",
        "bandwidth",
        "codecs",
        "frame_rate",
        "segment_count",
        "duration_seconds",
    ];
    bulk.insert("renditions", &columns, renditions, &progress)
        .await?;
    done();

    let done = table("segments");
    let segments = shape.lectures.iter().flat_map(|l| {
        let start = lecture_start(l.course as usize, l.number);
        (0..l.segments).map(move |sequence| {
            vec![
                text(&l.id),
                text(TRACK),
                text(RUNG),
                Value::Int(i64::from(sequence)),
                Value::Real(SEGMENT_SECONDS),
                ts(start + Duration::seconds(2 * i64::from(sequence))),
                Value::Int(SEGMENT_BYTES),
            ]
        })
    });
    let columns = [
        "lecture_id",
        "track",
        "rung",
        "sequence",
        "duration",
        "program_date_time",
        "bytes",
    ];
    bulk.insert("segments", &columns, segments, &progress)
        .await?;
    done();

    progress.finish_and_clear();
    bulk.finish().await?;
    Ok(total)
}
