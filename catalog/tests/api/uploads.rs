//! `POST /api/v1/courses/{id}/uploads`: a file uploaded by a course's staff is stored, becomes
//! a `processing` lecture and queues a `transcode_upload` job; an empty or missing file is
//! refused with nothing kept; the body limit is its own.

use axum::http::{header, Method, StatusCode};
use lectern_wire::api::LectureState;
use lectern_wire::jobs::{JobKind, JobState, TranscodeUpload};

use crate::helpers::{Answer, As, Db, TestApp};

const INSTRUCTOR: &str = "instructor@demo.lectern.test";
const BOUNDARY: &str = "lectern-test-boundary";

/// A multipart body with the given `(name, file name, bytes)` parts.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = match file_name {
            Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(format!("Content-Disposition: {disposition}\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(app: &TestApp, cookie: &str, course: &str, body: Vec<u8>) -> Answer {
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/courses/{course}/uploads"))
        .header(header::COOKIE, cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(axum::body::Body::from(body))
        .unwrap();
    app.request(request).await
}

/// The demo course (LEC101), the instructor's.
pub async fn demo_course(app: &TestApp, cookie: &str) -> String {
    let courses = app.get("/api/v1/courses", As::Cookie(cookie)).await.json();
    courses
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "LEC101")
        .expect("LEC101")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn an_upload_becomes_a_processing_lecture_with_a_queued_job(db: Db) {
    let app = TestApp::spawn(db).await;
    let cookie = app.login(INSTRUCTOR).await;
    let course = demo_course(&app, &cookie).await;
    // Over the catalog's usual 1 MiB limit.
    let file: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();

    let body = multipart(&[("file", Some("Week 1 – Intro.mp4"), &file)]);
    let answer = upload(&app, &cookie, &course, body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let lecture = answer.json()["lecture_id"].as_str().unwrap().to_owned();

    let stored = app.storage.path().join(format!("uploads/{lecture}/source"));
    assert_eq!(std::fs::read(stored).unwrap(), file);
    let row = app.state.store().lecture(&lecture).await.unwrap().unwrap();
    assert_eq!(row.state, LectureState::Processing);
    assert_eq!(row.settings.title, "Week 1 – Intro");
    assert_eq!(row.course_id, course);

    let jobs = app
        .get(
            &format!("/api/v1/lectures/{lecture}/jobs"),
            As::Cookie(&cookie),
        )
        .await
        .json();
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["kind"], "transcode_upload");
    assert_eq!(jobs[0]["state"], "queued");
    let job = &app.state.store().lecture_jobs(&lecture).await.unwrap()[0];
    assert_eq!(job.kind, JobKind::TranscodeUpload);
    assert_eq!(job.state, JobState::Queued);

    // A title field wins over the file name, whichever comes first.
    let body = multipart(&[
        ("file", Some("x.mkv"), b"not empty"),
        ("title", None, "Guest lecture".as_bytes()),
    ]);
    let answer = upload(&app, &cookie, &course, body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let second = answer.json()["lecture_id"].as_str().unwrap().to_owned();
    let row = app.state.store().lecture(&second).await.unwrap().unwrap();
    assert_eq!(row.settings.title, "Guest lecture");

    let log = app
        .get(
            "/api/v1/audit",
            As::Cookie(&app.login("admin@demo.lectern.test").await),
        )
        .await;
    assert!(log.text().contains("lecture.upload"), "{}", log.text());
}

async fn the_job_payload_names_the_stored_source(db: Db) {
    let app = TestApp::spawn(db).await;
    let cookie = app.login(INSTRUCTOR).await;
    let course = demo_course(&app, &cookie).await;
    let body = multipart(&[("file", Some("a.mp4"), b"12345")]);
    let answer = upload(&app, &cookie, &course, body).await;
    let lecture = answer.json()["lecture_id"].as_str().unwrap().to_owned();

    let worker = crate::jobs::worker_id(app.state.store(), crate::helpers::WORKER_TOKEN).await;
    let job = app
        .state
        .store()
        .claim_job(&worker, &Default::default(), chrono::Utc::now())
        .await
        .unwrap()
        .expect("the upload's job");
    assert_eq!(job.lecture_id, lecture);
    let payload: TranscodeUpload = serde_json::from_value(job.payload).unwrap();
    assert_eq!(
        payload,
        TranscodeUpload {
            source_key: format!("uploads/{lecture}/source"),
            file_name: Some("a.mp4".into()),
            bytes: 5,
        }
    );
}

async fn empty_or_missing_files_are_refused_and_nothing_is_kept(db: Db) {
    let app = TestApp::spawn(db).await;
    let cookie = app.login(INSTRUCTOR).await;
    let course = demo_course(&app, &cookie).await;
    let before = app
        .get(
            &format!("/api/v1/courses/{course}/lectures"),
            As::Cookie(&cookie),
        )
        .await
        .json();

    let answer = upload(
        &app,
        &cookie,
        &course,
        multipart(&[("file", Some("e.mp4"), b"")]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.text().contains("the file is empty"),
        "{}",
        answer.text()
    );

    let answer = upload(&app, &cookie, &course, multipart(&[("title", None, b"t")])).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.text().contains("`file`"), "{}", answer.text());

    let two = multipart(&[("file", Some("a"), b"1"), ("file", Some("b"), b"2")]);
    assert_eq!(
        upload(&app, &cookie, &course, two).await.status,
        StatusCode::BAD_REQUEST
    );

    let after = app
        .get(
            &format!("/api/v1/courses/{course}/lectures"),
            As::Cookie(&cookie),
        )
        .await
        .json();
    assert_eq!(before, after, "a refused upload makes no lecture");
    assert!(!app.storage.path().join("uploads").exists());
}

async fn files_over_the_configured_limit_answer_413(db: Db) {
    let app = TestApp::spawn_with(db, |config| config.max_upload_bytes = 1000).await;
    let cookie = app.login(INSTRUCTOR).await;
    let course = demo_course(&app, &cookie).await;
    let big = vec![7u8; 200 * 1024];
    let answer = upload(
        &app,
        &cookie,
        &course,
        multipart(&[("file", Some("a"), &big)]),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.text()
    );
    assert!(!app.storage.path().join("uploads").exists());
}

on_both_databases!(
    an_upload_becomes_a_processing_lecture_with_a_queued_job,
    the_job_payload_names_the_stored_source,
    empty_or_missing_files_are_refused_and_nothing_is_kept,
    files_over_the_configured_limit_answer_413,
);
