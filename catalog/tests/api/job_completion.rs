//! Completing a job with its segment index, on both databases: the index and the job's
//! `done` are recorded together, a new media version replaces the lecture's media at once
//! (design decision 2), and a processing lecture becomes ready and playable.

use axum::http::StatusCode;
use chrono::{Duration, TimeZone, Utc};
use serde_json::{json, Value};

use lectern_catalog::store::{FailOutcome, JobPolicy};
use lectern_packager::keys;

use crate::fixtures::OTHER_WORKER_TOKEN;
use crate::helpers::{token_of, As, Db, TestApp, STUDENT, WORKER_TOKEN};
use crate::jobs::{
    claim, enqueue, jobs_seen_by_staff, processing_lecture, two_workers, INSTRUCTOR,
};

const RUNGS: [(&str, u32); 2] = [("720p", 720), ("360p", 360)];
/// Repaired segments last 2.5 s; the live ones of `TestApp::add_segment` last 2 s.
const DURATION: f64 = 2.5;

/// A segment index of the presenter track in 720p and 360p with `sequences` in each.
pub fn index(version: Option<&str>, sequences: &[u64]) -> Value {
    let start = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    let renditions: Vec<Value> = RUNGS
        .iter()
        .map(|(rung, height)| {
            json!({"track": "presenter", "rung": rung, "width": height * 16 / 9, "height": height,
                "bandwidth": height * 4000, "codecs": "avc1.64001f,mp4a.40.2", "frame_rate": 30.0})
        })
        .collect();
    let mut segments = Vec::new();
    for (rung, _) in RUNGS {
        for &sequence in sequences {
            segments.push(json!({
                "track": "presenter", "rung": rung, "sequence": sequence, "duration": DURATION,
                "program_date_time": start + Duration::milliseconds(2500 * sequence as i64),
                "discontinuity": false, "bytes": 100 + sequence
            }));
        }
    }
    json!({"renditions": renditions, "segments": segments, "media_version": version})
}

/// What the job stored at `version`, as the packager would have (`<rung> <sequence>` bytes).
fn store_segments(app: &TestApp, lecture: &str, version: &str, sequences: &[u64]) {
    for (rung, _) in RUNGS {
        let dir = app
            .storage
            .path()
            .join(format!("lectures/{lecture}/{version}/presenter/{rung}"));
        std::fs::create_dir_all(&dir).unwrap();
        for sequence in sequences {
            let bytes = format!("{version} {rung} {sequence}");
            std::fs::write(dir.join(format!("{sequence}.ts")), bytes).unwrap();
        }
    }
}

async fn complete(app: &TestApp, token: &str, job: &str, body: Value) -> (StatusCode, String) {
    let answer = app
        .post(
            &format!("/api/v1/worker/jobs/{job}/complete"),
            As::Bearer(token),
            body,
        )
        .await;
    (answer.status, answer.text())
}

/// The student's playback: the master playlist's text and the media token it carries.
async fn student_media(app: &TestApp, lecture: &str) -> (String, String) {
    let student = app.login(STUDENT).await;
    let answer = app
        .get(
            &format!("/api/v1/lectures/{lecture}/playback"),
            As::Cookie(&student),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let master_url = answer.json()["master"].as_str().unwrap().to_owned();
    let master = app.get(&master_url, As::Nobody).await;
    assert_eq!(master.status, StatusCode::OK);
    (master.text(), token_of(&master_url).to_owned())
}

async fn completion_switches_to_the_new_version_at_once_and_the_lecture_plays(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    // The live copy has a gap: segment 0 only, in v1. The box stopped; the live session
    // is still open, so the lecture waits in `processing`.
    let lecture = app.start_lecture().await.lecture_id;
    app.add_segment(&lecture, 0).await;
    app.stop_recording(&lecture).await;
    let row = store.lecture(&lecture).await.unwrap().unwrap();
    assert_eq!(row.media_version, "v1");

    let job = enqueue(store, &lecture, "repair", Utc::now()).await;
    let claimed = claim(&app, WORKER_TOKEN).await.unwrap();
    assert_eq!(claimed.id, job);
    let answer = app
        .post(
            &format!("/api/v1/worker/jobs/{job}/heartbeat"),
            As::Bearer(WORKER_TOKEN),
            json!({"progress": 0.4}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let seen = &jobs_seen_by_staff(&app, &lecture).await[0];
    assert_eq!(
        (seen["state"].as_str(), seen["progress"].as_f64()),
        (Some("running"), Some(0.4))
    );

    // A viewer polls the live copy meanwhile: its playlist is kept in memory.
    let (_, token) = student_media(&app, &lecture).await;
    let live_720p = format!("/media/{lecture}/presenter/720p/index.m3u8?token={token}");
    for _ in 0..2 {
        let playlist = app.get(&live_720p, As::Nobody).await.text();
        assert!(playlist.contains("\n0.ts?token="), "{playlist}");
        assert!(!playlist.contains("#EXT-X-ENDLIST"), "{playlist}");
    }

    store_segments(&app, &lecture, "v2", &[0, 1, 2]);
    let (status, text) = complete(&app, WORKER_TOKEN, &job, index(Some("v2"), &[0, 1, 2])).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    let playlist = app.get(&live_720p, As::Nobody).await.text();
    assert!(
        playlist.contains("#EXT-X-ENDLIST") && playlist.contains("2.ts?token="),
        "the new version at once, not the kept live copy: {playlist}"
    );

    let row = store.lecture(&lecture).await.unwrap().unwrap();
    assert_eq!(row.media_version, "v2");
    for (rung, _) in RUNGS {
        let segments = store.segments(&lecture, "presenter", rung).await.unwrap();
        let found: Vec<(u64, f64)> = segments.iter().map(|s| (s.sequence, s.duration)).collect();
        assert_eq!(
            found,
            [(0, DURATION), (1, DURATION), (2, DURATION)],
            "{rung}: the v2 index replaced the live v1 segments"
        );
    }
    let instructor = app.login(INSTRUCTOR).await;
    let shown = app
        .get(
            &format!("/api/v1/lectures/{lecture}"),
            As::Cookie(&instructor),
        )
        .await
        .json();
    assert_eq!(shown["state"], "ready");
    assert_eq!(shown["live"], false);
    assert_eq!(shown["duration_seconds"], 3.0 * DURATION);
    let seen = &jobs_seen_by_staff(&app, &lecture).await[0];
    assert_eq!(
        (seen["state"].as_str(), seen["progress"].as_f64()),
        (Some("done"), Some(1.0))
    );

    let (master, token) = student_media(&app, &lecture).await;
    for (rung, _) in RUNGS {
        assert!(
            master.contains(&format!("presenter/{rung}/index.m3u8")),
            "{master}"
        );
    }
    let playlist = app
        .get(
            &format!("/media/{lecture}/presenter/360p/index.m3u8?token={token}"),
            As::Nobody,
        )
        .await
        .text();
    assert!(playlist.contains("#EXT-X-ENDLIST"), "{playlist}");
    assert!(playlist.contains("2.ts?token="), "{playlist}");
    let segment = app
        .get(
            &format!("/media/{lecture}/presenter/720p/1.ts?token={token}"),
            As::Nobody,
        )
        .await;
    assert_eq!(segment.status, StatusCode::OK);
    assert_eq!(segment.text(), "v2 720p 1", "served from the new version");
}

async fn completion_in_the_same_version_adds_to_the_lectures_media(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let lecture = processing_lecture(&app).await;
    let job = enqueue(store, &lecture, "upload", Utc::now()).await;
    claim(&app, WORKER_TOKEN).await.unwrap();
    store_segments(&app, &lecture, "v1", &[0, 1]);
    let (status, text) = complete(&app, WORKER_TOKEN, &job, index(None, &[0, 1])).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    let row = store.lecture(&lecture).await.unwrap().unwrap();
    assert_eq!(row.media_version, "v1");
    assert_eq!(row.error, None);
    let media = store.lecture_media(&row).await.unwrap();
    assert_eq!(media.renditions.len(), 2);
    assert_eq!(media.duration_seconds, 2.0 * DURATION);
    let (_, token) = student_media(&app, &lecture).await;
    let segment = app
        .get(
            &format!("/media/{lecture}/presenter/360p/0.ts?token={token}"),
            As::Nobody,
        )
        .await;
    assert_eq!(segment.text(), "v1 360p 0");
}

async fn a_repeated_completion_changes_nothing_and_another_workers_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    two_workers(store).await;
    let lecture = processing_lecture(&app).await;
    let job = enqueue(store, &lecture, "upload", Utc::now()).await;
    claim(&app, WORKER_TOKEN).await.unwrap();
    let (status, _) = complete(&app, OTHER_WORKER_TOKEN, &job, index(Some("v2"), &[0])).await;
    assert_eq!(status, StatusCode::CONFLICT, "not the other worker's job");
    assert!(store
        .segments(&lecture, "presenter", "720p")
        .await
        .unwrap()
        .is_empty());

    let (status, text) = complete(&app, WORKER_TOKEN, &job, index(Some("v2"), &[0, 1])).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    // The answer was lost; the worker sends it again, as its client retries do.
    let (status, text) = complete(&app, WORKER_TOKEN, &job, index(Some("v3"), &[0])).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    let row = store.lecture(&lecture).await.unwrap().unwrap();
    assert_eq!(row.media_version, "v2", "the repeat recorded nothing");
    assert_eq!(
        store
            .segments(&lecture, "presenter", "720p")
            .await
            .unwrap()
            .len(),
        2
    );

    let (status, text) = complete(&app, OTHER_WORKER_TOKEN, &job, index(None, &[0])).await;
    assert_eq!(status, StatusCode::CONFLICT, "{text}");
    let answer = app
        .post(
            &format!("/api/v1/worker/jobs/{job}/heartbeat"),
            As::Bearer(WORKER_TOKEN),
            json!({"progress": 1.0}),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::CONFLICT,
        "a done job takes no heartbeat"
    );
    let missing = "00000000-0000-4000-8000-000000000000";
    let (status, _) = complete(&app, WORKER_TOKEN, missing, index(None, &[0])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_malformed_index_is_refused_and_records_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let lecture = processing_lecture(&app).await;
    let job = enqueue(store, &lecture, "upload", Utc::now()).await;
    claim(&app, WORKER_TOKEN).await.unwrap();

    let mut no_segments = index(Some("v2"), &[]);
    no_segments["segments"] = json!([]);
    let mut stray = index(Some("v2"), &[0]);
    stray["segments"][0]["rung"] = json!("1080p");
    let mut bad_duration = index(Some("v2"), &[0]);
    bad_duration["segments"][1]["duration"] = json!(0.0);
    let mut bad_rung = index(Some("v2"), &[0]);
    bad_rung["renditions"][0]["rung"] = json!("../720p");
    for (what, body) in [
        ("no segments", no_segments),
        ("a segment of no rendition", stray),
        ("a zero duration", bad_duration),
        ("an unsafe rung", bad_rung),
        ("an unsafe version", index(Some("../v1"), &[0])),
        ("no renditions field", json!({"segments": []})),
    ] {
        let (status, text) = complete(&app, WORKER_TOKEN, &job, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {text}");
    }
    let row = store.lecture(&lecture).await.unwrap().unwrap();
    assert_eq!(
        (row.state, row.media_version.as_str()),
        (lectern_wire::api::LectureState::Processing, "v1")
    );
    assert_eq!(
        jobs_seen_by_staff(&app, &lecture).await[0]["state"],
        "running"
    );
}

/// Three hours of 2 s segments in three rungs: 16,200 segments, a body over axum's default
/// 2 MiB limit, recorded in one completion.
async fn a_long_lectures_index_is_recorded_in_one_completion(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let lecture = processing_lecture(&app).await;
    let job = enqueue(store, &lecture, "upload", Utc::now()).await;
    claim(&app, WORKER_TOKEN).await.unwrap();
    let sequences: Vec<u64> = (0..5400).collect();
    let mut body = index(Some("v2"), &sequences);
    let extra: Vec<Value> = body["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["rung"] == "360p")
        .map(|s| {
            let mut s = s.clone();
            s["rung"] = json!("240p");
            s
        })
        .collect();
    let mut rendition = body["renditions"][1].clone();
    rendition["rung"] = json!("240p");
    body["renditions"].as_array_mut().unwrap().push(rendition);
    body["segments"].as_array_mut().unwrap().extend(extra);
    assert!(body.to_string().len() > 2 * 1024 * 1024);

    let (status, text) = complete(&app, WORKER_TOKEN, &job, body).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    for rung in ["720p", "360p", "240p"] {
        let segments = store.segments(&lecture, "presenter", rung).await.unwrap();
        assert_eq!(segments.len(), 5400, "{rung}");
        assert_eq!(segments.last().unwrap().sequence, 5399);
    }
    let row = store.lecture(&lecture).await.unwrap().unwrap();
    assert_eq!(
        store.lecture_media(&row).await.unwrap().duration_seconds,
        5400.0 * DURATION
    );
}

/// Waits (polling, for 10 s at most) until nothing of `version` of `lecture` is in storage.
async fn deleted(app: &TestApp, lecture: &str, version: &str) -> bool {
    let dir = app
        .storage
        .path()
        .join(keys::version_prefix(lecture, version));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while dir.exists() {
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    true
}

/// The segment files of `version` of `lecture` in storage, as `<rung>/<file>`.
fn stored(app: &TestApp, lecture: &str, version: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (rung, _) in RUNGS {
        let dir = app
            .storage
            .path()
            .join(format!("lectures/{lecture}/{version}/presenter/{rung}"));
        for entry in std::fs::read_dir(dir).into_iter().flatten() {
            found.push(format!(
                "{rung}/{}",
                entry.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    found.sort();
    found
}

async fn the_media_of_a_jobs_unfinished_attempts_is_deleted_when_the_job_ends(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let policy = JobPolicy::default();
    let (w1, w2) = two_workers(store).await;
    let lecture = processing_lecture(&app).await;
    let t = Utc::now();
    let job = enqueue(store, &lecture, "upload", t).await;
    // w1 stores two segments of its attempt and dies; w2 takes the job once the lease ran out.
    store.claim_job(&w1, &policy, t).await.unwrap().unwrap();
    let first = keys::attempt_version(&job, 1);
    store_segments(&app, &lecture, &first, &[0, 1]);
    let taken = store
        .claim_job(&w2, &policy, t + Duration::seconds(61))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.attempt, 2);
    let second = keys::attempt_version(&job, 2);
    store_segments(&app, &lecture, &second, &[0, 1, 2]);
    assert_eq!(
        stored(&app, &lecture, &first).len(),
        4,
        "kept while the job runs"
    );

    let (status, text) = complete(
        &app,
        OTHER_WORKER_TOKEN,
        &job,
        index(Some(&second), &[0, 1, 2]),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    assert!(
        deleted(&app, &lecture, &first).await,
        "the dead attempt's media is deleted: {:?}",
        stored(&app, &lecture, &first)
    );
    assert_eq!(
        stored(&app, &lecture, &second),
        [
            "360p/0.ts",
            "360p/1.ts",
            "360p/2.ts",
            "720p/0.ts",
            "720p/1.ts",
            "720p/2.ts"
        ],
        "the completing attempt's media stays"
    );
    let (_, token) = student_media(&app, &lecture).await;
    let segment = app
        .get(
            &format!("/media/{lecture}/presenter/720p/2.ts?token={token}"),
            As::Nobody,
        )
        .await;
    assert_eq!(segment.text(), format!("{second} 720p 2"));

    // A job that fails for good keeps nothing of any attempt.
    let failing = processing_lecture(&app).await;
    let job = enqueue(store, &failing, "upload", t).await;
    let last_try = JobPolicy {
        max_attempts: 1,
        ..policy
    };
    store
        .claim_job(&w1, &last_try, t + Duration::seconds(62))
        .await
        .unwrap()
        .unwrap();
    let only = keys::attempt_version(&job, 1);
    store_segments(&app, &failing, &only, &[0]);
    let outcome = store
        .fail_job(
            &w1,
            &job,
            "The file is damaged.",
            true,
            &last_try,
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(outcome, FailOutcome::Failed);
    assert!(
        deleted(&app, &failing, &only).await,
        "a failed job's attempts are deleted: {:?}",
        stored(&app, &failing, &only)
    );
}

async fn the_pictures_follow_the_version_a_completion_switches_to(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let lecture = app.start_lecture().await.lecture_id;
    app.add_segment(&lecture, 0).await;
    app.add_pictures(&lecture).await;
    app.stop_recording(&lecture).await;
    let job = enqueue(store, &lecture, "repair", Utc::now()).await;
    claim(&app, WORKER_TOKEN).await.unwrap();

    // The repair stored its own poster in v2, and no thumbnails or chapters.
    store_segments(&app, &lecture, "v2", &[0, 1]);
    let dir = app
        .storage
        .path()
        .join(format!("lectures/{lecture}/v2/presenter"));
    std::fs::write(dir.join("poster.jpg"), b"v2 poster").unwrap();
    let mut body = index(Some("v2"), &[0, 1]);
    body["thumbnails"] =
        json!([{"track": "presenter", "poster": true, "sprites": 0, "chapters": 0}]);
    let (status, text) = complete(&app, WORKER_TOKEN, &job, body).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");

    let student = app.login(STUDENT).await;
    let playback = app
        .get(
            &format!("/api/v1/lectures/{lecture}/playback"),
            As::Cookie(&student),
        )
        .await
        .json();
    assert_eq!(
        playback["thumbnails"],
        Value::Null,
        "v1's thumbnails went with v1: {playback}"
    );
    assert_eq!(playback["chapters"], Value::Null, "{playback}");
    let poster = app
        .get(
            playback["poster"].as_str().expect("v2's poster"),
            As::Nobody,
        )
        .await;
    assert_eq!(poster.status, StatusCode::OK);
    assert_eq!(poster.text(), "v2 poster", "served from the new version");
    let token = token_of(playback["master"].as_str().unwrap());
    let old = app
        .get(
            &format!("/media/{lecture}/presenter/sprite-0.jpg?token={token}"),
            As::Nobody,
        )
        .await;
    assert_eq!(
        old.status,
        StatusCode::NOT_FOUND,
        "v1's sheet is no longer the lecture's"
    );
}

async fn an_index_with_a_bad_picture_track_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let lecture = processing_lecture(&app).await;
    let job = enqueue(store, &lecture, "upload", Utc::now()).await;
    claim(&app, WORKER_TOKEN).await.unwrap();
    let mut body = index(Some("v2"), &[0]);
    body["thumbnails"] = json!([{"track": "../etc", "poster": true}]);
    let (status, text) = complete(&app, WORKER_TOKEN, &job, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("track"), "{text}");
    let row = store.lecture(&lecture).await.unwrap().unwrap();
    assert_eq!(row.media_version, "v1", "nothing recorded");
}

/// A lecture that is sound alone (a podcast-style upload) has one rendition without a picture:
/// its master playlist lists it as audio-only, `CODECS="mp4a.40.2"` and no `RESOLUTION` or
/// `FRAME-RATE`, as hls.js and Safari expect, and its media playlist and segments serve.
async fn a_lecture_of_sound_alone_has_an_audio_only_master(db: Db) {
    let app = TestApp::spawn(db).await;
    let lecture = processing_lecture(&app).await;
    let job = enqueue(app.state.store(), &lecture, "upload", Utc::now()).await;
    claim(&app, WORKER_TOKEN).await.unwrap();
    let start = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    let version = "audio-a1";
    let dir = app
        .storage
        .path()
        .join(format!("lectures/{lecture}/{version}/presenter/audio"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut segments = Vec::new();
    for sequence in 0..2u64 {
        std::fs::write(dir.join(format!("{sequence}.ts")), b"sound").unwrap();
        segments.push(json!({
            "track": "presenter", "rung": "audio", "sequence": sequence, "duration": 2.0,
            "program_date_time": start + Duration::seconds(2 * sequence as i64),
            "discontinuity": false, "bytes": 5
        }));
    }
    let body = json!({
        "renditions": [{"track": "presenter", "rung": "audio", "width": 0, "height": 0,
            "bandwidth": 140_000, "codecs": "mp4a.40.2", "frame_rate": 0.0}],
        "segments": segments,
        "media_version": version,
    });
    let (status, text) = complete(&app, WORKER_TOKEN, &job, body).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");

    let (master, token) = student_media(&app, &lecture).await;
    let variants: Vec<&str> = master
        .lines()
        .filter(|l| l.starts_with("#EXT-X-STREAM-INF"))
        .collect();
    assert_eq!(
        variants,
        ["#EXT-X-STREAM-INF:BANDWIDTH=140000,CODECS=\"mp4a.40.2\""],
        "{master}"
    );
    assert!(
        master.contains(&format!("\npresenter/audio/index.m3u8?token={token}\n")),
        "{master}"
    );
    let playlist = app
        .get(
            &format!("/media/{lecture}/presenter/audio/index.m3u8?token={token}"),
            As::Nobody,
        )
        .await;
    assert_eq!(playlist.status, StatusCode::OK);
    assert!(
        playlist.text().contains("\n1.ts?token="),
        "{}",
        playlist.text()
    );
    let segment = app
        .get(
            &format!("/media/{lecture}/presenter/audio/0.ts?token={token}"),
            As::Nobody,
        )
        .await;
    assert_eq!(segment.status, StatusCode::OK);
    assert_eq!(&segment.body[..], b"sound");
}

on_both_databases!(
    the_media_of_a_jobs_unfinished_attempts_is_deleted_when_the_job_ends,
    the_pictures_follow_the_version_a_completion_switches_to,
    an_index_with_a_bad_picture_track_is_refused,
    a_lecture_of_sound_alone_has_an_audio_only_master,
    completion_switches_to_the_new_version_at_once_and_the_lecture_plays,
    completion_in_the_same_version_adds_to_the_lectures_media,
    a_repeated_completion_changes_nothing_and_another_workers_is_refused,
    a_malformed_index_is_refused_and_records_nothing,
    a_long_lectures_index_is_recorded_in_one_completion,
);
