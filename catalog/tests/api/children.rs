//! Children (issue 7), through the real catalog: an account's age band, set by its
//! institute; an account under 13 plays nothing until an admin records its guardian's
//! consent, and nothing after it is withdrawn; nothing of a child's viewing is kept but
//! where to resume, and a child is in no aggregate.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fixtures::{enrolled_students, lecture_of_42_seconds, report_progress};
use crate::helpers::{texts, As, Db, TestApp, OUTSIDER, STUDENT};

const INSTRUCTOR: &str = "instructor@demo.lectern.test";
const ADMIN: &str = "admin@demo.lectern.test";
const CONSENT: &str = "/guardian-consent";

async fn id_of(app: &TestApp, cookie: &str) -> String {
    let me = app.get("/api/v1/me", As::Cookie(cookie)).await.json();
    me["id"].as_str().unwrap().to_owned()
}

async fn set_age_band(app: &TestApp, admin: &str, user: &str, band: &str) -> Value {
    let answer = app
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{user}"),
            As::Cookie(admin),
            Some(json!({"age_band": band})),
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()
}

async fn consent(app: &TestApp, admin: &str, user: &str, body: Value) -> (StatusCode, Value) {
    let answer = app
        .post(
            &format!("/api/v1/users/{user}{CONSENT}"),
            As::Cookie(admin),
            body,
        )
        .await;
    (answer.status, answer.json())
}

async fn playback(app: &TestApp, cookie: &str, lecture: &str) -> (StatusCode, Value) {
    let answer = app
        .get(
            &format!("/api/v1/lectures/{lecture}/playback"),
            As::Cookie(cookie),
        )
        .await;
    (answer.status, answer.json())
}

async fn an_account_under_13_plays_only_while_a_guardians_consent_is_recorded(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, _) = app.lecture_with_segment().await;
    let admin = app.login(ADMIN).await;
    let student = app.login(STUDENT).await;
    let child = id_of(&app, &student).await;
    let info = set_age_band(&app, &admin, &child, "under_13").await;
    assert_eq!(info["age_band"], "under_13");
    assert_eq!(info["guardian_consent"], Value::Null);

    let (status, refused) = playback(&app, &student, &lecture).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["error"]["code"], "guardian_consent_required");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("under 13") && message.contains("guardian"),
        "{message}"
    );
    let report = json!({"view": "v", "position_seconds": 1, "watched_seconds": 1});
    assert_eq!(
        report_progress(&app, &student, &lecture, report.clone())
            .await
            .status,
        StatusCode::FORBIDDEN,
        "no report of what cannot be played"
    );
    // The lecture is theirs to see listed: only playing waits for the consent.
    let listed = app
        .get(&format!("/api/v1/lectures/{lecture}"), As::Cookie(&student))
        .await;
    assert_eq!(listed.status, StatusCode::OK);

    // Only the institute's admin records it, with a name and a relation, for a child.
    let instructor = app.login(INSTRUCTOR).await;
    let body = json!({"guardian_name": "Gina Guardian", "relation": "mother"});
    assert_eq!(
        consent(&app, &instructor, &child, body.clone()).await.0,
        StatusCode::NOT_FOUND
    );
    for bad in [
        json!({"guardian_name": " ", "relation": "mother"}),
        json!({"guardian_name": "Gina Guardian", "relation": ""}),
        json!({"guardian_name": "Gina Guardian"}),
    ] {
        let (status, answer) = consent(&app, &admin, &child, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {answer}");
    }
    let outsider = app.login(OUTSIDER).await;
    let adult = id_of(&app, &outsider).await;
    let (status, answer) = consent(&app, &admin, &adult, body.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("under_13"));

    let (status, recorded) = consent(&app, &admin, &child, body).await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    let admin_id = id_of(&app, &admin).await;
    assert_eq!(recorded["guardian_name"], "Gina Guardian");
    assert_eq!(recorded["relation"], "mother");
    assert_eq!(recorded["recorded_by"], admin_id.as_str());
    assert!(recorded["recorded_at"].is_string());
    let info = app
        .get(&format!("/api/v1/users/{child}"), As::Cookie(&admin))
        .await
        .json();
    assert_eq!(info["guardian_consent"], recorded);
    let (status, _) = playback(&app, &student, &lecture).await;
    assert_eq!(status, StatusCode::OK, "with the consent, the child plays");
    assert_eq!(
        report_progress(&app, &student, &lecture, report)
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    let withdrawal = format!("/api/v1/users/{child}{CONSENT}");
    let withdraw = || app.send(Method::DELETE, &withdrawal, As::Cookie(&admin), None, &[]);
    assert_eq!(withdraw().await.status, StatusCode::NO_CONTENT);
    let (status, _) = playback(&app, &student, &lecture).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "withdrawn: no more playback");
    assert_eq!(withdraw().await.status, StatusCode::NOT_FOUND);

    // Both are in the audit log, which names neither the child nor the guardian.
    let log = app.get("/api/v1/audit", As::Cookie(&admin)).await;
    let entries = log.json();
    for action in ["guardian_consent.record", "guardian_consent.withdraw"] {
        assert!(
            entries
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == action && e["target_id"] == child.as_str()),
            "{action}: {entries}"
        );
    }
    assert!(!log.text().contains("Gina"), "{}", log.text());
}

async fn nothing_of_a_childs_viewing_is_kept_but_where_to_resume(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, course) = lecture_of_42_seconds(&app).await;
    let others = enrolled_students(&app, &course, 4).await;
    let student = app.login(STUDENT).await;
    let child = id_of(&app, &student).await;
    let watched = |view: &str, to: f64| {
        json!({"view": view, "position_seconds": to, "watched_seconds": to,
               "watched": [[0, to]]})
    };
    for (_, cookie) in &others {
        report_progress(&app, cookie, &lecture, watched("other", 30.0)).await;
    }
    // Watched as an adult: five students, an aggregate.
    report_progress(&app, &student, &lecture, watched("adult", 20.0)).await;
    let instructor = app.login(INSTRUCTOR).await;
    let url = format!("/api/v1/lectures/{lecture}/analytics");
    let answer = app.get(&url, As::Cookie(&instructor)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());

    // The institute says the account is a child's: what was kept beyond where to resume
    // goes at once, and the child leaves the aggregate.
    let admin = app.login(ADMIN).await;
    set_age_band(&app, &admin, &child, "under_13").await;
    let row = "SELECT CAST(position_seconds AS TEXT) || '|' || CAST(views AS TEXT) || '|' || \
               COALESCE(CAST(watched_seconds AS TEXT), '-') || '|' || COALESCE(view_id, '-') \
               || '|' || COALESCE(CAST(view_watched_seconds AS TEXT), '-') || '|' || \
               COALESCE(buckets, '-') FROM lecture_progress WHERE user_id = $1";
    let kept = texts(&app, row, Some(&child)).await;
    assert_eq!(kept.len(), 1);
    let kept = kept[0].clone().unwrap();
    assert!(kept.starts_with("20"), "{kept}");
    assert!(kept.ends_with("|0|-|-|-|-"), "{kept}");
    let answer = app.get(&url, As::Cookie(&instructor)).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text());

    // With a consent the child plays, and only the place to resume is kept.
    let (status, _) = consent(
        &app,
        &admin,
        &child,
        json!({"guardian_name": "Gina Guardian", "relation": "father"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let answer = report_progress(&app, &student, &lecture, watched("child", 35.0)).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    let kept = texts(&app, row, Some(&child)).await[0].clone().unwrap();
    assert!(kept.starts_with("35"), "{kept}");
    assert!(kept.ends_with("|0|-|-|-|-"), "{kept}");
    let own = app
        .get(
            &format!("/api/v1/lectures/{lecture}/progress"),
            As::Cookie(&student),
        )
        .await
        .json();
    assert_eq!(own["position_seconds"], 35.0);
    assert_eq!(own["views"], 0);
    assert_eq!(own["watched_seconds"], Value::Null);
    assert_eq!(
        app.get(&url, As::Cookie(&instructor)).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.state
            .store()
            .lecture_cohort(&lecture)
            .await
            .unwrap()
            .len(),
        4,
        "the child is in no row of the aggregate"
    );
}

async fn institutes_set_the_age_band_when_inviting_and_importing(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let invite = |body: Value| app.post("/api/v1/users", As::Cookie(&admin), body);
    let answer = invite(json!({"email": "kid@demo.lectern.test", "name": "Kim Kid",
                               "role": "student", "age_band": "under_13"}))
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    assert_eq!(answer.json()["user"]["age_band"], "under_13");
    let answer = invite(
        json!({"email": "teen@demo.lectern.test", "name": "Tim Teen",
                               "role": "student"}),
    )
    .await;
    assert_eq!(answer.json()["user"]["age_band"], "adult", "the default");
    let answer = invite(json!({"email": "baby@demo.lectern.test", "name": "Bo Baby",
                               "role": "student", "age_band": "under_3"}))
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());

    let csv = "course_code,term,email,role,name,age_band\n\
               LEC101,2026 Autumn,pupil@demo.lectern.test,student,Pia Pupil,under_13\n\
               LEC101,2026 Autumn,youth@demo.lectern.test,student,Yan Youth,13_to_17\n\
               LEC101,2026 Autumn,nobody@demo.lectern.test,student,No Body,ancient\n";
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/imports/enrolments")
        .header(axum::http::header::COOKIE, &admin)
        .header(axum::http::header::CONTENT_TYPE, "text/csv")
        .body(axum::body::Body::from(csv))
        .unwrap();
    let answer = app.request(request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let report = answer.json();
    assert_eq!(report["created"], 2, "{report}");
    assert!(report["rejected"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("age_band is \"ancient\""));
    for (q, band) in [("pia", "under_13"), ("yan", "13_to_17")] {
        let people = app
            .get(&format!("/api/v1/users?q={q}"), As::Cookie(&admin))
            .await
            .json();
        assert_eq!(people[0]["age_band"], band, "{people}");
    }
}

on_both_databases!(
    an_account_under_13_plays_only_while_a_guardians_consent_is_recorded,
    nothing_of_a_childs_viewing_is_kept_but_where_to_resume,
    institutes_set_the_age_band_when_inviting_and_importing,
);
