use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{As, Db, TestApp, OUTSIDER, PASSWORD, STUDENT};

async fn login_with_the_right_password_returns_me_and_an_http_only_session_cookie(db: Db) {
    let app = TestApp::spawn(db).await;
    let answer = app
        .post(
            "/api/v1/auth/login",
            As::Nobody,
            json!({"email": STUDENT, "password": PASSWORD}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let me = answer.json();
    assert_eq!(me["email"], STUDENT);
    assert_eq!(me["role"], "student");
    assert_eq!(me["institute_name"], "Demo University");
    let cookie = answer.header("set-cookie").to_owned();
    assert!(cookie.starts_with("lectern_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let session = cookie.split(';').next().unwrap();
    let me = app.get("/api/v1/me", As::Cookie(session)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["email"], STUDENT);
}

async fn login_with_a_wrong_password_or_unknown_email_is_401_invalid_credentials(db: Db) {
    let app = TestApp::spawn(db).await;
    for (email, password) in [
        (STUDENT, "not-the-password"),
        ("nobody@demo.lectern.test", PASSWORD),
    ] {
        let answer = app
            .post(
                "/api/v1/auth/login",
                As::Nobody,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{email}");
        assert_eq!(answer.json()["error"]["code"], "invalid_credentials");
        assert!(answer.header("set-cookie").is_empty());
    }
}

async fn anonymous_and_forged_sessions_get_401_on_the_api(db: Db) {
    let app = TestApp::spawn(db).await;
    for path in [
        "/api/v1/courses",
        "/api/v1/me",
        "/api/v1/lectures/x",
        "/api/v1/lectures/x/playback",
    ] {
        let answer = app.get(path, As::Nobody).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(answer.json()["error"]["code"], "unauthenticated");
    }
    let forged = app
        .get("/api/v1/courses", As::Cookie("lectern_session=forged"))
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
}

async fn logout_ends_the_session(db: Db) {
    let app = TestApp::spawn(db).await;
    let session = app.login(STUDENT).await;
    let answer = app
        .post("/api/v1/auth/logout", As::Cookie(&session), json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(
        answer.header("set-cookie").starts_with("lectern_session=;"),
        "{}",
        answer.header("set-cookie")
    );
    assert_eq!(
        app.get("/api/v1/me", As::Cookie(&session)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_disabled_user_s_session_gets_401_and_they_cannot_log_in(db: Db) {
    let app = TestApp::spawn(db).await;
    let session = app.login(STUDENT).await;
    let second_browser = app.login(STUDENT).await;
    let bystander = app.login(OUTSIDER).await;
    let me = app.get("/api/v1/me", As::Cookie(&session)).await.json();
    let store = app.state.store();
    assert!(store
        .disable_user(me["id"].as_str().unwrap())
        .await
        .unwrap());
    for cookie in [&session, &second_browser] {
        let answer = app.get("/api/v1/me", As::Cookie(cookie)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.json()["error"]["code"], "unauthenticated");
    }
    let answer = app
        .post(
            "/api/v1/auth/login",
            As::Nobody,
            json!({"email": STUDENT, "password": PASSWORD}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.json()["error"]["code"],
        "invalid_credentials",
        "a disabled account looks like a wrong password"
    );
    assert!(answer.header("set-cookie").is_empty());
    let answer = app.get("/api/v1/me", As::Cookie(&bystander)).await;
    assert_eq!(answer.status, StatusCode::OK, "others keep their sessions");
    assert!(!store.disable_user("no-such-user").await.unwrap());
}

on_both_databases!(
    login_with_the_right_password_returns_me_and_an_http_only_session_cookie,
    login_with_a_wrong_password_or_unknown_email_is_401_invalid_credentials,
    anonymous_and_forged_sessions_get_401_on_the_api,
    logout_ends_the_session,
    a_disabled_user_s_session_gets_401_and_they_cannot_log_in,
);
