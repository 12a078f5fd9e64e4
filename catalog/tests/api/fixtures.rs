//! A world with neighbours, built through the store on top of the demo seed, for the tests
//! that must show what people and machines may *not* reach:
//!
//! - Demo University (the demo seed): LEC101 with its instructor, an enrolled student, a
//!   student who is not enrolled and the admin; plus LEC202, taught by a second instructor
//!   who has nothing to do with LEC101, and a student invited who never activated.
//! - Other College, open for sign-up: its own admin, instructor, student, course (OTH100),
//!   room, capture box and a lecture with a segment.
//! - A second transcode worker with its own token (never registered, so the demo worker runs
//!   the live sessions of the lectures here).
//! - Two jobs on the scratch lecture, both claimed by the demo worker.

use axum::http::StatusCode;
use lectern_catalog::auth;
use lectern_catalog::store::{Invitation, JobPolicy, NewAccount, NewJob};
use lectern_wire::admin::NewSchedule;
use lectern_wire::api::{AgeBand, Role};
use lectern_wire::jobs::JobKind;
use serde_json::json;

use crate::helpers::{As, TestApp, AGENT_TOKEN, PASSWORD, WORKER_TOKEN};

/// Teaches LEC202 at Demo University, not LEC101.
pub const OTHER_INSTRUCTOR: &str = "instructor2@demo.lectern.test";
pub const FOREIGN_ADMIN: &str = "admin@other.lectern.test";
pub const FOREIGN_INSTRUCTOR: &str = "instructor@other.lectern.test";
pub const FOREIGN_STUDENT: &str = "student@other.lectern.test";
/// The capture box in Other College's room.
pub const FOREIGN_AGENT_TOKEN: &str = "foreign-agent-token-for-tests-01";
/// A second transcode worker.
pub const OTHER_WORKER_TOKEN: &str = "other-worker-token-for-tests-012";

/// The `metrics_token` of catalogs whose `/metrics` tests configure one.
pub const METRICS_TOKEN: &str = "metrics-token-for-tests-01234567";

/// The ids the access tests aim at.
pub struct World {
    /// LEC101, the demo course.
    pub course: String,
    /// A LEC101 lecture with one segment.
    pub lecture: String,
    /// LEC202 at Demo University.
    pub other_course: String,
    /// OTH100 at Other College.
    pub foreign_course: String,
    /// An OTH100 lecture with one segment.
    pub foreign_lecture: String,
    /// A LEC101 lecture for requests that change state (stop, reports, finish).
    pub scratch_lecture: String,
    /// A LEC101 lecture planned ahead, without media (publish, unpublish, delete).
    pub planned_lecture: String,
    /// Demo Hall, the demo box's room.
    pub room: String,
    /// A Demo University room without boxes, to delete.
    pub scratch_room: String,
    /// The demo capture box.
    pub agent: String,
    /// A Demo University capture box whose token may be replaced and which may be deleted.
    pub scratch_agent: String,
    /// A Demo University course without lectures, to delete.
    pub scratch_course: String,
    /// The outsider's user id (Demo University, not enrolled in LEC101).
    pub outsider: String,
    /// The enrolled student's user id (a student of LEC101).
    pub student: String,
    /// A weekly LEC101 schedule in Demo Hall that starts in 2031 (so no recording of the
    /// tests falls into it).
    pub schedule: String,
    /// A job of the scratch lecture the demo worker holds (heartbeat, complete).
    pub held_job: String,
    /// Another job of the scratch lecture the demo worker holds (fail, then claim again).
    pub retry_job: String,
    /// The foreign student's user id (Other College).
    pub foreign_student: String,
    /// A Demo University account invited and never activated (new links, withdrawal).
    pub invited: String,
    /// Demo University's id (sign-up closed).
    pub institute: String,
    /// Other College's id (sign-up open).
    pub foreign_institute: String,
    /// A resumable upload of 14 bytes to LEC101 that its instructor began.
    pub upload: String,
}

/// The invited account's email.
pub const INVITED: &str = "invited@demo.lectern.test";

/// Builds the neighbours through the store and records the lectures through the API.
pub async fn build_world(app: &TestApp) -> World {
    let store = app.state.store();
    // One hash for every fixture user: argon2 is slow on purpose.
    let hash = auth::hash_password(PASSWORD).unwrap();
    let account = |institute_id, email, name, role| NewAccount {
        institute_id,
        email,
        name,
        role,
        password_hash: &hash,
        age_band: AgeBand::Adult,
    };

    let demo = store
        .ensure_institute(lectern_catalog::store::DEMO_INSTITUTE)
        .await
        .unwrap();
    let other_course = store
        .ensure_course(&demo, "LEC202", "Advanced Lecture Capture", "2026 Autumn")
        .await
        .unwrap();
    let other_instructor = store
        .ensure_user(&account(
            &demo,
            OTHER_INSTRUCTOR,
            "Ivo Instructor",
            Role::Instructor,
        ))
        .await
        .unwrap();
    store
        .enrol(&other_course, &other_instructor, Role::Instructor)
        .await
        .unwrap();

    let other = store.ensure_institute("Other College").await.unwrap();
    let foreign_course = store
        .ensure_course(&other, "OTH100", "Elsewhere Studies", "2026 Autumn")
        .await
        .unwrap();
    store
        .ensure_user(&account(&other, FOREIGN_ADMIN, "Olga Admin", Role::Admin))
        .await
        .unwrap();
    let mut foreign_student = String::new();
    for (email, name, role) in [
        (FOREIGN_INSTRUCTOR, "Otto Instructor", Role::Instructor),
        (FOREIGN_STUDENT, "Oona Student", Role::Student),
    ] {
        let id = store
            .ensure_user(&account(&other, email, name, role))
            .await
            .unwrap();
        store.enrol(&foreign_course, &id, role).await.unwrap();
        foreign_student = id;
    }
    let mut institute = store.institute(&other).await.unwrap().unwrap();
    institute.open_signup = true;
    store.update_institute(&institute).await.unwrap();
    let invitation = Invitation {
        token_hash: auth::token_hash("fixture-invitation-token"),
        expires_at: chrono::Utc::now() + chrono::Duration::days(1),
    };
    let invited = store
        .create_account(
            &NewAccount {
                institute_id: &demo,
                email: INVITED,
                name: "Ivy Invited",
                role: Role::Student,
                password_hash: "",
                age_band: AgeBand::Adult,
            },
            Some(&invitation),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let room = store
        .ensure_room(&other, "Other Hall", &foreign_course)
        .await
        .unwrap();
    store
        .upsert_agent(
            "other-hall-box",
            &room,
            &auth::token_hash(FOREIGN_AGENT_TOKEN),
        )
        .await
        .unwrap();
    store
        .upsert_worker("other-worker", &auth::token_hash(OTHER_WORKER_TOKEN))
        .await
        .unwrap();

    // The demo worker runs the live sessions of the lectures below, so its reports land.
    app.register_worker().await;
    let lecture = start(app, AGENT_TOKEN).await;
    app.add_segment(&lecture, 0).await;
    app.add_pictures(&lecture).await;
    let foreign_lecture = start(app, FOREIGN_AGENT_TOKEN).await;
    app.add_segment(&foreign_lecture, 0).await;
    let scratch_lecture = start(app, AGENT_TOKEN).await;
    let course = store
        .lecture(&lecture)
        .await
        .unwrap()
        .expect("the lecture exists")
        .course_id;
    let planned = lectern_wire::admin::NewLecture {
        title: "Planned ahead".into(),
        room_id: None,
        planned_start: None,
        planned_end: None,
    };
    let planned_lecture = store
        .plan_lecture(&course, &planned, chrono::Utc::now())
        .await
        .unwrap();
    let demo_box = store
        .agent_by_token_hash(&auth::token_hash(AGENT_TOKEN))
        .await
        .unwrap()
        .unwrap();
    let scratch_room = store
        .ensure_room(&demo, "Scratch Room", &course)
        .await
        .unwrap();
    let scratch_agent = store
        .create_agent(
            "scratch-box",
            &scratch_room,
            &auth::token_hash("scratch-box-token"),
        )
        .await
        .unwrap();
    let scratch_course = store
        .ensure_course(&demo, "LEC999", "Never Taught", "2026 Autumn")
        .await
        .unwrap();
    let schedule = store
        .create_schedule(
            &NewSchedule {
                course_id: course.clone(),
                room_id: demo_box.room_id.clone(),
                title: "Lecture Capture, weekly".into(),
                first_start: "2031-01-06T09:15:00".parse().unwrap(),
                timezone: "Europe/Berlin".into(),
                rrule: "FREQ=WEEKLY;BYDAY=MO".into(),
                duration_minutes: 90,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .id;
    let (outsider, _) = store
        .user_for_login(crate::helpers::OUTSIDER)
        .await
        .unwrap()
        .unwrap();
    let (student, _) = store
        .user_for_login(crate::helpers::STUDENT)
        .await
        .unwrap()
        .unwrap();
    let (held_job, retry_job) = claimed_jobs(app, &scratch_lecture).await;
    let upload = resumable_upload(app, &course).await;
    World {
        upload,
        held_job,
        retry_job,
        course,
        lecture,
        other_course,
        foreign_course,
        foreign_lecture,
        scratch_lecture,
        planned_lecture,
        room: demo_box.room_id,
        scratch_room,
        agent: demo_box.id,
        scratch_agent,
        scratch_course,
        outsider: outsider.id,
        student: student.id,
        schedule,
        foreign_student,
        invited,
        institute: demo,
        foreign_institute: other,
    }
}

/// The id of a new resumable upload of 14 bytes to `course` by LEC101's instructor.
async fn resumable_upload(app: &TestApp, course: &str) -> String {
    let cookie = app.login("instructor@demo.lectern.test").await;
    let answer = app
        .send(
            axum::http::Method::POST,
            &format!("/api/v1/courses/{course}/uploads/resumable"),
            As::Cookie(&cookie),
            None,
            &[("tus-resumable", "1.0.0"), ("upload-length", "14")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()["id"].as_str().unwrap().to_owned()
}

/// Starts a recording with a box's token; returns the lecture id.
async fn start(app: &TestApp, agent_token: &str) -> String {
    let answer = app
        .post(
            "/api/v1/agent/recordings",
            As::Bearer(agent_token),
            json!({"tracks": ["presenter"]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()["lecture_id"].as_str().unwrap().to_owned()
}

/// Queues two jobs on `lecture` and lets the demo worker claim both.
async fn claimed_jobs(app: &TestApp, lecture: &str) -> (String, String) {
    let store = app.state.store();
    let worker = store
        .worker_by_token_hash(&auth::token_hash(WORKER_TOKEN))
        .await
        .unwrap()
        .expect("the demo worker");
    let now = chrono::Utc::now();
    for key in ["matrix-1", "matrix-2"] {
        let job = NewJob {
            kind: JobKind::Transcode,
            lecture_id: lecture,
            payload: &json!({}),
            dedupe_key: key,
        };
        store.enqueue_job(&job, now).await.unwrap().unwrap();
    }
    let claim = async || {
        store
            .claim_job(&worker.id, &JobPolicy::default(), now)
            .await
            .unwrap()
            .expect("a queued job")
            .id
    };
    (claim().await, claim().await)
}

/// `n` more students of Demo University enrolled in `course`, signed in: (id, cookie).
pub async fn enrolled_students(app: &TestApp, course: &str, n: usize) -> Vec<(String, String)> {
    let store = app.state.store();
    let demo = store
        .ensure_institute(lectern_catalog::store::DEMO_INSTITUTE)
        .await
        .unwrap();
    let hash = auth::hash_password(PASSWORD).unwrap();
    let mut students = Vec::new();
    for i in 0..n {
        let email = format!("viewer{i}@demo.lectern.test");
        let name = format!("Vera Viewer {i}");
        let id = store
            .ensure_user(&NewAccount {
                institute_id: &demo,
                email: &email,
                name: &name,
                role: Role::Student,
                password_hash: &hash,
                age_band: AgeBand::Adult,
            })
            .await
            .unwrap();
        store.enrol(course, &id, Role::Student).await.unwrap();
        students.push((id, app.login(&email).await));
    }
    students
}

/// A capturing LEC101 lecture of 42 seconds (2 s, then four of 10 s: five 10-second parts)
/// that the demo student may play; returns its id and its course's.
pub async fn lecture_of_42_seconds(app: &TestApp) -> (String, String) {
    let lecture = app.start_lecture().await.lecture_id;
    app.add_segment(&lecture, 0).await;
    for sequence in 1..=4 {
        let segment = json!({
            "track": "presenter", "rung": "720p", "sequence": sequence, "duration": 10.0,
            "program_date_time": "2026-11-24T09:00:00Z", "discontinuity": false, "bytes": 10
        });
        let answer = app
            .post(
                &format!("/api/v1/worker/lectures/{lecture}/segments"),
                As::Bearer(WORKER_TOKEN),
                segment,
            )
            .await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    }
    let course = app
        .state
        .store()
        .lecture(&lecture)
        .await
        .unwrap()
        .unwrap()
        .course_id;
    (lecture, course)
}

/// Sends the player's report on `lecture` as `cookie`.
pub async fn report_progress(
    app: &TestApp,
    cookie: &str,
    lecture: &str,
    report: serde_json::Value,
) -> crate::helpers::Answer {
    app.send(
        axum::http::Method::PUT,
        &format!("/api/v1/lectures/{lecture}/progress"),
        As::Cookie(cookie),
        Some(report),
        &[],
    )
    .await
}
