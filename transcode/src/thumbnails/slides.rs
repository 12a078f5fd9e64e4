//! Slide changes, from the sampled frames of a screen track.
//!
//! Each sample is shrunk to a small grayscale picture cut into a grid of blocks; a block
//! *changed* when enough of its pixels differ clearly from the previous sample. A slide change
//! is a change that *settles*: many blocks changed at one sample and held still at the next.
//! That one rule keeps the things that are not slide changes out:
//!
//! - a mouse pointer touches a block or two, far below the threshold;
//! - a video overlay (the lecturer's camera in a corner, a clip on a slide) changes its
//!   blocks at every sample, so they never settle; and blocks that keep changing are marked
//!   *busy* and not counted at all;
//! - flipping through slides settles only on the slide the speaker stops at;
//! - and, as every chapter must last [`MIN_SPACING`], a change soon after the last chapter is
//!   part of it.
//!
//! A change away from a blank screen at the start (the projector warming up) is not a new
//! chapter either: the first slide's chapter begins at the start.

use super::picture::Gray;

/// The grayscale picture each sample is compared at (5 × 5 pixels of a 640 × 360 frame per
/// pixel: text lines of a slide still show as marks).
pub const GRAY_SIZE: (u32, u32) = (128, 72);
/// Blocks of 8 × 8 gray pixels: a 16 × 9 grid.
const BLOCK: u32 = 8;
/// A pixel changed when its luma moved by more than this (well above compression noise).
const PIXEL_CHANGE: u8 = 24;
/// A block changed when at least this many of its 64 pixels did.
const BLOCK_PIXELS: usize = 3;
/// A slide change settles at least this share of all blocks (15 of 144): a new slide's title
/// and text lines; not a pointer, a corner overlay's edges, or one more bullet point.
const SETTLED_SHARE: f64 = 0.1;
/// How fast a block's activity follows its changes, and above which it is busy: a block
/// that changed at seven samples in a row (half a minute of a moving picture) is busy;
/// flipping through a few slides is not enough.
const ACTIVITY_RATE: f32 = 0.1;
const BUSY_FROM: f32 = 0.5;
/// The shortest chapter, in seconds.
pub const MIN_SPACING: f64 = 10.0;

/// A change seen at one sample, waiting for the next to show whether it settled.
#[derive(Debug)]
struct Candidate {
    at: f64,
    /// The blocks that changed and were not busy.
    counted: Vec<bool>,
}

/// Finds slide changes in a track's samples, fed in time order.
#[derive(Debug)]
pub struct SlideDetector {
    previous: Option<Gray>,
    /// Per block, how often it changed of late (0 to 1).
    activity: Vec<f32>,
    candidate: Option<Candidate>,
    /// When the current chapter began.
    chapter_start: f64,
    /// A sample with something on it has been seen (see the module's last paragraph).
    seen_content: bool,
}

impl SlideDetector {
    /// A detector whose current chapter began at `chapter_start` (0, or where a resumed
    /// session's last chapter began).
    pub fn new(chapter_start: f64) -> SlideDetector {
        SlideDetector {
            previous: None,
            activity: Vec::new(),
            candidate: None,
            chapter_start,
            seen_content: false,
        }
    }

    /// Takes the sample at `at` seconds (a [`GRAY_SIZE`] picture); returns the instant a new
    /// chapter begins, when this sample shows that a slide change settled.
    pub fn push(&mut self, at: f64, gray: Gray) -> Option<f64> {
        let uniform = gray.is_near_uniform();
        let Some(previous) = self.previous.replace(gray) else {
            self.seen_content = !uniform;
            return None;
        };
        let current = self.previous.as_ref().expect("just stored");
        let changed = changed_blocks(&previous, current);
        if self.activity.len() != changed.len() {
            self.activity = vec![0.0; changed.len()];
        }
        let threshold = (SETTLED_SHARE * changed.len() as f64).ceil() as usize;

        let mut chapter = None;
        if let Some(candidate) = self.candidate.take() {
            let settled = (0..changed.len())
                .filter(|&b| candidate.counted[b] && !changed[b])
                .count();
            if settled >= threshold {
                self.chapter_start = candidate.at;
                chapter = Some(candidate.at);
            }
        }
        let counted: Vec<bool> = (0..changed.len())
            .map(|b| changed[b] && self.activity[b] < BUSY_FROM)
            .collect();
        let count = counted.iter().filter(|&&c| c).count();
        if count >= threshold && self.seen_content && at - self.chapter_start >= MIN_SPACING {
            self.candidate = Some(Candidate { at, counted });
        }
        for (activity, &changed) in self.activity.iter_mut().zip(&changed) {
            let target = if changed { 1.0 } else { 0.0 };
            *activity += ACTIVITY_RATE * (target - *activity);
        }
        self.seen_content |= !uniform;
        chapter
    }
}

/// Per block of the grid, whether it changed from `a` to `b` (pictures of one size).
fn changed_blocks(a: &Gray, b: &Gray) -> Vec<bool> {
    let (columns, rows) = (a.width / BLOCK, a.height / BLOCK);
    let mut changed = Vec::with_capacity((columns * rows) as usize);
    for row in 0..rows {
        for column in 0..columns {
            let mut pixels = 0;
            for y in row * BLOCK..(row + 1) * BLOCK {
                let start = (y * a.width + column * BLOCK) as usize;
                let end = start + BLOCK as usize;
                pixels += a.luma[start..end]
                    .iter()
                    .zip(&b.luma[start..end])
                    .filter(|(x, y)| x.abs_diff(**y) > PIXEL_CHANGE)
                    .count();
            }
            changed.push(pixels >= BLOCK_PIXELS);
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: f64 = 5.0;

    /// A white slide with `lines` dark text-like bars whose lengths follow `seed`, with an
    /// optional 24 × 16 "camera overlay" of changing noise at (`x`, `y`).
    fn slide(seed: u32, overlay: Option<(u32, u32, u32)>) -> Gray {
        let (w, h) = GRAY_SIZE;
        let mut luma = vec![250u8; (w * h) as usize];
        for line in 0..6 {
            let y = 8 + line * 10;
            let length = 30 + (seed * 37 + line * 53) % 80;
            let start = 6 + (seed * 11 + line * 7) % 10;
            for yy in y..y + 3 {
                for x in start..(start + length).min(w) {
                    // Text, not a bar: gaps between "letters" that move with the seed.
                    if !(x + seed * 3 + line).is_multiple_of(5) {
                        luma[(yy * w + x) as usize] = 30;
                    }
                }
            }
        }
        if let Some((x0, y0, frame)) = overlay {
            for y in y0..y0 + 16 {
                for x in x0..x0 + 24 {
                    luma[(y * w + x) as usize] = ((x * 31 + y * 17 + frame * 97) % 256) as u8;
                }
            }
        }
        Gray {
            width: w,
            height: h,
            luma,
        }
    }

    fn black() -> Gray {
        Gray {
            width: GRAY_SIZE.0,
            height: GRAY_SIZE.1,
            luma: vec![0; (GRAY_SIZE.0 * GRAY_SIZE.1) as usize],
        }
    }

    /// Runs `samples` (one per interval) through a detector; the chapters it found.
    fn chapters(samples: impl IntoIterator<Item = Gray>) -> Vec<f64> {
        let mut detector = SlideDetector::new(0.0);
        samples
            .into_iter()
            .enumerate()
            .filter_map(|(i, g)| detector.push(i as f64 * INTERVAL, g))
            .collect()
    }

    #[test]
    fn a_change_that_settles_begins_a_chapter_at_the_first_sample_showing_it() {
        // Slide 0 for samples 0..6, slide 1 for 6..12, slide 2 after.
        let samples = (0..16).map(|i| slide(i / 6, None));
        assert_eq!(chapters(samples), [30.0, 60.0]);
    }

    #[test]
    fn the_same_slide_throughout_makes_no_chapter() {
        assert!(chapters((0..20).map(|_| slide(4, None))).is_empty());
    }

    #[test]
    fn a_pointer_sized_change_is_not_a_slide_change() {
        let samples = (0..12).map(|i| {
            let mut g = slide(1, None);
            // A 3 × 3 pointer wandering over the slide.
            let (px, py) = (10 + i * 9, 10 + i * 4);
            for y in py..py + 3 {
                for x in px..px + 3 {
                    g.luma[(y * g.width + x) as usize] = 0;
                }
            }
            g
        });
        assert!(chapters(samples).is_empty());
    }

    #[test]
    fn a_moving_video_overlay_alone_makes_no_chapter() {
        // The overlay's picture changes every sample and it wanders about the corner.
        let samples = (0..24).map(|i| {
            let x = 90 + (i * 7) % 14;
            let y = 44 + (i * 5) % 12;
            slide(2, Some((x, y, i)))
        });
        assert!(chapters(samples).is_empty());
    }

    #[test]
    fn slide_changes_are_found_beside_a_moving_overlay() {
        let samples = (0..24).map(|i| {
            let x = 90 + (i * 7) % 14;
            slide(i / 8, Some((x, 50, i)))
        });
        assert_eq!(chapters(samples), [40.0, 80.0]);
    }

    #[test]
    fn flipping_through_slides_settles_on_the_one_the_speaker_stops_at() {
        // Slides 0 for four samples, then 1, 2, 3 one sample each, then 4 for long.
        let seeds = [0, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4, 4];
        let found = chapters(seeds.map(|s| slide(s, None)));
        assert_eq!(found, [35.0]);
    }

    #[test]
    fn chapters_are_at_least_the_minimum_spacing_apart() {
        // A change 5 s after the start, then one 5 s after that: the first comes too early
        // after the start; after it no chapter began, so the second is 10 s after the start.
        let seeds = [0, 1, 2, 2, 2, 2, 3, 3, 3];
        let found = chapters(seeds.map(|s| slide(s, None)));
        assert_eq!(found, [10.0, 30.0]);
        assert!(found.windows(2).all(|w| w[1] - w[0] >= MIN_SPACING));
    }

    #[test]
    fn the_first_slide_after_a_blank_start_is_not_a_new_chapter() {
        let samples = [black(), black(), black()]
            .into_iter()
            .chain((0..8).map(|_| slide(5, None)));
        assert!(chapters(samples).is_empty());
    }

    #[test]
    fn a_resumed_detector_spaces_its_first_chapter_from_the_last_one() {
        let mut detector = SlideDetector::new(100.0);
        let found: Vec<f64> = [0, 0, 1, 1, 1]
            .into_iter()
            .enumerate()
            .filter_map(|(i, s)| detector.push(102.0 + i as f64 * INTERVAL, slide(s, None)))
            .collect();
        assert_eq!(found, [112.0]);
    }
}
