//! WebVTT cue files, as Lectern writes them: timeline thumbnails (`thumbnails.vtt`, each cue
//! naming a tile of a sprite sheet) and chapters (`chapters.vtt`). Pure: cues in, text out,
//! and back. The worker writes the canonical files; it reads its own back to continue them
//! after a break, and the catalog reads them to hand each viewer a copy with their token on
//! every image URI, cut to the lecture's trim window.

use std::fmt::Write as _;

/// One cue: from `start` to `end` (seconds on the media timeline), showing `text`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub start: f64,
    pub end: f64,
    /// The payload: a tile URI (`sprite-0.jpg#xywh=0,0,160,90`) or a chapter title. One line.
    pub text: String,
}

/// A WebVTT file of `cues`, in their order.
pub fn render(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n");
    for cue in cues {
        let _ = write!(
            out,
            "\n{} --> {}\n{}\n",
            timestamp(cue.start),
            timestamp(cue.end),
            cue.text
        );
    }
    out
}

/// The cues of a WebVTT file as [`render`] writes it (cue identifiers, if any, are ignored);
/// `None` for text that is not such a file.
pub fn parse(text: &str) -> Option<Vec<Cue>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    if !lines.next()?.starts_with("WEBVTT") {
        return None;
    }
    let mut cues = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for line in lines.chain(std::iter::once("")) {
        if !line.trim().is_empty() {
            block.push(line);
            continue;
        }
        if let Some(at) = block.iter().position(|l| l.contains("-->")) {
            let (start, end) = block[at].split_once("-->")?;
            cues.push(Cue {
                start: parse_timestamp(start.trim())?,
                end: parse_timestamp(end.split_whitespace().next()?)?,
                text: block[at + 1..].join("\n"),
            });
        }
        block.clear();
    }
    Some(cues)
}

/// The cues as seen through a window from `from` to `to` seconds of the media, on the
/// window's own timeline: cues outside it are left out, cues across its edges are cut to it.
pub fn window(cues: Vec<Cue>, from: f64, to: f64) -> Vec<Cue> {
    cues.into_iter()
        .filter(|c| c.end > from && c.start < to)
        .map(|c| Cue {
            start: c.start.max(from) - from,
            end: c.end.min(to) - from,
            text: c.text,
        })
        .collect()
}

/// `HH:MM:SS.mmm` (hours grow past 99 if they must).
fn timestamp(seconds: f64) -> String {
    let millis = (seconds.max(0.0) * 1000.0).round() as u64;
    let (s, ms) = (millis / 1000, millis % 1000);
    format!("{:02}:{:02}:{:02}.{ms:03}", s / 3600, s / 60 % 60, s % 60)
}

/// `HH:MM:SS.mmm` or `MM:SS.mmm`, in seconds.
fn parse_timestamp(text: &str) -> Option<f64> {
    let (clock, millis) = text.split_once('.')?;
    let parts: Vec<&str> = clock.split(':').collect();
    let number = |p: &str| {
        (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u64>().ok())
            .flatten()
    };
    let (h, m, s) = match parts.as_slice() {
        [h, m, s] => (number(h)?, number(m)?, number(s)?),
        [m, s] => (0, number(m)?, number(s)?),
        _ => return None,
    };
    if m > 59 || s > 59 || millis.len() != 3 {
        return None;
    }
    let ms = number(millis)?;
    Some((h * 3600 + m * 60 + s) as f64 + ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(start: f64, end: f64, text: &str) -> Cue {
        Cue {
            start,
            end,
            text: text.into(),
        }
    }

    #[test]
    fn cues_render_as_webvtt_and_parse_back() {
        let cues = vec![
            cue(0.0, 5.0, "sprite-0.jpg#xywh=0,0,160,90"),
            cue(5.0, 3725.5, "Slide 2"),
        ];
        let text = render(&cues);
        assert_eq!(
            text,
            "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nsprite-0.jpg#xywh=0,0,160,90\n\n\
             00:00:05.000 --> 01:02:05.500\nSlide 2\n"
        );
        assert_eq!(parse(&text).unwrap(), cues);
        assert_eq!(parse(&render(&[])).unwrap(), []);
    }

    #[test]
    fn identifiers_settings_and_short_timestamps_are_understood() {
        let text = "WEBVTT - chapters\n\nintro\n00:01.250 --> 00:02.000 line:0\nHello\n";
        assert_eq!(parse(text).unwrap(), [cue(1.25, 2.0, "Hello")]);
    }

    #[test]
    fn text_that_is_not_webvtt_is_refused() {
        for bad in [
            "",
            "#EXTM3U\n",
            "WEBVTT\n\n00:00:00 --> 00:00:05.000\nx\n",
            "WEBVTT\n\n00:00:61.000 --> 00:01:05.000\nx\n",
            "WEBVTT\n\n00:00:01.000 -> 00:00:05.000\nx\n00:00:0a.000 --> 00:00:05.000\n",
        ] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_window_keeps_what_overlaps_it_on_its_own_timeline() {
        let cues = vec![
            cue(0.0, 10.0, "a"),
            cue(10.0, 20.0, "b"),
            cue(20.0, 30.0, "c"),
        ];
        assert_eq!(
            window(cues.clone(), 12.0, 25.0),
            [cue(0.0, 8.0, "b"), cue(8.0, 13.0, "c")]
        );
        assert_eq!(window(cues.clone(), 0.0, f64::INFINITY), cues);
        assert_eq!(window(cues, 30.0, 40.0), []);
    }
}
