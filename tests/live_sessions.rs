//! Live sessions are secured and concurrent: each recording gets its own SRT port and
//! passphrase from the catalog; a caller with a wrong passphrase or an unknown `streamid`
//! is refused; two classrooms recording at once both become playable lectures, and the
//! worker's `/metrics` counts both sessions while they run.

use anyhow::{bail, Context};
use lectern_tests::{probe, sample, scrape, Client, Stack, STUDENT};
use reqwest::{StatusCode, Url};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

/// The lectures of the student's (demo) course, newest first.
async fn lectures(student: &Client) -> anyhow::Result<Vec<Value>> {
    let courses = student.json("/api/v1/courses").await?;
    let course = courses[0]["id"].as_str().context("the demo course")?;
    let lectures = student
        .json(&format!("/api/v1/courses/{course}/lectures"))
        .await?;
    Ok(lectures.as_array().cloned().unwrap_or_default())
}

/// The first media playlist of a lecture's master, as an absolute URL.
async fn first_variant(student: &Client, lecture: &str) -> anyhow::Result<Url> {
    let playback = student
        .json(&format!("/api/v1/lectures/{lecture}/playback"))
        .await?;
    let master_url = Url::parse(&student.url(playback["master"].as_str().context("master")?))?;
    let (status, master) = student.get(master_url.as_str()).await?;
    assert_eq!(status, StatusCode::OK);
    let parsed = m3u8_rs::parse_master_playlist_res(master.as_bytes())
        .map_err(|e| anyhow::anyhow!("bad master: {e:?}"))?;
    let variant = parsed.variants.first().context("a rendition")?;
    Ok(master_url.join(&variant.uri)?)
}

/// Polls the worker's `/metrics` at `url` until it shows `sessions` live sessions.
async fn live_sessions_reach(url: &str, sessions: f64) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let figures = scrape(url, None).await?;
        if sample(&figures, "lectern_worker_live_sessions") == Some(sessions) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the worker never showed {sessions} live sessions:\n{figures}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_classrooms_recording_at_once_both_become_playable_lectures() -> anyhow::Result<()> {
    let stack = Stack::builder()
        .worker(|w| w.metrics_listen = Some(([127, 0, 0, 1], 0).into()))
        .start()
        .await?;
    let metrics = format!(
        "http://{}/metrics",
        stack.worker_metrics.context("the worker serves metrics")?
    );
    let second_box = stack.add_capture_box("Hall 2").await?;
    let (a, b, both) = tokio::join!(
        stack.record(12.0),
        stack.record_with(&second_box, stack.path("spool-2"), 12.0),
        live_sessions_reach(&metrics, 2.0)
    );
    a.context("the first classroom")?;
    b.context("the second classroom")?;
    both.context("the worker's metrics while both record")?;

    let student = Client::login(&stack, STUDENT).await?;
    let lectures = lectures(&student).await?;
    assert_eq!(lectures.len(), 2, "one lecture per classroom: {lectures:?}");
    for lecture in &lectures {
        let id = lecture["id"].as_str().context("lecture id")?;
        student
            .wait_for_state(id, "ready", Duration::from_secs(60))
            .await?;
        let variant = first_variant(&student, id).await?;
        let errors = probe::decode_errors(variant.as_str())?;
        assert!(
            errors.is_empty(),
            "{variant} does not decode cleanly: {errors}"
        );
        let duration = probe::duration(variant.as_str())?;
        assert!(duration > 6.0, "lecture {id} has only {duration} s");
    }
    live_sessions_reach(&metrics, 0.0)
        .await
        .context("the worker's metrics after the lectures")?;
    stack.stop().await
}

/// Pushes a few seconds of test video to `url` as an SRT caller; true when the
/// connection was accepted and the stream sent.
fn push_as_caller(url: &str, stream_id: &str, passphrase: &str) -> anyhow::Result<bool> {
    let status = Command::new("timeout")
        .args([
            "20",
            "gst-launch-1.0",
            "-q",
            "videotestsrc",
            "num-buffers=60",
            "is-live=true",
            "!",
        ])
        .args(["x264enc", "tune=zerolatency", "!", "mpegtsmux", "!"])
        .arg("srtsink")
        .arg(format!("uri={url}?mode=caller"))
        .arg(format!("streamid={stream_id}"))
        .arg(format!("passphrase={passphrase}"))
        .arg("pbkeylen=32")
        .status()
        .context("running gst-launch-1.0")?;
    Ok(status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_passphrase_and_an_unknown_streamid_are_refused() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let token = stack.add_capture_box("Hall 3").await?;
    let http = reqwest::Client::new();
    let started: Value = http
        .post(format!("{}/api/v1/agent/recordings", stack.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"tracks": ["presenter"]}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let lecture = started["lecture_id"]
        .as_str()
        .context("lecture id")?
        .to_owned();
    let live = &started["live"];
    let url = live["srt_url"]
        .as_str()
        .context("a live target")?
        .to_owned();
    let stream_id = live["stream_ids"][0]
        .as_str()
        .context("a streamid")?
        .to_owned();
    let passphrase = live["passphrase"]
        .as_str()
        .context("a passphrase")?
        .to_owned();
    assert_eq!(passphrase.len(), 32);
    // The worker polls its sessions every second.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let (u, s) = (url.clone(), stream_id.clone());
    let wrong_passphrase =
        tokio::task::spawn_blocking(move || push_as_caller(&u, &s, "not-the-passphrase-0123"))
            .await??;
    assert!(
        !wrong_passphrase,
        "a caller with a wrong passphrase was accepted"
    );
    let (u, p) = (url.clone(), passphrase.clone());
    let other = "lectern:00000000-0000-0000-0000-000000000000:presenter".to_owned();
    let unknown_stream =
        tokio::task::spawn_blocking(move || push_as_caller(&u, &other, &p)).await??;
    assert!(
        !unknown_stream,
        "a caller with an unknown streamid was accepted"
    );

    // Nothing reached the lecture: it has no media and is still capturing.
    let student = Client::login(&stack, STUDENT).await?;
    let (status, body) = student
        .get(&format!("/api/v1/lectures/{lecture}/playback"))
        .await?;
    if status != StatusCode::NOT_FOUND {
        bail!("the refused callers produced media: {status} {body}");
    }
    let state = student.json(&format!("/api/v1/lectures/{lecture}")).await?;
    assert_eq!(state["state"], "capturing");

    // The right caller is still welcome on that port afterwards.
    let (u, s, p) = (url.clone(), stream_id.clone(), passphrase.clone());
    let right = tokio::task::spawn_blocking(move || push_as_caller(&u, &s, &p)).await??;
    assert!(
        right,
        "the assigned caller was refused after the wrong ones"
    );
    stack.stop().await
}
