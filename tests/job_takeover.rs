//! A worker killed with `kill -9` in the middle of an on-demand job costs the job one attempt
//! and nothing else: once the dead worker's lease runs out another worker process takes the
//! job over as attempt 2 and completes it; the lecture plays whole, each of its segments is
//! listed once, and storage holds only what the completing attempt stored (the dead
//! attempt's objects are deleted by the catalog when the job ends). A worker frozen instead
//! (SIGSTOP) that wakes after its job was taken over stops and deletes its attempt itself.

use anyhow::{bail, Context};
use lectern_packager::keys;
use lectern_tests::{probe, sample, Client, Stack};
use reqwest::Url;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

const INSTRUCTOR: &str = "instructor@demo.lectern.test";
/// Long enough at 720p that the first worker is caught mid-way (an attempt takes ~10 s here).
const SECONDS: f64 = 40.0;
/// Short, so the dead worker's job is taken over soon (production: 60 s), yet four missed
/// heartbeats (one a second) long, so a busy machine does not lose a live worker's lease.
const LEASE_SECONDS: u32 = 5;
/// How long an attempt may take on a busy machine.
const JOB_DEADLINE: Duration = Duration::from_secs(180);
/// The track an upload becomes.
const TRACK: &str = "main";

/// The lecture's only job, as its staff see it, once `ready` holds for it (polling the API).
async fn job_when(
    client: &Client,
    lecture: &str,
    what: &str,
    ready: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    let deadline = tokio::time::Instant::now() + JOB_DEADLINE;
    loop {
        let jobs = client
            .json(&format!("/api/v1/lectures/{lecture}/jobs"))
            .await?;
        if ready(&jobs[0]) {
            return Ok(jobs[0].clone());
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the job never {what} within {JOB_DEADLINE:?}: {jobs}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every file below `dir`, relative to it, `/`-separated.
fn files_below(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                found.insert(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found
}

/// The media versions a lecture's directory holds.
fn versions_below(lecture_dir: &Path) -> anyhow::Result<Vec<String>> {
    std::fs::read_dir(lecture_dir)?
        .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
        .collect()
}

/// The media playlists a master lists, as absolute URLs, with their rung.
fn variants(master_url: &Url, master: &str) -> anyhow::Result<Vec<(String, Url)>> {
    let parsed = m3u8_rs::parse_master_playlist_res(master.as_bytes())
        .map_err(|e| anyhow::anyhow!("bad master: {e:?}"))?;
    parsed
        .variants
        .iter()
        .map(|v| {
            let url = master_url.join(&v.uri)?;
            let rung = url
                .path_segments()
                .and_then(|mut s| s.nth_back(1))
                .context("a rung in the URI")?
                .to_owned();
            Ok((rung, url))
        })
        .collect()
}

/// A stack without a worker whose catalog lends jobs for [`LEASE_SECONDS`], and a lecture
/// uploaded to it by its instructor (whose client is returned).
async fn an_uploaded_lecture() -> anyhow::Result<(Stack, Client, String)> {
    let stack = Stack::builder()
        .without_worker()
        .catalog(|c| c.jobs.lease_seconds = LEASE_SECONDS)
        .start()
        .await?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("lecture.mp4");
    probe::test_lecture(&file, SECONDS, "1280x720")?;
    let instructor = Client::login(&stack, INSTRUCTOR).await?;
    let course = instructor.first_course().await?;
    let lecture = instructor.upload_file(&course, &file).await?;
    Ok((stack, instructor, lecture))
}

/// The running job once it has made progress: the moment to stop its worker.
async fn mid_way(instructor: &Client, lecture: &str) -> anyhow::Result<Value> {
    job_when(instructor, lecture, "made progress", |job| {
        job["state"] == "running" && job["progress"].as_f64().unwrap_or(0.0) > 0.0
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_job_loses_the_attempt_and_another_worker_completes_the_job(
) -> anyhow::Result<()> {
    let (stack, instructor, lecture) = an_uploaded_lecture().await?;
    let queue = stack.catalog_metrics().await?;
    assert_eq!(
        sample(&queue, r#"lectern_jobs{state="queued"}"#),
        Some(1.0),
        "no worker yet: the job waits in the queue\n{queue}"
    );

    let mut first = stack.spawn_worker("worker-a").await?;
    let running = mid_way(&instructor, &lecture).await?;
    let job = running["id"].as_str().context("a job id")?.to_owned();
    assert_eq!(running["attempts"], 1, "{running}");
    let figures = first.metrics().await?;
    assert_eq!(
        sample(&figures, "lectern_worker_jobs_running"),
        Some(1.0),
        "{figures}"
    );
    assert!(
        sample(&figures, "lectern_worker_storage_upload_seconds_count").unwrap_or(0.0) >= 1.0,
        "progress means segments stored, each timed: {figures}"
    );
    let lecture_dir = stack.storage_dir().join(keys::lecture_prefix(&lecture));
    let dead_version = keys::attempt_version(&job, 1);
    let dead_dir = lecture_dir.join(&dead_version);
    // SIGKILL: no flush, no last report, no lease given back.
    first.kill()?;
    let dead_objects = files_below(&dead_dir);
    assert!(
        dead_objects.iter().any(|f| f.ends_with(".ts")),
        "the killed attempt had stored segments: {dead_objects:?}"
    );
    let orphaned = &instructor
        .json(&format!("/api/v1/lectures/{lecture}/jobs"))
        .await?[0];
    assert_eq!(
        (orphaned["state"].as_str(), orphaned["attempts"].as_u64()),
        (Some("running"), Some(1)),
        "killed mid-way, before completing: {orphaned}"
    );
    eprintln!(
        "killed worker-a (pid {}) at {:.0} % with {} objects stored",
        first.id(),
        orphaned["progress"].as_f64().unwrap_or(0.0) * 100.0,
        dead_objects.len()
    );

    let second = stack.spawn_worker("worker-b").await?;
    let done = job_when(&instructor, &lecture, "was done", |job| {
        job["state"] != "running" && job["state"] != "queued"
    })
    .await?;
    assert_eq!(
        (
            done["state"].as_str(),
            done["attempts"].as_u64(),
            done["progress"].as_f64()
        ),
        (Some("done"), Some(2), Some(1.0)),
        "worker-b completed attempt 2: {done}\n{}",
        second.log()
    );
    instructor
        .wait_for_state(&lecture, "ready", Duration::from_secs(10))
        .await?;

    // Storage: the completing attempt's version only; the dead one's is deleted.
    let final_version = keys::attempt_version(&job, 2);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while dead_dir.exists() {
        if tokio::time::Instant::now() > deadline {
            bail!(
                "the dead attempt's objects linger: {:?}",
                files_below(&dead_dir)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        versions_below(&lecture_dir)?,
        [final_version.as_str()],
        "only the final version is stored"
    );
    let stored = files_below(&lecture_dir.join(&final_version));

    // Every rendition once in the master; every segment once in its playlist, in the
    // catalog's rows and in storage; the whole file plays.
    let playback = instructor
        .json(&format!("/api/v1/lectures/{lecture}/playback"))
        .await?;
    let master_url = Url::parse(&instructor.url(playback["master"].as_str().context("master")?))?;
    let (_, master) = instructor.get(master_url.as_str()).await?;
    let variants = variants(&master_url, &master)?;
    let rungs: BTreeSet<&str> = variants.iter().map(|(rung, _)| rung.as_str()).collect();
    assert_eq!(
        rungs.len(),
        variants.len(),
        "a rendition listed twice: {master}"
    );
    assert_eq!(
        rungs,
        stack
            .worker_config
            .ladder
            .iter()
            .map(|r| r.name.as_str())
            .collect(),
        "{master}"
    );
    let store = stack.store().await?;
    let mut expected_files = BTreeSet::new();
    for (rung, url) in &variants {
        let (_, playlist) = instructor.get(url.as_str()).await?;
        let parsed = m3u8_rs::parse_media_playlist_res(playlist.as_bytes())
            .map_err(|e| anyhow::anyhow!("bad playlist: {e:?}"))?;
        let listed: Vec<u64> = parsed
            .segments
            .iter()
            .map(|s| {
                let name = s.uri.split('?').next().unwrap_or_default();
                name.trim_end_matches(".ts").parse().context("a sequence")
            })
            .collect::<anyhow::Result<_>>()?;
        let count = listed.len() as u64;
        assert_eq!(
            listed,
            (0..count).collect::<Vec<_>>(),
            "{rung}: each segment once, in order"
        );
        let rows: Vec<u64> = store
            .segments(&lecture, TRACK, rung)
            .await?
            .iter()
            .map(|s| s.sequence)
            .collect();
        assert_eq!(
            rows, listed,
            "{rung}: the catalog's rows are the playlist's"
        );
        let listed_seconds: f64 = parsed.segments.iter().map(|s| f64::from(s.duration)).sum();
        assert!(
            (listed_seconds - SECONDS).abs() < 0.5,
            "{rung}: {listed_seconds} s listed, not {SECONDS}"
        );
        let played = probe::duration(url.as_str())?;
        assert!(
            (played - SECONDS).abs() < 0.5,
            "{rung}: plays {played} s, not {SECONDS}"
        );
        expected_files.extend(listed.iter().map(|n| format!("{TRACK}/{rung}/{n}.ts")));
        expected_files.insert(format!("{TRACK}/{rung}/index.m3u8"));
    }
    store.close().await;
    expected_files.insert(format!("{TRACK}/master.m3u8"));
    // The track's pictures, as far as the catalog serves them: the poster, the thumbnails'
    // WebVTT and every sheet it names, the chapters.
    for (field, file) in [
        ("poster", "poster.jpg"),
        ("thumbnails", "thumbnails.vtt"),
        ("chapters", "chapters.vtt"),
    ] {
        let Some(url) = playback[field].as_str() else {
            continue;
        };
        let (status, body) = instructor.get(url).await?;
        assert_eq!(status, reqwest::StatusCode::OK, "{field}: {body}");
        expected_files.insert(format!("{TRACK}/{file}"));
        if field == "thumbnails" {
            for sheet in body.lines().filter_map(|line| line.split('?').next()) {
                if sheet.starts_with("sprite-") {
                    expected_files.insert(format!("{TRACK}/{sheet}"));
                }
            }
        }
    }
    assert_eq!(
        stored, expected_files,
        "storage holds what the index lists, no more"
    );
    let errors = probe::decode_errors(master_url.as_str())?;
    assert!(errors.is_empty(), "the lecture decodes cleanly: {errors}");

    let figures = second.metrics().await?;
    for (name, value) in [
        (r#"lectern_worker_jobs_total{outcome="done"}"#, 1.0),
        ("lectern_worker_jobs_running", 0.0),
    ] {
        assert_eq!(sample(&figures, name), Some(value), "{name}\n{figures}");
    }
    let uploads = sample(&figures, "lectern_worker_storage_upload_seconds_count").unwrap_or(0.0);
    assert!(
        uploads >= (stored.len() - 1) as f64,
        "every segment and playlist of attempt 2 timed: {uploads} of {}",
        stored.len()
    );
    let realtime = sample(&figures, "lectern_worker_realtime_factor").unwrap_or(0.0);
    assert!(realtime > 0.1, "realtime factor {realtime}\n{figures}");
    let queue = stack.catalog_metrics().await?;
    for (name, value) in [
        (r#"lectern_jobs{state="queued"}"#, 0.0),
        (r#"lectern_jobs{state="running"}"#, 0.0),
        (r#"lectern_jobs{state="done"}"#, 1.0),
    ] {
        assert_eq!(sample(&queue, name), Some(value), "{name}\n{queue}");
    }
    eprintln!(
        "worker-b: attempt 2 encoded {SECONDS} s at {realtime:.2}x realtime; {uploads} uploads, {:.1} ms each on average",
        1000.0 * sample(&figures, "lectern_worker_storage_upload_seconds_sum").unwrap_or(0.0)
            / uploads.max(1.0)
    );
    drop(second);
    stack.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_worker_that_wakes_after_its_job_was_taken_over_deletes_what_it_stored(
) -> anyhow::Result<()> {
    let (stack, instructor, lecture) = an_uploaded_lecture().await?;
    let first = stack.spawn_worker("worker-a").await?;
    let running = mid_way(&instructor, &lecture).await?;
    let job = running["id"].as_str().context("a job id")?.to_owned();
    // SIGSTOP: the worker holds the job, says nothing, and its lease runs out.
    first.freeze()?;
    let lecture_dir = stack.storage_dir().join(keys::lecture_prefix(&lecture));
    let frozen_dir = lecture_dir.join(keys::attempt_version(&job, 1));
    assert!(
        files_below(&frozen_dir).iter().any(|f| f.ends_with(".ts")),
        "the frozen attempt had stored segments"
    );
    let _second = stack.spawn_worker("worker-b").await?;
    job_when(&instructor, &lecture, "was taken over", |job| {
        job["attempts"] == 2
    })
    .await?;

    // Woken, it learns at its next heartbeat that worker-b holds the job (409), stops and
    // deletes its attempt, while worker-b still encodes: the catalog's sweep at the job's
    // end has not run, so nothing else deleted it.
    first.thaw()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let figures = first.metrics().await?;
        if sample(&figures, r#"lectern_worker_jobs_total{outcome="lost"}"#) == Some(1.0) {
            assert_eq!(sample(&figures, "lectern_worker_jobs_running"), Some(0.0));
            break;
        }
        if tokio::time::Instant::now() > deadline {
            bail!(
                "worker-a never gave the job up:\n{figures}\n{}",
                first.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !frozen_dir.exists(),
        "worker-a deleted its attempt: {:?}",
        files_below(&frozen_dir)
    );
    let now = &instructor
        .json(&format!("/api/v1/lectures/{lecture}/jobs"))
        .await?[0];
    assert_eq!(
        (now["state"].as_str(), now["attempts"].as_u64()),
        (Some("running"), Some(2)),
        "worker-b still holds the job: {now}"
    );
    assert!(
        first.log().contains("went to another worker"),
        "{}",
        first.log()
    );

    let done = job_when(&instructor, &lecture, "was done", |job| {
        job["state"] == "done"
    })
    .await?;
    assert_eq!(done["attempts"], 2, "{done}");
    instructor
        .wait_for_state(&lecture, "ready", Duration::from_secs(10))
        .await?;
    assert_eq!(
        versions_below(&lecture_dir)?,
        [keys::attempt_version(&job, 2)]
    );
    let played = probe::duration(
        &instructor.url(
            instructor
                .json(&format!("/api/v1/lectures/{lecture}/playback"))
                .await?["master"]
                .as_str()
                .context("master")?,
        ),
    )?;
    assert!((played - SECONDS).abs() < 0.5, "plays {played} s");
    stack.stop().await
}
