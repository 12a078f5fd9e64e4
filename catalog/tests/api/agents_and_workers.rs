use axum::http::StatusCode;
use chrono::{Duration, Utc};
use lectern_catalog::auth::token_hash;
use lectern_wire::api::LectureState;
use serde_json::{json, Value};

use crate::fixtures::OTHER_WORKER_TOKEN;
use crate::helpers::{As, Db, TestApp, AGENT_TOKEN, WORKER_TOKEN};

/// Adds a second worker (`OTHER_WORKER_TOKEN`), not registered for live yet; returns its id.
async fn other_worker(app: &TestApp) -> String {
    let store = app.state.store();
    let hash = token_hash(OTHER_WORKER_TOKEN);
    store.upsert_worker("other-worker", &hash).await.unwrap();
    store.worker_by_token_hash(&hash).await.unwrap().unwrap().id
}

async fn register(app: &TestApp, token: &str, host: &str, ports: [u16; 2]) {
    let body = json!({"srt_host": host, "srt_ports": ports});
    let answer = app
        .post("/api/v1/worker/register", As::Bearer(token), body)
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
}

/// A live session's reports about `lecture`: a rendition, its segment `sequence`, and the
/// finish when `finish` is set.
fn live_reports(lecture: &str, sequence: u64, finish: bool) -> Vec<(String, Value)> {
    let mut reports = vec![
        (
            format!("/api/v1/worker/lectures/{lecture}/renditions"),
            json!({"track": "presenter", "rung": "720p", "width": 1280, "height": 720,
                "bandwidth": 1, "codecs": "avc1.64001f", "frame_rate": 30.0}),
        ),
        (
            format!("/api/v1/worker/lectures/{lecture}/segments"),
            json!({"track": "presenter", "rung": "720p", "sequence": sequence, "duration": 2.0,
                "program_date_time": "2026-11-24T09:00:00Z", "discontinuity": false, "bytes": 10}),
        ),
    ];
    if finish {
        reports.push((
            format!("/api/v1/worker/lectures/{lecture}/finish"),
            json!({}),
        ));
    }
    reports
}

/// Sends `reports` as the worker with `token`; the statuses and bodies it got.
async fn send_reports(
    app: &TestApp,
    token: &str,
    reports: Vec<(String, Value)>,
) -> Vec<(u16, String)> {
    let mut answers = Vec::new();
    for (path, body) in reports {
        let answer = app.post(&path, As::Bearer(token), body).await;
        answers.push((answer.status.as_u16(), answer.text()));
    }
    answers
}

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
            json!({"srt_host": "127.0.0.1", "srt_ports": [9000, 9001]}),
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
    assert!(app.start_recording().await.live.is_none());
    let register = app
        .post(
            "/api/v1/worker/register",
            As::Bearer(WORKER_TOKEN),
            json!({"srt_host": "127.0.0.1", "srt_ports": [9000, 9001]}),
        )
        .await;
    assert_eq!(register.status, StatusCode::NO_CONTENT);
    let started = app.start_recording().await;
    assert_eq!(started.recording_id, started.lecture_id);
    let live = started.live.expect("a fresh worker is offered");
    assert_eq!(live.srt_url, "srt://127.0.0.1:9000");
    assert_eq!(
        live.stream_ids,
        vec![format!("lectern:{}:presenter", started.lecture_id)]
    );
    assert_eq!(live.passphrase.len(), 32, "128 bits as hex");
}

async fn each_recording_gets_its_own_port_and_passphrase_listed_only_to_its_worker(db: Db) {
    let app = TestApp::spawn(db).await;
    other_worker(&app).await;
    let register = app
        .post(
            "/api/v1/worker/register",
            As::Bearer(WORKER_TOKEN),
            json!({"srt_host": "worker-1.example", "srt_ports": [9000, 9001]}),
        )
        .await;
    assert_eq!(register.status, StatusCode::NO_CONTENT);
    let first = app.start_recording().await;
    let second = app.start_recording().await;
    let (a, b) = (first.live.clone().unwrap(), second.live.clone().unwrap());
    assert_eq!(a.srt_url, "srt://worker-1.example:9000");
    assert_eq!(b.srt_url, "srt://worker-1.example:9001");
    assert_ne!(a.passphrase, b.passphrase);
    // The range is full: a third recording is recorded locally only.
    let third = app.start_recording().await;
    assert!(third.live.is_none(), "no free port, no live target");

    let sessions = app
        .get("/api/v1/worker/sessions", As::Bearer(WORKER_TOKEN))
        .await;
    assert_eq!(sessions.status, StatusCode::OK);
    let sessions = sessions.json();
    assert_eq!(
        sessions,
        json!([
            {"lecture_id": first.lecture_id, "port": 9000,
             "stream_ids": [format!("lectern:{}:presenter", first.lecture_id)], "passphrase": a.passphrase},
            {"lecture_id": second.lecture_id, "port": 9001,
             "stream_ids": [format!("lectern:{}:presenter", second.lecture_id)], "passphrase": b.passphrase},
        ])
    );
    // Another worker sees none of them.
    let other = app
        .get("/api/v1/worker/sessions", As::Bearer(OTHER_WORKER_TOKEN))
        .await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.json(), json!([]));

    // Stopping the first clears its passphrase and frees its port for the next recording.
    let stop = app
        .post(
            &format!("/api/v1/agent/recordings/{}/stop", first.lecture_id),
            As::Bearer(AGENT_TOKEN),
            json!({"recorded_seconds": 1.0}),
        )
        .await;
    assert_eq!(stop.status, StatusCode::NO_CONTENT);
    let listed = app
        .get("/api/v1/worker/sessions", As::Bearer(WORKER_TOKEN))
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["lecture_id"], json!(second.lecture_id));
    let fourth = app
        .start_recording()
        .await
        .live
        .expect("port 9000 is free again");
    assert_eq!(fourth.srt_url, "srt://worker-1.example:9000");
    assert_ne!(fourth.passphrase, a.passphrase);
}

async fn a_bad_port_range_or_host_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    for body in [
        json!({"srt_host": "127.0.0.1", "srt_ports": [9001, 9000]}),
        json!({"srt_host": "127.0.0.1", "srt_ports": [0, 9000]}),
        json!({"srt_host": "", "srt_ports": [9000, 9000]}),
        json!({"srt_host": "a b", "srt_ports": [9000, 9000]}),
    ] {
        let answer = app
            .post(
                "/api/v1/worker/register",
                As::Bearer(WORKER_TOKEN),
                body.clone(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
    }
}

async fn a_failed_lecture_carries_the_workers_error(db: Db) {
    let app = TestApp::spawn(db).await;
    let lecture = app.start_lecture().await.lecture_id;
    app.stop_recording(&lecture).await;
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

async fn a_live_session_that_ends_while_the_box_records_leaves_the_lecture_capturing(db: Db) {
    let app = TestApp::spawn(db).await;
    let lecture = app.start_lecture().await.lecture_id;
    app.add_segment(&lecture, 0).await;
    let finish = app
        .post(
            &format!("/api/v1/worker/lectures/{lecture}/finish"),
            As::Bearer(WORKER_TOKEN),
            json!({"error": null}),
        )
        .await;
    assert_eq!(finish.status, StatusCode::NO_CONTENT);
    let student = app.login(crate::helpers::STUDENT).await;
    let state = |body: serde_json::Value| body["state"].as_str().unwrap_or_default().to_owned();
    let uri = format!("/api/v1/lectures/{lecture}");
    assert_eq!(
        state(app.get(&uri, As::Cookie(&student)).await.json()),
        "capturing",
        "a network cut is not the end of the lecture"
    );
    // The box stops after the live copy closed: nothing is left to wait for.
    app.stop_recording(&lecture).await;
    assert_eq!(
        state(app.get(&uri, As::Cookie(&student)).await.json()),
        "ready"
    );
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

async fn a_worker_reports_only_on_the_lectures_whose_live_session_it_runs(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let other = other_worker(&app).await;
    // The demo worker takes the first recording; the other worker, up only then and with
    // fewer sessions, the second.
    register(&app, WORKER_TOKEN, "worker-1.example", [9000, 9009]).await;
    let ours = app.start_recording().await.lecture_id;
    register(&app, OTHER_WORKER_TOKEN, "worker-2.example", [9000, 9009]).await;
    let theirs = app.start_recording().await;
    assert_eq!(theirs.live.unwrap().srt_url, "srt://worker-2.example:9000");
    let theirs = theirs.lecture_id;

    // Another worker's lecture answers exactly as a lecture that does not exist.
    let unknown = send_reports(&app, WORKER_TOKEN, live_reports("no-such-lecture", 0, true)).await;
    assert!(
        unknown.iter().all(|(status, _)| *status == 404),
        "{unknown:?}"
    );
    for (token, lecture) in [(OTHER_WORKER_TOKEN, &ours), (WORKER_TOKEN, &theirs)] {
        let answers = send_reports(&app, token, live_reports(lecture, 0, true)).await;
        assert_eq!(answers, unknown, "{token} on {lecture}");
    }
    for lecture in [&ours, &theirs] {
        let row = store.lecture(lecture).await.unwrap().unwrap();
        assert_eq!(row.state, LectureState::Capturing, "nothing finished it");
        let media = store.lecture_media(&row).await.unwrap();
        assert!(media.renditions.is_empty(), "nothing was recorded");
    }

    // Each worker on its own lecture.
    for (token, lecture) in [(WORKER_TOKEN, &ours), (OTHER_WORKER_TOKEN, &theirs)] {
        let answers = send_reports(&app, token, live_reports(lecture, 0, false)).await;
        assert!(
            answers.iter().all(|(status, _)| *status == 204),
            "{answers:?}"
        );
    }
    // A restarted worker has the same token, so the same id: it goes on with its lecture.
    register(&app, WORKER_TOKEN, "worker-1.example", [9000, 9009]).await;
    let answers = send_reports(&app, WORKER_TOKEN, live_reports(&ours, 1, false)).await;
    assert!(
        answers.iter().all(|(status, _)| *status == 204),
        "{answers:?}"
    );

    // After the box stopped, the live worker still flushes and finishes (and may repeat the
    // finish when its first answer was lost); the other worker still may not.
    app.stop_recording(&ours).await;
    let finish = format!("/api/v1/worker/lectures/{ours}/finish");
    let answer = app
        .post(
            &finish,
            As::Bearer(OTHER_WORKER_TOKEN),
            json!({"error": "not mine"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    for _ in 0..2 {
        let answer = app.post(&finish, As::Bearer(WORKER_TOKEN), json!({})).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    }
    let row = store.lecture(&ours).await.unwrap().unwrap();
    assert_eq!(row.state, LectureState::Ready);
    assert_eq!(row.error, None);
    let segments = store.segments(&ours, "presenter", "720p").await.unwrap();
    assert_eq!(segments.len(), 2);

    // A recording that started while no worker was up has no live worker: no worker may
    // report on it (its media come from a job).
    let stale = Utc::now() - Duration::minutes(2);
    let demo = store
        .worker_by_token_hash(&token_hash(WORKER_TOKEN))
        .await
        .unwrap()
        .unwrap()
        .id;
    for worker in [&demo, &other] {
        store
            .register_worker(worker, "worker.example", (9000, 9009), stale)
            .await
            .unwrap();
    }
    let unassigned = app.start_recording().await;
    assert!(unassigned.live.is_none());
    for token in [WORKER_TOKEN, OTHER_WORKER_TOKEN] {
        let answers =
            send_reports(&app, token, live_reports(&unassigned.lecture_id, 0, true)).await;
        assert!(
            answers.iter().all(|(status, _)| *status == 404),
            "{answers:?}"
        );
    }
}

on_both_databases!(
    a_worker_reports_only_on_the_lectures_whose_live_session_it_runs,
    agent_and_worker_endpoints_refuse_missing_or_wrong_bearer_tokens_with_401,
    worker_reports_for_unknown_lectures_are_404,
    a_recording_is_offered_the_registered_worker_for_live_and_none_without_one,
    a_failed_lecture_carries_the_workers_error,
    a_live_session_that_ends_while_the_box_records_leaves_the_lecture_capturing,
    reports_with_unsafe_track_names_are_refused,
    each_recording_gets_its_own_port_and_passphrase_listed_only_to_its_worker,
    a_bad_port_range_or_host_is_refused,
);
