//! Viewing analytics that respect people (issue 7), through the real catalog: the player's
//! reports keep where to resume and the watch time, bounded and idempotent, from people who
//! may play the lecture only; a course's staff see aggregates only over five or more
//! students, and a student who opted out appears in none of their rows.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fixtures::{enrolled_students, lecture_of_42_seconds, report_progress};
use crate::helpers::{texts, As, Db, TestApp, OUTSIDER, STUDENT};

const INSTRUCTOR: &str = "instructor@demo.lectern.test";
const ADMIN: &str = "admin@demo.lectern.test";

async fn progress(app: &TestApp, cookie: &str, lecture: &str) -> Value {
    let answer = app
        .get(
            &format!("/api/v1/lectures/{lecture}/progress"),
            As::Cookie(cookie),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()
}

async fn analytics(app: &TestApp, cookie: &str, lecture: &str) -> (StatusCode, Value) {
    let answer = app
        .get(
            &format!("/api/v1/lectures/{lecture}/analytics"),
            As::Cookie(cookie),
        )
        .await;
    (answer.status, answer.json())
}

async fn my_id(app: &TestApp, cookie: &str) -> String {
    let me = app.get("/api/v1/me", As::Cookie(cookie)).await.json();
    me["id"].as_str().unwrap().to_owned()
}

async fn progress_resumes_where_the_person_stopped_and_a_repeated_report_counts_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, _) = lecture_of_42_seconds(&app).await;
    let student = app.login(STUDENT).await;
    let never = progress(&app, &student, &lecture).await;
    assert_eq!(
        never,
        json!({"lecture_id": lecture, "position_seconds": 0.0, "views": 0,
               "watched_seconds": null, "updated_at": null})
    );

    let first = json!({"view": "v1", "position_seconds": 12.5, "watched_seconds": 12.5,
                       "watched": [[0, 12.5]]});
    for _ in 0..2 {
        let answer = report_progress(&app, &student, &lecture, first.clone()).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    }
    let once = progress(&app, &student, &lecture).await;
    assert_eq!(once["position_seconds"], 12.5);
    assert_eq!(once["views"], 1, "the same report twice is one view");
    assert_eq!(once["watched_seconds"], 12.5);
    assert!(once["updated_at"].is_string());

    let later = json!({"view": "v1", "position_seconds": 30, "watched_seconds": 30,
                       "watched": [[12.5, 30]]});
    report_progress(&app, &student, &lecture, later).await;
    // A report of the same view that arrives late adds nothing but its position.
    report_progress(&app, &student, &lecture, first).await;
    let again = json!({"view": "v2", "position_seconds": 5, "watched_seconds": 5,
                       "watched": [[0, 5]]});
    report_progress(&app, &student, &lecture, again).await;
    let now = progress(&app, &student, &lecture).await;
    assert_eq!(
        now["position_seconds"], 5.0,
        "resume where the last report was"
    );
    assert_eq!(now["views"], 2);
    assert_eq!(now["watched_seconds"], 35.0);

    // Seconds 0 to 30 were played: parts 0, 1 and 2 of the bitmap.
    let id = my_id(&app, &student).await;
    let parts = texts(
        &app,
        "SELECT buckets FROM lecture_progress WHERE user_id = $1",
        Some(&id),
    )
    .await;
    assert_eq!(parts, [Some("07".to_owned())]);
    // Only the person's own progress: the instructor has none of it.
    let instructor = app.login(INSTRUCTOR).await;
    assert_eq!(
        progress(&app, &instructor, &lecture).await["position_seconds"],
        0.0
    );
}

async fn progress_reports_are_bounded_and_come_only_from_people_who_may_play(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, _) = lecture_of_42_seconds(&app).await;
    let student = app.login(STUDENT).await;
    let ok = json!({"view": "v1", "position_seconds": 1, "watched_seconds": 1, "watched": []});
    let many: Vec<Value> = (0..65).map(|i| json!([i, i])).collect();
    for (bad, says) in [
        (
            json!({"view": "v1", "position_seconds": -1, "watched_seconds": 1}),
            "position_seconds",
        ),
        (
            json!({"view": "v1", "position_seconds": 53, "watched_seconds": 1}),
            "lecture's length (42 s)",
        ),
        (
            json!({"view": "v1", "position_seconds": 1, "watched_seconds": -3}),
            "watched_seconds",
        ),
        (
            json!({"view": "v1", "position_seconds": 1, "watched_seconds": 1e7}),
            "watched_seconds",
        ),
        (
            json!({"view": "", "position_seconds": 1, "watched_seconds": 1}),
            "view must be",
        ),
        (
            json!({"view": "a b", "position_seconds": 1, "watched_seconds": 1}),
            "view must be",
        ),
        (
            json!({"view": "v1", "position_seconds": 1, "watched_seconds": 1, "watched": [[9, 3]]}),
            "part of watched",
        ),
        (
            json!({"view": "v1", "position_seconds": 1, "watched_seconds": 1, "watched": [[0, 600]]}),
            "part of watched",
        ),
        (
            json!({"view": "v1", "position_seconds": 1, "watched_seconds": 1, "watched": many}),
            "at most 64",
        ),
        (
            json!({"view": "v1", "position_seconds": 1, "watched_seconds": 1, "ip": "10.0.0.1"}),
            "unknown field",
        ),
        (
            json!({"view": "v1", "position_seconds": "1", "watched_seconds": 1}),
            "position_seconds",
        ),
        (json!({"position_seconds": 1, "watched_seconds": 1}), "view"),
    ] {
        let answer = report_progress(&app, &student, &lecture, bad.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            answer.text()
        );
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(says), "{bad}: {message}");
    }
    assert_eq!(
        progress(&app, &student, &lecture).await["views"],
        0,
        "nothing refused was kept"
    );

    // Only someone who may play the lecture reports on it.
    let outsider = app.login(OUTSIDER).await;
    assert_eq!(
        report_progress(&app, &outsider, &lecture, ok.clone())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let anonymous = app
        .send(
            Method::PUT,
            &format!("/api/v1/lectures/{lecture}/progress"),
            As::Nobody,
            Some(ok.clone()),
            &[],
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let instructor = app.login(INSTRUCTOR).await;
    let hidden = app
        .post(
            &format!("/api/v1/lectures/{lecture}/unpublish"),
            As::Cookie(&instructor),
            json!({}),
        )
        .await;
    assert_eq!(hidden.status, StatusCode::OK, "{}", hidden.text());
    assert_eq!(
        report_progress(&app, &student, &lecture, ok.clone())
            .await
            .status,
        StatusCode::NOT_FOUND,
        "an unpublished lecture is not the student's to play"
    );
    let answer = app
        .get(
            &format!("/api/v1/lectures/{lecture}/progress"),
            As::Cookie(&student),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        report_progress(&app, &instructor, &lecture, ok)
            .await
            .status,
        StatusCode::NO_CONTENT,
        "its staff still play it"
    );
}

/// What each of six students played of the 42-second lecture (five 10-second parts): all
/// the first part, three the second, the first student everything.
fn played(i: usize) -> Value {
    let to = match i {
        0 => 42.0,
        1 | 2 => 20.0,
        _ => 10.0,
    };
    json!({"view": format!("view-{i}"), "position_seconds": to, "watched_seconds": to,
           "watched": [[0, to]]})
}

async fn an_opted_out_student_appears_in_zero_rows_of_the_aggregates(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, course) = lecture_of_42_seconds(&app).await;
    let students = enrolled_students(&app, &course, 6).await;
    for (i, (_, cookie)) in students.iter().enumerate() {
        let answer = report_progress(&app, cookie, &lecture, played(i)).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    }
    // Staff play it too, and are no students: they count nowhere.
    let instructor = app.login(INSTRUCTOR).await;
    report_progress(&app, &instructor, &lecture, played(0)).await;

    let (status, all) = analytics(&app, &instructor, &lecture).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        all,
        json!({"lecture_id": lecture, "minimum_cohort": 5, "unique_viewers": 6, "views": 6,
               "watched_seconds": 42.0 + 20.0 * 2.0 + 10.0 * 3.0, "bucket_seconds": 10,
               "retention": [1.0, 0.5, 0.167, 0.167, 0.167]})
    );

    let (first, first_cookie) = &students[0];
    let preferences = |body: Option<Value>| {
        let method = if body.is_some() {
            Method::PUT
        } else {
            Method::GET
        };
        app.send(
            method,
            "/api/v1/me/preferences",
            As::Cookie(first_cookie),
            body,
            &[],
        )
    };
    assert_eq!(
        preferences(None).await.json(),
        json!({"research_opt_out": false})
    );
    let answer = preferences(Some(json!({"research_opt_out": true}))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(
        preferences(None).await.json(),
        json!({"research_opt_out": true})
    );
    let bad = preferences(Some(json!({"research_opt_out": "yes"}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text());

    // From now on the first student is in no row of any aggregate, and keeps nothing that
    // only research would use.
    let without = json!({"lecture_id": lecture, "minimum_cohort": 5, "unique_viewers": 5,
                         "views": 5, "watched_seconds": 20.0 * 2.0 + 10.0 * 3.0,
                         "bucket_seconds": 10, "retention": [1.0, 0.4, 0.0, 0.0, 0.0]});
    assert_eq!(analytics(&app, &instructor, &lecture).await.1, without);
    let cohort = app.state.store().lecture_cohort(&lecture).await.unwrap();
    assert_eq!(cohort.len(), 5);
    let parts_kept = texts(
        &app,
        "SELECT buckets FROM lecture_progress WHERE user_id = $1 AND buckets IS NOT NULL",
        Some(first),
    )
    .await;
    assert_eq!(parts_kept.len(), 0, "{parts_kept:?}");

    // Their next viewing changes no aggregate, and is still theirs to resume.
    let again = json!({"view": "view-0-again", "position_seconds": 40, "watched_seconds": 40,
                       "watched": [[0, 40]]});
    let answer = report_progress(&app, first_cookie, &lecture, again).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert_eq!(analytics(&app, &instructor, &lecture).await.1, without);
    let own = progress(&app, first_cookie, &lecture).await;
    assert_eq!(
        (own["position_seconds"].clone(), own["views"].clone()),
        (json!(40.0), json!(2))
    );
    assert_eq!(
        texts(
            &app,
            "SELECT buckets FROM lecture_progress WHERE user_id = $1 AND buckets IS NOT NULL",
            Some(first),
        )
        .await
        .len(),
        0
    );

    // Opting back in counts them again, with what they play from then on.
    preferences(Some(json!({"research_opt_out": false}))).await;
    let third = json!({"view": "view-0-third", "position_seconds": 10, "watched_seconds": 10,
                       "watched": [[0, 10]]});
    report_progress(&app, first_cookie, &lecture, third).await;
    let back = analytics(&app, &instructor, &lecture).await.1;
    assert_eq!(back["unique_viewers"], 6);
    assert_eq!(back["retention"], json!([1.0, 0.333, 0.0, 0.0, 0.0]));

    // Each aggregate shown is in the audit log.
    let admin = app.login(ADMIN).await;
    let log = app.get("/api/v1/audit", As::Cookie(&admin)).await.json();
    let reads = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "analytics.read" && e["target_id"] == lecture.as_str())
        .count();
    assert_eq!(reads, 4, "{log}");
}

async fn a_cohort_of_four_students_shows_no_aggregate(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, course) = lecture_of_42_seconds(&app).await;
    let students = enrolled_students(&app, &course, 5).await;
    for (i, (_, cookie)) in students.iter().take(4).enumerate() {
        report_progress(&app, cookie, &lecture, played(i)).await;
    }
    // The staff's own viewing does not make up the numbers.
    let instructor = app.login(INSTRUCTOR).await;
    let admin = app.login(ADMIN).await;
    for cookie in [&instructor, &admin] {
        report_progress(&app, cookie, &lecture, played(0)).await;
    }
    for cookie in [&instructor, &admin] {
        let (status, body) = analytics(&app, cookie, &lecture).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["code"], "cohort_too_small");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("fewer than 5 students"), "{message}");
        assert!(
            !message.contains('4'),
            "the size itself is not told: {message}"
        );
    }
    // A student of the course gets no aggregate at all: to them it does not exist.
    let (status, _) = analytics(&app, &students[0].1, &lecture).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    report_progress(&app, &students[4].1, &lecture, played(4)).await;
    let (status, body) = analytics(&app, &instructor, &lecture).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["unique_viewers"], 5);
}

on_both_databases!(
    progress_resumes_where_the_person_stopped_and_a_repeated_report_counts_once,
    progress_reports_are_bounded_and_come_only_from_people_who_may_play,
    an_opted_out_student_appears_in_zero_rows_of_the_aggregates,
    a_cohort_of_four_students_shows_no_aggregate,
);
