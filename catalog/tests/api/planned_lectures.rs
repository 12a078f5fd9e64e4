//! Planned lectures become the recording, on both databases: a box that starts recording in
//! the room of a lecture planned for now records that lecture (from five minutes before its
//! planned start to its planned end; the nearest in time of several), keeping its course and
//! title, with its live session as usual; outside its window, in another room or without a
//! room it is left alone, and the schedule's occurrence and then the room's default course
//! take the recording as before.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use lectern_catalog::auth::token_hash;
use lectern_catalog::store::{Agent, LectureRow, Store, DEMO_INSTITUTE};
use lectern_wire::admin::{NewLecture, NewSchedule};
use lectern_wire::api::LectureState;
use serde_json::{json, Value};

use crate::helpers::{As, Db, TestApp, AGENT_TOKEN, WORKER_TOKEN};

const ADMIN: &str = "admin@demo.lectern.test";
const INSTRUCTOR: &str = "instructor@demo.lectern.test";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The demo box (in Demo Hall, whose default course is LEC101) and the courses and rooms
/// the tests plan into.
struct World {
    agent: Agent,
    /// LEC101: Demo Hall's default course.
    default_course: String,
    /// LEC202: the course lectures are planned for.
    planned_course: String,
    /// SCH100: the course of Demo Hall's schedule (when a test makes one).
    scheduled_course: String,
    /// Another room of the institute.
    other_room: String,
}

async fn world(store: &Store) -> World {
    let agent = store
        .agent_by_token_hash(&token_hash(AGENT_TOKEN))
        .await
        .unwrap()
        .expect("the demo box");
    let demo = store.ensure_institute(DEMO_INSTITUTE).await.unwrap();
    let course = |code: &'static str, title: &'static str| {
        let demo = demo.clone();
        async move {
            store
                .ensure_course(&demo, code, title, "2026 Autumn")
                .await
                .unwrap()
        }
    };
    let default_course = course("LEC101", "Introduction to Lecture Capture").await;
    let planned_course = course("LEC202", "Advanced Lecture Capture").await;
    let scheduled_course = course("SCH100", "Scheduled Studies").await;
    let other_room = store
        .ensure_room(&demo, "Other Hall", &default_course)
        .await
        .unwrap();
    World {
        agent,
        default_course,
        planned_course,
        scheduled_course,
        other_room,
    }
}

/// Plans a lecture of LEC202 through the store; returns its id.
async fn plan(
    store: &Store,
    w: &World,
    title: &str,
    room: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
) -> String {
    let new = NewLecture {
        title: title.into(),
        room_id: room.map(str::to_owned),
        planned_start: start.map(at),
        planned_end: end.map(at),
    };
    store
        .plan_lecture(&w.planned_course, &new, Utc::now())
        .await
        .unwrap()
}

/// The demo box starts recording at `now` (with `title`, if any); the lecture it records.
async fn record(store: &Store, w: &World, title: Option<&str>, now: &str) -> LectureRow {
    let id = store
        .start_lecture(&w.agent, title, Some("presenter"), at(now))
        .await
        .unwrap();
    store.lecture(&id).await.unwrap().unwrap()
}

async fn state_of(store: &Store, lecture: &str) -> LectureState {
    store.lecture(lecture).await.unwrap().unwrap().state
}

async fn a_planned_lecture_is_recorded_only_inside_its_window_and_in_its_room(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let w = world(store).await;
    let room = w.agent.room_id.clone();
    let (start, end) = (Some("2030-03-05T10:00:00Z"), Some("2030-03-05T11:30:00Z"));
    let planned = plan(store, &w, "Week 1: Codecs", Some(&room), start, end).await;
    let elsewhere = plan(store, &w, "Next door", Some(&w.other_room), start, end).await;
    let roomless = plan(store, &w, "Anywhere", None, start, end).await;
    let open_ended = plan(
        store,
        &w,
        "No end",
        Some(&room),
        Some("2030-03-06T10:00:00Z"),
        None,
    )
    .await;

    // Just before the five minutes ahead, and from its planned end on: a lecture of the
    // room's default course, as without a plan.
    for now in ["2030-03-05T09:54:59Z", "2030-03-05T11:30:00Z"] {
        let lecture = record(store, &w, None, now).await;
        assert_ne!(lecture.id, planned, "{now}");
        assert_eq!(lecture.course_id, w.default_course, "{now}");
        assert_eq!(lecture.settings.planned_start, None, "{now}");
    }
    assert_eq!(state_of(store, &planned).await, LectureState::Scheduled);

    // Five minutes ahead it is the recording: capturing from now, its plan kept.
    let lecture = record(store, &w, None, "2030-03-05T09:55:00Z").await;
    assert_eq!(lecture.id, planned);
    assert_eq!(lecture.state, LectureState::Capturing);
    assert_eq!(lecture.course_id, w.planned_course);
    assert_eq!(lecture.room_id.as_deref(), Some(room.as_str()));
    assert_eq!(lecture.settings.title, "Week 1: Codecs");
    assert_eq!(lecture.started_at, Some(at("2030-03-05T09:55:00Z")));
    assert_eq!(lecture.main_track.as_deref(), Some("presenter"));
    assert_eq!(lecture.settings.planned_start, start.map(at));
    assert_eq!(lecture.settings.planned_end, end.map(at));
    assert_eq!(lecture.schedule_id, None);

    // Once it records, it is not taken again (a box that restarts records a new lecture);
    // the lectures of another room, without a room or without an end never are.
    let again = record(store, &w, None, "2030-03-05T10:30:00Z").await;
    assert!(![&planned, &elsewhere, &roomless].contains(&&again.id));
    assert_eq!(again.course_id, w.default_course);
    let later = record(store, &w, None, "2030-03-06T10:05:00Z").await;
    assert_ne!(later.id, open_ended);
    for lecture in [&elsewhere, &roomless, &open_ended] {
        assert_eq!(state_of(store, lecture).await, LectureState::Scheduled);
    }
}

async fn of_two_planned_lectures_the_one_nearest_in_time_is_recorded(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let w = world(store).await;
    let room = w.agent.room_id.clone();
    let early = plan(
        store,
        &w,
        "Early lecture",
        Some(&room),
        Some("2030-03-07T09:00:00Z"),
        Some("2030-03-07T10:30:00Z"),
    )
    .await;
    let late = plan(
        store,
        &w,
        "Late lecture",
        Some(&room),
        Some("2030-03-07T10:30:00Z"),
        Some("2030-03-07T12:00:00Z"),
    )
    .await;

    // At 10:27 both windows hold; the late lecture starts 3 minutes away, the early one
    // started 87 minutes ago. A title the box sends wins over the planned one.
    let first = record(
        store,
        &w,
        Some("Late lecture, live"),
        "2030-03-07T10:27:00Z",
    )
    .await;
    assert_eq!(first.id, late);
    assert_eq!(first.settings.title, "Late lecture, live");
    // The early one is still current for another box of the room; a blank title is none.
    let second = record(store, &w, Some("  "), "2030-03-07T10:28:00Z").await;
    assert_eq!(second.id, early);
    assert_eq!(second.settings.title, "Early lecture");
}

async fn a_planned_lecture_wins_over_the_schedule_which_wins_over_the_default_course(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let w = world(store).await;
    let room = w.agent.room_id.clone();
    // Mondays 10:00 to 11:30 UTC in Demo Hall; 4 March 2030 is a Monday.
    let schedule = store
        .create_schedule(
            &NewSchedule {
                course_id: w.scheduled_course.clone(),
                room_id: room.clone(),
                title: "Scheduled Studies".into(),
                first_start: "2030-03-04T10:00:00".parse().unwrap(),
                timezone: "UTC".into(),
                rrule: "FREQ=WEEKLY;BYDAY=MO".into(),
                duration_minutes: 90,
            },
            Utc::now(),
        )
        .await
        .unwrap();
    let planned = plan(
        store,
        &w,
        "Guest lecture",
        Some(&room),
        Some("2030-03-04T10:00:00Z"),
        Some("2030-03-04T11:30:00Z"),
    )
    .await;
    // Planned for the next Monday, after that day's occurrence.
    let next_week = plan(
        store,
        &w,
        "Evening talk",
        Some(&room),
        Some("2030-03-11T18:00:00Z"),
        Some("2030-03-11T19:00:00Z"),
    )
    .await;

    let lecture = record(store, &w, None, "2030-03-04T10:05:00Z").await;
    assert_eq!(lecture.id, planned);
    assert_eq!(lecture.course_id, w.planned_course);
    assert_eq!(lecture.schedule_id, None);

    // With the planned lecture taken, the occurrence routes the recording, as before.
    let lecture = record(store, &w, None, "2030-03-04T10:10:00Z").await;
    assert_eq!(lecture.course_id, w.scheduled_course);
    assert_eq!(lecture.schedule_id.as_deref(), Some(schedule.id.as_str()));
    assert_eq!(lecture.settings.title, "Scheduled Studies, 4 Mar 2030");
    assert_eq!(
        lecture.settings.planned_start,
        Some(at("2030-03-04T10:00:00Z"))
    );
    let lecture = record(store, &w, None, "2030-03-11T10:10:00Z").await;
    assert_eq!(lecture.schedule_id.as_deref(), Some(schedule.id.as_str()));
    assert_eq!(state_of(store, &next_week).await, LectureState::Scheduled);

    // Neither: the room's default course.
    let lecture = record(store, &w, None, "2030-03-05T10:05:00Z").await;
    assert_eq!(lecture.course_id, w.default_course);
    assert_eq!(lecture.schedule_id, None);
    assert_eq!(lecture.settings.title, "LEC101 lecture, 5 Mar 2030 10:05");
}

/// Through the API: staff plan a lecture in Demo Hall for now, the box starts recording, and
/// the planned lecture is what records, with its live session assigned as for any recording.
async fn a_lecture_planned_through_the_api_is_what_the_box_records_live(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let instructor = app.login(INSTRUCTOR).await;
    let courses = app.get("/api/v1/courses", As::Cookie(&admin)).await.json();
    let course = courses[0]["id"].as_str().unwrap().to_owned();
    let rooms = app.get("/api/v1/rooms", As::Cookie(&admin)).await.json();
    let room = rooms[0]["id"].as_str().unwrap().to_owned();
    let now = Utc::now();
    let body = json!({
        "title": "Week 4: Live streaming", "room_id": room,
        "planned_start": now + Duration::minutes(3), "planned_end": now + Duration::minutes(90),
    });
    let answer = app
        .post(
            &format!("/api/v1/courses/{course}/lectures"),
            As::Cookie(&instructor),
            body,
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let planned: Value = answer.json();
    assert_eq!(planned["state"], "scheduled");
    let id = planned["id"].as_str().unwrap().to_owned();

    let started = app.start_lecture().await;
    assert_eq!(started.lecture_id, id);
    let live = started.live.expect("the demo worker is up");
    let lecture = app
        .get(&format!("/api/v1/lectures/{id}"), As::Cookie(&instructor))
        .await
        .json();
    assert_eq!(lecture["state"], "capturing");
    assert_eq!(lecture["live"], true);
    assert_eq!(lecture["title"], "Week 4: Live streaming");
    assert_eq!(lecture["planned_start"], planned["planned_start"]);
    assert!(lecture["started_at"].is_string());

    // The worker is told about it and may report on it; the box stops it as its own.
    let sessions = app
        .get("/api/v1/worker/sessions", As::Bearer(WORKER_TOKEN))
        .await
        .json();
    assert_eq!(sessions[0]["lecture_id"], id.as_str());
    assert_eq!(sessions[0]["passphrase"], live.passphrase.as_str());
    app.add_segment(&id, 0).await;
    app.stop_recording(&id).await;
    let lecture = app
        .get(&format!("/api/v1/lectures/{id}"), As::Cookie(&instructor))
        .await
        .json();
    assert_eq!(lecture["state"], "processing");
    assert_eq!(lecture["duration_seconds"], 2.0);
}

on_both_databases!(
    a_planned_lecture_is_recorded_only_inside_its_window_and_in_its_room,
    of_two_planned_lectures_the_one_nearest_in_time_is_recorded,
    a_planned_lecture_wins_over_the_schedule_which_wins_over_the_default_course,
    a_lecture_planned_through_the_api_is_what_the_box_records_live,
);
