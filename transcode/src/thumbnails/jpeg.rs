//! JPEG encoding with GStreamer's `jpegenc` (libjpeg-turbo), through a two-element pipeline
//! per picture: `appsrc ! jpegenc ! appsink`. The platform already has it, so the worker
//! needs no image crate; and a poster per track and a sheet per 100 thumbnails are few enough
//! that building a pipeline for each costs nothing that shows (a few milliseconds).
//!
//! Blocking: call it from `spawn_blocking`.

use super::picture::Picture;
use crate::error::WorkerError;
use crate::gst_util::{bus_error, make};
use bytes::Bytes;
use gst::prelude::*;

/// How long one picture may take before the encoder counts as stuck.
const TIMEOUT: gst::ClockTime = gst::ClockTime::from_seconds(10);

/// `picture` as a baseline JPEG of `quality` (1 to 100).
pub fn encode(picture: &Picture, quality: i32) -> Result<Bytes, WorkerError> {
    let info =
        gst_video::VideoInfo::builder(gst_video::VideoFormat::Rgb, picture.width, picture.height)
            .fps(gst::Fraction::new(0, 1))
            .build()
            .map_err(|e| {
                WorkerError::Gst(format!(
                    "a {}×{} picture: {e}",
                    picture.width, picture.height
                ))
            })?;
    let pipeline = gst::Pipeline::with_name("jpeg");
    let src = gst_app::AppSrc::builder()
        .caps(&info.to_caps()?)
        .format(gst::Format::Time)
        .build();
    let encoder = make("jpegenc", None)?;
    encoder.set_property("quality", quality.clamp(1, 100));
    let sink = gst_app::AppSink::builder().sync(false).build();
    pipeline.add_many([src.upcast_ref(), &encoder, sink.upcast_ref()])?;
    gst::Element::link_many([src.upcast_ref(), &encoder, sink.upcast_ref()])?;

    let result = (|| {
        pipeline.set_state(gst::State::Playing)?;
        src.push_buffer(frame_buffer(picture, &info)?)
            .map_err(|e| WorkerError::Gst(format!("jpegenc refused the picture: {e}")))?;
        src.end_of_stream()
            .map_err(|e| WorkerError::Gst(format!("jpegenc: {e}")))?;
        match sink.try_pull_sample(TIMEOUT) {
            Some(sample) => {
                let buffer = sample
                    .buffer()
                    .ok_or_else(|| WorkerError::Gst("jpegenc gave an empty sample".into()))?;
                let map = buffer.map_readable()?;
                Ok(Bytes::copy_from_slice(&map))
            }
            None => Err(pipeline
                .bus()
                .and_then(|bus| bus.pop_filtered(&[gst::MessageType::Error]))
                .and_then(|m| bus_error(&m))
                .unwrap_or_else(|| WorkerError::Gst("jpegenc gave no picture in time".into()))),
        }
    })();
    let _ = pipeline.set_state(gst::State::Null);
    result
}

/// The picture as a buffer laid out as `info` says (rows padded to its stride).
fn frame_buffer(
    picture: &Picture,
    info: &gst_video::VideoInfo,
) -> Result<gst::Buffer, WorkerError> {
    let stride = info.stride()[0] as usize;
    let row = picture.width as usize * 3;
    let mut buffer = gst::Buffer::with_size(info.size())?;
    {
        let buffer = buffer.get_mut().expect("a new buffer is writable");
        buffer.set_pts(gst::ClockTime::ZERO);
        let mut map = buffer.map_writable()?;
        for (to, from) in map.chunks_mut(stride).zip(picture.rgb.chunks_exact(row)) {
            to[..row].copy_from_slice(from);
        }
    }
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_becomes_a_jpeg_of_its_size() {
        gst::init().unwrap();
        // 3 × 2: a width whose rows need padding in GStreamer's layout.
        let picture = Picture {
            width: 3,
            height: 2,
            rgb: vec![200; 18],
        };
        let jpeg = encode(&picture, 80).unwrap();
        assert_eq!(&jpeg[..3], [0xff, 0xd8, 0xff], "a JPEG starts with SOI");
        assert_eq!(&jpeg[jpeg.len() - 2..], [0xff, 0xd9], "and ends with EOI");
        // The frame header (SOF0) holds height then width.
        let sof = jpeg.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
        let height = u16::from_be_bytes([jpeg[sof + 5], jpeg[sof + 6]]);
        let width = u16::from_be_bytes([jpeg[sof + 7], jpeg[sof + 8]]);
        assert_eq!((width, height), (3, 2));
    }
}
