//! The store's promises that the API tests do not spell out, held on both databases: the
//! idempotent reports a crashed worker repeats, the order renditions keep, times that come
//! back to the microsecond, a seed that can run at every start, emails without case.

use axum::http::StatusCode;
use chrono::{Duration, TimeZone, Utc};
use lectern_catalog::auth::token_hash;
use lectern_catalog::store::{DemoSeed, Page, Store, StoreError};
use lectern_wire::worker::{RenditionReport, SegmentReport};
use serde_json::json;

use crate::helpers::{As, Db, TestApp, AGENT_TOKEN, PASSWORD, STUDENT, WORKER_TOKEN};

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

fn segment(rung: &str, sequence: u64, duration: f64) -> SegmentReport {
    SegmentReport {
        track: "presenter".into(),
        rung: rung.into(),
        sequence,
        duration,
        // Microseconds on purpose: both databases must give them back.
        program_date_time: Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
            + Duration::microseconds(2_000_123 * sequence as i64),
        discontinuity: sequence == 1,
        bytes: 1_000 + sequence,
    }
}

/// A capturing lecture of the demo box whose live session the demo worker runs (only that
/// worker's reports land); the worker's id and the lecture's.
async fn new_lecture(store: &Store) -> (String, String) {
    let agent = store
        .agent_by_token_hash(&token_hash(AGENT_TOKEN))
        .await
        .unwrap()
        .expect("the demo capture box");
    let worker = store
        .worker_by_token_hash(&token_hash(WORKER_TOKEN))
        .await
        .unwrap()
        .expect("the demo worker");
    let now = Utc::now();
    store
        .register_worker(&worker.id, "127.0.0.1", (9000, 9009), now)
        .await
        .unwrap();
    let lecture = store
        .start_lecture(&agent, Some("Parity"), Some("presenter"), now)
        .await
        .unwrap();
    store
        .assign_live(&lecture, &["presenter".to_owned()], now)
        .await
        .unwrap()
        .expect("the demo worker is up");
    (worker.id, lecture)
}

async fn a_repeated_segment_report_changes_nothing_and_times_keep_microseconds(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let (worker, lecture) = new_lecture(store).await;
    assert!(store
        .upsert_rendition(&worker, &lecture, &rendition("720p", 720, 3_000_000))
        .await
        .unwrap());
    for report in [segment("720p", 0, 2.0), segment("720p", 1, 2.5)] {
        assert!(store.add_segment(&worker, &lecture, &report).await.unwrap());
    }
    // The worker crashed and reports segment 1 again, measured differently.
    assert!(store
        .add_segment(&worker, &lecture, &segment("720p", 1, 9.0))
        .await
        .unwrap());

    let stored = store.segments(&lecture, "presenter", "720p").await.unwrap();
    assert_eq!(stored.len(), 2);
    for (entry, sent) in stored
        .iter()
        .zip([segment("720p", 0, 2.0), segment("720p", 1, 2.5)])
    {
        assert_eq!(entry.sequence, sent.sequence);
        assert_eq!(entry.duration, sent.duration);
        assert_eq!(entry.program_date_time, sent.program_date_time);
        assert_eq!(entry.discontinuity, sent.discontinuity);
    }
    assert!(store
        .segment_exists(&lecture, "presenter", "720p", 1)
        .await
        .unwrap());
    assert!(!store
        .segment_exists(&lecture, "presenter", "720p", 2)
        .await
        .unwrap());
    assert!(!store
        .segment_exists(&lecture, "presenter", "720p", u64::MAX)
        .await
        .unwrap());
    let row = store.lecture(&lecture).await.unwrap().unwrap();
    assert_eq!(
        store.lecture_media(&row).await.unwrap().duration_seconds,
        4.5
    );
}

async fn a_rendition_report_updates_it_in_place_and_renditions_keep_their_order(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let (worker, lecture) = new_lecture(store).await;
    for (rung, height) in [("720p", 720), ("360p", 360), ("1080p", 1080)] {
        store
            .upsert_rendition(&worker, &lecture, &rendition(rung, height, 1_000_000))
            .await
            .unwrap();
        store
            .add_segment(&worker, &lecture, &segment(rung, 0, 2.0))
            .await
            .unwrap();
    }
    store
        .upsert_rendition(&worker, &lecture, &rendition("720p", 720, 2_500_000))
        .await
        .unwrap();
    // Without a segment a rendition is not playable yet.
    store
        .upsert_rendition(&worker, &lecture, &rendition("240p", 240, 400_000))
        .await
        .unwrap();

    let row = store.lecture(&lecture).await.unwrap().unwrap();
    let media = store.lecture_media(&row).await.unwrap();
    let rungs: Vec<(&str, u64)> = media
        .renditions
        .iter()
        .map(|r| (r.rung.as_str(), r.bandwidth))
        .collect();
    assert_eq!(
        rungs,
        [
            ("720p", 2_500_000),
            ("360p", 1_000_000),
            ("1080p", 1_000_000)
        ]
    );
    assert_eq!(media.main_track.as_deref(), Some("presenter"));
    assert!(!store
        .upsert_rendition(&worker, "no-such-lecture", &rendition("720p", 720, 1))
        .await
        .unwrap());
    assert!(!store
        .add_segment(&worker, "no-such-lecture", &segment("720p", 0, 2.0))
        .await
        .unwrap());
}

async fn a_course_lists_its_newest_lecture_first(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let agent = store
        .agent_by_token_hash(&token_hash(AGENT_TOKEN))
        .await
        .unwrap()
        .unwrap();
    let monday = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    let older = store
        .start_lecture(&agent, None, None, monday)
        .await
        .unwrap();
    let newer = store
        .start_lecture(&agent, None, None, monday + Duration::days(1))
        .await
        .unwrap();
    let course_id = store.lecture(&older).await.unwrap().unwrap().course_id;
    let (instructor, _) = store
        .user_for_login("instructor@demo.lectern.test")
        .await
        .unwrap()
        .unwrap();
    let course = store
        .course_for(&instructor, &course_id)
        .await
        .unwrap()
        .unwrap();
    let lectures = store
        .course_lectures(&course, Utc::now(), Page::ALL)
        .await
        .unwrap();
    let ids: Vec<&str> = lectures.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, [newer.as_str(), older.as_str()]);
    assert_eq!(
        lectures[1].settings.title,
        "LEC101 lecture, 23 Nov 2026 09:00"
    );
    assert_eq!(lectures[1].started_at, Some(monday));
}

async fn seeding_again_changes_nothing_but_the_tokens(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let never = || -> Result<String, StoreError> { panic!("the demo users exist already") };
    store
        .seed_demo(&DemoSeed {
            agent_token_hash: token_hash("a new agent token"),
            worker_token_hash: token_hash("a new worker token"),
            hash_password: &never,
        })
        .await
        .unwrap();
    assert!(store
        .agent_by_token_hash(&token_hash(AGENT_TOKEN))
        .await
        .unwrap()
        .is_none());
    assert!(store
        .agent_by_token_hash(&token_hash("a new agent token"))
        .await
        .unwrap()
        .is_some());
    let student = app.login(STUDENT).await;
    let courses = app.get("/api/v1/courses", As::Cookie(&student)).await;
    assert_eq!(courses.json().as_array().map(Vec::len), Some(1));
}

async fn login_ignores_the_case_of_the_email(db: Db) {
    let app = TestApp::spawn(db).await;
    let answer = app
        .post(
            "/api/v1/auth/login",
            As::Nobody,
            json!({"email": STUDENT.to_uppercase(), "password": PASSWORD}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["email"], STUDENT);
}

on_both_databases!(
    a_repeated_segment_report_changes_nothing_and_times_keep_microseconds,
    a_rendition_report_updates_it_in_place_and_renditions_keep_their_order,
    a_course_lists_its_newest_lecture_first,
    seeding_again_changes_nothing_but_the_tokens,
    login_ignores_the_case_of_the_email,
);
