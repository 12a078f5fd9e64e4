//! Accounts made by institutes (issue 3): admins invite people, who set their password once
//! with the activation link; disabled people lose every session at once; sign-up only where
//! the institute opened it; the password policy says why it refuses; every read and change
//! of an account is audited; nobody crosses institutes; operators create institutes from
//! the command line.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{Duration, Utc};
use lectern_catalog::auth;
use lectern_catalog::cli::{self, Command, InstituteCommand};
use lectern_catalog::store::Invitation;
use serde_json::{json, Value};
use std::net::SocketAddr;

use crate::fixtures::{build_world, FOREIGN_ADMIN, FOREIGN_STUDENT};
use crate::helpers::{Answer, As, Db, TestApp, OUTSIDER, PASSWORD, STUDENT};

const ADMIN: &str = "admin@demo.lectern.test";
/// A password the policy accepts.
const GOOD: &str = "zebra lantern quietly";

/// The `Cookie` value of an answer's `Set-Cookie`.
fn cookie_of(answer: &Answer) -> String {
    let set_cookie = answer.header("set-cookie");
    assert!(!set_cookie.is_empty(), "no Set-Cookie: {}", answer.text());
    set_cookie.split(';').next().unwrap().to_owned()
}

/// The token of an activation URL (`…/activate#token=T`).
fn token_of_link(url: &str) -> String {
    url.split_once("/activate#token=")
        .unwrap_or_else(|| panic!("not an activation link: {url}"))
        .1
        .to_owned()
}

/// Invites `email` into the admin's institute; returns the new user's id and link token.
async fn invite(app: &TestApp, admin: &str, email: &str, name: &str) -> (String, String) {
    let answer = app
        .post(
            "/api/v1/users",
            As::Cookie(admin),
            json!({"email": email, "name": name, "role": "student"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let body = answer.json();
    let url = body["activation_url"].as_str().unwrap();
    (
        body["user"]["id"].as_str().unwrap().to_owned(),
        token_of_link(url),
    )
}

async fn activate(app: &TestApp, token: &str, password: &str) -> Answer {
    app.post(
        "/api/v1/auth/activate",
        As::Nobody,
        json!({"token": token, "password": password}),
    )
    .await
}

async fn login_with(app: &TestApp, email: &str, password: &str) -> Answer {
    app.post(
        "/api/v1/auth/login",
        As::Nobody,
        json!({"email": email, "password": password}),
    )
    .await
}

async fn patch(app: &TestApp, cookie: &str, user_id: &str, body: Value) -> Answer {
    app.send(
        Method::PATCH,
        &format!("/api/v1/users/{user_id}"),
        As::Cookie(cookie),
        Some(body),
        &[],
    )
    .await
}

/// The actions of the admin's institute's audit log, oldest first, with their details.
async fn audit_log(app: &TestApp, admin: &str) -> Vec<Value> {
    let answer = app.get("/api/v1/audit?limit=500", As::Cookie(admin)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let mut entries = answer.json().as_array().unwrap().clone();
    entries.reverse();
    entries
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

async fn an_invited_person_activates_once_is_signed_in_and_can_log_in_later(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let answer = app
        .post(
            "/api/v1/users",
            As::Cookie(&admin),
            json!({"email": " new@demo.lectern.test ", "name": "Nia New", "role": "instructor"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let body = answer.json();
    let user = &body["user"];
    assert_eq!(user["email"], "new@demo.lectern.test");
    assert_eq!(user["role"], "instructor");
    assert_eq!(user["activated"], false);
    assert_eq!(user["disabled"], false);
    let url = body["activation_url"].as_str().unwrap();
    assert!(url.starts_with("/activate#token="), "{url}");
    let expires: chrono::DateTime<Utc> =
        serde_json::from_value(body["expires_at"].clone()).unwrap();
    let week = Utc::now() + Duration::days(7);
    assert!((expires - week).num_seconds().abs() < 60, "{expires}");
    let id = user["id"].as_str().unwrap();
    let token = token_of_link(url);

    // Before activation the account has no password: login fails like an unknown email.
    let refused = login_with(&app, "new@demo.lectern.test", "").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json()["error"]["code"], "invalid_credentials");

    let answer = activate(&app, &token, GOOD).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["email"], "new@demo.lectern.test");
    assert_eq!(answer.json()["role"], "instructor");
    let session = cookie_of(&answer);
    let me = app.get("/api/v1/me", As::Cookie(&session)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["id"], id);
    assert_eq!(me.json()["institute_name"], "Demo University");

    let login = login_with(&app, "NEW@demo.lectern.test", GOOD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text());
    let read = app
        .get(&format!("/api/v1/users/{id}"), As::Cookie(&admin))
        .await;
    assert_eq!(read.json()["activated"], true);
}

async fn a_used_an_expired_and_an_unknown_link_get_one_and_the_same_refusal(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let (_, used) = invite(&app, &admin, "used@demo.lectern.test", "Ursula Used").await;
    assert_eq!(activate(&app, &used, GOOD).await.status, StatusCode::OK);

    let (late_id, _) = invite(&app, &admin, "late@demo.lectern.test", "Lars Late").await;
    let expired = "an-expired-token-for-the-tests";
    let invitation = Invitation {
        token_hash: auth::token_hash(expired),
        expires_at: Utc::now() - Duration::seconds(1),
    };
    app.state
        .store()
        .replace_invitation(&late_id, &invitation)
        .await
        .unwrap();

    let mut bodies = Vec::new();
    for token in [used.as_str(), expired, "never-made-token", ""] {
        let answer = activate(&app, token, "another fine passphrase").await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{token}");
        assert_eq!(
            answer.json()["error"]["code"],
            "invalid_activation_link",
            "{token}"
        );
        assert!(answer.header("set-cookie").is_empty());
        bodies.push(answer.text());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    let message = &bodies[0];
    assert!(
        message.contains("used") && message.contains("expired"),
        "{message}"
    );
    // The first password stays; the expired link changed nothing.
    let login = login_with(&app, "used@demo.lectern.test", GOOD).await;
    assert_eq!(login.status, StatusCode::OK);
    let late = login_with(&app, "late@demo.lectern.test", "another fine passphrase").await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
}

async fn of_two_activations_racing_with_one_link_exactly_one_succeeds(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let (_, token) = invite(&app, &admin, "racer@demo.lectern.test", "Rita Racer").await;
    let (first, second) = tokio::join!(
        activate(&app, &token, GOOD),
        activate(&app, &token, "a different passphrase")
    );
    let mut statuses = [first.status, second.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST]);
    let winner = if first.status == StatusCode::OK {
        GOOD
    } else {
        "a different passphrase"
    };
    let login = login_with(&app, "racer@demo.lectern.test", winner).await;
    assert_eq!(
        login.status,
        StatusCode::OK,
        "the password set is the winner's"
    );
}

async fn a_new_link_replaces_the_old_one_and_an_activated_account_gets_none(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let (id, first) = invite(&app, &admin, "lost@demo.lectern.test", "Lou Lost").await;
    let answer = app
        .post(
            &format!("/api/v1/users/{id}/invitation"),
            As::Cookie(&admin),
            json!({}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let second = token_of_link(answer.json()["activation_url"].as_str().unwrap());
    assert_ne!(first, second);
    assert_eq!(
        activate(&app, &first, GOOD).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(activate(&app, &second, GOOD).await.status, StatusCode::OK);
    let again = app
        .post(
            &format!("/api/v1/users/{id}/invitation"),
            As::Cookie(&admin),
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
}

async fn weak_passwords_are_refused_saying_why_and_the_link_keeps_working(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let (_, token) = invite(
        &app,
        &admin,
        "wanda.weakly@demo.lectern.test",
        "Wanda Weakly",
    )
    .await;
    let too_long = "x".repeat(257);
    for (password, why) in [
        ("short", "at least 8 characters long; it has 5"),
        ("ééééééé", "at least 8 characters long; it has 7"),
        (too_long.as_str(), "at most 256 characters"),
        ("iloveyou", "commonly used"),
        ("Password1", "commonly used"),
        ("12345678", "commonly used"),
        (
            "wanda.weakly@demo.lectern.test",
            "email address or your name",
        ),
        ("WandaWeakly1990", "email address or your name"),
    ] {
        let answer = activate(&app, &token, password).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{password}: {}",
            answer.text()
        );
        assert_eq!(answer.json()["error"]["code"], "weak_password");
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(why), "{password}: {message}");
    }
    let answer = activate(&app, &token, "ééééééé é").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

async fn disabling_ends_every_session_at_once_and_enabling_lets_them_log_in_again(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let (student_id, _) = app
        .state
        .store()
        .user_for_login(STUDENT)
        .await
        .unwrap()
        .map(|(user, hash)| (user.id, hash))
        .unwrap();
    let laptop = app.login(STUDENT).await;
    let phone = app.login(STUDENT).await;
    let answer = patch(&app, &admin, &student_id, json!({"disabled": true})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["disabled"], true);
    for session in [&laptop, &phone] {
        let me = app.get("/api/v1/me", As::Cookie(session)).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    }
    let login = login_with(&app, STUDENT, PASSWORD).await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login.json()["error"]["code"], "invalid_credentials");

    let answer = patch(&app, &admin, &student_id, json!({"disabled": false})).await;
    assert_eq!(answer.json()["disabled"], false);
    let fresh = app.login(STUDENT).await;
    assert_eq!(
        app.get("/api/v1/me", As::Cookie(&fresh)).await.status,
        StatusCode::OK
    );
    // Enabling brings nobody's old sessions back.
    assert_eq!(
        app.get("/api/v1/me", As::Cookie(&laptop)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_disabled_invited_person_cannot_activate_nor_get_a_new_link(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let (id, token) = invite(&app, &admin, "gone@demo.lectern.test", "Gus Gone").await;
    let answer = patch(&app, &admin, &id, json!({"disabled": true})).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        activate(&app, &token, GOOD).await.status,
        StatusCode::BAD_REQUEST
    );
    let link = app
        .post(
            &format!("/api/v1/users/{id}/invitation"),
            As::Cookie(&admin),
            json!({}),
        )
        .await;
    assert_eq!(link.status, StatusCode::CONFLICT, "{}", link.text());
    // Enabled again, the old link stays dead (disabling deleted it); a new one works.
    patch(&app, &admin, &id, json!({"disabled": false})).await;
    assert_eq!(
        activate(&app, &token, GOOD).await.status,
        StatusCode::BAD_REQUEST
    );
    let link = app
        .post(
            &format!("/api/v1/users/{id}/invitation"),
            As::Cookie(&admin),
            json!({}),
        )
        .await;
    let token = token_of_link(link.json()["activation_url"].as_str().unwrap());
    assert_eq!(activate(&app, &token, GOOD).await.status, StatusCode::OK);
}

async fn admins_change_names_and_roles_but_never_lock_themselves_out(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let me = app.get("/api/v1/me", As::Cookie(&admin)).await.json();
    let admin_id = me["id"].as_str().unwrap();
    for body in [
        json!({"disabled": true}),
        json!({"role": "student"}),
        json!({"role": "instructor", "name": "Ada"}),
    ] {
        let answer = patch(&app, &admin, admin_id, body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::CONFLICT,
            "{body}: {}",
            answer.text()
        );
    }
    let renamed = patch(&app, &admin, admin_id, json!({"name": "Ada A. Admin"})).await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(renamed.json()["name"], "Ada A. Admin");

    let (outsider, _) = app
        .state
        .store()
        .user_for_login(OUTSIDER)
        .await
        .unwrap()
        .unwrap();
    let promoted = patch(&app, &admin, &outsider.id, json!({"role": "instructor"})).await;
    assert_eq!(promoted.json()["role"], "instructor");
    let session = app.login(OUTSIDER).await;
    let me = app.get("/api/v1/me", As::Cookie(&session)).await;
    assert_eq!(me.json()["role"], "instructor");
    for bad in [
        json!({"name": "  "}),
        json!({"role": "root"}),
        json!({"email": "x@y"}),
    ] {
        let answer = patch(&app, &admin, &outsider.id, bad.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

async fn only_accounts_never_activated_are_deleted(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let (id, token) = invite(&app, &admin, "typo@demo.lectern.tset", "Tim Typo").await;
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/api/v1/users/{id}"),
            As::Cookie(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text());
    let gone = app
        .get(&format!("/api/v1/users/{id}"), As::Cookie(&admin))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        activate(&app, &token, GOOD).await.status,
        StatusCode::BAD_REQUEST
    );
    // The address is free again for the right invitation.
    invite(&app, &admin, "typo@demo.lectern.tset", "Tim Typo").await;

    let (student, _) = app
        .state
        .store()
        .user_for_login(STUDENT)
        .await
        .unwrap()
        .unwrap();
    let refused = app
        .send(
            Method::DELETE,
            &format!("/api/v1/users/{}", student.id),
            As::Cookie(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.text().contains("disable it instead"),
        "{}",
        refused.text()
    );
}

async fn admins_never_see_or_touch_another_institutes_people(db: Db) {
    let app = TestApp::spawn(db).await;
    let world = build_world(&app).await;
    let foreign_admin = app.login(FOREIGN_ADMIN).await;
    let admin = app.login(ADMIN).await;
    let demo_person = &world.outsider;
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/users/{demo_person}"), None),
        (
            Method::PATCH,
            format!("/api/v1/users/{demo_person}"),
            Some(json!({"disabled": true})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/users/{}", world.invited),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/users/{}/invitation", world.invited),
            Some(json!({})),
        ),
    ] {
        let answer = app
            .send(method.clone(), &path, As::Cookie(&foreign_admin), body, &[])
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let outsider = app.login(OUTSIDER).await;
    assert_eq!(
        app.get("/api/v1/me", As::Cookie(&outsider)).await.status,
        StatusCode::OK,
        "the foreign admin's PATCH did not disable the outsider"
    );

    let emails = |answer: Answer| -> Vec<String> {
        answer
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect()
    };
    let theirs = emails(app.get("/api/v1/users", As::Cookie(&foreign_admin)).await);
    assert!(
        theirs.iter().all(|e| e.ends_with("@other.lectern.test")),
        "{theirs:?}"
    );
    assert!(theirs.contains(&FOREIGN_STUDENT.to_owned()));
    let ours = emails(app.get("/api/v1/users", As::Cookie(&admin)).await);
    assert!(
        ours.iter().all(|e| e.ends_with("@demo.lectern.test")),
        "{ours:?}"
    );
    assert_eq!(ours.len(), 6, "{ours:?}");
}

async fn listings_filter_by_name_or_email_prefix_and_role_and_page(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let names = |answer: &Answer| -> Vec<String> {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        answer
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = app.get("/api/v1/users", As::Cookie(&admin)).await;
    assert_eq!(
        names(&all),
        [
            "Ada Admin",
            "Ines Instructor",
            "Olle Outsider",
            "Sam Student"
        ]
    );
    for (query, expected) in [
        ("q=sam", vec!["Sam Student"]),
        ("q=SAM%20S", vec!["Sam Student"]),
        ("q=outsider%40", vec!["Olle Outsider"]),
        ("q=instructor", vec!["Ines Instructor"]),
        ("q=nobody", vec![]),
        ("role=student", vec!["Olle Outsider", "Sam Student"]),
        ("role=admin&q=a", vec!["Ada Admin"]),
        (
            "q=%20",
            vec![
                "Ada Admin",
                "Ines Instructor",
                "Olle Outsider",
                "Sam Student",
            ],
        ),
    ] {
        let answer = app
            .get(&format!("/api/v1/users?{query}"), As::Cookie(&admin))
            .await;
        assert_eq!(names(&answer), expected, "{query}");
    }
    let bad = app.get("/api/v1/users?role=root", As::Cookie(&admin)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text());
    let first = app.get("/api/v1/users?limit=3", As::Cookie(&admin)).await;
    assert_eq!(names(&first).len(), 3);
    assert_eq!(
        first.header("link"),
        "</api/v1/users?limit=3&offset=3>; rel=\"next\""
    );
    let rest = app
        .get("/api/v1/users?limit=3&offset=3", As::Cookie(&admin))
        .await;
    assert_eq!(names(&rest), ["Sam Student"]);
    assert_eq!(rest.header("link"), "");
    // The next page keeps the filters.
    let filtered = app
        .get("/api/v1/users?role=student&limit=1", As::Cookie(&admin))
        .await;
    assert_eq!(names(&filtered), ["Olle Outsider"]);
    let next = filtered.header("link");
    assert_eq!(
        next,
        "</api/v1/users?role=student&limit=1&offset=1>; rel=\"next\""
    );
    let uri = next.trim_start_matches('<').split('>').next().unwrap();
    let second = app.get(uri, As::Cookie(&admin)).await;
    assert_eq!(names(&second), ["Sam Student"]);
}

async fn the_audit_log_records_every_read_and_change_of_accounts_without_names(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let (id, token) = invite(&app, &admin, "audrey@demo.lectern.test", "Audrey Audited").await;
    app.get("/api/v1/users?q=aud", As::Cookie(&admin)).await;
    app.get(&format!("/api/v1/users/{id}"), As::Cookie(&admin))
        .await;
    patch(
        &app,
        &admin,
        &id,
        json!({"name": "Audrey Audited-Smith", "role": "instructor"}),
    )
    .await;
    let answer = app
        .post(
            &format!("/api/v1/users/{id}/invitation"),
            As::Cookie(&admin),
            json!({}),
        )
        .await;
    let new_token = token_of_link(answer.json()["activation_url"].as_str().unwrap());
    assert_eq!(
        activate(&app, &token, GOOD).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        activate(&app, &new_token, GOOD).await.status,
        StatusCode::OK
    );

    let log = audit_log(&app, &admin).await;
    let user_entries: Vec<&Value> = log
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("user."))
        .collect();
    assert_eq!(
        actions(
            &user_entries
                .iter()
                .map(|e| (*e).clone())
                .collect::<Vec<_>>()
        ),
        [
            "user.create",
            "user.list",
            "user.read",
            "user.update",
            "user.invitation",
            "user.activate"
        ]
    );
    let me = app.get("/api/v1/me", As::Cookie(&admin)).await.json();
    for entry in &user_entries[..5] {
        assert_eq!(entry["actor_id"], me["id"], "{entry}");
    }
    assert_eq!(user_entries[5]["actor_id"], id.as_str());
    assert_eq!(user_entries[2]["target_id"], id.as_str());
    assert_eq!(user_entries[1]["detail"]["searched"], true);
    assert_eq!(user_entries[1]["detail"]["count"], 1);
    assert_eq!(
        user_entries[3]["detail"]["changed"],
        json!(["name", "role"])
    );
    for entry in &log {
        let text = entry.to_string().to_lowercase();
        assert!(
            !text.contains("audrey"),
            "personal data in the log: {entry}"
        );
    }
}

async fn sign_up_works_only_where_the_institute_opened_it(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.login(ADMIN).await;
    let institute = app
        .get("/api/v1/institute", As::Cookie(&admin))
        .await
        .json();
    let institute_id = institute["id"].as_str().unwrap();
    let signup = |email: &'static str, password: &'static str| json!({"institute_id": institute_id, "email": email, "name": "Sia Signup", "password": password});
    let closed = app
        .post(
            "/api/v1/auth/signup",
            As::Nobody,
            signup("sia@demo.lectern.test", GOOD),
        )
        .await;
    assert_eq!(closed.status, StatusCode::NOT_FOUND, "{}", closed.text());
    let unknown = app
        .post(
            "/api/v1/auth/signup",
            As::Nobody,
            json!({"institute_id": "no-such-institute", "email": "sia@demo.lectern.test",
                   "name": "Sia Signup", "password": GOOD}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let opened = app
        .send(
            Method::PATCH,
            "/api/v1/institute",
            As::Cookie(&admin),
            Some(json!({"open_signup": true})),
            &[],
        )
        .await;
    assert_eq!(opened.status, StatusCode::OK);
    let weak = app
        .post(
            "/api/v1/auth/signup",
            As::Nobody,
            signup("sia@demo.lectern.test", "sia signup"),
        )
        .await;
    assert_eq!(
        weak.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        weak.text()
    );
    assert_eq!(weak.json()["error"]["code"], "weak_password");
    let malformed = app
        .post("/api/v1/auth/signup", As::Nobody, signup("sia", GOOD))
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);

    let made = app
        .post(
            "/api/v1/auth/signup",
            As::Nobody,
            signup("sia@demo.lectern.test", GOOD),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    assert_eq!(made.json()["role"], "student");
    assert_eq!(made.json()["institute_id"], institute_id);
    let session = cookie_of(&made);
    assert_eq!(
        app.get("/api/v1/me", As::Cookie(&session)).await.status,
        StatusCode::OK
    );
    let again = app
        .post(
            "/api/v1/auth/signup",
            As::Nobody,
            signup("SIA@demo.lectern.test", GOOD),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    let taken = app
        .post("/api/v1/auth/signup", As::Nobody, signup(STUDENT, GOOD))
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    let log = audit_log(&app, &admin).await;
    let signup_entry = log
        .iter()
        .find(|e| e["action"] == "user.signup")
        .expect("the sign-up is audited");
    assert_eq!(signup_entry["actor_id"], made.json()["id"]);
}

/// A sign-up from `peer`.
async fn signup_from(app: &TestApp, institute_id: &str, email: &str, peer: &str) -> Answer {
    let body = json!({"institute_id": institute_id, "email": email, "name": "Tia Throttle",
                      "password": GOOD});
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/signup")
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(peer.parse::<SocketAddr>().unwrap()))
        .body(Body::from(body.to_string()))
        .unwrap();
    app.request(request).await
}

async fn sign_ups_that_find_the_address_taken_are_throttled_like_failed_logins(db: Db) {
    let app = TestApp::spawn_with(db, |config| {
        config.login_throttle.max_failures_per_account = 2;
        config.login_throttle.max_failures_per_address = 3;
    })
    .await;
    let admin = app.login(ADMIN).await;
    let institute = app
        .get("/api/v1/institute", As::Cookie(&admin))
        .await
        .json();
    let id = institute["id"].as_str().unwrap();
    app.send(
        Method::PATCH,
        "/api/v1/institute",
        As::Cookie(&admin),
        Some(json!({"open_signup": true})),
        &[],
    )
    .await;
    // Per account: the address probed twice, the third probe waits.
    for status in [StatusCode::CONFLICT, StatusCode::CONFLICT] {
        let answer = signup_from(&app, id, STUDENT, "192.0.2.1:4000").await;
        assert_eq!(answer.status, status, "{}", answer.text());
    }
    let throttled = signup_from(&app, id, STUDENT, "192.0.2.2:4000").await;
    assert_eq!(
        throttled.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        throttled.text()
    );
    assert!(!throttled.header("retry-after").is_empty());
    // Per address: a third failure from 192.0.2.1, then even a new address is refused there.
    let third = signup_from(&app, id, OUTSIDER, "192.0.2.1:4000").await;
    assert_eq!(third.status, StatusCode::CONFLICT);
    let refused = signup_from(&app, id, "fresh@demo.lectern.test", "192.0.2.1:4000").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    // Successful sign-ups do not use up anyone's budget: a class behind one address.
    for n in 0..4 {
        let email = format!("pupil{n}@demo.lectern.test");
        let answer = signup_from(&app, id, &email, "198.51.100.7:4000").await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{email}: {}",
            answer.text()
        );
    }
}

async fn the_operators_command_creates_an_institute_whose_admin_activates_and_invites(db: Db) {
    let app = TestApp::spawn(db).await;
    let create = |name: &str, email: &str| {
        Command::Institute(InstituteCommand::Create {
            name: name.into(),
            admin_email: email.into(),
            admin_name: "Fiona First".into(),
        })
    };
    let text = cli::run(
        create("New Institute", "first@new.lectern.test"),
        app.state.config(),
    )
    .await
    .unwrap();
    assert!(text.contains("sends no mail"), "{text}");
    let url = text
        .split_whitespace()
        .find(|word| word.starts_with("/activate#token="))
        .unwrap_or_else(|| panic!("no link in {text}"));
    let answer = activate(&app, &token_of_link(url), GOOD).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["role"], "admin");
    assert_eq!(answer.json()["institute_name"], "New Institute");
    let admin = cookie_of(&answer);
    let users = app.get("/api/v1/users", As::Cookie(&admin)).await.json();
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    let (_, _) = invite(&app, &admin, "second@new.lectern.test", "Sam Second").await;
    let log = audit_log(&app, &admin).await;
    assert_eq!(
        actions(&log[..2]),
        ["institute.create", "user.create"],
        "{log:?}"
    );
    assert!(log[0]["actor_id"].is_null());

    let again = cli::run(
        create("New Institute", "other@new.lectern.test"),
        app.state.config(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        again.contains("institute named \"New Institute\" already exists"),
        "{again}"
    );
    let taken = cli::run(
        create("Newer Institute", "FIRST@new.lectern.test"),
        app.state.config(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(taken.contains("already exists"), "{taken}");
    let blank = cli::run(create(" ", "x@new.lectern.test"), app.state.config())
        .await
        .unwrap_err()
        .to_string();
    assert!(blank.contains("must not be empty"), "{blank}");
}

on_both_databases!(
    an_invited_person_activates_once_is_signed_in_and_can_log_in_later,
    a_used_an_expired_and_an_unknown_link_get_one_and_the_same_refusal,
    of_two_activations_racing_with_one_link_exactly_one_succeeds,
    a_new_link_replaces_the_old_one_and_an_activated_account_gets_none,
    weak_passwords_are_refused_saying_why_and_the_link_keeps_working,
    disabling_ends_every_session_at_once_and_enabling_lets_them_log_in_again,
    a_disabled_invited_person_cannot_activate_nor_get_a_new_link,
    admins_change_names_and_roles_but_never_lock_themselves_out,
    only_accounts_never_activated_are_deleted,
    admins_never_see_or_touch_another_institutes_people,
    listings_filter_by_name_or_email_prefix_and_role_and_page,
    the_audit_log_records_every_read_and_change_of_accounts_without_names,
    sign_up_works_only_where_the_institute_opened_it,
    sign_ups_that_find_the_address_taken_are_throttled_like_failed_logins,
    the_operators_command_creates_an_institute_whose_admin_activates_and_invites,
);
