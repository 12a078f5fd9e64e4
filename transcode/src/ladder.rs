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

    /// The RFC 6381 codecs string of this rung (H.264 High profile at the level its size
    /// needs at up to 30 fps, and AAC-LC).
    pub fn codecs(&self) -> String {
        let macroblocks = (self.width.div_ceil(16)) * (self.height.div_ceil(16));
        let level = match macroblocks {
            0..=1620 => 0x1e,    // 3.0: up to 720x576
            1621..=3600 => 0x1f, // 3.1: up to 1280x720
            3601..=8192 => 0x28, // 4.0: up to 1920x1080
            _ => 0x33,           // 5.1
        };
        format!("avc1.6400{level:02x},mp4a.40.2")
    }
}

/// What every rung shares: the frame rate and the segment length, and the rungs themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct Ladder {
    pub rungs: Vec<Rung>,
    pub frame_rate: u32,
    pub segment_seconds: u32,
}

impl Ladder {
    /// The renditions of `track` this ladder makes, as the catalog is told of them (the
    /// planned bitrate stands for the bandwidth until segments show the true peak).
    pub fn renditions(&self, track: &str) -> Vec<RenditionReport> {
        self.rungs
            .iter()
            .map(|rung| RenditionReport {
                track: track.to_owned(),
                rung: rung.name.clone(),
                width: rung.width,
                height: rung.height,
                bandwidth: u64::from(rung.bitrate_kbps) * 1000,
                codecs: rung.codecs(),
                frame_rate: f64::from(self.frame_rate),
            })
            .collect()
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

    #[test]
    fn codecs_level_follows_the_picture_size() {
        assert_eq!(rung(640, 360).codecs(), "avc1.64001e,mp4a.40.2");
        assert_eq!(rung(1280, 720).codecs(), "avc1.64001f,mp4a.40.2");
        assert_eq!(rung(1920, 1080).codecs(), "avc1.640028,mp4a.40.2");
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
