//! With S3 storage, the catalog still checks every segment request's token, then sends the
//! viewer to the bucket through a short-lived presigned URL.

use crate::helpers::*;
use axum::http::StatusCode;
use bytes::Bytes;
use lectern_packager::test_server::S3TestServer;
use lectern_packager::{S3Storage, Storage, StorageConfig, StorageKind};

/// A catalog whose storage is a bucket of a fresh S3 test server.
async fn catalog_on_s3(db: Db) -> (S3TestServer, TestApp) {
    let server = S3TestServer::start()
        .await
        .expect("the s3s test server starts");
    let settings = server.settings();
    let app = TestApp::spawn_with(db, |config| {
        config.storage = StorageConfig {
            kind: StorageKind::S3,
            s3: settings,
        };
    })
    .await;
    (server, app)
}

async fn a_segment_in_s3_is_a_redirect_to_a_presigned_url_only_with_a_valid_token(db: Db) {
    let (server, app) = catalog_on_s3(db).await;
    let (lecture, master) = app.lecture_with_segment().await;
    let bucket = S3Storage::new(&server.settings()).unwrap();
    let key = format!("lectures/{lecture}/v1/presenter/720p/0.ts");
    bucket
        .put(&key, Bytes::from_static(SEGMENT_BYTES), "video/mp2t")
        .await
        .unwrap();

    let token = token_of(&master);
    let answer = app
        .get(
            &format!("/media/{lecture}/presenter/720p/0.ts?token={token}"),
            As::Nobody,
        )
        .await;
    assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.text());
    assert_eq!(answer.header("cache-control"), "private, no-store");
    let location = answer.header("location").to_owned();
    assert!(location.starts_with(&server.endpoint()), "{location}");
    let fetched = reqwest::get(&location).await.unwrap();
    assert_eq!(fetched.status(), reqwest::StatusCode::OK);
    assert_eq!(&fetched.bytes().await.unwrap()[..], SEGMENT_BYTES);

    for uri in [
        format!("/media/{lecture}/presenter/720p/0.ts"),
        format!("/media/{lecture}/presenter/720p/0.ts?token={token}x"),
        format!("/media/{lecture}/presenter/720p/1.ts?token={token}"),
    ] {
        let answer = app.get(&uri, As::Nobody).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(answer.header("location").is_empty(), "{uri} redirected");
    }
}

async fn deleting_a_lecture_deletes_its_objects_from_the_bucket(db: Db) {
    let (server, app) = catalog_on_s3(db).await;
    let (lecture, _) = app.lecture_with_segment().await;
    let other = app.start_lecture().await.lecture_id;
    let bucket = S3Storage::new(&server.settings()).unwrap();
    let keys = [
        format!("lectures/{lecture}/v1/presenter/720p/0.ts"),
        format!("lectures/{lecture}/v1/presenter/720p/index.m3u8"),
        format!("raw/{lecture}/presenter/00000.ts"),
        format!("lectures/{other}/v1/presenter/720p/0.ts"),
    ];
    for key in &keys {
        bucket
            .put(key, Bytes::from_static(SEGMENT_BYTES), "video/mp2t")
            .await
            .unwrap();
    }
    app.stop_recording(&lecture).await;
    let instructor = app.login("instructor@demo.lectern.test").await;
    let answer = app
        .send(
            axum::http::Method::DELETE,
            &format!("/api/v1/lectures/{lecture}"),
            As::Cookie(&instructor),
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    for key in &keys[..3] {
        assert_eq!(bucket.get(key).await.unwrap(), None, "{key} is still there");
    }
    assert!(
        bucket.get(&keys[3]).await.unwrap().is_some(),
        "another lecture's object went too"
    );
}

async fn pictures_in_s3_are_presigned_redirects_and_webvtt_read_from_the_bucket(db: Db) {
    let (server, app) = catalog_on_s3(db).await;
    let (lecture, master) = app.lecture_with_segment().await;
    let bucket = S3Storage::new(&server.settings()).unwrap();
    let dir = format!("lectures/{lecture}/v1/presenter");
    bucket
        .put(
            &format!("{dir}/poster.jpg"),
            Bytes::from_static(POSTER_BYTES),
            "image/jpeg",
        )
        .await
        .unwrap();
    bucket
        .put(
            &format!("{dir}/thumbnails.vtt"),
            Bytes::from_static(THUMBNAILS_VTT.as_bytes()),
            "text/vtt",
        )
        .await
        .unwrap();
    let answer = app
        .post(
            &format!("/api/v1/worker/lectures/{lecture}/thumbnails"),
            As::Bearer(WORKER_TOKEN),
            serde_json::json!({"track": "presenter", "poster": true, "sprites": 1, "chapters": 0}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());

    let token = token_of(&master);
    let poster = app
        .get(
            &format!("/media/{lecture}/presenter/poster.jpg?token={token}"),
            As::Nobody,
        )
        .await;
    assert_eq!(poster.status, StatusCode::FOUND, "{}", poster.text());
    let fetched = reqwest::get(poster.header("location")).await.unwrap();
    assert_eq!(fetched.status(), reqwest::StatusCode::OK);
    assert_eq!(&fetched.bytes().await.unwrap()[..], POSTER_BYTES);

    let thumbnails = app
        .get(
            &format!("/media/{lecture}/presenter/thumbnails.vtt?token={token}"),
            As::Nobody,
        )
        .await;
    assert_eq!(thumbnails.status, StatusCode::OK, "{}", thumbnails.text());
    assert!(
        thumbnails
            .text()
            .contains(&format!("sprite-0.jpg?token={token}#xywh=0,0,160,90")),
        "{}",
        thumbnails.text()
    );
    let refused = app
        .get(
            &format!("/media/{lecture}/presenter/poster.jpg?token={token}x"),
            As::Nobody,
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(refused.header("location").is_empty());
}

on_both_databases!(
    pictures_in_s3_are_presigned_redirects_and_webvtt_read_from_the_bucket,
    a_segment_in_s3_is_a_redirect_to_a_presigned_url_only_with_a_valid_token,
    deleting_a_lecture_deletes_its_objects_from_the_bucket,
);
