//! One catalog per test, on a fresh database (a temporary SQLite file, or a new database in
//! the tests' PostgreSQL cluster) and a temporary storage directory.

use axum::body::Bytes;
use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use chrono::{TimeZone, Utc};
use lectern_catalog::store::DatabaseKind;
use lectern_catalog::{app, App, AppState, Config};
use lectern_wire::agent::RecordingStarted;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, SqliteConnection};
use tempfile::TempDir;
use tower::ServiceExt;

pub const MEDIA_KEY: &str =
    "4c6563746572e2809973206d65646961206b6579206f6e6c7920666f72207465737473";
pub const AGENT_TOKEN: &str = "agent-token-for-tests-0123456789";
pub const WORKER_TOKEN: &str = "worker-token-for-tests-012345678";
pub const STUDENT: &str = "student@demo.lectern.test";
pub const OUTSIDER: &str = "outsider@demo.lectern.test";
pub const PASSWORD: &str = "lectern-demo";
/// The bytes of the fake segment every `lecture_with_segment` writes.
pub const SEGMENT_BYTES: &[u8] = b"\x47fake transport stream segment for the catalog tests";
/// The bytes of the fake poster and sprite sheet `add_pictures` writes.
pub const POSTER_BYTES: &[u8] = b"\xff\xd8\xff fake poster";
pub const SPRITE_BYTES: &[u8] = b"\xff\xd8\xff fake sprite sheet";
/// The `thumbnails.vtt` and `chapters.vtt` `add_pictures` writes: two seconds, one sheet.
pub const THUMBNAILS_VTT: &str =
    "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nsprite-0.jpg#xywh=0,0,160,90\n\n\
    00:00:01.000 --> 00:00:02.000\nsprite-0.jpg#xywh=160,0,160,90\n";
pub const CHAPTERS_VTT: &str =
    "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nSlide 1\n\n00:00:01.000 --> 00:00:02.000\nSlide 2\n";

/// Who a request claims to be.
pub enum As<'a> {
    Nobody,
    Cookie(&'a str),
    Bearer(&'a str),
}

/// An answer, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

/// The database a test runs on. Every API test runs once on each (see
/// `on_both_databases!` in `main.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A fresh, empty database of one kind; the SQLite file's directory goes when it drops.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<TempDir>,
}

impl TestDatabase {
    pub async fn new(db: Db) -> TestDatabase {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                TestDatabase {
                    url: format!("sqlite://{}/catalog.db?mode=rwc", dir.path().display()),
                    _dir: Some(dir),
                }
            }
            Db::Postgres => TestDatabase {
                url: crate::pg_cluster::fresh_database_url().await,
                _dir: None,
            },
        }
    }
}

/// A catalog with the demo seeded.
pub struct TestApp {
    pub state: AppState,
    router: App,
    pub storage: TempDir,
    _db: TestDatabase,
}

/// The configuration of a test catalog on `db` whose media live in `storage`.
pub fn test_config(db: &TestDatabase, storage: &TempDir) -> Config {
    Config::from_toml(&format!(
        r#"
        database_url = "{}"
        storage_dir = "{}"
        media_key = "{MEDIA_KEY}"
        media_token_ttl_seconds = 600
        [demo]
        seed = true
        agent_token = "{AGENT_TOKEN}"
        worker_token = "{WORKER_TOKEN}"
        "#,
        db.url,
        storage.path().display(),
    ))
    .expect("test configuration is valid")
}

impl TestApp {
    pub async fn spawn(db: Db) -> TestApp {
        TestApp::spawn_with(db, |_| {}).await
    }

    /// A catalog whose test configuration `change` adjusts first.
    pub async fn spawn_with(db: Db, change: impl FnOnce(&mut Config)) -> TestApp {
        let kind = db;
        let db = TestDatabase::new(kind).await;
        let storage = tempfile::tempdir().unwrap();
        let mut config = test_config(&db, &storage);
        change(&mut config);
        let state = AppState::new(config).await.expect("catalog starts");
        let expected = match kind {
            Db::Sqlite => DatabaseKind::Sqlite,
            Db::Postgres => DatabaseKind::Postgres,
        };
        assert_eq!(
            state.store().kind(),
            expected,
            "the catalog runs on {kind:?}"
        );
        TestApp {
            router: app(state.clone()),
            state,
            storage,
            _db: db,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        who: As<'_>,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Answer {
        self.request(build(method, uri, who, body, extra)).await
    }

    /// Sends a request built by the test (e.g. with a `ConnectInfo` extension).
    pub async fn request(&self, request: Request<Body>) -> Answer {
        answer(&self.router, request).await
    }

    /// Another catalog on the same database and storage, with a memory of its own: a
    /// replica behind the same load balancer.
    pub async fn replica(&self) -> Replica {
        let state = AppState::new(self.state.config().clone())
            .await
            .expect("the replica starts");
        Replica {
            router: app(state.clone()),
            state,
        }
    }

    pub async fn get(&self, uri: &str, who: As<'_>) -> Answer {
        self.send(Method::GET, uri, who, None, &[]).await
    }

    /// Serves this catalog on a loopback port, as `run` does (with the peer's address), for
    /// tests that need real connections (one cut off mid-body); returns its address. It
    /// serves until the test's runtime ends.
    pub async fn serve(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let service = axum::ServiceExt::into_make_service_with_connect_info::<std::net::SocketAddr>(
            self.router.clone(),
        );
        tokio::spawn(async move { axum::serve(listener, service).await });
        address
    }

    pub async fn post(&self, uri: &str, who: As<'_>, body: Value) -> Answer {
        self.send(Method::POST, uri, who, Some(body), &[]).await
    }

    /// Logs in and returns the `Cookie` header value of the session.
    pub async fn login(&self, email: &str) -> String {
        let answer = self
            .post(
                "/api/v1/auth/login",
                As::Nobody,
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let set_cookie = answer.header("set-cookie");
        set_cookie.split(';').next().unwrap().to_owned()
    }

    /// The demo worker registers (its heartbeat), so recordings that start within the next
    /// minute are assigned to it for live, on one of the ports 9000 to 9999.
    pub async fn register_worker(&self) {
        let answer = self
            .post(
                "/api/v1/worker/register",
                As::Bearer(WORKER_TOKEN),
                json!({"srt_host": "127.0.0.1", "srt_ports": [9000, 9999]}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    }

    /// Starts a recording in the demo room with the demo worker up, so it is the lecture's
    /// live worker and its reports about it land (a worker reports only on its own live
    /// sessions).
    pub async fn start_lecture(&self) -> RecordingStarted {
        self.register_worker().await;
        self.start_recording().await
    }

    /// Starts a recording in the demo room with whichever workers are up (or none).
    pub async fn start_recording(&self) -> RecordingStarted {
        let answer = self
            .post(
                "/api/v1/agent/recordings",
                As::Bearer(AGENT_TOKEN),
                json!({"title": null, "tracks": ["presenter"]}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        serde_json::from_slice(&answer.body).unwrap()
    }

    /// Reports a 720p rendition of `presenter` and segment `sequence` of it, and writes the
    /// segment's file into storage.
    pub async fn add_segment(&self, lecture: &str, sequence: u64) {
        let rendition = json!({
            "track": "presenter", "rung": "720p", "width": 1280, "height": 720,
            "bandwidth": 3_000_000, "codecs": "avc1.64001f,mp4a.40.2", "frame_rate": 30.0
        });
        let answer = self
            .post(
                &format!("/api/v1/worker/lectures/{lecture}/renditions"),
                As::Bearer(WORKER_TOKEN),
                rendition,
            )
            .await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
        let dir = self
            .storage
            .path()
            .join(format!("lectures/{lecture}/v1/presenter/720p"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{sequence}.ts")), SEGMENT_BYTES).unwrap();
        let start = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
        let segment = json!({
            "track": "presenter", "rung": "720p", "sequence": sequence, "duration": 2.0,
            "program_date_time": start + chrono::Duration::seconds(2 * sequence as i64),
            "discontinuity": false, "bytes": SEGMENT_BYTES.len()
        });
        let answer = self
            .post(
                &format!("/api/v1/worker/lectures/{lecture}/segments"),
                As::Bearer(WORKER_TOKEN),
                segment,
            )
            .await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    }

    /// Stores pictures of the presenter track of `lecture` (v1) as a worker would, and
    /// reports them: a poster, one sprite sheet, its thumbnails and two chapters.
    pub async fn add_pictures(&self, lecture: &str) {
        let dir = self
            .storage
            .path()
            .join(format!("lectures/{lecture}/v1/presenter"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("poster.jpg"), POSTER_BYTES).unwrap();
        std::fs::write(dir.join("sprite-0.jpg"), SPRITE_BYTES).unwrap();
        std::fs::write(dir.join("thumbnails.vtt"), THUMBNAILS_VTT).unwrap();
        std::fs::write(dir.join("chapters.vtt"), CHAPTERS_VTT).unwrap();
        let report = json!({"track": "presenter", "poster": true, "sprites": 1, "chapters": 2});
        let answer = self
            .post(
                &format!("/api/v1/worker/lectures/{lecture}/thumbnails"),
                As::Bearer(WORKER_TOKEN),
                report,
            )
            .await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    }

    /// The box stops recording `lecture`.
    pub async fn stop_recording(&self, lecture: &str) {
        let answer = self
            .post(
                &format!("/api/v1/agent/recordings/{lecture}/stop"),
                As::Bearer(AGENT_TOKEN),
                json!({"recorded_seconds": 2.0}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    }

    /// A capturing lecture with one segment, and the student's playback URL for it.
    pub async fn lecture_with_segment(&self) -> (String, String) {
        let lecture = self.start_lecture().await.lecture_id;
        self.add_segment(&lecture, 0).await;
        let student = self.login(STUDENT).await;
        let answer = self
            .get(
                &format!("/api/v1/lectures/{lecture}/playback"),
                As::Cookie(&student),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let master = answer.json()["master"].as_str().unwrap().to_owned();
        (lecture, master)
    }
}

/// A second catalog beside a [`TestApp`] (see [`TestApp::replica`]).
pub struct Replica {
    pub state: AppState,
    router: App,
}

impl Replica {
    pub async fn get(&self, uri: &str, who: As<'_>) -> Answer {
        answer(&self.router, build(Method::GET, uri, who, None, &[])).await
    }

    /// Sends a request built by the test.
    pub async fn request(&self, request: Request<Body>) -> Answer {
        answer(&self.router, request).await
    }
}

fn build(
    method: Method,
    uri: &str,
    who: As<'_>,
    body: Option<Value>,
    extra: &[(&str, &str)],
) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(uri);
    match who {
        As::Nobody => {}
        As::Cookie(cookie) => request = request.header(header::COOKIE, cookie),
        As::Bearer(token) => {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"))
        }
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => request.body(Body::empty()).unwrap(),
    }
}

async fn answer(router: &App, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

/// The `token` query value of a URL.
pub fn token_of(url: &str) -> &str {
    url.split_once("?token=").expect("URL has a token").1
}

/// Every value of `sql` (one text column) on the catalog's database.
pub async fn texts(app: &TestApp, sql: &str, bind: Option<&str>) -> Vec<Option<String>> {
    let url = &app.state.config().database_url;
    match app.state.store().kind() {
        DatabaseKind::Sqlite => {
            let mut conn = SqliteConnection::connect(url).await.unwrap();
            let mut query = sqlx::query_scalar(sql);
            if let Some(value) = bind {
                query = query.bind(value);
            }
            query.fetch_all(&mut conn).await.unwrap()
        }
        DatabaseKind::Postgres => {
            let mut conn = PgConnection::connect(url).await.unwrap();
            let mut query = sqlx::query_scalar(sql);
            if let Some(value) = bind {
                query = query.bind(value);
            }
            query.fetch_all(&mut conn).await.unwrap()
        }
    }
}
