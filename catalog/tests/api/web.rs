use axum::http::StatusCode;

use crate::helpers::{As, Db, TestApp};

async fn the_player_is_served_at_the_root_with_index_html_for_client_routes(db: Db) {
    let web = tempfile::tempdir().unwrap();
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>Lectern</title>",
    )
    .unwrap();
    std::fs::write(web.path().join("app.js"), "console.log('lectern')").unwrap();
    let dir = web.path().to_owned();
    let app = TestApp::spawn_with(db, |config| config.web_dir = Some(dir)).await;

    let root = app.get("/", As::Nobody).await;
    assert_eq!(root.status, StatusCode::OK);
    assert!(root.text().contains("<title>Lectern</title>"));
    assert!(app
        .get("/app.js", As::Nobody)
        .await
        .text()
        .contains("lectern"));
    let client_route = app.get("/courses/abc/lectures", As::Nobody).await;
    assert_eq!(client_route.status, StatusCode::OK);
    assert!(client_route.text().contains("<title>Lectern</title>"));

    // The API and media keep their own 404s; the player never answers for them.
    let api = app.get("/api/v1/no-such-thing", As::Nobody).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.json()["error"]["code"], "not_found");
    for path in ["/media", "/media/", "/media/x/y", "/media/x/y/z/0.ts/more"] {
        let media = app.get(path, As::Nobody).await;
        assert_eq!(media.status, StatusCode::NOT_FOUND, "{path}");
        assert!(media.body.is_empty(), "{path}");
    }
    assert_eq!(app.get("/healthz", As::Nobody).await.text(), "ok");
}

async fn without_a_web_dir_there_is_only_the_api(db: Db) {
    let app = TestApp::spawn_with(db, |config| config.web_dir = Some("/no/such/dir".into())).await;
    assert_eq!(app.get("/", As::Nobody).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/healthz", As::Nobody).await.status, StatusCode::OK);
}

on_both_databases!(
    the_player_is_served_at_the_root_with_index_html_for_client_routes,
    without_a_web_dir_there_is_only_the_api,
);
