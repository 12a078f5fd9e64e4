//! A short recording through `splitmuxsink` leaves a journal that matches its chunk files.

mod common;

use common::{chunk_files, sha256_of};
use futures_util::StreamExt;
use gst::prelude::*;
use lectern_ingest::spool::{self, ChunkState, ChunkWriter};

/// 150 frames at 30 fps: five seconds of media, in one-second chunks.
const FRAMES: u64 = 150;
const FPS: u64 = 30;
const CHUNK_NS: u64 = 1_000_000_000;

/// Records `FRAMES` frames (and as much audio) as fast as the machine goes, non-live.
fn pipeline(chunk_dir: &std::path::Path) -> gst::Pipeline {
    let launch = format!(
        "videotestsrc num-buffers={FRAMES} pattern=ball \
           ! video/x-raw,width=320,height=240,framerate={FPS}/1 \
           ! x264enc speed-preset=ultrafast key-int-max={FPS} option-string=scenecut=0 \
           ! h264parse ! queue \
           ! splitmuxsink name=spool muxer-factory=mpegtsmux send-keyframe-requests=false \
               max-size-time={CHUNK_NS} location={location} \
         audiotestsrc num-buffers=250 samplesperbuffer=960 \
           ! audio/x-raw,rate=48000,channels=2 ! avenc_aac ! aacparse ! queue ! spool.audio_%u",
        location = chunk_dir.join("%05d.ts").display(),
    );
    gst::parse::launch(&launch)
        .expect("the test pipeline builds (install gstreamer1.0-plugins-{base,good,bad,ugly} and gstreamer1.0-libav)")
        .downcast()
        .unwrap()
}

#[tokio::test]
async fn a_short_recording_journals_every_chunk_with_its_size_hash_and_duration() {
    gst::init().unwrap();
    let spool_dir = tempfile::tempdir().unwrap();
    let journal = spool::create_recording(spool_dir.path(), chrono::Utc::now()).unwrap();
    let recording_dir = journal.recording_dir().to_owned();
    let chunk_dir = spool::create_track_dir(&journal, "presenter").unwrap();

    let pipeline = pipeline(&chunk_dir);
    let mut writer = ChunkWriter::new(journal);
    let mut messages = pipeline.bus().unwrap().stream();
    pipeline.set_state(gst::State::Playing).unwrap();
    while let Some(message) = messages.next().await {
        writer.handle(&message);
        match message.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => panic!("the pipeline failed: {e:?}"),
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    let journaled = writer.finish().await.unwrap();

    let chunks = spool::journal::read_chunks(&recording_dir).unwrap();
    assert_eq!(
        chunks, journaled,
        "the journal on disk holds what the writer journaled"
    );
    let files = chunk_files(&chunk_dir);
    assert!(
        files.len() >= 4,
        "five seconds in one-second chunks: {files:?}"
    );
    assert_eq!(
        chunks.len(),
        files.len(),
        "every chunk file is journaled once"
    );
    for (chunk, file) in chunks.iter().zip(&files) {
        assert_eq!(chunk.path_in(&recording_dir), *file);
        assert_eq!(
            chunk.recording,
            spool::journal::recording_id(&recording_dir)
        );
        assert_eq!(chunk.track, "presenter");
        assert_eq!(chunk.state, ChunkState::Recorded);
        assert!(!chunk.repaired);
        assert_eq!(
            chunk.bytes,
            std::fs::metadata(file).unwrap().len(),
            "{file:?}"
        );
        assert_eq!(chunk.sha256, sha256_of(file), "{file:?}");
        assert!(chunk.duration_ns > 0 && chunk.duration_ns <= CHUNK_NS + 50_000_000);
    }
    let indices: Vec<u32> = chunks.iter().map(|c| c.index).collect();
    assert_eq!(indices, (0..chunks.len() as u32).collect::<Vec<_>>());

    let recorded_ns = FRAMES * 1_000_000_000 / FPS;
    let summed_ns: u64 = chunks.iter().map(|c| c.duration_ns).sum();
    assert!(
        recorded_ns.abs_diff(summed_ns) < CHUNK_NS,
        "durations sum to {summed_ns} ns for {recorded_ns} ns recorded"
    );
    // Chunks follow each other: each starts where the one before ended.
    for pair in chunks.windows(2) {
        let gap = (pair[1].start - pair[0].end()).num_milliseconds().abs();
        assert!(
            gap < 20,
            "chunk {} starts {gap} ms off the end of the one before",
            pair[1].index
        );
    }
}
