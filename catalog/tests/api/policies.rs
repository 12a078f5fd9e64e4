//! Policy versions and retention (issue 7): a changed privacy policy asks for acceptance at the
//! next sign-in and holds playback back until it is accepted; the retention job deletes
//! exactly what is older than the institute keeps it, and records what it deleted.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use lectern_catalog::store::AuditEvent;
use serde_json::{json, Value};

use crate::fixtures::{build_world, FOREIGN_ADMIN};
use crate::helpers::{As, Db, TestApp, STUDENT};

const ADMIN: &str = "admin@demo.lectern.test";

async fn login_answer(app: &TestApp, email: &str) -> Value {
    let answer = app
        .post(
            "/api/v1/auth/login",
            As::Nobody,
            json!({"email": email, "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()
}

async fn publish(app: &TestApp, admin: &str, body: &str) -> Value {
    let answer = app
        .send(
            Method::PUT,
            "/api/v1/institute/privacy-policy",
            As::Cookie(admin),
            Some(json!({ "body": body })),
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()
}

async fn a_changed_policy_asks_for_acceptance_at_the_next_login_and_holds_playback_back(db: Db) {
    let app = TestApp::spawn(db).await;
    let world = build_world(&app).await;
    let playback = format!("/api/v1/lectures/{}/playback", world.lecture);
    assert_eq!(
        login_answer(&app, STUDENT).await["policy_to_accept"],
        Value::Null
    );
    let student = app.login(STUDENT).await;
    assert_eq!(
        app.get(&playback, As::Cookie(&student)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/privacy-policy", As::Cookie(&student))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "none published yet"
    );

    let admin = app.login(ADMIN).await;
    let first = publish(&app, &admin, "We keep your recordings for the term.").await;
    assert_eq!(first["version"], 1);
    assert_eq!(first["accepted_at"], Value::Null);

    // The next sign-in says so, and nothing plays until it is accepted.
    assert_eq!(login_answer(&app, STUDENT).await["policy_to_accept"], 1);
    let held = app.get(&playback, As::Cookie(&student)).await;
    assert_eq!(held.status, StatusCode::CONFLICT, "{}", held.text());
    assert!(held.text().contains("privacy policy"), "{}", held.text());
    let shown = app
        .get("/api/v1/privacy-policy", As::Cookie(&student))
        .await
        .json();
    assert_eq!(shown["body"], "We keep your recordings for the term.");
    let accept = |version: u32| {
        app.post(
            "/api/v1/me/policy-acceptance",
            As::Cookie(&student),
            json!({ "version": version }),
        )
    };
    assert_eq!(
        accept(2).await.status,
        StatusCode::CONFLICT,
        "not published"
    );
    assert_eq!(accept(1).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        accept(1).await.status,
        StatusCode::NO_CONTENT,
        "again changes nothing"
    );
    let me = app.get("/api/v1/me", As::Cookie(&student)).await.json();
    assert_eq!(me["policy_to_accept"], Value::Null);
    assert!(app
        .get("/api/v1/privacy-policy", As::Cookie(&student))
        .await
        .json()["accepted_at"]
        .is_string());
    assert_eq!(
        app.get(&playback, As::Cookie(&student)).await.status,
        StatusCode::OK
    );

    // A new version asks again; the old acceptance does not count for it.
    let second = publish(&app, &admin, "We now also keep watch progress.").await;
    assert_eq!(second["version"], 2);
    assert_eq!(login_answer(&app, STUDENT).await["policy_to_accept"], 2);
    assert_eq!(
        accept(1).await.status,
        StatusCode::CONFLICT,
        "an old version"
    );
    assert_eq!(
        app.get(&playback, As::Cookie(&student)).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(accept(2).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&playback, As::Cookie(&student)).await.status,
        StatusCode::OK
    );

    // Another institute's people are not asked.
    assert_eq!(
        login_answer(&app, FOREIGN_ADMIN).await["policy_to_accept"],
        Value::Null
    );
    // The acceptances are the student's to export.
    let link = app
        .post("/api/v1/me/export", As::Cookie(&student), json!({}))
        .await
        .json();
    let export = app
        .get(link["url"].as_str().unwrap(), As::Cookie(&student))
        .await
        .json();
    assert_eq!(
        export["data"]["policy_acceptances"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

async fn the_retention_job_deletes_exactly_what_is_past_the_limit(db: Db) {
    let app = TestApp::spawn(db).await;
    build_world(&app).await;
    let admin = app.login(ADMIN).await;
    let patch = |body: Value| {
        app.send(
            Method::PATCH,
            "/api/v1/institute",
            As::Cookie(&admin),
            Some(body),
            &[],
        )
    };
    let bad = patch(json!({"audit_retention_days": 0})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text());
    let set = patch(json!({"audit_retention_days": 30})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    assert_eq!(set.json()["audit_retention_days"], 30);

    let store = app.state.store();
    let now = Utc::now();
    let who = |email: &str| {
        let email = email.to_owned();
        async move {
            store
                .user_for_login(&email)
                .await
                .unwrap()
                .map(|(user, _)| user)
                .unwrap()
        }
    };
    let (demo_admin, foreign_admin) = (who(ADMIN).await, who(FOREIGN_ADMIN).await);
    for (actor, action, age) in [
        (&demo_admin, "test.old", Duration::days(31)),
        (&demo_admin, "test.recent", Duration::days(29)),
        (&foreign_admin, "test.old", Duration::days(400)),
    ] {
        let event = AuditEvent {
            action,
            target_kind: "test",
            target_id: None,
            detail: json!({}),
        };
        store.audit(actor, event, now - age).await.unwrap();
    }

    let reports = store.purge_expired(now).await.unwrap();
    assert_eq!(
        reports.len(),
        1,
        "only the demo institute limits its log: {reports:?}"
    );
    assert_eq!(reports[0].1.audit_entries, 1);

    let actions = |log: Value| -> Vec<String> {
        log.as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    };
    let demo = actions(
        app.get("/api/v1/audit?limit=500", As::Cookie(&admin))
            .await
            .json(),
    );
    assert!(!demo.contains(&"test.old".to_owned()), "{demo:?}");
    assert!(demo.contains(&"test.recent".to_owned()), "{demo:?}");
    assert!(
        demo.contains(&"retention.purge".to_owned()),
        "what went is recorded: {demo:?}"
    );
    let foreign_cookie = app.login(FOREIGN_ADMIN).await;
    let foreign = actions(
        app.get("/api/v1/audit?limit=500", As::Cookie(&foreign_cookie))
            .await
            .json(),
    );
    assert!(
        foreign.contains(&"test.old".to_owned()),
        "kept for good: {foreign:?}"
    );

    // Run again: nothing more is past the limit.
    let again = store.purge_expired(now).await.unwrap();
    assert_eq!(again[0].1.audit_entries, 0);
    let cleared = patch(json!({"audit_retention_days": null})).await.json();
    assert_eq!(cleared["audit_retention_days"], Value::Null);
    assert!(store.purge_expired(now).await.unwrap().is_empty());
}

on_both_databases!(
    a_changed_policy_asks_for_acceptance_at_the_next_login_and_holds_playback_back,
    the_retention_job_deletes_exactly_what_is_past_the_limit,
);
