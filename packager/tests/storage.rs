//! Storage tests, run against both backends: the local directory and S3Storage talking to a
//! real S3 protocol server (s3s + s3s-fs on a loopback port, signatures checked).

use async_trait::async_trait;
use bytes::Bytes;
use chrono::Utc;
use lectern_packager::test_server::S3TestServer;
use lectern_packager::{
    LocalDir, Packager, ReportError, Reporter, S3Settings, S3Storage, Segment, Storage,
    StorageError,
};
use lectern_wire::worker::{FinishLecture, RenditionReport, SegmentReport};
use std::sync::Arc;
use std::time::Duration;

const SEGMENT_CACHE: &str = "private, max-age=31536000, immutable";

/// Both backends, each with what keeps it alive (the directory, the server).
async fn backends() -> Vec<(&'static str, Arc<dyn Storage>, Box<dyn std::any::Any>)> {
    let dir = tempfile::tempdir().unwrap();
    let local: Arc<dyn Storage> = Arc::new(LocalDir::new(dir.path()));
    let (server, s3) = s3().await;
    vec![
        ("local", local, Box::new(dir)),
        ("s3", Arc::new(s3), Box::new(server)),
    ]
}

async fn s3() -> (S3TestServer, S3Storage) {
    let server = S3TestServer::start()
        .await
        .expect("the s3s test server starts");
    let storage = S3Storage::new(&server.settings()).expect("valid settings");
    (server, storage)
}

#[tokio::test]
async fn objects_round_trip_and_absence_is_none_on_every_backend() {
    for (name, store, _keep) in backends().await {
        let key = "lectures/l1/v1/presenter/360p/0.ts";
        assert_eq!(store.get(key).await.unwrap(), None, "{name}");
        store
            .put(key, Bytes::from_static(b"\x47segment"), "video/mp2t")
            .await
            .unwrap();
        assert_eq!(
            store.get(key).await.unwrap().unwrap(),
            Bytes::from_static(b"\x47segment"),
            "{name}"
        );
        // A playlist is rewritten in place.
        let playlist = "lectures/l1/v1/presenter/360p/index.m3u8";
        for body in ["#EXTM3U\n#one\n", "#EXTM3U\n#two\n"] {
            store
                .put(playlist, Bytes::from(body), "application/vnd.apple.mpegurl")
                .await
                .unwrap();
        }
        assert_eq!(
            &store.get(playlist).await.unwrap().unwrap()[..],
            b"#EXTM3U\n#two\n",
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_reachable_backend_passes_its_check() {
    for (name, store, _keep) in backends().await {
        store
            .check()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[tokio::test]
async fn a_missing_bucket_fails_the_check_naming_it() {
    let server = S3TestServer::start().await.unwrap();
    let store = S3Storage::new(&S3Settings {
        bucket: "no-such-bucket".into(),
        ..server.settings()
    })
    .unwrap();
    let err = store.check().await.unwrap_err().to_string();
    assert!(
        err.contains("HeadBucket") && err.contains("no-such-bucket"),
        "{err}"
    );
}

#[tokio::test]
async fn only_s3_hands_out_presigned_urls_and_only_local_has_paths() {
    for (name, store, _keep) in backends().await {
        let key = "lectures/l1/v1/presenter/360p/0.ts";
        let url = store
            .presigned_get(key, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(url.is_some(), name == "s3", "{name}");
        assert_eq!(store.local_path(key).is_some(), name == "local", "{name}");
    }
}

#[tokio::test]
async fn a_presigned_url_serves_the_bytes_with_their_type_and_cache_policy() {
    let (_server, store) = s3().await;
    let segment = "lectures/l1/v1/presenter/720p/3.ts";
    let playlist = "lectures/l1/v1/presenter/720p/index.m3u8";
    store
        .put(segment, Bytes::from_static(b"\x47\x40\x00"), "video/mp2t")
        .await
        .unwrap();
    store
        .put(
            playlist,
            Bytes::from_static(b"#EXTM3U\n"),
            "application/vnd.apple.mpegurl",
        )
        .await
        .unwrap();

    let http = reqwest::Client::new();
    let url = store
        .presign_get(segment, Duration::from_secs(300))
        .await
        .unwrap();
    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("video/mp2t")
    );
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some(SEGMENT_CACHE)
    );
    assert_eq!(&response.bytes().await.unwrap()[..], b"\x47\x40\x00");

    let url = store
        .presign_get(playlist, Duration::from_secs(300))
        .await
        .unwrap();
    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/vnd.apple.mpegurl")
    );
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
}

#[tokio::test]
async fn a_tampered_presigned_url_is_refused() {
    let (_server, store) = s3().await;
    let key = "lectures/l1/v1/presenter/720p/0.ts";
    store
        .put(key, Bytes::from_static(b"secret"), "video/mp2t")
        .await
        .unwrap();
    let url = store
        .presign_get(key, Duration::from_secs(300))
        .await
        .unwrap();
    let http = reqwest::Client::new();

    // Another object with the same signature.
    let other_key = url.replace("/0.ts?", "/1.ts?");
    assert_ne!(other_key, url);
    // The same object with a flipped signature character.
    let at = url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let flipped = if &url[at..at + 1] == "0" { "1" } else { "0" };
    let bad_signature = format!("{}{}{}", &url[..at], flipped, &url[at + 1..]);
    // A longer lifetime than the one signed.
    let longer = url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000");
    assert_ne!(longer, url);
    // No signature at all.
    let unsigned = url.split('?').next().unwrap().to_owned();

    for tampered in [other_key, bad_signature, longer, unsigned] {
        let response = http.get(&tampered).send().await.unwrap();
        assert_eq!(response.status(), 403, "{tampered}");
        assert!(!response.bytes().await.unwrap().starts_with(b"secret"));
    }
}

#[tokio::test]
async fn objects_above_the_threshold_go_up_in_parts() {
    let server = S3TestServer::start().await.unwrap();
    let settings = S3Settings {
        multipart_threshold_bytes: 5 * 1024 * 1024,
        part_size_bytes: 5 * 1024 * 1024,
        ..server.settings()
    };
    let store = S3Storage::new(&settings).unwrap();
    let key = "raw/r1/presenter/0.ts";
    let body: Bytes = (0..11 * 1024 * 1024 + 17)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    store.put(key, body.clone(), "video/mp2t").await.unwrap();
    assert_eq!(store.get(key).await.unwrap().unwrap(), body);
    // A multipart object's ETag is `<md5 of the part md5s>-<parts>`.
    let url = store
        .presign_get(key, Duration::from_secs(60))
        .await
        .unwrap();
    let response = reqwest::get(&url).await.unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.trim_matches('"').ends_with("-3"), "{etag}");
    assert_eq!(response.headers()["cache-control"], SEGMENT_CACHE);
    assert_eq!(response.headers()["content-type"], "video/mp2t");
}

#[tokio::test]
async fn wrong_credentials_fail_with_a_readable_error_naming_the_key() {
    let server = S3TestServer::start().await.unwrap();
    let store = S3Storage::new(&S3Settings {
        secret_access_key: "not-the-secret".into(),
        ..server.settings()
    })
    .unwrap();
    let err = store
        .put(
            "lectures/l1/v1/x/y/0.ts",
            Bytes::from_static(b"x"),
            "video/mp2t",
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StorageError::S3 { .. }), "{text}");
    assert!(text.contains("PutObject"), "{text}");
    assert!(text.contains("lectures/l1/v1/x/y/0.ts"), "{text}");
    assert!(text.contains("SignatureDoesNotMatch"), "{text}");
    assert!(store.check().await.is_err());
}

#[tokio::test]
async fn a_stopped_store_is_an_error_naming_the_key_and_a_resumed_one_works_again() {
    let mut server = S3TestServer::start().await.unwrap();
    let store = S3Storage::new(&S3Settings {
        connect_timeout_secs: 1,
        operation_timeout_secs: 3,
        ..server.settings()
    })
    .unwrap();
    store.check().await.unwrap();
    server.stop();
    let err = store
        .put(
            "lectures/l1/v1/x/y/0.ts",
            Bytes::from_static(b"x"),
            "video/mp2t",
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("lectures/l1/v1/x/y/0.ts"), "{err}");
    server.resume().await.unwrap();
    store
        .put(
            "lectures/l1/v1/x/y/0.ts",
            Bytes::from_static(b"x"),
            "video/mp2t",
        )
        .await
        .unwrap();
}

#[test]
fn bad_settings_name_the_setting() {
    let good = S3Settings {
        endpoint: "http://127.0.0.1:9000".into(),
        bucket: "b".into(),
        access_key_id: "a".into(),
        secret_access_key: "s".into(),
        ..S3Settings::default()
    };
    good.validate().unwrap();
    let cases = [
        (
            S3Settings {
                endpoint: "127.0.0.1:9000".into(),
                ..good.clone()
            },
            "`endpoint`",
        ),
        (
            S3Settings {
                bucket: String::new(),
                ..good.clone()
            },
            "`bucket`",
        ),
        (
            S3Settings {
                secret_access_key: String::new(),
                ..good.clone()
            },
            "`secret_access_key`",
        ),
        (
            S3Settings {
                part_size_bytes: 1024,
                ..good.clone()
            },
            "`part_size_bytes`",
        ),
    ];
    for (settings, key) in cases {
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains(key), "{err}");
    }
    assert!(
        !format!("{good:?}").contains("\"s\""),
        "the secret is redacted"
    );
}

/// Accepts every report; the packager's own tests check the order of reports.
struct Accept;

#[async_trait]
impl Reporter for Accept {
    async fn rendition(&self, _: &str, _: &RenditionReport) -> Result<(), ReportError> {
        Ok(())
    }
    async fn segment(&self, _: &str, _: &SegmentReport) -> Result<(), ReportError> {
        Ok(())
    }
    async fn finish(&self, _: &str, _: &FinishLecture) -> Result<(), ReportError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_packager_session_writes_its_segments_and_playlists_on_every_backend() {
    for (name, store, _keep) in backends().await {
        let mut packager = Packager::new("lec", store.clone(), Arc::new(Accept));
        for rung in ["720p", "360p"] {
            packager
                .add_rendition(RenditionReport {
                    track: "presenter".into(),
                    rung: rung.into(),
                    width: 640,
                    height: 360,
                    bandwidth: 100,
                    codecs: "avc1.4d401e,mp4a.40.2".into(),
                    frame_rate: 30.0,
                })
                .await
                .unwrap();
        }
        let start = Utc::now();
        for sequence in 0..3u8 {
            for rung in ["720p", "360p"] {
                packager
                    .push(Segment {
                        track: "presenter".into(),
                        rung: rung.into(),
                        duration: 2.0,
                        program_date_time: start + chrono::Duration::seconds(2 * sequence as i64),
                        discontinuity: false,
                        body: Bytes::from(vec![0x47; 188 * (sequence as usize + 1)]),
                    })
                    .await
                    .unwrap();
            }
        }
        packager.finish(None).await.unwrap();

        for rung in ["720p", "360p"] {
            for sequence in 0..3 {
                let key = format!("lectures/lec/v1/presenter/{rung}/{sequence}.ts");
                let body = store.get(&key).await.unwrap().expect(&key);
                assert_eq!(body.len(), 188 * (sequence + 1), "{name} {key}");
            }
            let key = format!("lectures/lec/v1/presenter/{rung}/index.m3u8");
            let text = store.get(&key).await.unwrap().expect(&key);
            let text = String::from_utf8_lossy(&text);
            assert!(text.contains("#EXT-X-ENDLIST"), "{name} {text}");
            assert!(text.contains("2.ts"), "{name} {text}");
        }
        let master = store
            .get("lectures/lec/v1/presenter/master.m3u8")
            .await
            .unwrap()
            .expect("master playlist");
        let master = String::from_utf8_lossy(&master);
        assert!(master.contains("720p/index.m3u8"), "{name} {master}");
        assert!(master.contains("360p/index.m3u8"), "{name} {master}");
    }
}
