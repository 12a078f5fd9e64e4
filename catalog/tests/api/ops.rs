//! `/healthz`, `/readyz` and `/metrics`: what operators and their probes see. Who may call
//! them is in the access matrix; here, what they say.

use axum::http::StatusCode;

use crate::fixtures::METRICS_TOKEN;
use crate::helpers::{As, Db, TestApp, STUDENT};

async fn healthz_and_readyz_answer_ok_when_database_and_storage_work(db: Db) {
    let app = TestApp::spawn(db).await;
    for path in ["/healthz", "/readyz"] {
        let answer = app.get(path, As::Nobody).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text());
        assert_eq!(answer.text(), "ok");
    }
}

async fn readyz_is_503_with_a_json_reason_when_storage_is_not_writable(db: Db) {
    let blocker = tempfile::NamedTempFile::new().unwrap();
    // A file where the storage directory should be: nothing can be written below it.
    let app = TestApp::spawn_with(db, |config| {
        config.storage_dir = blocker.path().join("storage");
    })
    .await;
    let answer = app.get("/readyz", As::Nobody).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json()["error"]["code"], "not_ready");
    assert_eq!(
        answer.json()["error"]["message"],
        "the storage directory is not writable"
    );
    assert_eq!(app.get("/healthz", As::Nobody).await.status, StatusCode::OK);
}

async fn readyz_is_503_when_the_database_does_not_answer(db: Db) {
    let app = TestApp::spawn(db).await;
    app.state.store().close().await;
    let answer = app.get("/readyz", As::Nobody).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        answer.json()["error"]["message"],
        "the database does not answer"
    );
    assert_eq!(app.get("/healthz", As::Nobody).await.status, StatusCode::OK);
}

async fn metrics_is_404_for_everyone_without_a_metrics_token(db: Db) {
    let app = TestApp::spawn(db).await;
    let student = app.login(STUDENT).await;
    for who in [
        As::Nobody,
        As::Bearer(METRICS_TOKEN),
        As::Bearer(""),
        As::Cookie(&student),
    ] {
        assert_eq!(app.get("/metrics", who).await.status, StatusCode::NOT_FOUND);
    }
}

async fn metrics_refuse_a_wrong_token_with_401_and_a_bearer_challenge(db: Db) {
    let app = TestApp::spawn_with(db, |c| c.metrics_token = Some(METRICS_TOKEN.into())).await;
    let answer = app.get("/metrics", As::Bearer("not-the-token")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), "Bearer");
    assert_eq!(answer.json()["error"]["code"], "unauthenticated");
}

async fn metrics_count_requests_by_route_template_lectures_by_state_and_segments(db: Db) {
    let app = TestApp::spawn_with(db, |c| c.metrics_token = Some(METRICS_TOKEN.into())).await;
    let (lecture, _) = app.lecture_with_segment().await;
    let student = app.login(STUDENT).await;
    app.get(&format!("/api/v1/lectures/{lecture}"), As::Cookie(&student))
        .await;
    app.get("/api/v1/lectures/no-such-lecture", As::Cookie(&student))
        .await;
    app.get("/no/such/path/for/anyone", As::Nobody).await;
    let answer = app.get("/metrics", As::Bearer(METRICS_TOKEN)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert!(answer
        .header("content-type")
        .starts_with("text/plain; version=0.0.4"));
    let text = answer.text();
    let has = |needle: &str| {
        assert!(
            text.lines().any(|line| line.starts_with(needle)),
            "no line starting {needle:?} in\n{text}"
        )
    };
    has(
        r#"lectern_http_requests_total{method="GET",route="/api/v1/lectures/{id}",status="200"} 1"#,
    );
    has(
        r#"lectern_http_requests_total{method="GET",route="/api/v1/lectures/{id}",status="404"} 1"#,
    );
    has(
        r#"lectern_http_requests_total{method="POST",route="/api/v1/worker/lectures/{id}/segments",status="204"} 1"#,
    );
    has(r#"lectern_http_requests_total{method="GET",route="unmatched",status="404"} 1"#);
    has(
        r#"lectern_http_request_duration_seconds_bucket{method="GET",route="/api/v1/lectures/{id}",le="+Inf"} 2"#,
    );
    has(r#"lectern_lectures{state="capturing"} 1"#);
    has(r#"lectern_lectures{state="ready"} 0"#);
    has("lectern_segments_reported_total 1");
    assert!(
        !text.contains(&lecture),
        "IDs must not become label values:\n{text}"
    );
}

async fn every_answer_carries_a_request_id_that_a_proxy_may_set(db: Db) {
    let app = TestApp::spawn(db).await;
    let first = app.get("/api/v1/me", As::Nobody).await;
    let second = app.get("/api/v1/me", As::Nobody).await;
    let (a, b) = (first.header("x-request-id"), second.header("x-request-id"));
    assert_eq!(a.len(), 36, "a UUID: {a:?}");
    assert_ne!(a, b);
    let given = app
        .send(
            axum::http::Method::GET,
            "/healthz",
            As::Nobody,
            None,
            &[("x-request-id", "proxy-7f3a")],
        )
        .await;
    assert_eq!(given.header("x-request-id"), "proxy-7f3a");
}

on_both_databases!(
    every_answer_carries_a_request_id_that_a_proxy_may_set,
    healthz_and_readyz_answer_ok_when_database_and_storage_work,
    readyz_is_503_with_a_json_reason_when_storage_is_not_writable,
    readyz_is_503_when_the_database_does_not_answer,
    metrics_is_404_for_everyone_without_a_metrics_token,
    metrics_refuse_a_wrong_token_with_401_and_a_bearer_challenge,
    metrics_count_requests_by_route_template_lectures_by_state_and_segments,
);
