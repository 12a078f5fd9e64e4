use lectern_catalog::{run, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{test_config, Db, TestDatabase, MEDIA_KEY};

fn error_of(toml: &str) -> String {
    Config::from_toml(toml).expect_err(toml).to_string()
}

#[test]
fn a_missing_media_key_is_an_error_naming_the_key() {
    assert!(error_of("").contains("media_key"), "{}", error_of(""));
}

#[test]
fn a_short_or_non_hex_media_key_is_an_error_naming_the_key() {
    for key in ["00112233", "not hex at all"] {
        let message = error_of(&format!("media_key = \"{key}\""));
        assert!(message.contains("media_key"), "{message}");
    }
}

#[test]
fn a_bad_value_is_an_error_naming_its_key() {
    let message = error_of(&format!(
        "media_key = \"{MEDIA_KEY}\"\nlisten = \"not an address\""
    ));
    assert!(message.contains("listen"), "{message}");
    let message = error_of(&format!(
        "media_key = \"{MEDIA_KEY}\"\nmedia_token_ttl_seconds = \"soon\""
    ));
    assert!(message.contains("media_token_ttl_seconds"), "{message}");
    let message = error_of(&format!(
        "media_key = \"{MEDIA_KEY}\"\n[demo]\nseed = true\nworker_token = \"w\""
    ));
    assert!(message.contains("demo.agent_token"), "{message}");
}

#[test]
fn login_throttle_limits_out_of_range_are_errors_naming_the_key() {
    for (setting, key) in [
        (
            "max_failures_per_account = 0",
            "login_throttle.max_failures_per_account",
        ),
        (
            "max_failures_per_address = 0",
            "login_throttle.max_failures_per_address",
        ),
        ("max_failures_per_address = -3", "max_failures_per_address"),
        ("window_seconds = 0", "login_throttle.window_seconds"),
        ("window_seconds = 90000", "login_throttle.window_seconds"),
        ("window_seconds = \"soon\"", "window_seconds"),
    ] {
        let message = error_of(&format!(
            "media_key = \"{MEDIA_KEY}\"\n[login_throttle]\n{setting}"
        ));
        assert!(message.contains(key), "{setting}: {message}");
    }
    let config = Config::from_toml(&format!(
        "media_key = \"{MEDIA_KEY}\"\n[login_throttle]\nmax_failures_per_account = 3"
    ))
    .unwrap();
    assert_eq!(config.login_throttle.max_failures_per_account, 3);
    assert_eq!(config.login_throttle.max_failures_per_address, 20);
    assert_eq!(config.login_throttle.window_seconds, 900);
}

#[test]
fn a_bad_trusted_proxy_or_public_origin_is_an_error_naming_the_key() {
    for (setting, key) in [
        ("trusted_proxy = [\"10.0.0.0/33\"]", "trusted_proxy"),
        ("trusted_proxy = \"proxy.internal\"", "trusted_proxy"),
        ("public_origin = \"lectern.example.edu\"", "public_origin"),
        (
            "public_origin = \"https://lectern.example.edu/app\"",
            "public_origin",
        ),
    ] {
        let message = error_of(&format!("media_key = \"{MEDIA_KEY}\"\n{setting}"));
        assert!(message.contains(key), "{setting}: {message}");
    }
    for setting in [
        "trusted_proxy = [\"10.0.0.0/8\", \"::1\"]",
        "trusted_proxy = \"10.0.0.0/8, 192.0.2.1\"",
        "public_origin = \"https://lectern.example.edu\"",
    ] {
        Config::from_toml(&format!("media_key = \"{MEDIA_KEY}\"\n{setting}"))
            .unwrap_or_else(|e| panic!("{setting}: {e}"));
    }
}

#[test]
fn a_database_url_of_another_kind_is_an_error_naming_the_key() {
    for url in ["mysql://root@db/lectern", "catalog.db"] {
        let message = error_of(&format!(
            "media_key = \"{MEDIA_KEY}\"\ndatabase_url = \"{url}\""
        ));
        assert!(message.contains("database_url"), "{message}");
        assert!(message.contains("sqlite:"), "{message}");
        assert!(message.contains("postgres:"), "{message}");
    }
}

async fn run_serves_on_a_random_port_and_stops_on_shutdown(db: Db) {
    let (db, storage) = (TestDatabase::new(db).await, tempfile::tempdir().unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(test_config(&db, &storage), listener, async {
        let _ = stopped.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");
    stop.send(()).unwrap();
    server.await.unwrap().expect("run ends cleanly");
}

on_both_databases!(run_serves_on_a_random_port_and_stops_on_shutdown);
