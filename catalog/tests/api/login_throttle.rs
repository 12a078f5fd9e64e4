//! Login throttling (`lectern_catalog::login_throttle`): 429 `too_many_attempts` with a
//! `Retry-After` after too many failed logins per account and per client address, and
//! nothing let through that was refused before: a throttled login sets no cookie even with
//! the right password, and an unknown email is throttled like a known one.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{Duration, SubsecRound, Utc};
use lectern_catalog::login_throttle::{self, LoginThrottleConfig};
use lectern_catalog::{run, ApiError};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::helpers::{test_config, Answer, Db, TestApp, TestDatabase, OUTSIDER, PASSWORD, STUDENT};

const WRONG: &str = "not-the-password";
const NOBODY: &str = "nobody@demo.lectern.test";

/// A login as `email` with `password`, from the TCP peer `peer` (`None`: no `ConnectInfo`,
/// as under `oneshot`), with `extra` headers.
async fn login_from(
    app: &TestApp,
    email: &str,
    password: &str,
    peer: Option<&str>,
    extra: &[(&str, &str)],
) -> Answer {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json");
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    if let Some(peer) = peer {
        request = request.extension(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    }
    let body = json!({"email": email, "password": password}).to_string();
    app.request(request.body(Body::from(body)).unwrap()).await
}

async fn login(app: &TestApp, email: &str, password: &str) -> Answer {
    login_from(app, email, password, None, &[]).await
}

/// Asserts a 429 `too_many_attempts` with a `Retry-After` of at most `window` seconds and
/// no session cookie; returns the `Retry-After`.
fn assert_throttled(answer: &Answer, window: u64) -> u64 {
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        answer.text()
    );
    assert_eq!(answer.json()["error"]["code"], "too_many_attempts");
    let message = answer.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("try again in"), "{message}");
    let retry_after: u64 = answer.header("retry-after").parse().unwrap();
    assert!(
        (1..=window).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert!(
        answer.header("set-cookie").is_empty(),
        "a throttled login signs nobody in"
    );
    retry_after
}

async fn the_sixth_failed_login_on_an_account_is_429_and_even_the_right_password_waits(db: Db) {
    let app = TestApp::spawn(db).await;
    for attempt in 1..=5 {
        let answer = login(&app, STUDENT, WRONG).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let retry_after = assert_throttled(&login(&app, STUDENT, WRONG).await, 900);
    assert!(
        retry_after > 890,
        "the first failure leaves the window in ~15 min"
    );
    assert_throttled(&login(&app, STUDENT, PASSWORD).await, 900);
    assert_throttled(&login(&app, &STUDENT.to_uppercase(), PASSWORD).await, 900);
    // Another account is not affected (no client address is known here).
    assert_eq!(login(&app, OUTSIDER, PASSWORD).await.status, StatusCode::OK);
}

async fn an_unknown_email_is_throttled_like_a_known_one(db: Db) {
    let app = TestApp::spawn(db).await;
    for _ in 0..5 {
        let answer = login(&app, NOBODY, PASSWORD).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.json()["error"]["code"], "invalid_credentials");
    }
    assert_throttled(&login(&app, NOBODY, PASSWORD).await, 900);
}

async fn a_successful_login_clears_the_account_s_failures(db: Db) {
    let app = TestApp::spawn(db).await;
    for _ in 0..4 {
        assert_eq!(
            login(&app, STUDENT, WRONG).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login(&app, STUDENT, PASSWORD).await.status, StatusCode::OK);
    for attempt in 1..=5 {
        let answer = login(&app, STUDENT, WRONG).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    assert_throttled(&login(&app, STUDENT, WRONG).await, 900);
}

async fn the_address_limit_holds_across_accounts_and_spares_other_addresses(db: Db) {
    let app = TestApp::spawn_with(db, |config| {
        config.login_throttle.max_failures_per_address = 3;
    })
    .await;
    let attacker = Some("198.51.100.7:50000");
    for email in ["a@demo.lectern.test", "b@demo.lectern.test", OUTSIDER] {
        let answer = login_from(&app, email, WRONG, attacker, &[]).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{email}");
    }
    // A fresh account, the right password, another port: the address waits.
    let same_address = Some("198.51.100.7:50001");
    assert_throttled(
        &login_from(&app, STUDENT, PASSWORD, same_address, &[]).await,
        900,
    );
    let elsewhere = Some("203.0.113.20:443");
    let answer = login_from(&app, STUDENT, PASSWORD, elsewhere, &[]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    // IPv6 counts by /64: a neighbour in the same /64 is the same address.
    for host in [
        "[2001:db8:7:1::1]:1",
        "[2001:db8:7:1::2]:1",
        "[2001:db8:7:1::3]:1",
    ] {
        let answer = login_from(&app, "c@demo.lectern.test", WRONG, Some(host), &[]).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{host}");
    }
    let neighbour = Some("[2001:db8:7:1:ffff::9]:1");
    assert_throttled(
        &login_from(&app, OUTSIDER, PASSWORD, neighbour, &[]).await,
        900,
    );
}

async fn forwarded_for_is_believed_only_from_a_trusted_proxy(db: Db) {
    let limit_two = |config: &mut lectern_catalog::Config| {
        config.login_throttle.max_failures_per_address = 2;
    };
    // Without `trusted_proxy` a client cannot escape its address by naming others.
    let app = TestApp::spawn_with(db, limit_two).await;
    let peer = Some("198.51.100.7:50000");
    for (email, claimed) in [("a@x.test", "192.0.2.1"), ("b@x.test", "192.0.2.2")] {
        let forwarded = [("x-forwarded-for", claimed)];
        let answer = login_from(&app, email, WRONG, peer, &forwarded).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let forwarded = [("x-forwarded-for", "192.0.2.3")];
    assert_throttled(
        &login_from(&app, STUDENT, PASSWORD, peer, &forwarded).await,
        900,
    );

    // Behind a trusted proxy the client is the rightmost untrusted hop, forged
    // entries to its left notwithstanding.
    let app = TestApp::spawn_with(db, |config| {
        limit_two(config);
        config.trusted_proxy =
            lectern_catalog::client_addr::TrustedProxies::parse(["10.0.0.0/8"]).unwrap();
    })
    .await;
    let proxy = Some("10.0.0.2:40000");
    for (email, chain) in [
        ("a@x.test", "203.0.113.5"),
        ("b@x.test", "192.0.2.99, 203.0.113.5"),
    ] {
        let forwarded = [("x-forwarded-for", chain)];
        let answer = login_from(&app, email, WRONG, proxy, &forwarded).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let same_client = [("x-forwarded-for", "192.0.2.100, 203.0.113.5")];
    assert_throttled(
        &login_from(&app, STUDENT, PASSWORD, proxy, &same_client).await,
        900,
    );
    let other_client = [("x-forwarded-for", "203.0.113.6")];
    let answer = login_from(&app, STUDENT, PASSWORD, proxy, &other_client).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

async fn concurrent_wrong_logins_check_at_most_the_limit_of_passwords(db: Db) {
    let app = Arc::new(TestApp::spawn(db).await);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let app = Arc::clone(&app);
        tasks.spawn(async move { login(&app, STUDENT, WRONG).await.status });
    }
    let statuses = tasks.join_all().await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!(checked <= 5, "{checked} passwords checked: {statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(s)),
        "{statuses:?}"
    );
}

async fn failures_leave_the_window_and_then_count_no_more(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store();
    let config = LoginThrottleConfig {
        max_failures_per_account: 2,
        ..LoginThrottleConfig::default()
    };
    // Whole seconds: both databases keep microseconds, `Utc::now` has nanoseconds.
    let start = Utc::now().trunc_subsecs(0) - Duration::hours(1);
    for minute in [0, 5] {
        let at = start + Duration::minutes(minute);
        let attempt = login_throttle::begin(store, &config, STUDENT, None, at).await;
        attempt.expect("room for the first two").failed();
    }
    let at = start + Duration::minutes(10);
    match login_throttle::begin(store, &config, STUDENT, None, at).await {
        Err(ApiError::TooManyAttempts {
            retry_after_seconds,
            retry_at,
        }) => {
            assert_eq!(
                retry_after_seconds, 300,
                "the first failure leaves at 15 min"
            );
            assert_eq!(retry_at, start + Duration::minutes(15));
        }
        other => panic!("expected too many attempts, got {other:?}"),
    }
    let later = start + Duration::minutes(15) + Duration::seconds(1);
    let attempt = login_throttle::begin(store, &config, STUDENT, None, later).await;
    attempt
        .expect("the oldest failure has left the window")
        .failed();
}

/// Over a real socket `run` gives handlers the peer's address, so the address limit
/// applies (under `oneshot` there is none).
async fn over_a_real_connection_the_peer_address_is_throttled(db: Db) {
    let (database, storage) = (TestDatabase::new(db).await, tempfile::tempdir().unwrap());
    let mut config = test_config(&database, &storage);
    config.login_throttle.max_failures_per_address = 2;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/api/v1/auth/login",
        listener.local_addr().unwrap()
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(config, listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for email in ["a@x.test", "b@x.test", STUDENT] {
        let password = if email == STUDENT { PASSWORD } else { WRONG };
        let answer = client
            .post(&url)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        statuses.push(answer.status().as_u16());
        if email == STUDENT {
            assert!(answer.headers().contains_key("retry-after"));
        }
    }
    assert_eq!(statuses, [401, 401, 429]);
    stop.send(()).unwrap();
    server.await.unwrap().expect("run ends cleanly");
}

on_both_databases!(
    the_sixth_failed_login_on_an_account_is_429_and_even_the_right_password_waits,
    an_unknown_email_is_throttled_like_a_known_one,
    a_successful_login_clears_the_account_s_failures,
    the_address_limit_holds_across_accounts_and_spares_other_addresses,
    forwarded_for_is_believed_only_from_a_trusted_proxy,
    concurrent_wrong_logins_check_at_most_the_limit_of_passwords,
    failures_leave_the_window_and_then_count_no_more,
    over_a_real_connection_the_peer_address_is_throttled,
);
