//! The OpenAPI document at `/api/v1/openapi.json` describes exactly the `/api/v1`
//! operations of the access matrix (every route the catalog serves there has a row), and
//! every schema it refers to is defined in it.

use axum::http::StatusCode;
use serde_json::Value;

use crate::access_matrix::api_operations;
use crate::helpers::{As, Db, TestApp};

fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(target)) => found.push(target),
                    _ => refs(value, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

async fn the_openapi_document_describes_every_api_route_and_its_bodies(db: Db) {
    let app = TestApp::spawn(db).await;
    let answer = app.get("/api/v1/openapi.json", As::Nobody).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let doc = answer.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| !r.is_empty()),
                "{method} {path} documents no responses"
            );
            // Any other status is an ErrorBody: schemathesis holds every error answer to it.
            assert_eq!(
                operation["responses"]["default"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path}"
            );
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    assert_eq!(
        documented,
        api_operations(),
        "documented operations (left) and the access matrix's /api/v1 routes (right) differ"
    );

    for (method, path) in [
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/agent/recordings"),
        ("post", "/api/v1/worker/lectures/{id}/segments"),
    ] {
        assert!(
            doc["paths"][path][method]["requestBody"].is_object(),
            "{method} {path} has no request body"
        );
    }
    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    assert!(
        targets.contains(&"#/components/schemas/Lecture"),
        "{targets:?}"
    );
    for target in targets {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {target}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{target} is not defined"
        );
    }
    for scheme in ["session", "agent_token", "worker_token"] {
        assert!(
            doc["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
}

on_both_databases!(the_openapi_document_describes_every_api_route_and_its_bodies);
