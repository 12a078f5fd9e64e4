//! A lecture recorded from the simulated classroom's test sources travels the real path:
//! capture box → SRT → transcode worker → packager → storage → catalog → a player.

use anyhow::Context;
use lectern_ingest::spool::journal::{self, ChunkState, Journal};
use lectern_ingest::upload;
use lectern_tests::{probe, Client, Stack, OUTSIDER, STUDENT};
use reqwest::{StatusCode, Url};
use std::time::Duration;

const RECORD_SECONDS: f64 = 20.0;

/// The media playlists a master lists, as absolute URLs.
fn variants(master_url: &Url, master: &str) -> anyhow::Result<Vec<Url>> {
    let parsed = m3u8_rs::parse_master_playlist_res(master.as_bytes())
        .map_err(|e| anyhow::anyhow!("bad master: {e:?}"))?;
    parsed
        .variants
        .iter()
        .map(|v| Ok(master_url.join(&v.uri)?))
        .collect()
}

/// The segments a media playlist lists, as absolute URLs.
fn segments(playlist_url: &Url, playlist: &str) -> anyhow::Result<Vec<Url>> {
    let parsed = m3u8_rs::parse_media_playlist_res(playlist.as_bytes())
        .map_err(|e| anyhow::anyhow!("bad playlist: {e:?}"))?;
    parsed
        .segments
        .iter()
        .map(|s| Ok(playlist_url.join(&s.uri)?))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_lecture_plays_in_every_rendition_cut_at_the_same_instants() -> anyhow::Result<()>
{
    let stack = Stack::start().await?;
    let student = Client::login(&stack, STUDENT).await?;
    stack.record(RECORD_SECONDS).await?;

    let courses = student.json("/api/v1/courses").await?;
    let course = courses[0]["id"]
        .as_str()
        .context("the student has a course")?;
    let lectures = student
        .json(&format!("/api/v1/courses/{course}/lectures"))
        .await?;
    let lecture = lectures[0]["id"]
        .as_str()
        .context("the course has the recorded lecture")?
        .to_owned();
    let done = student
        .wait_for_state(&lecture, "ready", Duration::from_secs(60))
        .await?;
    assert_eq!(done["live"], false);

    let playback = student
        .json(&format!("/api/v1/lectures/{lecture}/playback"))
        .await?;
    let master_url = Url::parse(
        &student.url(
            playback["master"]
                .as_str()
                .context("playback has a master")?,
        ),
    )?;
    let (status, master) = student.get(master_url.as_str()).await?;
    assert_eq!(status, StatusCode::OK);

    // The pictures came with the live session's reports: a poster and timeline thumbnails;
    // a camera track ("presenter") makes no chapters.
    let poster = playback["poster"].as_str().context("a poster")?;
    let (codec, width, _) = probe::picture(&student.url(poster))?;
    assert_eq!((codec.as_str(), width), ("mjpeg", 640));
    let thumbnails = playback["thumbnails"].as_str().context("thumbnails")?;
    let (status, text) = student.get(thumbnails).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.starts_with("WEBVTT") && text.contains("sprite-0.jpg?token="),
        "{text}"
    );
    assert_eq!(playback["chapters"], serde_json::Value::Null, "{playback}");

    let renditions = variants(&master_url, &master)?;
    assert!(
        renditions.len() >= 2,
        "a ladder of at least two rungs: {master}"
    );

    let mut cuts_per_rendition = Vec::new();
    for rendition in &renditions {
        let errors = probe::decode_errors(rendition.as_str())?;
        assert!(
            errors.is_empty(),
            "{rendition} does not decode cleanly: {errors}"
        );
        let duration = probe::duration(rendition.as_str())?;
        assert!(
            (duration - RECORD_SECONDS).abs() <= 1.0,
            "{rendition} lasts {duration} s, not {RECORD_SECONDS} ± 1 s"
        );

        let (_, playlist) = student.get(rendition.as_str()).await?;
        assert!(
            playlist.contains("#EXT-X-ENDLIST"),
            "on demand after the lecture: {playlist}"
        );
        let mut cuts = Vec::new();
        for segment in segments(rendition, &playlist)? {
            let (pts, keyframe) = probe::first_video_packet(segment.as_str())?;
            assert!(keyframe, "{segment} does not start with a keyframe");
            cuts.push(pts);
        }
        cuts_per_rendition.push(cuts);
    }
    let first = &cuts_per_rendition[0];
    for (rendition, cuts) in renditions.iter().zip(&cuts_per_rendition).skip(1) {
        assert_eq!(
            cuts.len(),
            first.len(),
            "{rendition} has another number of segments"
        );
        for (a, b) in first.iter().zip(cuts) {
            assert!(
                (a - b).abs() < 0.001,
                "{rendition} cuts at {b} where the top rung cuts at {a}"
            );
        }
    }

    // The outsider, of the same institute but not enrolled, learns nothing.
    let outsider = Client::login(&stack, OUTSIDER).await?;
    assert_eq!(
        outsider
            .get(&format!("/api/v1/lectures/{lecture}"))
            .await?
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        outsider
            .get(&format!("/api/v1/lectures/{lecture}/playback"))
            .await?
            .0,
        StatusCode::NOT_FOUND
    );
    let mut tokenless = renditions[0].clone();
    tokenless.set_query(None);
    assert_eq!(
        outsider.get(tokenless.as_str()).await?.0,
        StatusCode::NOT_FOUND
    );
    let (_, playlist) = student.get(renditions[0].as_str()).await?;
    let mut segment = segments(&renditions[0], &playlist)?.remove(0);
    segment.set_query(None);
    assert_eq!(
        outsider.get(segment.as_str()).await?.0,
        StatusCode::NOT_FOUND,
        "a segment without a token"
    );

    // The capture box kept its own copy, in chunks that are media on their own.
    let spooled: Vec<_> = walk(&stack.spool_dir())?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ts"))
        .collect();
    assert!(spooled.len() >= 2, "20 s in 10 s chunks: {spooled:?}");
    let spooled_seconds: f64 = spooled
        .iter()
        .map(|p| probe::duration(&p.to_string_lossy()))
        .sum::<anyhow::Result<f64>>()?;
    assert!(
        (spooled_seconds - RECORD_SECONDS).abs() <= 1.0,
        "the spool holds {spooled_seconds} s"
    );

    // After the lecture the box uploaded every chunk: the catalog's storage holds the same
    // bytes, and the journal marks each confirmed (so the disk guard may free it).
    let recording_dir = std::fs::read_dir(stack.spool_dir())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.is_dir())
        .context("the spool has the recording")?;
    let chunks = journal::read_chunks(&recording_dir)?;
    assert_eq!(
        chunks.len(),
        spooled.len(),
        "every spooled chunk is journaled"
    );
    for chunk in &chunks {
        assert_eq!(chunk.state, ChunkState::Confirmed, "{chunk:?}");
        let uploaded = stack.storage_dir().join(format!(
            "raw/{lecture}/{}/{:05}.ts",
            chunk.track, chunk.index
        ));
        assert_eq!(
            std::fs::read(&uploaded)?,
            std::fs::read(chunk.path_in(&recording_dir))?,
            "{}",
            uploaded.display()
        );
    }
    // A pass interrupted before it could confirm sends nothing the catalog already holds.
    let mut unconfirmed = chunks[0].clone();
    unconfirmed.state = ChunkState::Recorded;
    Journal::open(&recording_dir)?.append(&unconfirmed)?;
    let again = upload::upload_recording(&stack.box_client(), &recording_dir).await?;
    assert_eq!(
        again,
        upload::UploadReport {
            uploaded: 0,
            already_held: 1,
            damaged: 0
        }
    );

    stack.stop().await
}

fn walk(dir: &std::path::Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(walk(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}
