//! Resumable uploads (tus 1.0.0, `api::resumable`): a file sent in several PATCHes, one of
//! them cut off mid-body over a real connection, becomes a lecture whose stored file is the
//! file, byte for byte, with its job queued; the tus refusals (409, 412, 413, 415); DELETE
//! and the expiry sweep take the bytes away; on S3 the bytes wait in a multipart upload.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use base64::Engine;
use bytes::Bytes;
use lectern_catalog::api::resumable::{sweep, LIFETIME};
use lectern_packager::test_server::S3TestServer;
use lectern_packager::{S3Storage, Storage, StorageConfig, StorageKind};
use lectern_wire::api::LectureState;
use lectern_wire::jobs::{JobKind, JobState, TranscodeUpload};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

use crate::helpers::{Answer, As, Db, TestApp, OUTSIDER};
use crate::uploads::demo_course;

const INSTRUCTOR: &str = "instructor@demo.lectern.test";
const ADMIN: &str = "admin@demo.lectern.test";
const OCTETS: &str = "application/offset+octet-stream";

/// A file of `len` bytes that no two offsets of which are likely to be confused.
fn file_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 251) % 256) as u8).collect()
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

async fn tus(
    app: &TestApp,
    method: Method,
    uri: &str,
    cookie: &str,
    headers: &[(&str, &str)],
    body: Body,
) -> Answer {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, cookie)
        .header("tus-resumable", "1.0.0");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.request(request.body(body).unwrap()).await
}

/// Creates an upload of `length` bytes in `course`; returns its URL.
async fn create(app: &TestApp, cookie: &str, course: &str, length: usize) -> String {
    let metadata = format!(
        "filename {},title {}",
        b64("week-1.mp4"),
        b64("Week 1: Sorting")
    );
    let answer = tus(
        app,
        Method::POST,
        &format!("/api/v1/courses/{course}/uploads/resumable"),
        cookie,
        &[
            ("upload-length", &length.to_string()),
            ("upload-metadata", &metadata),
        ],
        Body::empty(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    assert_eq!(answer.header("tus-resumable"), "1.0.0");
    assert!(answer.header("upload-expires").ends_with(" GMT"));
    let location = answer.header("location").to_owned();
    assert!(location.starts_with("/api/v1/uploads/"), "{location}");
    assert_eq!(answer.json()["offset"], 0);
    location
}

async fn send(app: &TestApp, cookie: &str, url: &str, offset: usize, bytes: &[u8]) -> Answer {
    tus(
        app,
        Method::PATCH,
        url,
        cookie,
        &[
            ("content-type", OCTETS),
            ("upload-offset", &offset.to_string()),
        ],
        Body::from(bytes.to_vec()),
    )
    .await
}

async fn offset_of(app: &TestApp, cookie: &str, url: &str) -> Answer {
    tus(app, Method::HEAD, url, cookie, &[], Body::empty()).await
}

/// Sends the first `sent` bytes of a PATCH body announced as `announced` bytes over a real
/// connection, and closes it: a connection cut off mid-body.
async fn send_and_cut(
    address: std::net::SocketAddr,
    cookie: &str,
    url: &str,
    offset: usize,
    announced: usize,
    sent: &[u8],
) {
    let mut connection = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "PATCH {url} HTTP/1.1\r\nhost: {address}\r\ncookie: {cookie}\r\ntus-resumable: 1.0.0\r\n\
         content-type: {OCTETS}\r\nupload-offset: {offset}\r\ncontent-length: {announced}\r\n\r\n"
    );
    connection.write_all(head.as_bytes()).await.unwrap();
    connection.write_all(sent).await.unwrap();
    connection.shutdown().await.unwrap();
    drop(connection);
}

/// Asks with HEAD until the upload holds `expected` bytes (the cut-off request is still
/// being wound up meanwhile), for at most 10 s; returns the last answer.
async fn offset_becomes(app: &TestApp, cookie: &str, url: &str, expected: usize) -> Answer {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let answer = offset_of(app, cookie, url).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        if answer.header("upload-offset") == expected.to_string()
            || tokio::time::Instant::now() > deadline
        {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_file_sent_in_pieces_and_cut_off_once_becomes_a_lecture_byte_for_byte(db: Db) {
    let app = TestApp::spawn(db).await;
    let address = app.serve().await;
    let cookie = app.login(INSTRUCTOR).await;
    let course = demo_course(&app, &cookie).await;
    let file = file_of(3 * 1024 * 1024 + 12_345);
    let url = create(&app, &cookie, &course, file.len()).await;
    let staged = |lecture: &str| {
        app.storage
            .path()
            .join(format!("uploads/{lecture}/staging"))
    };

    let first = 1024 * 1024;
    let answer = send(&app, &cookie, &url, 0, &file[..first]).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    assert_eq!(answer.header("upload-offset"), first.to_string());
    assert_eq!(answer.header("tus-resumable"), "1.0.0");

    // Wi-Fi gone mid-request: 700,000 of the remaining bytes arrive, then the connection ends.
    let kept = first + 700_000;
    send_and_cut(
        address,
        &cookie,
        &url,
        first,
        file.len() - first,
        &file[first..kept],
    )
    .await;
    let head = offset_becomes(&app, &cookie, &url, kept).await;
    assert_eq!(
        head.header("upload-offset"),
        kept.to_string(),
        "what arrived is kept"
    );
    assert_eq!(head.header("upload-length"), file.len().to_string());
    assert_eq!(head.header("cache-control"), "no-store");

    // Starting again from the old offset is refused: the client must resume.
    let answer = send(&app, &cookie, &url, first, &file[first..]).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text());
    assert!(
        answer.text().contains(&kept.to_string()),
        "{}",
        answer.text()
    );

    let middle = kept + 1_000_000;
    let answer = send(&app, &cookie, &url, kept, &file[kept..middle]).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    assert!(
        answer.header("lectern-lecture-id").is_empty(),
        "not whole yet"
    );
    let answer = send(&app, &cookie, &url, middle, &file[middle..]).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    assert_eq!(answer.header("upload-offset"), file.len().to_string());
    let lecture = answer.header("lectern-lecture-id").to_owned();
    assert!(!lecture.is_empty(), "the last byte made a lecture");

    let stored = std::fs::read(app.storage.path().join(format!("uploads/{lecture}/source")));
    assert!(
        stored.unwrap() == file,
        "the stored file is the file, byte for byte"
    );
    assert!(!staged(&lecture).exists(), "nothing stays staged");
    let row = app.state.store().lecture(&lecture).await.unwrap().unwrap();
    assert_eq!(row.state, LectureState::Processing);
    assert_eq!(row.settings.title, "Week 1: Sorting");
    assert_eq!(row.course_id, course);
    let jobs = app.state.store().lecture_jobs(&lecture).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (jobs[0].kind, jobs[0].state),
        (JobKind::TranscodeUpload, JobState::Queued)
    );
    let worker = crate::jobs::worker_id(app.state.store(), crate::helpers::WORKER_TOKEN).await;
    let job = app
        .state
        .store()
        .claim_job(&worker, &Default::default(), chrono::Utc::now())
        .await
        .unwrap()
        .expect("the upload's job");
    let payload: TranscodeUpload = serde_json::from_value(job.payload).unwrap();
    assert_eq!(
        payload,
        TranscodeUpload {
            source_key: format!("uploads/{lecture}/source"),
            file_name: Some("week-1.mp4".into()),
            bytes: file.len() as u64,
        }
    );

    // The client that lost the last answer asks again and learns the lecture.
    let state = app.get(&url, As::Cookie(&cookie)).await;
    assert_eq!(state.status, StatusCode::OK, "{}", state.text());
    assert_eq!(state.json()["lecture_id"], lecture.as_str());
    assert_eq!(state.json()["offset"], file.len());
    let again = send(&app, &cookie, &url, file.len(), b"").await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "{}", again.text());
    assert_eq!(again.header("lectern-lecture-id"), lecture);
    assert_eq!(
        app.state
            .store()
            .lecture_jobs(&lecture)
            .await
            .unwrap()
            .len(),
        1
    );
    let finished = tus(&app, Method::DELETE, &url, &cookie, &[], Body::empty()).await;
    assert_eq!(finished.status, StatusCode::CONFLICT, "{}", finished.text());
    let log = app
        .get("/api/v1/audit", As::Cookie(&app.login(ADMIN).await))
        .await;
    assert!(log.text().contains("lecture.upload"), "{}", log.text());
}

async fn refusals_are_tus_answers_with_error_bodies(db: Db) {
    let app = TestApp::spawn_with(db, |config| config.max_upload_bytes = 1000).await;
    let cookie = app.login(INSTRUCTOR).await;
    let course = demo_course(&app, &cookie).await;
    let creation = format!("/api/v1/courses/{course}/uploads/resumable");
    let refused = |answer: &Answer, status: StatusCode, code: &str, needle: &str| {
        assert_eq!(answer.status, status, "{}", answer.text());
        assert_eq!(answer.json()["error"]["code"], code);
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(needle), "{needle:?} not in {message:?}");
        assert_eq!(answer.header("tus-resumable"), "1.0.0");
    };

    let over = tus(
        &app,
        Method::POST,
        &creation,
        &cookie,
        &[("upload-length", "1001")],
        Body::empty(),
    )
    .await;
    refused(
        &over,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "max_upload_bytes",
    );
    let bad = tus(
        &app,
        Method::POST,
        &creation,
        &cookie,
        &[("upload-length", "-3")],
        Body::empty(),
    )
    .await;
    refused(
        &bad,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "Upload-Length",
    );
    let empty = tus(
        &app,
        Method::POST,
        &creation,
        &cookie,
        &[("upload-length", "0")],
        Body::empty(),
    )
    .await;
    refused(&empty, StatusCode::BAD_REQUEST, "bad_request", "empty");
    let request = Request::builder()
        .method(Method::POST)
        .uri(&creation)
        .header(header::COOKIE, &cookie)
        .header("upload-length", "10")
        .body(Body::empty())
        .unwrap();
    let unversioned = app.request(request).await;
    refused(
        &unversioned,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        "Tus-Resumable",
    );
    assert_eq!(unversioned.header("tus-version"), "1.0.0");

    let url = create(&app, &cookie, &course, 1000).await;
    let answer = tus(
        &app,
        Method::PATCH,
        &url,
        &cookie,
        &[("content-type", "application/json"), ("upload-offset", "0")],
        Body::from("{}"),
    )
    .await;
    refused(
        &answer,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        OCTETS,
    );
    let answer = send(&app, &cookie, &url, 0, &[1; 1001]).await;
    refused(
        &answer,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "Upload-Length",
    );
    let answer = send(&app, &cookie, &url, 0, &[1; 100]).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    let answer = send(&app, &cookie, &url, 0, &[1; 100]).await;
    refused(&answer, StatusCode::CONFLICT, "conflict", "from offset 100");
    let answer = tus(
        &app,
        Method::PATCH,
        &url,
        &cookie,
        &[("content-type", OCTETS)],
        Body::from("x"),
    )
    .await;
    refused(
        &answer,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "Upload-Offset",
    );
    // A body without Content-Length that goes past the end: what fits is not counted either.
    let chunks = futures_util::stream::iter([
        Ok::<_, std::io::Error>(Bytes::from(vec![2u8; 900])),
        Ok(Bytes::from(vec![3u8; 1])),
    ]);
    let answer = tus(
        &app,
        Method::PATCH,
        &url,
        &cookie,
        &[("content-type", OCTETS), ("upload-offset", "100")],
        Body::from_stream(chunks),
    )
    .await;
    refused(
        &answer,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "holds 1000 bytes",
    );
    // The bytes before the chunk that went past the end are kept.
    assert_eq!(
        offset_of(&app, &cookie, &url).await.header("upload-offset"),
        "1000"
    );

    // Cross-site requests are refused before anything is read.
    let answer = tus(
        &app,
        Method::PATCH,
        &url,
        &cookie,
        &[
            ("content-type", OCTETS),
            ("upload-offset", "100"),
            ("origin", "https://evil.example"),
        ],
        Body::from("x"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text());
    let answer = tus(
        &app,
        Method::DELETE,
        &url,
        &cookie,
        &[("sec-fetch-site", "cross-site")],
        Body::empty(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text());

    let options = tus(
        &app,
        Method::OPTIONS,
        &creation,
        &cookie,
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(options.status, StatusCode::NO_CONTENT, "{}", options.text());
    assert_eq!(options.header("tus-version"), "1.0.0");
    assert_eq!(
        options.header("tus-extension"),
        "creation,termination,expiration"
    );
    assert_eq!(options.header("tus-max-size"), "1000");
}

/// The storage directory below which the upload at `url` keeps its bytes.
async fn upload_dir(app: &TestApp, url: &str) -> std::path::PathBuf {
    let id = url.rsplit('/').next().unwrap();
    let upload = app
        .state
        .store()
        .resumable_upload(id)
        .await
        .unwrap()
        .unwrap();
    app.storage
        .path()
        .join(format!("uploads/{}", upload.lecture_id))
}

async fn delete_and_the_expiry_sweep_take_the_bytes_away(db: Db) {
    let app = TestApp::spawn(db).await;
    let cookie = app.login(INSTRUCTOR).await;
    let course = demo_course(&app, &cookie).await;
    let file = file_of(5000);

    let abandoned = create(&app, &cookie, &course, file.len()).await;
    assert_eq!(
        send(&app, &cookie, &abandoned, 0, &file[..2000])
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let dir = upload_dir(&app, &abandoned).await;
    assert_eq!(
        std::fs::metadata(dir.join("staging/received"))
            .unwrap()
            .len(),
        2000
    );
    let answer = tus(
        &app,
        Method::DELETE,
        &abandoned,
        &cookie,
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    assert!(!dir.exists(), "the bytes went with it");
    assert_eq!(
        offset_of(&app, &cookie, &abandoned).await.status,
        StatusCode::NOT_FOUND
    );

    let forgotten = create(&app, &cookie, &course, file.len()).await;
    assert_eq!(
        send(&app, &cookie, &forgotten, 0, &file[..3000])
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let finished = create(&app, &cookie, &course, 10).await;
    let answer = send(&app, &cookie, &finished, 0, &file[..10]).await;
    let lecture = answer.header("lectern-lecture-id").to_owned();
    assert!(!lecture.is_empty(), "{}", answer.text());
    let dir = upload_dir(&app, &forgotten).await;
    let now = chrono::Utc::now();

    // Past its expiry (and before the sweep) an upload says so.
    let lapsed = create(&app, &cookie, &course, file.len()).await;
    let id = lapsed.rsplit('/').next().unwrap();
    let past = now - chrono::Duration::seconds(1);
    assert!(app
        .state
        .store()
        .advance_resumable_upload(id, 0, 0, past)
        .await
        .unwrap());
    let answer = send(&app, &cookie, &lapsed, 0, &file[..10]).await;
    assert_eq!(answer.status, StatusCode::GONE, "{}", answer.text());
    assert!(
        answer.text().contains("start the upload again"),
        "{}",
        answer.text()
    );
    assert_eq!(
        offset_of(&app, &cookie, &lapsed).await.status,
        StatusCode::GONE
    );
    let lapsed_dir = upload_dir(&app, &lapsed).await;
    assert!(lapsed_dir.join("staging/received").exists());
    assert_eq!(sweep(&app.state, now).await.unwrap(), 1, "the lapsed one");
    assert!(!lapsed_dir.exists(), "the lapsed upload's bytes are gone");
    assert!(dir.join("staging/received").exists());

    assert_eq!(
        sweep(&app.state, now + LIFETIME + chrono::Duration::minutes(1))
            .await
            .unwrap(),
        2
    );
    assert!(!dir.exists(), "the forgotten upload's bytes are gone");
    assert_eq!(
        offset_of(&app, &cookie, &forgotten).await.status,
        StatusCode::NOT_FOUND
    );
    let source = app.storage.path().join(format!("uploads/{lecture}/source"));
    assert_eq!(
        std::fs::read(source).unwrap(),
        &file[..10],
        "a finished upload's lecture keeps its file"
    );
}

async fn only_its_creator_reaches_an_upload(db: Db) {
    let app = TestApp::spawn(db).await;
    let cookie = app.login(INSTRUCTOR).await;
    let course = demo_course(&app, &cookie).await;
    let url = create(&app, &cookie, &course, 100).await;
    // The institute's admin may upload to the course, but this upload is not theirs.
    for other in [ADMIN, OUTSIDER] {
        let other = app.login(other).await;
        assert_eq!(
            offset_of(&app, &other, &url).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(&app, &other, &url, 0, b"x").await.status,
            StatusCode::NOT_FOUND
        );
        let answer = tus(&app, Method::DELETE, &url, &other, &[], Body::empty()).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        offset_of(&app, &cookie, &url).await.header("upload-offset"),
        "0"
    );
}

/// With S3 storage, whole parts go to a multipart upload, the rest of each request to a tail
/// object; a body that breaks off keeps what arrived, and the last byte completes the object.
async fn on_s3_the_bytes_wait_in_a_multipart_upload_until_the_last(db: Db) {
    let server = S3TestServer::start()
        .await
        .expect("the s3s test server starts");
    let mut settings = server.settings();
    settings.part_size_bytes = lectern_packager::s3::MIN_PART_SIZE;
    let s3 = settings.clone();
    let app = TestApp::spawn_with(db, |config| {
        config.storage = StorageConfig {
            kind: StorageKind::S3,
            s3,
        };
    })
    .await;
    let bucket = S3Storage::new(&settings).unwrap();
    let cookie = app.login(INSTRUCTOR).await;
    let course = demo_course(&app, &cookie).await;
    let part = lectern_packager::s3::MIN_PART_SIZE;
    let file = file_of(2 * part + 300_000);
    let url = create(&app, &cookie, &course, file.len()).await;

    // A whole part and a tail of 1 MiB.
    let first = part + 1024 * 1024;
    assert_eq!(
        send(&app, &cookie, &url, 0, &file[..first]).await.status,
        StatusCode::NO_CONTENT
    );
    // A body that breaks off after 2 MiB more (still inside the second part).
    let cut = first + 2 * 1024 * 1024;
    let chunks = futures_util::stream::iter([
        Ok(Bytes::copy_from_slice(&file[first..cut])),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "Wi-Fi gone",
        )),
    ]);
    let answer = tus(
        &app,
        Method::PATCH,
        &url,
        &cookie,
        &[
            ("content-type", OCTETS),
            ("upload-offset", &first.to_string()),
        ],
        Body::from_stream(chunks),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert_eq!(
        offset_of(&app, &cookie, &url).await.header("upload-offset"),
        cut.to_string()
    );

    let answer = send(&app, &cookie, &url, cut, &file[cut..]).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    let lecture = answer.header("lectern-lecture-id").to_owned();
    let stored = bucket
        .get(&format!("uploads/{lecture}/source"))
        .await
        .unwrap();
    assert!(
        stored.expect("the object is complete") == file,
        "byte for byte"
    );
    let staged = bucket
        .get(&format!("uploads/{lecture}/staging/tail-{cut}"))
        .await
        .unwrap();
    assert!(staged.is_none(), "no tail stays behind");
    assert_eq!(
        app.state
            .store()
            .lecture_jobs(&lecture)
            .await
            .unwrap()
            .len(),
        1
    );

    // An abandoned one takes its parts and tail with it.
    let url = create(&app, &cookie, &course, file.len()).await;
    assert_eq!(
        send(&app, &cookie, &url, 0, &file[..first]).await.status,
        StatusCode::NO_CONTENT
    );
    let id = url.rsplit('/').next().unwrap();
    let upload = app
        .state
        .store()
        .resumable_upload(id)
        .await
        .unwrap()
        .unwrap();
    let tail = format!("uploads/{}/staging/tail-{first}", upload.lecture_id);
    assert!(bucket.get(&tail).await.unwrap().is_some());
    let answer = tus(&app, Method::DELETE, &url, &cookie, &[], Body::empty()).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    assert!(bucket.get(&tail).await.unwrap().is_none());
    let abort_again = bucket
        .complete_multipart(
            &format!("uploads/{}/source", upload.lecture_id),
            &upload.s3.unwrap().upload_id,
            1,
        )
        .await;
    assert!(abort_again.is_err(), "the multipart upload was aborted");
}

/// The PATCHes of one upload may reach any replica behind the load balancer: the bytes wait
/// in the storage they share, the offset in the database.
async fn each_patch_may_reach_another_replica(db: Db) {
    let app = TestApp::spawn(db).await;
    let replica = app.replica().await;
    let cookie = app.login(INSTRUCTOR).await;
    let course = demo_course(&app, &cookie).await;
    let file = file_of(300_000);
    let url = create(&app, &cookie, &course, file.len()).await;
    let patch = |from: usize, to: usize| {
        Request::builder()
            .method(Method::PATCH)
            .uri(&url)
            .header(header::COOKIE, &cookie)
            .header("tus-resumable", "1.0.0")
            .header("content-type", OCTETS)
            .header("upload-offset", from.to_string())
            .body(Body::from(file[from..to].to_vec()))
            .unwrap()
    };
    let answer = replica.request(patch(0, 100_000)).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    assert_eq!(
        offset_of(&app, &cookie, &url).await.header("upload-offset"),
        "100000"
    );
    let answer = app.request(patch(100_000, 250_000)).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    let answer = replica.request(patch(250_000, file.len())).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());
    let lecture = answer.header("lectern-lecture-id");
    let stored = std::fs::read(app.storage.path().join(format!("uploads/{lecture}/source")));
    assert!(
        stored.unwrap() == file,
        "the stored file is the file, byte for byte"
    );
}

on_both_databases!(
    each_patch_may_reach_another_replica,
    a_file_sent_in_pieces_and_cut_off_once_becomes_a_lecture_byte_for_byte,
    refusals_are_tus_answers_with_error_bodies,
    delete_and_the_expiry_sweep_take_the_bytes_away,
    only_its_creator_reaches_an_upload,
    on_s3_the_bytes_wait_in_a_multipart_upload_until_the_last,
);
