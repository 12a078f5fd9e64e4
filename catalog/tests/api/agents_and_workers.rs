use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{As, Db, TestApp, AGENT_TOKEN, WORKER_TOKEN};

async fn agent_and_worker_endpoints_refuse_missing_or_wrong_bearer_tokens_with_401(db: Db) {
    let app = TestApp::spawn(db).await;
    let lecture = app.start_lecture().await.lecture_id;
    let calls = [
        (
            "/api/v1/agent/recordings".to_owned(),
            json!({"tracks": ["presenter"]}),
            AGENT_TOKEN,
        ),
        (
            format!("/api/v1/agent/recordings/{lecture}/stop"),
            json!({"recorded_seconds": 1.0}),
            AGENT_TOKEN,
        ),
        (
            "/api/v1/worker/register".to_owned(),
            json!({"srt_url": "srt://127.0.0.1:9000"}),
            WORKER_TOKEN,
        ),
        (
            format!("/api/v1/worker/lectures/{lecture}/finish"),
            json!({}),
            WORKER_TOKEN,
        ),
    ];
    for (path, body, right) in calls {
        let other = if right == AGENT_TOKEN {
            WORKER_TOKEN
        } else {
            AGENT_TOKEN
        };
        for who in [As::Nobody, As::Bearer("wrong-token"), As::Bearer(other)] {
            let answer = app.post(&path, who, body.clone()).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
        }
        let answer = app.post(&path, As::Bearer(right), body.clone()).await;
        assert!(
            answer.status.is_success(),
            "{path}: {} {}",
            answer.status,
            answer.text()
        );
    }
}

async fn worker_reports_for_unknown_lectures_are_404(db: Db) {
    let app = TestApp::spawn(db).await;
    let rendition = json!({"track": "presenter", "rung": "720p", "width": 1280, "height": 720,
        "bandwidth": 1, "codecs": "avc1.64001f", "frame_rate": 30.0});
    let segment = json!({"track": "presenter", "rung": "720p", "sequence": 0, "duration": 2.0,
        "program_date_time": "2026-11-24T09:00:00Z", "discontinuity": false, "bytes": 10});
    for (what, body) in [
        ("renditions", rendition),
        ("segments", segment),
        ("finish", json!({})),
    ] {
        let answer = app
            .post(
                &format!("/api/v1/worker/lectures/no-such-lecture/{what}"),
                As::Bearer(WORKER_TOKEN),
                body,
            )
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{what}");
    }
}

async fn a_recording_is_offered_the_registered_worker_for_live_and_none_without_one(db: Db) {
    let app = TestApp::spawn(db).await;
    assert!(app.start_lecture().await.live.is_none());
    let register = app
        .post(
            "/api/v1/worker/register",
            As::Bearer(WORKER_TOKEN),
            json!({"srt_url": "srt://127.0.0.1:9000"}),
        )
        .await;
    assert_eq!(register.status, StatusCode::NO_CONTENT);
    let started = app.start_lecture().await;
    assert_eq!(started.recording_id, started.lecture_id);
    let live = started.live.expect("a fresh worker is offered");
    assert_eq!(live.srt_url, "srt://127.0.0.1:9000");
    assert_eq!(
        live.stream_ids,
        vec![format!("lectern:{}:presenter", started.lecture_id)]
    );
}

async fn a_failed_lecture_carries_the_workers_error(db: Db) {
    let app = TestApp::spawn(db).await;
    let lecture = app.start_lecture().await.lecture_id;
    let answer = app
        .post(
            &format!("/api/v1/worker/lectures/{lecture}/finish"),
            As::Bearer(WORKER_TOKEN),
            json!({"error": "encoder crashed"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let student = app.login(crate::helpers::STUDENT).await;
    let body = app
        .get(&format!("/api/v1/lectures/{lecture}"), As::Cookie(&student))
        .await
        .json();
    assert_eq!(body["state"], "failed");
    assert_eq!(body["error"], "encoder crashed");
}

async fn reports_with_unsafe_track_names_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let answer = app
        .post(
            "/api/v1/agent/recordings",
            As::Bearer(AGENT_TOKEN),
            json!({"tracks": ["../etc"]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let lecture = app.start_lecture().await.lecture_id;
    let segment = json!({"track": "presenter", "rung": "../x", "sequence": 0, "duration": 2.0,
        "program_date_time": "2026-11-24T09:00:00Z", "discontinuity": false, "bytes": 10});
    let answer = app
        .post(
            &format!("/api/v1/worker/lectures/{lecture}/segments"),
            As::Bearer(WORKER_TOKEN),
            segment,
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

on_both_databases!(
    agent_and_worker_endpoints_refuse_missing_or_wrong_bearer_tokens_with_401,
    worker_reports_for_unknown_lectures_are_404,
    a_recording_is_offered_the_registered_worker_for_live_and_none_without_one,
    a_failed_lecture_carries_the_workers_error,
    reports_with_unsafe_track_names_are_refused,
);
