//! Playlists kept in memory (`media::cache`): what a viewer gets from memory is byte for
//! byte what rendering with their token gives, and a trim, a deletion or a new segment shows
//! at once on the catalog that took it, and on a replica within the stated bound.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use lectern_catalog::media::cache::LIVE_LIFETIME;
use lectern_packager::playlist;
use lectern_wire::api::LectureState;
use serde_json::json;
use std::time::{Duration, Instant};

use crate::fixtures::METRICS_TOKEN;
use crate::helpers::{token_of, Answer, As, Db, Replica, TestApp, WORKER_TOKEN};

const INSTRUCTOR: &str = "instructor@demo.lectern.test";
/// Leeway for the scheduling of a test (debug build, shared machine) on top of a bound.
const SLACK: Duration = Duration::from_millis(500);
/// How long a change may take to reach a replica by notification in these tests: well
/// under the ended lifetime (10 s), so meeting it means the notification did it.
const NOTIFIED_WITHIN: Duration = Duration::from_secs(3);

/// A catalog whose `/metrics` answers (to count playlists served from memory), once it keeps
/// playlists: on PostgreSQL, once it follows other replicas' changes.
async fn spawn(db: Db) -> TestApp {
    let app = TestApp::spawn_with(db, |c| c.metrics_token = Some(METRICS_TOKEN.into())).await;
    keeping(&app.state).await;
    app
}

/// Waits until `state` keeps what it renders.
async fn keeping(state: &lectern_catalog::AppState) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while state.store().media_changes().mark().is_none() {
        assert!(
            Instant::now() < deadline,
            "the catalog never keeps playlists"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A ready lecture with `segments` segments of 2 s, and a student's media token for it.
async fn ready_lecture(app: &TestApp, segments: u64) -> (String, String) {
    let (lecture, master) = app.lecture_with_segment().await;
    for sequence in 1..segments {
        app.add_segment(&lecture, sequence).await;
    }
    app.stop_recording(&lecture).await;
    let finish = app
        .post(
            &format!("/api/v1/worker/lectures/{lecture}/finish"),
            As::Bearer(WORKER_TOKEN),
            json!({"error": null}),
        )
        .await;
    assert_eq!(finish.status, StatusCode::NO_CONTENT, "{}", finish.text());
    (lecture, token_of(&master).to_owned())
}

fn media_url(lecture: &str, token: &str) -> String {
    format!("/media/{lecture}/presenter/720p/index.m3u8?token={token}")
}

fn master_url(lecture: &str, token: &str) -> String {
    format!("/media/{lecture}/master.m3u8?token={token}")
}

/// The sequences a media playlist lists.
fn listed(answer: &Answer) -> Vec<u64> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer
        .text()
        .lines()
        .filter_map(|line| line.split_once(".ts?token=")?.0.parse().ok())
        .collect()
}

/// The master and media playlist rendered for `token` straight from the store's rows, as
/// the catalog did before it kept anything.
async fn rendered(app: &TestApp, lecture: &str, token: &str) -> (Vec<u8>, Vec<u8>) {
    let store = app.state.store();
    let row = store.lecture(lecture).await.unwrap().unwrap();
    let renditions = store.lecture_media(&row).await.unwrap().main_renditions();
    let master = playlist::master(&renditions, |r| {
        format!("{}/{}/index.m3u8?token={token}", r.track, r.rung)
    });
    let segments = store.segments(lecture, "presenter", "720p").await.unwrap();
    let ended = matches!(row.state, LectureState::Ready | LectureState::Failed);
    let media = playlist::media(&row.settings.trim(segments), ended, |s| {
        format!("{}.ts?token={token}", s.sequence)
    });
    (master, media)
}

/// How many playlists a catalog says it served from memory.
fn from_memory(metrics: &Answer) -> u64 {
    assert_eq!(metrics.status, StatusCode::OK, "{}", metrics.text());
    let text = metrics.text();
    text.lines()
        .find_map(|line| line.strip_prefix(r#"lectern_playlists_served_total{from="memory"} "#))
        .unwrap_or_else(|| panic!("no count of playlists from memory in\n{text}"))
        .parse()
        .unwrap()
}

async fn set_trim(app: &TestApp, who: &str, lecture: &str, window: serde_json::Value) {
    let path = format!("/api/v1/lectures/{lecture}");
    let answer = app
        .send(Method::PATCH, &path, As::Cookie(who), Some(window), &[])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

/// Asks `replica` for the media playlist at `url`, listing `sequences`, until it answers
/// from memory. (The replica hears of the changes that made the lecture a moment after
/// they were made, and each makes it read again.)
async fn kept_by(replica: &Replica, url: &str, sequences: &[u64]) {
    let deadline = Instant::now() + NOTIFIED_WITHIN;
    let served =
        || async { from_memory(&replica.get("/metrics", As::Bearer(METRICS_TOKEN)).await) };
    let before = served().await;
    loop {
        assert_eq!(listed(&replica.get(url, As::Nobody).await), sequences);
        if served().await > before {
            return;
        }
        assert!(Instant::now() < deadline, "the replica never kept {url}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn kept_playlists_are_byte_for_byte_what_each_viewers_token_renders(db: Db) {
    let app = spawn(db).await;
    let (lecture, student) = ready_lecture(&app, 3).await;
    let later = u64::try_from(Utc::now().timestamp()).unwrap() + 3600;
    let viewers = [
        student,
        app.state.signer().sign(&lecture, later),
        app.state.signer().sign(&lecture, later + 1),
    ];
    let mut expected = Vec::new();
    for token in &viewers {
        expected.push(rendered(&app, &lecture, token).await);
    }
    for _ in 0..2 {
        for (token, (master, media)) in viewers.iter().zip(&expected) {
            let answer = app.get(&master_url(&lecture, token), As::Nobody).await;
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(answer.body, master[..], "the master playlist for {token}");
            let answer = app.get(&media_url(&lecture, token), As::Nobody).await;
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(answer.body, media[..], "the media playlist for {token}");
        }
    }
    let metrics = app.get("/metrics", As::Bearer(METRICS_TOKEN)).await;
    assert_eq!(
        from_memory(&metrics),
        10,
        "all but the first of each playlist"
    );

    // From memory, the database is not asked at all.
    app.state.store().close().await;
    for (token, (master, media)) in viewers.iter().zip(&expected) {
        let answer = app.get(&master_url(&lecture, token), As::Nobody).await;
        assert_eq!(answer.body, master[..], "{token}");
        let answer = app.get(&media_url(&lecture, token), As::Nobody).await;
        assert_eq!(answer.body, media[..], "{token}");
    }
}

async fn a_trim_takes_effect_as_soon_as_it_is_answered(db: Db) {
    let app = spawn(db).await;
    let (lecture, token) = ready_lecture(&app, 5).await;
    let url = media_url(&lecture, &token);
    for _ in 0..2 {
        assert_eq!(listed(&app.get(&url, As::Nobody).await), [0, 1, 2, 3, 4]);
    }
    let metrics = app.get("/metrics", As::Bearer(METRICS_TOKEN)).await;
    assert_eq!(from_memory(&metrics), 1, "kept before the trim");

    let instructor = app.login(INSTRUCTOR).await;
    // Segments are 2 s: 4.5 s to 7 s overlaps segments 2 (4–6 s) and 3 (6–8 s).
    let window = json!({"trim_in": 4.5, "trim_out": 7.0});
    set_trim(&app, &instructor, &lecture, window).await;
    let answer = app.get(&url, As::Nobody).await;
    assert_eq!(listed(&answer), [2, 3], "the next request after the PATCH");
    assert_eq!(answer.body, rendered(&app, &lecture, &token).await.1[..]);
    let trimmed_away = format!("/media/{lecture}/presenter/720p/0.ts?token={token}");
    assert_eq!(
        app.get(&trimmed_away, As::Nobody).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(listed(&app.get(&url, As::Nobody).await), [2, 3], "kept");

    let untrimmed = json!({"trim_in": null, "trim_out": null});
    set_trim(&app, &instructor, &lecture, untrimmed).await;
    assert_eq!(listed(&app.get(&url, As::Nobody).await), [0, 1, 2, 3, 4]);
}

async fn a_deleted_lectures_playlists_are_404_at_once(db: Db) {
    let app = spawn(db).await;
    let (lecture, token) = ready_lecture(&app, 2).await;
    for _ in 0..2 {
        assert_eq!(
            app.get(&master_url(&lecture, &token), As::Nobody)
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            listed(&app.get(&media_url(&lecture, &token), As::Nobody).await),
            [0, 1]
        );
    }
    let instructor = app.login(INSTRUCTOR).await;
    let answer = app
        .send(
            Method::DELETE,
            &format!("/api/v1/lectures/{lecture}"),
            As::Cookie(&instructor),
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    for url in [master_url(&lecture, &token), media_url(&lecture, &token)] {
        let answer = app.get(&url, As::Nobody).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{url}");
        assert!(answer.body.is_empty(), "{url}");
    }
}

async fn a_live_playlist_lists_a_new_segment_at_once_and_on_a_replica_within_the_bound(db: Db) {
    let app = spawn(db).await;
    // On SQLite a second catalog on the same file hears of no change (one catalog per file
    // is the embedded setup): it shows the bound itself, the live lifetime.
    let replica = app.replica().await;
    keeping(&replica.state).await;
    let (lecture, master) = app.lecture_with_segment().await;
    let url = media_url(&lecture, token_of(&master));
    for _ in 0..2 {
        assert_eq!(listed(&app.get(&url, As::Nobody).await), [0]);
    }
    kept_by(&replica, &url, &[0]).await;

    app.add_segment(&lecture, 1).await;
    let reported = Instant::now();
    assert_eq!(
        listed(&app.get(&url, As::Nobody).await),
        [0, 1],
        "the catalog that took the report lists it at once"
    );
    let bound = LIVE_LIFETIME + SLACK;
    while listed(&replica.get(&url, As::Nobody).await) != [0, 1] {
        assert!(
            reported.elapsed() < bound,
            "the replica did not list the new segment within {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn a_trim_and_a_deletion_reach_a_replica_by_notification(db: Db) {
    if db == Db::Sqlite {
        return; // One catalog per SQLite file: there are no replicas to tell.
    }
    let app = spawn(db).await;
    let replica = app.replica().await;
    keeping(&replica.state).await;
    let (lecture, token) = ready_lecture(&app, 3).await;
    let url = media_url(&lecture, &token);
    kept_by(&replica, &url, &[0, 1, 2]).await;

    let instructor = app.login(INSTRUCTOR).await;
    set_trim(&app, &instructor, &lecture, json!({"trim_in": 2.5})).await;
    let patched = Instant::now();
    while listed(&replica.get(&url, As::Nobody).await) != [1, 2] {
        assert!(
            patched.elapsed() < NOTIFIED_WITHIN,
            "the trim did not reach the replica"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let path = format!("/api/v1/lectures/{lecture}");
    let answer = app
        .send(Method::DELETE, &path, As::Cookie(&instructor), None, &[])
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    let deleted = Instant::now();
    while replica.get(&url, As::Nobody).await.status != StatusCode::NOT_FOUND {
        assert!(
            deleted.elapsed() < NOTIFIED_WITHIN,
            "the deletion did not reach the replica"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

on_both_databases!(
    kept_playlists_are_byte_for_byte_what_each_viewers_token_renders,
    a_trim_takes_effect_as_soon_as_it_is_answered,
    a_deleted_lectures_playlists_are_404_at_once,
    a_live_playlist_lists_a_new_segment_at_once_and_on_a_replica_within_the_bound,
    a_trim_and_a_deletion_reach_a_replica_by_notification,
);
