//! The ladder: which rungs to encode, and the x264 settings that make every rung put its
//! keyframes on the same frames so players switch between them cleanly.

use lectern_wire::worker::RenditionReport;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// One rendition of the ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rung {
    /// Its name, also its directory in storage, e.g. `720p`.
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub bitrate_kbps: u32,
}

impl Rung {
    /// Checks the rung can be encoded: a safe name, even dimensions, a sane bitrate.
    pub fn validate(&self) -> Result<(), String> {
        if !lectern_packager::keys::is_safe_component(&self.name) {
            return Err(format!(
                "rung name {:?} may hold only letters, digits, - and _",
                self.name
            ));
        }
        if self.width < 16
            || self.height < 16
            || !self.width.is_multiple_of(2)
            || !self.height.is_multiple_of(2)
        {
            return Err(format!(
                "rung {}: width and height must be even and at least 16",
                self.name
            ));
        }
        if !(100..=50_000).contains(&self.bitrate_kbps) {
            return Err(format!(
                "rung {}: bitrate_kbps must be between 100 and 50000",
                self.name
            ));
        }
        Ok(())
    }

    /// The RFC 6381 codecs string of this rung: H.264 High profile at the level its size
    /// needs at up to 30 fps, and AAC-LC when it carries sound.
    pub fn codecs(&self, audio: bool) -> String {
        let macroblocks = (self.width.div_ceil(16)) * (self.height.div_ceil(16));
        let level = match macroblocks {
            0..=1620 => 0x1e,    // 3.0: up to 720x576
            1621..=3600 => 0x1f, // 3.1: up to 1280x720
            3601..=8192 => 0x28, // 4.0: up to 1920x1080
            _ => 0x33,           // 5.1
        };
        if audio {
            format!("avc1.6400{level:02x},{AUDIO_CODECS}")
        } else {
            format!("avc1.6400{level:02x}")
        }
    }

    /// This rung for a picture shown at `width`x`height`: the rung's box turned to the
    /// picture's orientation (a portrait picture's "720p" is 720 wide), the picture fitted
    /// inside it with its aspect kept, never larger than the picture itself, with even sides
    /// (4:2:0 H.264) of at least 16 pixels; the bitrate scaled to the pixels it encodes.
    pub fn fitted(&self, width: u32, height: u32) -> Rung {
        let (width, height) = (width.max(1), height.max(1));
        let (long, short) = (self.width.max(self.height), self.width.min(self.height));
        let (box_width, box_height) = if height > width {
            (short, long)
        } else {
            (long, short)
        };
        let scale = (f64::from(box_width) / f64::from(width))
            .min(f64::from(box_height) / f64::from(height))
            .min(1.0);
        let side = |source: u32, bound: u32| {
            let limit = source.min(bound) & !1;
            let even = ((f64::from(source) * scale / 2.0).round() as u32) * 2;
            even.min(limit).max(MIN_SIDE)
        };
        let fitted_width = side(width, box_width);
        let fitted_height = side(height, box_height);
        let share = f64::from(fitted_width) * f64::from(fitted_height)
            / (f64::from(self.width) * f64::from(self.height));
        let bitrate = (f64::from(self.bitrate_kbps) * share.min(1.0)).round() as u32;
        Rung {
            name: self.name.clone(),
            width: fitted_width,
            height: fitted_height,
            bitrate_kbps: bitrate.clamp(MIN_BITRATE_KBPS.min(self.bitrate_kbps), self.bitrate_kbps),
        }
    }
}

/// The smallest side of a rung's picture.
const MIN_SIDE: u32 = 16;

/// The lowest bitrate a rung is given.
const MIN_BITRATE_KBPS: u32 = 100;

/// The name of the rendition of a file that has sound but no picture.
pub const AUDIO_RUNG: &str = "audio";

/// The RFC 6381 codecs string of the sound every rendition carries: AAC-LC.
pub const AUDIO_CODECS: &str = "mp4a.40.2";

/// The bitrate of that sound (`avenc_aac`'s, 48 kHz stereo).
pub const AUDIO_BITRATE: u32 = 128_000;

/// Which streams a ladder's renditions carry: live lectures and most files both; a podcast
/// or a lecture recorded as sound alone only audio (one rendition, [`AUDIO_RUNG`]); a
/// screen recording without a microphone only video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streams {
    pub video: bool,
    pub audio: bool,
}

impl Streams {
    /// Picture and sound.
    pub const BOTH: Streams = Streams {
        video: true,
        audio: true,
    };
}

/// What every rung shares: the frame rate and the segment length, the streams, and the rungs
/// themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct Ladder {
    /// The video rungs; unused when `streams` has no video.
    pub rungs: Vec<Rung>,
    pub frame_rate: u32,
    pub segment_seconds: u32,
    pub streams: Streams,
}

impl Ladder {
    /// The renditions of `track` this ladder makes, as the catalog is told of them (the
    /// planned bitrate stands for the bandwidth until segments show the true peak). Sound
    /// alone is one rendition without a picture size or frame rate.
    pub fn renditions(&self, track: &str) -> Vec<RenditionReport> {
        if !self.streams.video {
            return vec![RenditionReport {
                track: track.to_owned(),
                rung: AUDIO_RUNG.to_owned(),
                width: 0,
                height: 0,
                bandwidth: u64::from(AUDIO_BITRATE),
                codecs: AUDIO_CODECS.to_owned(),
                frame_rate: 0.0,
            }];
        }
        self.rungs
            .iter()
            .map(|rung| RenditionReport {
                track: track.to_owned(),
                rung: rung.name.clone(),
                width: rung.width,
                height: rung.height,
                bandwidth: u64::from(rung.bitrate_kbps) * 1000,
                codecs: rung.codecs(self.streams.audio),
                frame_rate: f64::from(self.frame_rate),
            })
            .collect()
    }

    /// This ladder for a file whose picture is shown at `picture` (width, height; `None` for
    /// sound alone) and that has sound or not: each rung [fitted](Rung::fitted) to the
    /// picture, and the rungs that the no-upscaling rule makes repeat a smaller rung's size
    /// left out, so a small picture keeps one rung at its own size.
    pub fn for_file(&self, picture: Option<(u32, u32)>, audio: bool) -> Ladder {
        let streams = Streams {
            video: picture.is_some(),
            audio,
        };
        let Some((width, height)) = picture else {
            return Ladder {
                rungs: Vec::new(),
                streams,
                ..self.clone()
            };
        };
        let mut by_size: Vec<(usize, Rung)> = self
            .rungs
            .iter()
            .map(|rung| rung.fitted(width, height))
            .enumerate()
            .collect();
        by_size.sort_by_key(|(i, rung)| {
            (
                self.rungs[*i].width * self.rungs[*i].height,
                rung.width * rung.height,
            )
        });
        let mut kept: Vec<(usize, Rung)> = Vec::new();
        for (i, rung) in by_size {
            let repeats = kept
                .iter()
                .any(|(_, k)| k.width * k.height >= rung.width * rung.height);
            if !repeats {
                kept.push((i, rung));
            }
        }
        kept.sort_by_key(|(i, _)| *i);
        Ladder {
            rungs: kept.into_iter().map(|(_, rung)| rung).collect(),
            streams,
            ..self.clone()
        }
    }
}

impl FromStr for Rung {
    type Err = String;

    /// `<name>=<width>x<height>@<kbps>`, e.g. `720p=1280x720@2800`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!("rung {s:?} is not of the form <name>=<width>x<height>@<kbps>, e.g. 720p=1280x720@2800")
        };
        let (name, rest) = s.split_once('=').ok_or_else(bad)?;
        let (size, kbps) = rest.split_once('@').ok_or_else(bad)?;
        let (width, height) = size.split_once('x').ok_or_else(bad)?;
        let rung = Rung {
            name: name.to_owned(),
            width: width.parse().map_err(|_| bad())?,
            height: height.parse().map_err(|_| bad())?,
            bitrate_kbps: kbps.parse().map_err(|_| bad())?,
        };
        rung.validate()?;
        Ok(rung)
    }
}

/// x264's `key-int-max` that puts a keyframe at every segment boundary.
pub fn keyframe_interval(frame_rate: u32, segment_seconds: u32) -> u32 {
    frame_rate * segment_seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rung(width: u32, height: u32) -> Rung {
        Rung {
            name: "r".into(),
            width,
            height,
            bitrate_kbps: 1000,
        }
    }

    fn named(name: &str, width: u32, height: u32, bitrate_kbps: u32) -> Rung {
        Rung {
            name: name.into(),
            width,
            height,
            bitrate_kbps,
        }
    }

    fn ladder() -> Ladder {
        Ladder {
            rungs: vec![named("720p", 1280, 720, 2500), named("360p", 640, 360, 700)],
            frame_rate: 30,
            segment_seconds: 2,
            streams: Streams::BOTH,
        }
    }

    fn sizes(ladder: &Ladder) -> Vec<(&str, u32, u32)> {
        ladder
            .rungs
            .iter()
            .map(|r| (r.name.as_str(), r.width, r.height))
            .collect()
    }

    #[test]
    fn codecs_level_follows_the_picture_size() {
        assert_eq!(rung(640, 360).codecs(true), "avc1.64001e,mp4a.40.2");
        assert_eq!(rung(1280, 720).codecs(true), "avc1.64001f,mp4a.40.2");
        assert_eq!(rung(1920, 1080).codecs(true), "avc1.640028,mp4a.40.2");
        assert_eq!(rung(720, 1280).codecs(true), "avc1.64001f,mp4a.40.2");
        assert_eq!(rung(640, 360).codecs(false), "avc1.64001e");
    }

    #[test]
    fn a_wide_picture_keeps_the_ladder_as_it_is() {
        let fitted = ladder().for_file(Some((1920, 1080)), true);
        assert_eq!(fitted, ladder());
    }

    #[test]
    fn other_shapes_fit_each_box_with_their_aspect_and_even_sides() {
        // 4:3 fills the box's height; its bitrate follows its pixels.
        let fitted = ladder().for_file(Some((1440, 1080)), true);
        assert_eq!(sizes(&fitted), [("720p", 960, 720), ("360p", 480, 360)]);
        assert_eq!(fitted.rungs[0].bitrate_kbps, 1875);
        // A phone held upright: the box turns with it, "720p" is 720 wide.
        let fitted = ladder().for_file(Some((1080, 1920)), true);
        assert_eq!(sizes(&fitted), [("720p", 720, 1280), ("360p", 360, 640)]);
        assert_eq!(fitted.rungs[0].bitrate_kbps, 2500);
        // Cinema scope, and a square.
        let fitted = ladder().for_file(Some((1920, 804)), true);
        assert_eq!(sizes(&fitted), [("720p", 1280, 536), ("360p", 640, 268)]);
        let fitted = ladder().for_file(Some((1000, 1000)), true);
        assert_eq!(sizes(&fitted), [("720p", 720, 720), ("360p", 360, 360)]);
        for rung in &fitted.rungs {
            rung.validate().unwrap();
        }
    }

    #[test]
    fn small_pictures_are_never_upscaled_and_keep_one_rung_at_their_size() {
        // Odd sides come out even, a pixel smaller at most.
        let fitted = ladder().for_file(Some((321, 241)), true);
        assert_eq!(sizes(&fitted), [("360p", 320, 240)]);
        let fitted = ladder().for_file(Some((96, 64)), true);
        assert_eq!(sizes(&fitted), [("360p", 96, 64)]);
        assert_eq!(fitted.rungs[0].bitrate_kbps, 100);
        // Between the rungs: the top rung is the picture itself.
        let fitted = ladder().for_file(Some((854, 480)), true);
        assert_eq!(sizes(&fitted), [("720p", 854, 480), ("360p", 640, 360)]);
        let fitted = ladder().for_file(Some((480, 854)), true);
        assert_eq!(sizes(&fitted), [("720p", 480, 854), ("360p", 360, 640)]);
        // Smaller than the smallest side allows.
        let fitted = ladder().for_file(Some((10, 6)), true);
        assert_eq!(sizes(&fitted), [("360p", 16, 16)]);
        for picture in [(321, 241), (96, 64), (3, 2000), (4000, 7), (1, 1)] {
            for rung in ladder().for_file(Some(picture), true).rungs {
                rung.validate().unwrap();
            }
        }
    }

    #[test]
    fn sound_alone_is_one_audio_rendition_without_a_picture() {
        let audio = ladder().for_file(None, true);
        assert_eq!(
            audio.streams,
            Streams {
                video: false,
                audio: true
            }
        );
        let renditions = audio.renditions("main");
        assert_eq!(renditions.len(), 1);
        let r = &renditions[0];
        assert_eq!((r.rung.as_str(), r.width, r.height), (AUDIO_RUNG, 0, 0));
        assert_eq!(r.codecs, "mp4a.40.2");
        assert_eq!(r.frame_rate, 0.0);

        let silent = ladder().for_file(Some((1280, 720)), false);
        let codecs: Vec<String> = silent
            .renditions("main")
            .into_iter()
            .map(|r| r.codecs)
            .collect();
        assert_eq!(codecs, ["avc1.64001f", "avc1.64001e"]);
    }

    #[test]
    fn odd_sizes_and_unsafe_names_are_refused() {
        assert!(rung(641, 360).validate().is_err());
        assert!(Rung {
            name: "../x".into(),
            ..rung(640, 360)
        }
        .validate()
        .is_err());
        assert!(rung(640, 360).validate().is_ok());
    }

    #[test]
    fn a_rung_parses_from_its_short_form() {
        let rung: Rung = "480p=854x480@1400".parse().unwrap();
        assert_eq!(
            rung,
            Rung {
                name: "480p".into(),
                width: 854,
                height: 480,
                bitrate_kbps: 1400
            }
        );
        for bad in [
            "480p",
            "480p=854x480",
            "480p=854@1400",
            "480p=853x480@1400",
            "../x=640x360@800",
        ] {
            assert!(bad.parse::<Rung>().is_err(), "{bad}");
        }
    }

    #[test]
    fn keyframes_fall_on_segment_boundaries() {
        assert_eq!(keyframe_interval(30, 2), 60);
    }
}
