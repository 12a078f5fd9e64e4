//! Cross-site request refusal (`lectern_catalog::cross_site`): unsafe requests a browser
//! sends from another site or origin answer 403 `cross_site_refused` and change nothing;
//! the catalog's own pages, safe requests and bearer-token callers are not affected, and
//! none of them gets past an access check it did not pass before.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Answer, As, Db, TestApp, PASSWORD, STUDENT, WORKER_TOKEN};

const HOST: (&str, &str) = ("host", "catalog.test");
const OWN_ORIGIN: (&str, &str) = ("origin", "http://catalog.test");
const EVIL_ORIGIN: (&str, &str) = ("origin", "https://evil.example");
const CROSS_SITE: (&str, &str) = ("sec-fetch-site", "cross-site");
const SAME_ORIGIN: (&str, &str) = ("sec-fetch-site", "same-origin");

fn assert_refused(answer: &Answer, what: &str) {
    assert_eq!(
        answer.status,
        StatusCode::FORBIDDEN,
        "{what}: {}",
        answer.text()
    );
    assert_eq!(
        answer.json()["error"]["code"],
        "cross_site_refused",
        "{what}"
    );
    assert!(answer.header("set-cookie").is_empty(), "{what}");
}

async fn a_cross_site_logout_is_refused_and_the_session_lives_on(db: Db) {
    let app = TestApp::spawn(db).await;
    let session = app.login(STUDENT).await;
    for headers in [
        &[HOST, CROSS_SITE][..],
        &[HOST, EVIL_ORIGIN],
        &[HOST, ("origin", "null")],
        &[HOST, ("origin", "https://catalog.test")],
        &[HOST, OWN_ORIGIN, CROSS_SITE],
    ] {
        let answer = app
            .send(
                Method::POST,
                "/api/v1/auth/logout",
                As::Cookie(&session),
                None,
                headers,
            )
            .await;
        assert_refused(&answer, &format!("{headers:?}"));
    }
    let me = app.get("/api/v1/me", As::Cookie(&session)).await;
    assert_eq!(me.status, StatusCode::OK, "the session was not ended");
}

async fn the_catalog_s_own_pages_may_log_in_and_out(db: Db) {
    let app = TestApp::spawn(db).await;
    let own = [HOST, OWN_ORIGIN, SAME_ORIGIN];
    let login = json!({"email": STUDENT, "password": PASSWORD});
    let answer = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            As::Nobody,
            Some(login),
            &own,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let session = answer
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let answer = app
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            As::Cookie(&session),
            None,
            &own,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
}

async fn a_cross_site_login_is_refused_and_signs_nobody_in(db: Db) {
    let app = TestApp::spawn(db).await;
    let login = json!({"email": STUDENT, "password": PASSWORD});
    for headers in [&[HOST, CROSS_SITE][..], &[HOST, EVIL_ORIGIN]] {
        let answer = app
            .send(
                Method::POST,
                "/api/v1/auth/login",
                As::Nobody,
                Some(login.clone()),
                headers,
            )
            .await;
        assert_refused(&answer, &format!("{headers:?}"));
    }
}

async fn with_public_origin_set_only_that_origin_passes(db: Db) {
    let app = TestApp::spawn_with(db, |config| {
        config.public_origin = Some(
            lectern_catalog::cross_site::PublicOrigin::parse("https://lectern.example.edu")
                .unwrap(),
        );
    })
    .await;
    let session = app.login(STUDENT).await;
    // Behind a proxy the Host is the catalog's own address; the Origin is what browsers saw.
    let internal_host = ("host", "127.0.0.1:8080");
    let answer = app
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            As::Cookie(&session),
            None,
            &[internal_host, ("origin", "http://127.0.0.1:8080")],
        )
        .await;
    assert_refused(&answer, "the Host's origin is not the public one");
    let answer = app
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            As::Cookie(&session),
            None,
            &[internal_host, ("origin", "https://lectern.example.edu")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
}

async fn bearer_callers_are_not_affected_and_still_need_a_valid_token(db: Db) {
    let app = TestApp::spawn(db).await;
    let register = json!({"srt_host": "192.0.2.1", "srt_ports": [9000, 9001]});
    let cross = [HOST, EVIL_ORIGIN, CROSS_SITE];
    let answer = app
        .send(
            Method::POST,
            "/api/v1/worker/register",
            As::Bearer(WORKER_TOKEN),
            Some(register.clone()),
            &cross,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    let answer = app
        .send(
            Method::POST,
            "/api/v1/worker/register",
            As::Bearer("wrong-token"),
            Some(register),
            &cross,
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
}

async fn safe_requests_pass_and_keep_their_access_rules(db: Db) {
    let app = TestApp::spawn(db).await;
    let (lecture, _) = app.lecture_with_segment().await;
    let outsider = app.login(crate::helpers::OUTSIDER).await;
    let student = app.login(STUDENT).await;
    let cross = [HOST, EVIL_ORIGIN, CROSS_SITE];
    let path = format!("/api/v1/lectures/{lecture}");
    let seen = app
        .send(Method::GET, &path, As::Cookie(&student), None, &cross)
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    let hidden = app
        .send(Method::GET, &path, As::Cookie(&outsider), None, &cross)
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let anonymous = app.send(Method::GET, &path, As::Nobody, None, &cross).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // The refusal of an unsafe request is the same whether its target exists or not.
    let missing = "/api/v1/lectures/00000000-0000-4000-8000-000000000000";
    for target in [path.as_str(), missing] {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let answer = app
                .send(method.clone(), target, As::Cookie(&outsider), None, &cross)
                .await;
            assert_refused(&answer, &format!("{method} {target}"));
        }
    }
}

on_both_databases!(
    a_cross_site_logout_is_refused_and_the_session_lives_on,
    the_catalog_s_own_pages_may_log_in_and_out,
    a_cross_site_login_is_refused_and_signs_nobody_in,
    with_public_origin_set_only_that_origin_passes,
    bearer_callers_are_not_affected_and_still_need_a_valid_token,
    safe_requests_pass_and_keep_their_access_rules,
);
