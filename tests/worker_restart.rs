//! A worker restarted mid-lecture (an operator's restart, a crash supervisor) costs the live
//! copy a few seconds, marked as a discontinuity, and nothing more: the capture box keeps
//! recording, reconnects to the new worker, and the lecture ends complete and on demand.

use anyhow::Context;
use lectern_tests::{probe, Client, Stack, STUDENT};
use reqwest::Url;
use std::time::Duration;

const RECORD_SECONDS: f64 = 24.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_restarted_mid_lecture_resumes_the_live_copy_behind_a_discontinuity(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let student = Client::login(&stack, STUDENT).await?;
    let courses = student.json("/api/v1/courses").await?;
    let course = courses[0]["id"]
        .as_str()
        .context("the student has a course")?
        .to_owned();

    let restart_when_live = async {
        // Wait until the live copy has a few seconds, then restart the worker.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let lectures = student
                .json(&format!("/api/v1/courses/{course}/lectures"))
                .await?;
            if lectures[0]["duration_seconds"].as_f64().unwrap_or(0.0) >= 4.0 {
                break;
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "the lecture never went live"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        stack.restart_worker().await
    };
    let (recorded, restarted) = tokio::join!(stack.record(RECORD_SECONDS), restart_when_live);
    recorded?;
    restarted?;

    let lectures = student
        .json(&format!("/api/v1/courses/{course}/lectures"))
        .await?;
    let lecture = lectures[0]["id"]
        .as_str()
        .context("the recorded lecture")?
        .to_owned();
    let done = student
        .wait_for_state(&lecture, "ready", Duration::from_secs(60))
        .await?;
    let playback = student
        .json(&format!("/api/v1/lectures/{lecture}/playback"))
        .await?;
    let master_url = Url::parse(&student.url(playback["master"].as_str().context("a master")?))?;
    let (_, master) = student.get(master_url.as_str()).await?;
    let first = m3u8_rs::parse_master_playlist_res(master.as_bytes())
        .map_err(|e| anyhow::anyhow!("bad master: {e:?}"))?
        .variants[0]
        .uri
        .clone();
    let rendition = master_url.join(&first)?;
    let (_, playlist) = student.get(rendition.as_str()).await?;
    assert!(
        playlist.contains("#EXT-X-DISCONTINUITY"),
        "the break is marked: {playlist}"
    );
    assert!(
        playlist.contains("#EXT-X-ENDLIST"),
        "on demand after the lecture: {playlist}"
    );
    let duration = probe::duration(rendition.as_str())?;
    let listed = done["duration_seconds"].as_f64().unwrap_or(0.0);
    // The restart and the box's reconnection cost seconds, not the rest of the lecture.
    assert!(
        duration > RECORD_SECONDS - 10.0,
        "only {duration} s of {RECORD_SECONDS} s live ({listed} s listed)"
    );
    stack.stop().await
}
