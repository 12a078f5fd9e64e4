use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{
    token_of, As, Db, TestApp, AGENT_TOKEN, SEGMENT_BYTES, STUDENT, WORKER_TOKEN,
};

async fn the_enrolled_student_gets_the_lecture_playback_playlists_and_a_segment(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, master_url) = app.lecture_with_segment().await;
    let student = app.login(STUDENT).await;

    let body = app
        .get(&format!("/api/v1/lectures/{lecture}"), As::Cookie(&student))
        .await
        .json();
    assert_eq!(body["state"], "capturing");
    assert_eq!(body["live"], true);
    assert_eq!(body["duration_seconds"], 2.0);
    assert!(
        body["title"]
            .as_str()
            .unwrap()
            .starts_with("LEC101 lecture, "),
        "{body}"
    );

    assert!(
        master_url.starts_with(&format!("/media/{lecture}/master.m3u8?token=k1.")),
        "{master_url}"
    );
    let token = token_of(&master_url);
    let master = app.get(&master_url, As::Nobody).await;
    assert_eq!(master.status, StatusCode::OK);
    assert_eq!(
        master.header("content-type"),
        "application/vnd.apple.mpegurl"
    );
    assert_eq!(master.header("cache-control"), "no-store");
    let media_uri = format!("presenter/720p/index.m3u8?token={token}");
    assert!(master.text().contains(&media_uri), "{}", master.text());

    let media_url = format!("/media/{lecture}/{media_uri}");
    let media = app.get(&media_url, As::Nobody).await;
    assert_eq!(media.status, StatusCode::OK);
    assert_eq!(media.header("cache-control"), "no-store");
    let text = media.text();
    assert!(text.contains("#EXT-X-PLAYLIST-TYPE:EVENT"), "{text}");
    assert!(!text.contains("#EXT-X-ENDLIST"), "{text}");
    assert!(text.contains(&format!("0.ts?token={token}")), "{text}");

    let segment_url = format!("/media/{lecture}/presenter/720p/0.ts?token={token}");
    let segment = app.get(&segment_url, As::Nobody).await;
    assert_eq!(segment.status, StatusCode::OK);
    assert_eq!(segment.header("content-type"), "video/mp2t");
    assert_eq!(
        segment.header("cache-control"),
        "private, max-age=31536000, immutable"
    );
    assert_eq!(&segment.body[..], SEGMENT_BYTES);

    let range = app
        .send(
            Method::GET,
            &segment_url,
            As::Nobody,
            None,
            &[("range", "bytes=1-4")],
        )
        .await;
    assert_eq!(range.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&range.body[..], &SEGMENT_BYTES[1..5]);
    assert_eq!(range.header("content-type"), "video/mp2t");
}

async fn the_media_playlist_becomes_vod_with_endlist_once_the_lecture_is_ready(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, master_url) = app.lecture_with_segment().await;
    app.add_segment(&lecture, 1).await;
    let stop = app
        .post(
            &format!("/api/v1/agent/recordings/{lecture}/stop"),
            As::Bearer(AGENT_TOKEN),
            json!({"recorded_seconds": 4.0}),
        )
        .await;
    assert_eq!(stop.status, StatusCode::NO_CONTENT);
    let student = app.login(STUDENT).await;
    let body = app
        .get(&format!("/api/v1/lectures/{lecture}"), As::Cookie(&student))
        .await
        .json();
    assert_eq!(body["state"], "processing");
    assert_eq!(body["duration_seconds"], 4.0);

    let finish = app
        .post(
            &format!("/api/v1/worker/lectures/{lecture}/finish"),
            As::Bearer(WORKER_TOKEN),
            json!({"error": null}),
        )
        .await;
    assert_eq!(finish.status, StatusCode::NO_CONTENT);
    let body = app
        .get(&format!("/api/v1/lectures/{lecture}"), As::Cookie(&student))
        .await
        .json();
    assert_eq!(body["state"], "ready");
    assert_eq!(body["live"], false);

    let token = token_of(&master_url);
    let text = app
        .get(
            &format!("/media/{lecture}/presenter/720p/index.m3u8?token={token}"),
            As::Nobody,
        )
        .await
        .text();
    assert!(text.contains("#EXT-X-PLAYLIST-TYPE:VOD"), "{text}");
    assert!(text.contains("#EXT-X-ENDLIST"), "{text}");
    assert!(text.contains("1.ts?token="), "{text}");
}

async fn playback_is_404_until_a_rendition_has_a_segment(db: Db) {
    let app = TestApp::spawn(db).await;
    let lecture = app.start_lecture().await.lecture_id;
    let student = app.login(STUDENT).await;
    let playback = format!("/api/v1/lectures/{lecture}/playback");
    assert_eq!(
        app.get(&format!("/api/v1/lectures/{lecture}"), As::Cookie(&student))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&playback, As::Cookie(&student)).await.status,
        StatusCode::NOT_FOUND
    );
    app.add_segment(&lecture, 0).await;
    assert_eq!(
        app.get(&playback, As::Cookie(&student)).await.status,
        StatusCode::OK
    );
}

async fn a_segment_without_a_valid_token_for_its_lecture_is_a_plain_404(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, master_url) = app.lecture_with_segment().await;
    let (other, other_master) = app.lecture_with_segment().await;
    let token = token_of(&master_url);
    let segment = |token: &str| format!("/media/{lecture}/presenter/720p/0.ts?token={token}");
    // The genuine token works, so the refusals below are the token's doing.
    assert_eq!(
        app.get(&segment(token), As::Nobody).await.status,
        StatusCode::OK
    );

    let expired = app.state.signer().sign(&lecture, 1);
    let (head, tag) = token.rsplit_once('.').unwrap();
    let flipped = if tag.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{head}.{flipped}{}", &tag[1..]);
    let later = {
        let mut parts = token.splitn(3, '.');
        let (id, expiry, tag) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        format!("{id}.{}.{tag}", expiry.parse::<u64>().unwrap() + 3600)
    };
    let refused = [
        format!("/media/{lecture}/presenter/720p/0.ts"),
        segment(""),
        segment(&tampered),
        segment(&later),
        segment(&expired),
        segment(token_of(&other_master)),
        format!(
            "/media/{lecture}/master.m3u8?token={}",
            token_of(&other_master)
        ),
        format!("/media/{other}/presenter/720p/index.m3u8?token={token}"),
    ];
    for url in refused {
        let answer = app.get(&url, As::Nobody).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{url}");
        assert!(answer.body.is_empty(), "{url}: {}", answer.text());
    }
}

async fn path_traversal_and_odd_names_in_media_urls_are_404(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, master_url) = app.lecture_with_segment().await;
    let token = token_of(&master_url);
    // A file beside the segments that must never be served through /media.
    std::fs::write(app.storage.path().join("secret.ts"), b"secret").unwrap();
    for name in [
        "..%2F..%2F..%2F..%2Fsecret.ts",
        "%2E%2E",
        "+0.ts",
        "0.ts.ts",
        "-1.ts",
        "0.m4s",
        "99.ts",
        "index.m3u8%00",
    ] {
        let url = format!("/media/{lecture}/presenter/720p/{name}?token={token}");
        let answer = app.get(&url, As::Nobody).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{url}");
    }
    for (track, rung) in [("..", "720p"), ("presenter", ".."), ("%2E%2E", "720p")] {
        let url = format!("/media/{lecture}/{track}/{rung}/0.ts?token={token}");
        assert_eq!(
            app.get(&url, As::Nobody).await.status,
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
    let deeper = format!("/media/{lecture}/presenter/720p/../../0.ts?token={token}");
    assert_eq!(
        app.get(&deeper, As::Nobody).await.status,
        StatusCode::NOT_FOUND
    );
}

on_both_databases!(
    the_enrolled_student_gets_the_lecture_playback_playlists_and_a_segment,
    the_media_playlist_becomes_vod_with_endlist_once_the_lecture_is_ready,
    playback_is_404_until_a_rendition_has_a_segment,
    a_segment_without_a_valid_token_for_its_lecture_is_a_plain_404,
    path_traversal_and_odd_names_in_media_urls_are_404,
);
