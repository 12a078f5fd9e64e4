//! The on-demand path on S3 (the packager's s3s test server, SigV4 checked): the catalog
//! keeps the uploaded file in the bucket, the worker fetches it from there and stores the
//! lecture's segments and playlists there, and a student's player fetches every segment from
//! the bucket through the catalog's presigned-URL redirects. The worker's `/metrics` shows
//! the job done and how long each upload to the bucket took.

use anyhow::{bail, Context};
use lectern_packager::test_server::{S3TestServer, BUCKET};
use lectern_packager::{keys, StorageConfig, StorageKind};
use lectern_tests::{probe, sample, scrape, Client, Stack, STUDENT};
use reqwest::{StatusCode, Url};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

const INSTRUCTOR: &str = "instructor@demo.lectern.test";
const SECONDS: f64 = 8.0;

/// The keys in the bucket below `prefix` (s3s-fs keeps each object as a file).
fn keys_below(bucket: &Path, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending = vec![bucket.join(prefix)];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(key) = path.strip_prefix(bucket) {
                found.insert(key.to_string_lossy().into_owned());
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_on_s3_plays_through_presigned_redirects_and_the_worker_counts_its_uploads(
) -> anyhow::Result<()> {
    let server = S3TestServer::start()
        .await
        .context("the s3s test server starts")?;
    let stack = Stack::builder()
        .storage(StorageConfig {
            kind: StorageKind::S3,
            s3: server.settings(),
        })
        .worker(|w| w.metrics_listen = Some(([127, 0, 0, 1], 0).into()))
        .start()
        .await?;
    let bucket = server.root().join(BUCKET);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("lecture.mp4");
    probe::test_lecture(&file, SECONDS, "640x360")?;
    let instructor = Client::login(&stack, INSTRUCTOR).await?;
    let course = instructor.first_course().await?;
    let lecture = instructor.upload_file(&course, &file).await?;
    assert!(
        bucket.join(keys::upload_source(&lecture)).is_file(),
        "the upload is kept in the bucket"
    );
    instructor
        .wait_for_state(&lecture, "ready", Duration::from_secs(120))
        .await?;
    let jobs = instructor
        .json(&format!("/api/v1/lectures/{lecture}/jobs"))
        .await?;
    let job = jobs[0]["id"].as_str().context("a job")?;
    let version = keys::attempt_version(job, 1);
    assert!(
        !stack.storage_dir().exists(),
        "nothing went to the local directory"
    );

    let student = Client::login(&stack, STUDENT).await?;
    let playback = student
        .json(&format!("/api/v1/lectures/{lecture}/playback"))
        .await?;
    let master_url = Url::parse(&student.url(playback["master"].as_str().context("master")?))?;
    let (_, master) = student.get(master_url.as_str()).await?;
    let variants = m3u8_rs::parse_master_playlist_res(master.as_bytes())
        .map_err(|e| anyhow::anyhow!("bad master: {e:?}"))?
        .variants;
    // The ladder's rungs that fit the 640 × 360 source: none is enlarged.
    let fitting = stack
        .worker_config
        .ladder
        .iter()
        .filter(|rung| rung.height <= 360)
        .count();
    assert_eq!(variants.len(), fitting, "{master}");
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut segments = 0;
    for variant in &variants {
        let playlist_url = master_url.join(&variant.uri)?;
        let (status, playlist) = student.get(playlist_url.as_str()).await?;
        assert_eq!(status, StatusCode::OK, "{playlist}");
        let parsed = m3u8_rs::parse_media_playlist_res(playlist.as_bytes())
            .map_err(|e| anyhow::anyhow!("bad playlist: {e:?}"))?;
        // The player's way: each segment URI answers a redirect into the bucket.
        let mut joined = Vec::new();
        for segment in &parsed.segments {
            let url = playlist_url.join(&segment.uri)?;
            let answer = no_redirects.get(url.clone()).send().await?;
            assert_eq!(answer.status(), StatusCode::FOUND, "{url}");
            let location = answer
                .headers()
                .get("location")
                .context("a Location")?
                .to_str()?
                .to_owned();
            assert!(location.starts_with(&server.endpoint()), "{location}");
            assert!(location.contains(&version), "{location}");
            let fetched = no_redirects.get(&location).send().await?;
            if fetched.status() != StatusCode::OK {
                bail!("the presigned URL answered {}", fetched.status());
            }
            joined.extend_from_slice(&fetched.bytes().await?);
            segments += 1;
        }
        let rendition = dir.path().join(format!("{}.ts", variant.bandwidth));
        std::fs::write(&rendition, &joined)?;
        let fetched = probe::duration(&rendition.to_string_lossy())?;
        let played = probe::duration(playlist_url.as_str())?;
        for (how, seconds) in [("fetched segments", fetched), ("played", played)] {
            assert!(
                (seconds - SECONDS).abs() < 0.5,
                "{}: {how} {seconds} s, not {SECONDS}",
                variant.uri
            );
        }
    }

    // The bucket holds the upload and the one attempt's version, nothing else.
    let mut expected = BTreeSet::from([keys::upload_source(&lecture)]);
    let stored = keys_below(&bucket, &keys::lecture_prefix(&lecture));
    assert!(
        stored
            .iter()
            .all(|k| k.starts_with(&keys::version_prefix(&lecture, &version))),
        "{stored:?}"
    );
    expected.extend(stored.iter().cloned());
    let everything = keys_below(&bucket, "");
    assert_eq!(everything, expected);

    let address = stack.worker_metrics.context("the worker serves metrics")?;
    assert_eq!(
        scrape(&format!("http://{address}/healthz"), None).await?,
        "ok"
    );
    let figures = scrape(&format!("http://{address}/metrics"), None).await?;
    for (name, value) in [
        (r#"lectern_worker_jobs_total{outcome="done"}"#, 1.0),
        ("lectern_worker_jobs_running", 0.0),
        ("lectern_worker_live_sessions", 0.0),
        ("lectern_worker_storage_upload_failures_total", 0.0),
    ] {
        assert_eq!(sample(&figures, name), Some(value), "{name}\n{figures}");
    }
    let uploads = sample(&figures, "lectern_worker_storage_upload_seconds_count").unwrap_or(0.0);
    let upload_seconds =
        sample(&figures, "lectern_worker_storage_upload_seconds_sum").unwrap_or(0.0);
    assert!(
        uploads >= stored.len() as f64 && upload_seconds > 0.0,
        "each of the {} objects stored was timed: {uploads} uploads, {upload_seconds} s",
        stored.len()
    );
    let realtime = sample(&figures, "lectern_worker_realtime_factor").unwrap_or(0.0);
    assert!(realtime > 0.1, "realtime factor {realtime}");
    eprintln!(
        "{segments} segments through presigned redirects; {SECONDS} s encoded at {realtime:.2}x realtime; {uploads} uploads to S3, {:.1} ms each on average",
        1000.0 * upload_seconds / uploads
    );
    stack.stop().await
}
