//! Pictures as plain pixels: packed RGB frames from the branch, scaled down by averaging,
//! pasted into sprite sheets, and small grayscale copies for telling slides apart.

/// A picture of packed 8-bit RGB rows, no padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

/// A small grayscale picture (luma, 0 to 255).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gray {
    pub width: u32,
    pub height: u32,
    pub luma: Vec<u8>,
}

/// Below this standard deviation of luma a picture is near-uniform (black, a blank screen,
/// a colour card): no poster, and no slide to begin a chapter with. A slide with a few lines
/// of text is far above it (30 or more).
const UNIFORM_BELOW: f64 = 8.0;

impl Picture {
    /// A black picture.
    pub fn black(width: u32, height: u32) -> Picture {
        Picture {
            width,
            height,
            rgb: vec![0; width as usize * height as usize * 3],
        }
    }

    /// Scaled to `width` × `height`, each pixel the mean of the pixels it covers (the right
    /// filter for large reductions: no aliasing of text into noise). Enlarging repeats pixels.
    pub fn resized(&self, width: u32, height: u32) -> Picture {
        let columns = spans(self.width, width);
        let rows = spans(self.height, height);
        let stride = self.width as usize * 3;
        let mut out = Vec::with_capacity(width as usize * height as usize * 3);
        for &(y0, y1) in &rows {
            for &(x0, x1) in &columns {
                let mut sum = [0u32; 3];
                for y in y0..y1 {
                    let row = &self.rgb[y * stride + x0 * 3..y * stride + x1 * 3];
                    for pixel in row.chunks_exact(3) {
                        for (s, &v) in sum.iter_mut().zip(pixel) {
                            *s += u32::from(v);
                        }
                    }
                }
                let count = ((y1 - y0) * (x1 - x0)) as u32;
                out.extend(sum.map(|s| ((s + count / 2) / count) as u8));
            }
        }
        Picture {
            width,
            height,
            rgb: out,
        }
    }

    /// `width` wide, as tall as keeps the picture's shape (at least one row).
    pub fn resized_to_width(&self, width: u32) -> Picture {
        let height = (u64::from(self.height) * u64::from(width) + u64::from(self.width) / 2)
            / u64::from(self.width.max(1));
        self.resized(width, (height as u32).max(1))
    }

    /// Grayscale at `width` × `height` (BT.601 luma of the averaged colours).
    pub fn gray(&self, width: u32, height: u32) -> Gray {
        let small = self.resized(width, height);
        let luma = small
            .rgb
            .chunks_exact(3)
            .map(|p| {
                let y = 299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]);
                ((y + 500) / 1000) as u8
            })
            .collect();
        Gray {
            width,
            height,
            luma,
        }
    }

    /// Copies `tile` in with its top left corner at (`x`, `y`); what falls outside is cut.
    pub fn paste(&mut self, tile: &Picture, x: u32, y: u32) {
        let width = tile.width.min(self.width.saturating_sub(x)) as usize;
        let stride = self.width as usize * 3;
        for row in 0..tile.height.min(self.height.saturating_sub(y)) as usize {
            let from = row * tile.width as usize * 3;
            let to = (y as usize + row) * stride + x as usize * 3;
            self.rgb[to..to + width * 3].copy_from_slice(&tile.rgb[from..from + width * 3]);
        }
    }

    /// The top `height` rows.
    pub fn top(mut self, height: u32) -> Picture {
        let height = height.min(self.height);
        self.rgb.truncate(self.width as usize * height as usize * 3);
        self.height = height;
        self
    }
}

impl Gray {
    /// The standard deviation of luma: how much there is to see.
    pub fn contrast(&self) -> f64 {
        let n = self.luma.len().max(1) as f64;
        let mean = self.luma.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let variance = self
            .luma
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        variance.sqrt()
    }

    /// True for a near-uniform picture (black, blank).
    pub fn is_near_uniform(&self) -> bool {
        self.contrast() < UNIFORM_BELOW
    }
}

/// For each of `to` output positions, the range of the `from` input positions it covers
/// (never empty).
fn spans(from: u32, to: u32) -> Vec<(usize, usize)> {
    let (from, to) = (from as usize, to as usize);
    (0..to)
        .map(|i| {
            let start = (i * from / to).min(from - 1);
            (start, ((i + 1) * from / to).max(start + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(width: u32, height: u32, rgb: [u8; 3]) -> Picture {
        Picture {
            width,
            height,
            rgb: rgb.repeat(width as usize * height as usize),
        }
    }

    #[test]
    fn shrinking_averages_the_pixels_each_output_pixel_covers() {
        // Left half black, right half white, 4 × 2 → 2 × 1: one black, one white.
        let mut picture = filled(4, 2, [0, 0, 0]);
        picture.paste(&filled(2, 2, [255, 255, 255]), 2, 0);
        let small = picture.resized(2, 1);
        assert_eq!(small.rgb, [0, 0, 0, 255, 255, 255]);
        // 4 × 2 → 1 × 1: the mean grey.
        assert_eq!(picture.resized(1, 1).rgb, [128, 128, 128]);
    }

    #[test]
    fn resizing_to_a_width_keeps_the_shape() {
        let frame = Picture::black(640, 360);
        let thumb = frame.resized_to_width(160);
        assert_eq!((thumb.width, thumb.height), (160, 90));
        let portrait = Picture::black(360, 640).resized_to_width(160);
        assert_eq!((portrait.width, portrait.height), (160, 284));
        assert_eq!(Picture::black(1, 1).resized(3, 2).rgb.len(), 18);
    }

    #[test]
    fn pasting_places_a_tile_and_cuts_what_falls_outside() {
        let mut sheet = Picture::black(4, 4);
        sheet.paste(&filled(2, 2, [9, 9, 9]), 3, 3);
        assert_eq!(&sheet.rgb[(3 * 4 + 3) * 3..], [9, 9, 9]);
        assert_eq!(sheet.rgb.iter().filter(|&&v| v == 9).count(), 3);
        let top = sheet.top(2);
        assert_eq!((top.height, top.rgb.len()), (2, 24));
    }

    #[test]
    fn a_blank_frame_is_near_uniform_and_a_slide_is_not() {
        assert!(filled(64, 36, [0, 0, 0]).gray(16, 9).is_near_uniform());
        assert!(filled(64, 36, [250, 250, 250])
            .gray(16, 9)
            .is_near_uniform());
        let mut slide = filled(64, 36, [255, 255, 255]);
        for row in [4, 12, 20] {
            slide.paste(&filled(40, 3, [0, 0, 0]), 8, row);
        }
        let gray = slide.gray(64, 36);
        assert!(!gray.is_near_uniform(), "contrast {}", gray.contrast());
    }
}
