//! Timeline thumbnails laid out on sprite sheets, and the WebVTT cues that point at them.
//!
//! A sheet holds [`COLUMNS`] × [`ROWS`] tiles, filled row by row; a full sheet is handed out
//! to be stored, and the last one, cut to the rows it uses, when the track ends. Sheets are
//! never changed once stored (viewers cache them for good), so a track that resumes after a
//! break starts a new sheet.

use super::picture::Picture;
use lectern_packager::thumbnails::{parse_tile_uri, tile_uri};
use lectern_packager::vtt::Cue;

/// Tiles per row of a sheet.
pub const COLUMNS: u32 = 10;
/// Rows of tiles per sheet: 100 tiles, 8⅓ minutes of a lecture at 5 s per thumbnail.
pub const ROWS: u32 = 10;

/// A sheet ready to be stored: its index and its picture.
#[derive(Debug)]
pub struct Sheet {
    pub index: u32,
    pub picture: Picture,
}

/// The sheets and cues of one track.
#[derive(Debug)]
pub struct Sprites {
    /// Every cue so far, the resumed ones first.
    cues: Vec<Cue>,
    /// How long each thumbnail stands for.
    interval: f64,
    /// The sheet being filled, its index and how many tiles it holds.
    sheet: Option<Picture>,
    index: u32,
    tiles: u32,
    /// The size of every tile, set by the first thumbnail.
    tile: Option<(u32, u32)>,
}

impl Sprites {
    /// Sprites that continue after `cues` (stored earlier, naming `sheets` sheets), each
    /// thumbnail standing for `interval` seconds.
    pub fn new(cues: Vec<Cue>, sheets: u32, interval: f64) -> Sprites {
        Sprites {
            cues,
            interval,
            sheet: None,
            index: sheets,
            tiles: 0,
            tile: None,
        }
    }

    /// Adds the thumbnail for the instant `at`; returns the sheet it completed, if it did.
    pub fn add(&mut self, at: f64, thumbnail: &Picture) -> Option<Sheet> {
        let (width, height) = *self.tile.get_or_insert((thumbnail.width, thumbnail.height));
        let sheet = self
            .sheet
            .get_or_insert_with(|| Picture::black(width * COLUMNS, height * ROWS));
        let (x, y) = (
            (self.tiles % COLUMNS) * width,
            (self.tiles / COLUMNS) * height,
        );
        if (thumbnail.width, thumbnail.height) == (width, height) {
            sheet.paste(thumbnail, x, y);
        } else {
            // The picture changed shape mid-stream: keep the grid, fit the tile to it.
            sheet.paste(&thumbnail.resized(width, height), x, y);
        }
        self.cues.push(Cue {
            start: at,
            end: at + self.interval,
            text: tile_uri(self.index, x, y, width, height),
        });
        self.tiles += 1;
        (self.tiles == COLUMNS * ROWS).then(|| self.take_sheet())
    }

    /// The sheet being filled, cut to the rows it uses; `None` when it holds no tile.
    pub fn finish(&mut self) -> Option<Sheet> {
        (self.tiles > 0).then(|| self.take_sheet())
    }

    /// Every cue so far: what `thumbnails.vtt` lists once the sheets they name are stored.
    pub fn cues(&self) -> &[Cue] {
        &self.cues
    }

    /// Leaves the cues of sheet `index` out from now on (it could not be stored).
    pub fn forget_sheet(&mut self, index: u32) {
        self.cues
            .retain(|c| parse_tile_uri(&c.text).is_none_or(|(sheet, _)| sheet != index));
    }

    fn take_sheet(&mut self) -> Sheet {
        let (_, height) = self.tile.expect("a tile was added");
        let rows = self.tiles.div_ceil(COLUMNS);
        let picture = self
            .sheet
            .take()
            .expect("a tile was added")
            .top(rows * height);
        let sheet = Sheet {
            index: self.index,
            picture,
        };
        self.index += 1;
        self.tiles = 0;
        sheet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thumb(shade: u8) -> Picture {
        Picture {
            width: 16,
            height: 9,
            rgb: vec![shade; 16 * 9 * 3],
        }
    }

    #[test]
    fn a_full_sheet_is_handed_out_and_the_cues_point_at_its_tiles() {
        let mut sprites = Sprites::new(Vec::new(), 0, 5.0);
        for i in 0..(COLUMNS * ROWS - 1) {
            assert!(sprites.add(f64::from(i) * 5.0, &thumb(i as u8)).is_none());
        }
        let sheet = sprites
            .add(495.0, &thumb(99))
            .expect("the 100th tile fills it");
        assert_eq!(sheet.index, 0);
        assert_eq!((sheet.picture.width, sheet.picture.height), (160, 90));
        // Tile 12 is row 1, column 2, and holds shade 12.
        let cue = &sprites.cues()[12];
        assert_eq!((cue.start, cue.end), (60.0, 65.0));
        assert_eq!(cue.text, "sprite-0.jpg#xywh=32,9,16,9");
        let pixel = ((9 * 160) + 32) * 3;
        assert_eq!(sheet.picture.rgb[pixel], 12);
        assert!(sprites.finish().is_none(), "nothing left over");
    }

    #[test]
    fn the_last_sheet_is_cut_to_the_rows_it_uses() {
        let mut sprites = Sprites::new(Vec::new(), 0, 5.0);
        for i in 0..13 {
            sprites.add(f64::from(i) * 5.0, &thumb(1));
        }
        let sheet = sprites.finish().unwrap();
        assert_eq!((sheet.picture.width, sheet.picture.height), (160, 18));
        assert_eq!(sprites.cues().len(), 13);
        assert_eq!(sprites.cues()[12].text, "sprite-0.jpg#xywh=32,9,16,9");
    }

    #[test]
    fn a_resumed_track_starts_a_new_sheet_after_the_stored_cues() {
        let stored = vec![Cue {
            start: 0.0,
            end: 5.0,
            text: "sprite-0.jpg#xywh=0,0,16,9".into(),
        }];
        let mut sprites = Sprites::new(stored, 1, 5.0);
        sprites.add(7.0, &thumb(1));
        let sheet = sprites.finish().unwrap();
        assert_eq!(sheet.index, 1);
        assert_eq!(sprites.cues().len(), 2);
        assert_eq!(sprites.cues()[1].text, "sprite-1.jpg#xywh=0,0,16,9");
        sprites.forget_sheet(1);
        assert_eq!(
            sprites.cues().len(),
            1,
            "only the stored sheet's cue is left"
        );
    }

    #[test]
    fn a_thumbnail_of_another_shape_is_fitted_to_the_grid() {
        let mut sprites = Sprites::new(Vec::new(), 0, 5.0);
        sprites.add(0.0, &thumb(1));
        let odd = Picture {
            width: 16,
            height: 28,
            rgb: vec![7; 16 * 28 * 3],
        };
        sprites.add(5.0, &odd);
        let sheet = sprites.finish().unwrap();
        assert_eq!(sheet.picture.height, 9);
        assert_eq!(sheet.picture.rgb[16 * 3], 7);
    }
}
