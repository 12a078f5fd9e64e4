//! The raw upload of a box's spool: `GET …/chunks` and `PUT …/chunks/{track}/{index}`.

use axum::http::{Method, StatusCode};
use sha2::{Digest, Sha256};

use crate::fixtures::{build_world, FOREIGN_AGENT_TOKEN};
use crate::helpers::Db;
use crate::helpers::{As, TestApp, AGENT_TOKEN};

const START: &str = "2026-11-24T09:00:00Z";

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn put(
    app: &TestApp,
    token: &str,
    recording: &str,
    index: u32,
    body: &[u8],
    sha256: &str,
) -> (StatusCode, String) {
    let request = axum::http::Request::builder()
        .method(Method::PUT)
        .uri(format!(
            "/api/v1/agent/recordings/{recording}/chunks/presenter/{index}"
        ))
        .header("authorization", format!("Bearer {token}"))
        .header("x-lectern-sha256", sha256)
        .header("x-lectern-chunk-start", START)
        .header("x-lectern-chunk-duration-ns", "10000000000")
        .body(axum::body::Body::from(body.to_vec()))
        .unwrap();
    let answer = app.request(request).await;
    (answer.status, answer.text())
}

async fn a_chunk_is_stored_once_with_its_checksum_and_a_mismatch_stores_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let recording = app.start_lecture().await.recording_id;
    let raw = |index: u32| {
        app.storage
            .path()
            .join(format!("raw/{recording}/presenter/{index:05}.ts"))
    };
    // Larger than the catalog's 1 MiB limit for other bodies.
    let body: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();

    let (status, text) = put(&app, AGENT_TOKEN, &recording, 0, &body, &sha(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert_eq!(std::fs::read(raw(0)).unwrap(), body);
    let (status, text) = put(&app, AGENT_TOKEN, &recording, 0, &body, &sha(&body)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a repeated PUT is idempotent: {text}"
    );

    let (status, text) = put(
        &app,
        AGENT_TOKEN,
        &recording,
        1,
        b"tampered",
        &sha(b"original"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(
        text.contains("checksum_mismatch") && text.contains("nothing was stored"),
        "{text}"
    );
    assert!(!raw(1).exists(), "a refused chunk is not in storage");

    let (status, text) = put(&app, AGENT_TOKEN, &recording, 0, b"other", &sha(b"other")).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a held chunk is never replaced: {text}"
    );
    assert_eq!(std::fs::read(raw(0)).unwrap(), body);

    let answer = app
        .get(
            &format!("/api/v1/agent/recordings/{recording}/chunks"),
            As::Bearer(AGENT_TOKEN),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let held = answer.json();
    let chunks = held["chunks"].as_array().unwrap();
    assert_eq!(chunks.len(), 1, "{held}");
    assert_eq!(chunks[0]["index"], 0);
    assert_eq!(chunks[0]["sha256"], sha(&body));
    assert_eq!(chunks[0]["bytes"], body.len());
}

async fn another_box_neither_sees_nor_uploads_a_recording(db: Db) {
    let app = TestApp::spawn(db).await;
    let _world = build_world(&app).await;
    let recording = app.start_lecture().await.recording_id;
    let (status, _) = put(&app, FOREIGN_AGENT_TOKEN, &recording, 0, b"x", &sha(b"x")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let answer = app
        .get(
            &format!("/api/v1/agent/recordings/{recording}/chunks"),
            As::Bearer(FOREIGN_AGENT_TOKEN),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(!app.storage.path().join("raw").exists());
}

on_both_databases!(
    a_chunk_is_stored_once_with_its_checksum_and_a_mismatch_stores_nothing,
    another_box_neither_sees_nor_uploads_a_recording,
);
