//! A track's pictures under `/media` (issue 4): playback and listings name them with a media
//! token; the poster and sprite sheets are served like segments, the WebVTT files with the
//! viewer's token on every image URI and on the trimmed timeline; anything without a valid
//! token for that lecture, or not reported by the worker, is a plain 404.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    token_of, As, Db, TestApp, CHAPTERS_VTT, POSTER_BYTES, SPRITE_BYTES, STUDENT, WORKER_TOKEN,
};

const INSTRUCTOR: &str = "instructor@demo.lectern.test";

async fn playback(app: &TestApp, lecture: &str) -> Value {
    let student = app.login(STUDENT).await;
    let answer = app
        .get(
            &format!("/api/v1/lectures/{lecture}/playback"),
            As::Cookie(&student),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()
}

/// The cue payloads of a WebVTT text (the lines after each timing line).
fn payloads(vtt: &str) -> Vec<&str> {
    let lines: Vec<&str> = vtt.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0].contains("-->"))
        .map(|w| w[1])
        .collect()
}

async fn the_viewer_gets_the_pictures_and_thumbnails_that_name_tokened_sheets(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, _) = app.lecture_with_segment().await;
    let before = playback(&app, &lecture).await;
    for field in ["poster", "thumbnails", "chapters"] {
        assert_eq!(
            before[field],
            Value::Null,
            "{field} before any picture: {before}"
        );
    }

    app.add_pictures(&lecture).await;
    let answer = playback(&app, &lecture).await;
    let token = token_of(answer["master"].as_str().unwrap()).to_owned();
    let url = |name: &str| format!("/media/{lecture}/presenter/{name}?token={token}");
    assert_eq!(answer["poster"], url("poster.jpg"));
    assert_eq!(answer["thumbnails"], url("thumbnails.vtt"));
    assert_eq!(answer["chapters"], url("chapters.vtt"));

    let poster = app.get(&url("poster.jpg"), As::Nobody).await;
    assert_eq!(poster.status, StatusCode::OK);
    assert_eq!(poster.header("content-type"), "image/jpeg");
    assert_eq!(
        poster.header("cache-control"),
        "private, max-age=31536000, immutable"
    );
    assert_eq!(&poster.body[..], POSTER_BYTES);

    let thumbnails = app.get(&url("thumbnails.vtt"), As::Nobody).await;
    assert_eq!(thumbnails.status, StatusCode::OK);
    assert_eq!(thumbnails.header("content-type"), "text/vtt; charset=utf-8");
    assert_eq!(thumbnails.header("cache-control"), "no-store");
    let text = thumbnails.text();
    assert!(text.starts_with("WEBVTT\n"), "{text}");
    let uris = payloads(&text);
    assert_eq!(
        uris,
        [
            format!("sprite-0.jpg?token={token}#xywh=0,0,160,90"),
            format!("sprite-0.jpg?token={token}#xywh=160,0,160,90"),
        ],
        "{text}"
    );
    // Each URI, taken relative to the WebVTT file as a player does, fetches its sheet.
    for uri in uris {
        let (file, _) = uri.split_once('#').unwrap();
        let sheet = app
            .get(&format!("/media/{lecture}/presenter/{file}"), As::Nobody)
            .await;
        assert_eq!(sheet.status, StatusCode::OK, "{file}");
        assert_eq!(&sheet.body[..], SPRITE_BYTES);
    }

    let chapters = app.get(&url("chapters.vtt"), As::Nobody).await;
    assert_eq!(chapters.status, StatusCode::OK);
    assert_eq!(chapters.text(), CHAPTERS_VTT);

    // The course page's listing carries the poster, fetchable with its own token.
    let student = app.login(STUDENT).await;
    let course = app
        .state
        .store()
        .lecture(&lecture)
        .await
        .unwrap()
        .unwrap()
        .course_id;
    let listing = app
        .get(
            &format!("/api/v1/courses/{course}/lectures"),
            As::Cookie(&student),
        )
        .await
        .json();
    let listed = listing
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == lecture.as_str())
        .expect("the lecture is listed");
    let poster_url = listed["poster"].as_str().expect("a poster URL");
    assert!(
        poster_url.starts_with(&format!("/media/{lecture}/presenter/poster.jpg?token=")),
        "{poster_url}"
    );
    let poster = app.get(poster_url, As::Nobody).await;
    assert_eq!(&poster.body[..], POSTER_BYTES);
}

async fn pictures_without_a_valid_token_or_a_report_are_a_plain_404(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, master) = app.lecture_with_segment().await;
    let (other, other_master) = app.lecture_with_segment().await;
    app.add_pictures(&lecture).await;
    let token = token_of(&master);
    let url = |name: &str, token: &str| format!("/media/{lecture}/presenter/{name}?token={token}");
    for name in [
        "poster.jpg",
        "sprite-0.jpg",
        "thumbnails.vtt",
        "chapters.vtt",
    ] {
        // The genuine token works, so the refusals below are the token's doing.
        assert_eq!(
            app.get(&url(name, token), As::Nobody).await.status,
            StatusCode::OK,
            "{name}"
        );
        let expired = app.state.signer().sign(&lecture, 1);
        let mut tampered = token.to_owned();
        let last = if tampered.pop() == Some('A') {
            'B'
        } else {
            'A'
        };
        tampered.push(last);
        for bad in [
            "",
            tampered.as_str(),
            expired.as_str(),
            token_of(&other_master),
        ] {
            let answer = app.get(&url(name, bad), As::Nobody).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{name} with {bad:?}");
            assert!(answer.body.is_empty(), "{name}: {}", answer.text());
        }
        let no_token = format!("/media/{lecture}/presenter/{name}");
        assert_eq!(
            app.get(&no_token, As::Nobody).await.status,
            StatusCode::NOT_FOUND
        );
        // The other lecture has no pictures: its own token gets nothing either.
        let elsewhere = format!(
            "/media/{other}/presenter/{name}?token={}",
            token_of(&other_master)
        );
        assert_eq!(
            app.get(&elsewhere, As::Nobody).await.status,
            StatusCode::NOT_FOUND,
            "{elsewhere}"
        );
    }
    // Names that are not a track's files, sheets that were not reported, other tracks.
    let dir = app
        .storage
        .path()
        .join(format!("lectures/{lecture}/v1/presenter"));
    std::fs::write(dir.join("sprite-1.jpg"), SPRITE_BYTES).unwrap();
    for name in [
        "sprite-1.jpg",
        "sprite-01.jpg",
        "sprite--1.jpg",
        "poster.png",
        "master.m3u8",
        "..%2Fposter.jpg",
        "index.m3u8",
    ] {
        let answer = app.get(&url(name, token), As::Nobody).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{name}");
    }
    for track in ["screen", "..", "%2E%2E"] {
        let path = format!("/media/{lecture}/{track}/poster.jpg?token={token}");
        assert_eq!(
            app.get(&path, As::Nobody).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

async fn a_trimmed_lecture_s_thumbnails_and_chapters_are_on_its_trimmed_timeline(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, master) = app.lecture_with_segment().await;
    for sequence in 1..5 {
        app.add_segment(&lecture, sequence).await;
    }
    app.add_pictures(&lecture).await;
    // Ten seconds in five 2 s segments: a thumbnail every 2 s, slides changing at 5 s.
    let dir = app
        .storage
        .path()
        .join(format!("lectures/{lecture}/v1/presenter"));
    let thumbnails: String = (0..5)
        .map(|i| {
            format!(
                "\n00:00:{:02}.000 --> 00:00:{:02}.000\nsprite-0.jpg#xywh={},0,160,90\n",
                2 * i,
                2 * i + 2,
                160 * i
            )
        })
        .collect();
    std::fs::write(dir.join("thumbnails.vtt"), format!("WEBVTT\n{thumbnails}")).unwrap();
    std::fs::write(
        dir.join("chapters.vtt"),
        "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nSlide 1\n\n00:00:05.000 --> 00:00:10.000\nSlide 2\n",
    )
    .unwrap();
    let instructor = app.login(INSTRUCTOR).await;
    let answer = app
        .send(
            axum::http::Method::PATCH,
            &format!("/api/v1/lectures/{lecture}"),
            As::Cookie(&instructor),
            Some(json!({"trim_in": 3.0, "trim_out": 7.0})),
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());

    // Segments 1 to 3 are kept: the viewer's timeline is 2 s to 8 s of the recording.
    let token = token_of(&master);
    let get = |name: &str| {
        let url = format!("/media/{lecture}/presenter/{name}?token={token}");
        let app = &app;
        async move { app.get(&url, As::Nobody).await.text() }
    };
    let thumbnails = get("thumbnails.vtt").await;
    let expected: String = (1..4)
        .map(|i| {
            format!(
                "\n00:00:{:02}.000 --> 00:00:{:02}.000\nsprite-0.jpg?token={token}#xywh={},0,160,90\n",
                2 * i - 2,
                2 * i,
                160 * i
            )
        })
        .collect();
    assert_eq!(thumbnails, format!("WEBVTT\n{expected}"));
    let chapters = get("chapters.vtt").await;
    assert_eq!(
        chapters,
        "WEBVTT\n\n00:00:00.000 --> 00:00:03.000\nSlide 1\n\n00:00:03.000 --> 00:00:06.000\nSlide 2\n"
    );
}

async fn a_worker_s_picture_report_with_a_bad_track_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, _) = app.lecture_with_segment().await;
    for track in ["../x", "", "a b"] {
        let answer = app
            .post(
                &format!("/api/v1/worker/lectures/{lecture}/thumbnails"),
                As::Bearer(WORKER_TOKEN),
                json!({"track": track, "poster": true}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{track:?}");
        assert!(answer.text().contains("track"), "{}", answer.text());
    }
}

on_both_databases!(
    the_viewer_gets_the_pictures_and_thumbnails_that_name_tokened_sheets,
    pictures_without_a_valid_token_or_a_report_are_a_plain_404,
    a_trimmed_lecture_s_thumbnails_and_chapters_are_on_its_trimmed_timeline,
    a_worker_s_picture_report_with_a_bad_track_is_refused,
);
