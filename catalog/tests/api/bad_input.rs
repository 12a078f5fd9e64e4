//! Bad input never gives a 5xx or a panic (issue 3). Property tests send every POST and PUT
//! endpoint of `/api/v1`, in process and with valid credentials, arbitrary JSON values,
//! arbitrary bytes under assorted content types, near misses of a valid body (a field
//! dropped, retyped or set to an edge value, an unknown field, the text cut short) and odd
//! path parameters. Every answer must be a 2xx, or a 4xx with the error body
//! `{"error": {"code", "message"}}` as JSON.
//!
//! The cases come from a fixed seed, so CI runs the same ones every time; set
//! `PROPTEST_RNG_SEED` to explore others. `PROPTEST_CASES` overrides the number of cases.
//! A failure is shrunk to a small input and printed with the request that made it.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::{json, Map, Number, Value};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::Arc;

use crate::helpers::{token_of, Answer, As, Db, TestApp, AGENT_TOKEN, WORKER_TOKEN};

/// Cases per endpoint: enough to hit every field with every kind of mutation several times,
/// few enough that both databases take seconds.
const CASES: u32 = 256;
/// The seed CI runs with.
const SEED: u64 = 0x1ec7e4;

/// Who sends the requests.
#[derive(Clone, Debug)]
enum Caller {
    Nobody,
    Cookie(String),
    Bearer(&'static str),
}

/// One generated request body.
#[derive(Clone)]
struct Input {
    content_type: Option<&'static str>,
    bytes: Vec<u8>,
    /// Extra headers (for endpoints that read their own, e.g. the raw chunk upload).
    headers: Vec<(&'static str, String)>,
}

// Shown as text, so a shrunk failure reads as the body it sent.
impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("content_type", &self.content_type)
            .field("body", &String::from_utf8_lossy(&self.bytes))
            .field("headers", &self.headers)
            .finish()
    }
}

impl Input {
    fn json(value: &Value) -> Input {
        Input {
            content_type: Some("application/json"),
            bytes: value.to_string().into_bytes(),
            headers: Vec::new(),
        }
    }
}

/// Sends `input` to `path` as `caller`, from a loopback peer (so login throttling counts
/// per address, as behind `run`, and stops calling argon2 after a few failures).
async fn send(
    app: &TestApp,
    method: &Method,
    path: &str,
    caller: &Caller,
    input: &Input,
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    match caller {
        Caller::Nobody => {}
        Caller::Cookie(cookie) => request = request.header(header::COOKIE, cookie),
        Caller::Bearer(token) => {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"))
        }
    }
    if let Some(content_type) = input.content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    for (name, value) in &input.headers {
        request = request.header(*name, value);
    }
    let mut request = request.body(Body::from(input.bytes.clone())).unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    app.request(request).await
}

/// A 2xx, or a 4xx whose body is exactly `{"error": {"code": "…", "message": "…"}}` as JSON.
fn check(answer: &Answer) -> Result<(), String> {
    let status = answer.status;
    if status.is_success() {
        return Ok(());
    }
    let shown = || {
        format!(
            "{status} {:?} {}",
            answer.header("content-type"),
            answer.text()
        )
    };
    if !status.is_client_error() {
        return Err(format!("neither a 2xx nor a 4xx: {}", shown()));
    }
    if !answer
        .header("content-type")
        .starts_with("application/json")
    {
        return Err(format!("an error answer that is not JSON: {}", shown()));
    }
    let body: Value = serde_json::from_slice(&answer.body)
        .map_err(|e| format!("an error answer that does not parse ({e}): {}", shown()))?;
    let detail = body
        .as_object()
        .filter(|outer| outer.len() == 1)
        .and_then(|outer| outer.get("error"))
        .and_then(Value::as_object)
        .filter(|inner| inner.len() == 2);
    match detail {
        Some(inner)
            if inner.get("code").is_some_and(Value::is_string)
                && inner.get("message").is_some_and(Value::is_string) =>
        {
            Ok(())
        }
        _ => Err(format!("not the error body: {}", shown())),
    }
}

/// Runs the cases of the strategy `make` builds against one endpoint. proptest's runner is
/// synchronous, so it runs on a blocking thread (with its strategy, which is not `Send`) and
/// drives each request on this test's runtime.
async fn run_cases(
    app: &Arc<TestApp>,
    method: Method,
    path: String,
    caller: Caller,
    make: impl FnOnce() -> BoxedStrategy<Input> + Send + 'static,
) {
    let app = Arc::clone(app);
    let runtime = tokio::runtime::Handle::current();
    let what = format!("{method} {path}");
    let result = tokio::task::spawn_blocking(move || {
        let mut runner = TestRunner::new(config());
        runner.run(&make(), |input| {
            let answer = runtime.block_on(send(&app, &method, &path, &caller, &input));
            check(&answer).map_err(TestCaseError::fail)
        })
    })
    .await
    .expect("the property test thread ends");
    if let Err(failure) = result {
        panic!("{what}: {failure}");
    }
}

fn config() -> Config {
    let from_env = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            from_env.cases
        } else {
            CASES
        },
        rng_seed: match from_env.rng_seed {
            RngSeed::Random => RngSeed::Fixed(SEED),
            fixed => fixed,
        },
        // Each shrinking step is a request; a few hundred find a small input quickly.
        max_shrink_iters: 512,
        failure_persistence: None,
        ..from_env
    }
}

/// Any JSON value, with strings of any characters (NUL and lone controls included), integers
/// past every width the bodies use, and objects whose keys are often the endpoint's own fields.
fn json_value(fields: Vec<String>) -> BoxedStrategy<Value> {
    let key = prop_oneof![proptest::sample::select(fields).boxed(), any_text(),];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any_text().prop_map(Value::String),
        edge_value(),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
    .boxed()
}

/// Short strings of any characters.
fn any_text() -> BoxedStrategy<String> {
    proptest::collection::vec(any::<char>(), 0..12)
        .prop_map(String::from_iter)
        .boxed()
}

/// Values at the edges of what the bodies' fields take: empty, NUL, huge, negative, too
/// precise, dates outside any database's range, names with path characters.
fn edge_value() -> BoxedStrategy<Value> {
    let long = "x".repeat(70_000);
    proptest::sample::select(vec![
        json!(""),
        json!(" "),
        json!("\u{0}"),
        json!("presenter\u{0}"),
        json!("\u{0}\u{1}\u{1f}\u{7f}"),
        json!("a\u{0}b"),
        json!("../../etc/passwd"),
        json!("a/b"),
        json!("ü"),
        json!(long),
        json!(0),
        json!(-1),
        json!(1),
        json!(65_535),
        json!(65_536),
        json!(u32::MAX),
        json!(u64::from(u32::MAX) + 1),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(-0.0),
        json!(0.5),
        json!(1e-300),
        json!(1e300),
        json!(f64::MAX),
        json!(-f64::MAX),
        json!("1970-01-01T00:00:00Z"),
        json!("0000-01-01T00:00:00Z"),
        json!("9999-12-31T23:59:59.999999999+14:00"),
        json!("+262142-12-31T23:59:59Z"),
        json!("-262143-01-01T00:00:00Z"),
        json!("2026-02-30T00:00:00Z"),
        json!("2026-11-24T09:00:00"),
        json!("not a date"),
        json!([]),
        json!({}),
        json!([0, 0]),
        json!([1, 0]),
        json!([65_535, 65_535]),
        json!([1, 2, 3]),
        json!(["presenter", "presenter"]),
        json!(["presenter", ""]),
    ])
    .boxed()
}

/// What a near miss does to a valid body.
#[derive(Clone, Debug)]
enum Mutation {
    /// Drops the field.
    Remove(usize),
    /// Sets the field to another value.
    Replace(usize, Value),
    /// Adds a field the body does not have.
    Add(String, Value),
    /// Sends the body inside an array.
    Wrap,
    /// Cuts the JSON text short at this fraction of its length.
    Truncate(f64),
    /// Writes a byte into the JSON text at this fraction of its length.
    Splice(f64, u8),
}

/// Applies `mutations` to `valid` (an object) and serialises it.
fn near_miss(valid: &Value, mutations: &[Mutation]) -> Input {
    let mut body = valid.clone();
    let mut text_edits = Vec::new();
    for mutation in mutations {
        let Some(object) = body.as_object_mut() else {
            text_edits.push(mutation);
            continue;
        };
        let keys: Vec<String> = object.keys().cloned().collect();
        let key_at = |i: &usize| keys.get(i % keys.len().max(1)).cloned();
        match mutation {
            Mutation::Remove(i) => {
                if let Some(key) = key_at(i) {
                    object.remove(&key);
                }
            }
            Mutation::Replace(i, value) => {
                if let Some(key) = key_at(i) {
                    object.insert(key, value.clone());
                }
            }
            Mutation::Add(key, value) => {
                object.insert(key.clone(), value.clone());
            }
            Mutation::Wrap | Mutation::Truncate(..) | Mutation::Splice(..) => {
                text_edits.push(mutation)
            }
        }
    }
    let mut input = Input::json(&body);
    for edit in text_edits {
        match edit {
            Mutation::Wrap => input = Input::json(&json!([body.clone()])),
            Mutation::Truncate(fraction) => {
                let cut = at(input.bytes.len(), *fraction);
                input.bytes.truncate(cut);
            }
            Mutation::Splice(fraction, byte) => {
                let index = at(input.bytes.len(), *fraction);
                input.bytes.insert(index, *byte);
            }
            Mutation::Remove(_) | Mutation::Replace(..) | Mutation::Add(..) => {}
        }
    }
    input
}

/// The index at `fraction` (0 to 1) of `len` bytes.
fn at(len: usize, fraction: f64) -> usize {
    ((len as f64 * fraction) as usize).min(len)
}

fn mutation(fields: Vec<String>) -> BoxedStrategy<Mutation> {
    let value = prop_oneof![3 => edge_value(), 1 => json_value(fields)];
    prop_oneof![
        2 => any::<usize>().prop_map(Mutation::Remove),
        6 => (any::<usize>(), value.clone()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        1 => (any_text(), value).prop_map(|(k, v)| Mutation::Add(k, v)),
        1 => Just(Mutation::Wrap),
        1 => (0.0..1.0).prop_map(Mutation::Truncate),
        1 => ((0.0..1.0), any::<u8>()).prop_map(|(f, b)| Mutation::Splice(f, b)),
    ]
    .boxed()
}

/// Arbitrary bytes under one of the content types a client might send.
fn any_bytes() -> BoxedStrategy<Input> {
    let content_type = proptest::sample::select(vec![
        None,
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("application/problem+json"),
        Some("text/plain"),
        Some("text/csv"),
        Some("application/x-www-form-urlencoded"),
        Some("video/mp2t"),
        Some("not a media type"),
    ]);
    (content_type, proptest::collection::vec(any::<u8>(), 0..200))
        .prop_map(|(content_type, bytes)| Input {
            content_type,
            bytes,
            headers: Vec::new(),
        })
        .boxed()
}

/// Every kind of bad body for a JSON endpoint whose valid body is `valid`.
fn json_inputs(valid: &Value) -> BoxedStrategy<Input> {
    let fields: Vec<String> = valid
        .as_object()
        .map(|object| object.keys().cloned().collect())
        .unwrap_or_default();
    let fields = if fields.is_empty() {
        vec!["error".to_owned()]
    } else {
        fields
    };
    let valid = valid.clone();
    prop_oneof![
        2 => json_value(fields.clone()).prop_map(|value| Input::json(&value)),
        1 => any_bytes(),
        4 => proptest::collection::vec(mutation(fields), 1..4)
            .prop_map(move |mutations| near_miss(&valid, &mutations)),
    ]
    .boxed()
}

/// Checks a JSON endpoint: arbitrary JSON, arbitrary bytes and near misses of `valid`.
async fn check_json_endpoint(
    app: &Arc<TestApp>,
    method: Method,
    path: &str,
    caller: Caller,
    valid: Value,
) {
    run_cases(app, method, path.to_owned(), caller, move || {
        json_inputs(&valid)
    })
    .await;
}

/// Checks an endpoint whose body is not JSON (`content_type`): arbitrary bytes, and `valid`
/// cut short or with a byte written into it; `headers` are sent along, each of them in turn
/// dropped or set to an arbitrary value.
///
/// The CSV imports go through this: see the marked place in the test below.
async fn check_bytes_endpoint(
    app: &Arc<TestApp>,
    method: Method,
    path: &str,
    caller: Caller,
    content_type: &'static str,
    valid: &[u8],
    headers: &[(&'static str, &str)],
) {
    let valid = valid.to_vec();
    let headers: Vec<(&'static str, String)> = headers
        .iter()
        .map(|(name, value)| (*name, (*value).to_owned()))
        .collect();
    let make = move || {
        let header_value = prop_oneof![
            proptest::sample::select(vec![
                String::new(),
                "-1".to_owned(),
                "0".to_owned(),
                "18446744073709551616".to_owned(),
                "+262142-12-31T23:59:59Z".to_owned(),
                "-262143-01-01T00:00:00Z".to_owned(),
                "0".repeat(64),
                "G".repeat(64),
            ]),
            "[ -~]{0,80}",
        ];
        // Per header: `None` keeps it, `Some(None)` drops it, `Some(Some(v))` sends `v`.
        let header_edits = proptest::collection::vec(
            proptest::option::weighted(0.3, proptest::option::of(header_value)),
            headers.len(),
        );
        let body = prop_oneof![
            any_bytes().prop_map(|input| input.bytes),
            (0.0..1.0f64).prop_map({
                let valid = valid.clone();
                move |fraction| valid[..at(valid.len(), fraction)].to_vec()
            }),
            ((0.0..1.0f64), any::<u8>()).prop_map(move |(fraction, byte)| {
                let mut bytes = valid.clone();
                bytes.insert(at(bytes.len(), fraction), byte);
                bytes
            }),
        ];
        (body, header_edits)
            .prop_map(move |(bytes, edits)| Input {
                content_type: Some(content_type),
                bytes,
                headers: headers
                    .iter()
                    .zip(edits)
                    .filter_map(|((name, value), edit)| match edit {
                        None => Some((*name, value.clone())),
                        Some(replacement) => replacement.map(|v| (*name, v)),
                    })
                    .collect(),
            })
            .boxed()
    };
    run_cases(app, method, path.to_owned(), caller, make).await;
}

/// A path segment of any bytes, percent-encoded: NUL, invalid UTF-8, slashes, dots.
fn any_segment() -> BoxedStrategy<String> {
    prop_oneof![
        proptest::sample::select(vec![
            "%00".to_owned(),
            "%FF".to_owned(),
            "%C3%28".to_owned(),
            "..".to_owned(),
            "%2E%2E".to_owned(),
            "%2F".to_owned(),
            "a%00b".to_owned(),
            "%20".to_owned(),
            "x".repeat(5000),
        ]),
        proptest::collection::vec(any::<u8>(), 1..24).prop_map(|bytes| {
            bytes
                .iter()
                .map(|b| format!("%{b:02X}"))
                .collect::<String>()
        }),
    ]
    .boxed()
}

/// Checks `template`'s `{id}` (and any other `{…}`) replaced by odd segments, with a valid body.
async fn check_path_parameters(
    app: &Arc<TestApp>,
    method: Method,
    template: &'static str,
    caller: Caller,
    valid: Value,
) {
    let app = Arc::clone(app);
    let runtime = tokio::runtime::Handle::current();
    let result = tokio::task::spawn_blocking(move || {
        let mut runner = TestRunner::new(Config {
            cases: config().cases / 2,
            ..config()
        });
        let input = Input::json(&valid);
        runner.run(&any_segment(), |segment| {
            let path = template
                .split('/')
                .map(|part| {
                    if part.starts_with('{') {
                        segment.as_str()
                    } else {
                        part
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let answer = runtime.block_on(send(&app, &method, &path, &caller, &input));
            check(&answer).map_err(|e| TestCaseError::fail(format!("{path}: {e}")))
        })
    })
    .await
    .expect("the property test thread ends");
    if let Err(failure) = result {
        panic!("{template}: {failure}");
    }
}

const ADMIN: &str = "admin@demo.lectern.test";

/// What was accepted must not break what reads it: the lecture, its course's list, its
/// playback and its playlists still answer (a 2xx, or a 4xx with the error body), and the
/// lecture's JSON still has a number for its duration (JSON has none for infinity).
async fn reads_still_work(app: &TestApp, lecture: &str, student: &str) {
    let who = || As::Cookie(student);
    let answer = app.get(&format!("/api/v1/lectures/{lecture}"), who()).await;
    check(&answer).unwrap();
    assert!(
        answer.json()["duration_seconds"].is_number(),
        "{}",
        answer.text()
    );
    let course = answer.json()["course_id"].as_str().unwrap().to_owned();
    let answer = app
        .get(&format!("/api/v1/courses/{course}/lectures"), who())
        .await;
    check(&answer).unwrap();
    let answer = app
        .get(&format!("/api/v1/lectures/{lecture}/playback"), who())
        .await;
    check(&answer).unwrap();
    if answer.status.is_success() {
        let master = answer.json()["master"].as_str().unwrap().to_owned();
        let playlist = app.get(&master, As::Nobody).await;
        assert_eq!(
            playlist.status.as_u16(),
            200,
            "{master}: {}",
            playlist.text()
        );
        let token = token_of(&master);
        // Every media playlist the master lists.
        for uri in playlist
            .text()
            .lines()
            .filter(|line| line.contains(".m3u8"))
        {
            let path = uri.split('?').next().unwrap();
            let url = format!("/media/{lecture}/{path}?token={token}");
            let media = app.get(&url, As::Nobody).await;
            assert_eq!(media.status.as_u16(), 200, "{url}: {}", media.text());
        }
    }
}

async fn bad_input_never_gives_a_5xx_or_a_body_that_is_not_the_error_body(db: Db) {
    let app = Arc::new(TestApp::spawn(db).await);
    let lecture = app.start_lecture().await.lecture_id;
    // A second lecture for the requests that end one (stop, finish), so the first stays
    // capturing and the reports about it get past the state checks.
    let ending = app.start_lecture().await.lecture_id;
    let admin = Caller::Cookie(app.login(ADMIN).await);
    // Signed in first: the login cases fail often enough to lock the account for a while.
    let student = app.login("student@demo.lectern.test").await;
    let agent = Caller::Bearer(AGENT_TOKEN);
    let worker = Caller::Bearer(WORKER_TOKEN);

    let json_endpoints = [
        (
            "/api/v1/auth/login".to_owned(),
            Caller::Nobody,
            json!({"email": "student@demo.lectern.test", "password": "lectern-demo"}),
        ),
        ("/api/v1/auth/logout".to_owned(), admin, json!({})),
        (
            "/api/v1/agent/recordings".to_owned(),
            agent.clone(),
            json!({"title": "Week 1", "tracks": ["presenter", "screen"]}),
        ),
        (
            format!("/api/v1/agent/recordings/{ending}/stop"),
            agent.clone(),
            json!({"recorded_seconds": 2.0}),
        ),
        (
            "/api/v1/worker/register".to_owned(),
            worker.clone(),
            json!({"srt_host": "127.0.0.1", "srt_ports": [9000, 9009]}),
        ),
        (
            format!("/api/v1/worker/lectures/{lecture}/renditions"),
            worker.clone(),
            json!({"track": "presenter", "rung": "720p", "width": 1280, "height": 720,
                "bandwidth": 3_000_000, "codecs": "avc1.64001f,mp4a.40.2", "frame_rate": 30.0}),
        ),
        (
            format!("/api/v1/worker/lectures/{lecture}/segments"),
            worker.clone(),
            json!({"track": "presenter", "rung": "720p", "sequence": 0, "duration": 2.0,
                "program_date_time": "2026-11-24T09:00:00Z", "discontinuity": false, "bytes": 10}),
        ),
        (
            format!("/api/v1/worker/lectures/{lecture}/thumbnails"),
            worker.clone(),
            json!({"track": "presenter", "poster": true, "sprites": 1, "chapters": 2}),
        ),
        (
            format!("/api/v1/worker/lectures/{ending}/finish"),
            worker.clone(),
            json!({"error": "the encoder stopped"}),
        ),
    ];
    for (path, caller, valid) in json_endpoints {
        check_json_endpoint(&app, Method::POST, &path, caller, valid).await;
        reads_still_work(&app, &lecture, &student).await;
    }

    let chunk = b"\x47 a transport stream packet, more or less";
    let sha256 = hex::encode(Sha256::digest(chunk));
    check_bytes_endpoint(
        &app,
        Method::PUT,
        &format!("/api/v1/agent/recordings/{lecture}/chunks/presenter/0"),
        agent.clone(),
        "video/mp2t",
        chunk,
        &[
            ("x-lectern-sha256", sha256.as_str()),
            ("x-lectern-chunk-start", "2026-11-24T09:00:00Z"),
            ("x-lectern-chunk-duration-ns", "10000000000"),
        ],
    )
    .await;
    reads_still_work(&app, &lecture, &student).await;

    // The CSV imports, with a fresh admin session (the logout cases above end the first
    // one): bad files and bad rows are reported, never a 5xx.
    let imports: [(&str, &[u8]); 2] = [
        (
            "courses",
            b"code,title,term,auto_publish\nLEC101,Introduction to Lecture Capture,2026 Autumn,true\n",
        ),
        (
            "enrolments",
            b"course_code,term,email,role,name\nLEC101,2026 Autumn,new@demo.lectern.test,student,Nia New\n",
        ),
    ];
    for (kind, valid) in imports {
        let admin = Caller::Cookie(app.login(ADMIN).await);
        let path = format!("/api/v1/imports/{kind}");
        check_bytes_endpoint(&app, Method::POST, &path, admin, "text/csv", valid, &[]).await;
        reads_still_work(&app, &lecture, &student).await;
    }

    // A person's own reports and choices, and an admin's record of a guardian's consent
    // (issue 7); the lecture has a segment, so progress reports get past the 404.
    app.add_segment(&lecture, 0).await;
    let me = app.get("/api/v1/me", As::Cookie(&student)).await.json();
    let student_id = me["id"].as_str().unwrap().to_owned();
    let own = [
        (
            format!("/api/v1/lectures/{lecture}/progress"),
            json!({"view": "v1", "position_seconds": 1.0, "watched_seconds": 1.0,
                "watched": [[0.0, 1.0]]}),
        ),
        (
            "/api/v1/me/preferences".to_owned(),
            json!({"research_opt_out": true}),
        ),
    ];
    for (path, valid) in own {
        let caller = Caller::Cookie(student.clone());
        check_json_endpoint(&app, Method::PUT, &path, caller, valid).await;
    }
    let admin = Caller::Cookie(app.login(ADMIN).await);
    check_json_endpoint(
        &app,
        Method::POST,
        &format!("/api/v1/users/{student_id}/guardian-consent"),
        admin,
        json!({"guardian_name": "Gina Guardian", "relation": "mother"}),
    )
    .await;
    reads_still_work(&app, &lecture, &student).await;

    let paths = [
        (
            "/api/v1/agent/recordings/{id}/stop",
            agent,
            json!({"recorded_seconds": 1.0}),
        ),
        (
            "/api/v1/worker/lectures/{id}/segments",
            worker,
            json!({"track": "presenter", "rung": "720p", "sequence": 1, "duration": 2.0,
                "program_date_time": "2026-11-24T09:00:02Z", "discontinuity": false, "bytes": 10}),
        ),
    ];
    for (template, caller, valid) in paths {
        check_path_parameters(&app, Method::POST, template, caller, valid).await;
    }
    let student = Caller::Cookie(student);
    for template in [
        "/api/v1/lectures/{id}",
        "/api/v1/courses/{id}/lectures",
        "/api/v1/agent/recordings/{id}/chunks/{track}/{index}",
    ] {
        let (method, caller) = match template {
            "/api/v1/agent/recordings/{id}/chunks/{track}/{index}" => {
                (Method::PUT, Caller::Bearer(AGENT_TOKEN))
            }
            _ => (Method::GET, student.clone()),
        };
        check_path_parameters(&app, method, template, caller, json!({})).await;
    }
}

on_both_databases!(bad_input_never_gives_a_5xx_or_a_body_that_is_not_the_error_body);

/// The error body of `answer`, which must be `status`: its `code` and `message`.
fn error_of(answer: &Answer, status: u16) -> (String, String) {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.text());
    check(answer).unwrap();
    let body = answer.json();
    let text = |key: &str| body["error"][key].as_str().unwrap().to_owned();
    (text("code"), text("message"))
}

/// axum's own rejections (plain text, or an empty 405) become the error body, with their
/// status: 400 for JSON that does not parse or does not fit, 415 without the JSON content
/// type, 413 over the body limit, 405 for a method the path does not take.
async fn malformed_requests_get_the_error_body_with_the_right_status(db: Db) {
    let app = TestApp::spawn(db).await;
    let worker = Caller::Bearer(WORKER_TOKEN);
    let register = |bytes: &[u8], content_type| Input {
        content_type,
        bytes: bytes.to_vec(),
        headers: Vec::new(),
    };
    let post = |input: Input| {
        let app = &app;
        let worker = worker.clone();
        async move {
            send(
                app,
                &Method::POST,
                "/api/v1/worker/register",
                &worker,
                &input,
            )
            .await
        }
    };

    let answer = post(register(b"{\"srt_host\": ", Some("application/json"))).await;
    assert_eq!(error_of(&answer, 400).0, "bad_request");
    let answer = post(register(
        br#"{"srt_host": "127.0.0.1", "srt_ports": [9000]}"#,
        Some("application/json"),
    ))
    .await;
    let (code, message) = error_of(&answer, 400);
    assert_eq!(code, "bad_request");
    assert!(message.contains("srt_ports"), "names the field: {message}");
    let answer = post(register(br#"{"srt_host": "h", "srt_ports": [1, 2]}"#, None)).await;
    assert_eq!(error_of(&answer, 415).0, "unsupported_media_type");
    let answer = post(register(b"srt_host=h", Some("text/plain"))).await;
    assert_eq!(error_of(&answer, 415).0, "unsupported_media_type");

    // Over the 1 MiB limit: declared up front (tower-http refuses it before any handler),
    // and found while reading a body of unknown length (the extractor refuses it).
    let big = vec![b' '; 1024 * 1024 + 1];
    let answer = post(register(&big, Some("application/json"))).await;
    assert_eq!(error_of(&answer, 413).0, "payload_too_large");
    let chunks = futures_util::stream::iter(
        big.chunks(64 * 1024)
            .map(|piece| Ok::<_, std::io::Error>(piece.to_vec()))
            .collect::<Vec<_>>(),
    );
    let request = Request::post("/api/v1/worker/register")
        .header(header::AUTHORIZATION, format!("Bearer {WORKER_TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(chunks))
        .unwrap();
    let answer = app.request(request).await;
    assert_eq!(error_of(&answer, 413).0, "payload_too_large");

    let answer = app.get("/api/v1/worker/register", As::Nobody).await;
    assert_eq!(error_of(&answer, 405).0, "method_not_allowed");
    assert_eq!(answer.header("allow"), "POST");
    let answer = app
        .get("/api/v1/agent/recordings/x/chunks/presenter/0", As::Nobody)
        .await;
    assert_eq!(error_of(&answer, 405).0, "method_not_allowed");
}

/// PostgreSQL cannot hold or compare text with NUL, so before the extractors refused it a
/// title, an email or an id with NUL was a 500 there (and stored as is on SQLite).
async fn text_and_ids_with_nul_are_refused_not_a_500(db: Db) {
    let app = TestApp::spawn(db).await;
    let lecture = app.start_lecture().await.lecture_id;
    let agent = Caller::Bearer(AGENT_TOKEN);
    let bodies = [
        (
            "/api/v1/agent/recordings".to_owned(),
            &agent,
            json!({"title": "Week\u{0}1", "tracks": ["presenter"]}),
        ),
        (
            "/api/v1/auth/login".to_owned(),
            &Caller::Nobody,
            json!({"email": "student@demo.lectern.test\u{0}", "password": "x"}),
        ),
        (
            format!("/api/v1/worker/lectures/{lecture}/finish"),
            &Caller::Bearer(WORKER_TOKEN),
            json!({"error": "stopped\u{0}"}),
        ),
    ];
    for (path, caller, body) in bodies {
        let answer = send(&app, &Method::POST, &path, caller, &Input::json(&body)).await;
        let (code, message) = error_of(&answer, 400);
        assert_eq!(code, "bad_request", "{path}");
        assert!(message.contains("NUL"), "{path}: {message}");
    }
    let student = app.login("student@demo.lectern.test").await;
    let answer = app
        .get("/api/v1/lectures/a%00b", As::Cookie(&student))
        .await;
    assert_eq!(error_of(&answer, 404).0, "not_found");
    let stop = Input::json(&json!({"recorded_seconds": 1.0}));
    let answer = send(
        &app,
        &Method::POST,
        "/api/v1/agent/recordings/%00/stop",
        &agent,
        &stop,
    )
    .await;
    assert_eq!(error_of(&answer, 404).0, "not_found");
    // The lecture is as it was: nothing was stored.
    let answer = app
        .get(&format!("/api/v1/lectures/{lecture}"), As::Cookie(&student))
        .await;
    assert_eq!(answer.json()["state"], "capturing");
}

on_both_databases!(
    malformed_requests_get_the_error_body_with_the_right_status,
    text_and_ids_with_nul_are_refused_not_a_500,
);

/// Segment durations are summed into the lecture's; two near `f64::MAX` made that sum
/// overflow: a 500 on PostgreSQL (float overflow) for every read of the lecture after, and a
/// `null` duration on SQLite. A time before 4713 BC was a 500 on PostgreSQL too.
async fn segment_reports_out_of_range_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let lecture = app.start_lecture().await.lecture_id;
    app.add_segment(&lecture, 0).await;
    let worker = Caller::Bearer(WORKER_TOKEN);
    let path = format!("/api/v1/worker/lectures/{lecture}/segments");
    let time = "2026-11-24T09:00:00Z";
    for (sequence, duration, time, field) in [
        (1, 1e308, time, "duration"),
        (2, 1e308, time, "duration"),
        (3, 3600.5, time, "duration"),
        (4, 2.0, "-262143-01-01T00:00:00Z", "program_date_time"),
        (5, 2.0, "+10000-01-01T00:00:00Z", "program_date_time"),
    ] {
        let segment = json!({"track": "presenter", "rung": "720p", "sequence": sequence,
            "duration": duration, "program_date_time": time, "discontinuity": false, "bytes": 10});
        let answer = send(&app, &Method::POST, &path, &worker, &Input::json(&segment)).await;
        let (code, message) = error_of(&answer, 400);
        assert_eq!(code, "bad_request");
        assert!(message.contains(field), "{message}");
    }
    let student = app.login("student@demo.lectern.test").await;
    let answer = app
        .get(&format!("/api/v1/lectures/{lecture}"), As::Cookie(&student))
        .await;
    assert_eq!(answer.json()["duration_seconds"], 2.0, "{}", answer.text());
}

on_both_databases!(segment_reports_out_of_range_are_refused);
