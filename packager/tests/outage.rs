//! A store that goes away during a lecture costs a delay, never a segment.

use bytes::Bytes;
use chrono::Utc;
use lectern_packager::test_server::S3TestServer;
use lectern_packager::{NoCatalog, Packager, S3Storage, Segment, Storage};
use lectern_wire::worker::RenditionReport;
use std::sync::Arc;
use std::time::Duration;

fn segment(n: u8) -> Segment {
    Segment {
        track: "presenter".into(),
        rung: "360p".into(),
        duration: 2.0,
        program_date_time: Utc::now(),
        discontinuity: false,
        body: Bytes::from(vec![n; 1000]),
    }
}

#[tokio::test]
async fn segments_pushed_while_the_store_is_down_are_stored_once_it_is_back() {
    let mut server = S3TestServer::start().await.unwrap();
    let storage = Arc::new(S3Storage::new(&server.settings()).unwrap());
    let mut packager = Packager::new("lec", storage.clone(), Arc::new(NoCatalog));
    packager
        .add_rendition(RenditionReport {
            track: "presenter".into(),
            rung: "360p".into(),
            width: 640,
            height: 360,
            bandwidth: 800_000,
            codecs: "avc1.64001e,mp4a.40.2".into(),
            frame_rate: 30.0,
        })
        .await
        .unwrap();
    packager.push(segment(0)).await.unwrap();

    server.stop();
    let pushing = tokio::spawn(async move {
        packager.push(segment(1)).await.unwrap();
        packager.push(segment(2)).await.unwrap();
        packager.finish(None).await.unwrap();
    });
    // While the store is down the packager holds the segments: it neither finishes nor fails.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !pushing.is_finished(),
        "the packager gave up or skipped a segment while the store was down"
    );

    server.resume().await.unwrap();
    tokio::time::timeout(Duration::from_secs(60), pushing)
        .await
        .expect("the held segments are stored once the store is back")
        .unwrap();
    for n in 0..3u8 {
        let body = storage
            .get(&format!("lectures/lec/v1/presenter/360p/{n}.ts"))
            .await
            .unwrap();
        assert_eq!(body.as_deref(), Some(&vec![n; 1000][..]), "segment {n}");
    }
    let playlist = storage
        .get("lectures/lec/v1/presenter/360p/index.m3u8")
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&playlist);
    assert!(
        text.contains("2.ts") && text.contains("#EXT-X-ENDLIST"),
        "{text}"
    );
}
