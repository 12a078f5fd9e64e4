//! A playlist rendered once for every viewer: the bytes with a hole wherever a URI carries
//! the viewer's token, filled per request with one copy.

/// Stands where a token goes while rendering. A NUL never appears in a playlist we render,
/// and [`Template::render`] checks that it appears exactly once per URI anyway (a worker's
/// `CODECS` text is free-form).
const PLACEHOLDER: &str = "\0token\0";

/// A rendered playlist waiting for a token.
#[derive(Debug)]
pub struct Template {
    text: Vec<u8>,
    /// Where in `text` the token goes, ascending (the placeholder itself is cut out).
    holes: Vec<usize>,
}

impl Template {
    /// Renders with `render`, which writes `placeholder` where each of `uris` URIs takes the
    /// token. `None` when the placeholder does not turn up exactly `uris` times: then the
    /// playlist must be rendered with the token itself.
    pub fn render(uris: usize, render: impl FnOnce(&str) -> Vec<u8>) -> Option<Template> {
        let rendered = render(PLACEHOLDER);
        let placeholder = PLACEHOLDER.as_bytes();
        let mut text = Vec::with_capacity(rendered.len());
        let mut holes = Vec::with_capacity(uris);
        let mut rest = &rendered[..];
        while let Some(at) = find(rest, placeholder) {
            text.extend_from_slice(&rest[..at]);
            holes.push(text.len());
            rest = &rest[at + placeholder.len()..];
        }
        text.extend_from_slice(rest);
        (holes.len() == uris).then_some(Template { text, holes })
    }

    /// The playlist with `token` in every hole.
    pub fn fill(&self, token: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text.len() + self.holes.len() * token.len());
        let mut from = 0;
        for &hole in &self.holes {
            out.extend_from_slice(&self.text[from..hole]);
            out.extend_from_slice(token.as_bytes());
            from = hole;
        }
        out.extend_from_slice(&self.text[from..]);
        out
    }

    /// Roughly the memory it holds, for the cache's budget.
    pub fn weight(&self) -> usize {
        self.text.len() + self.holes.len() * std::mem::size_of::<usize>()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn playlist(token: &str) -> Vec<u8> {
        format!("#EXTM3U\n#EXTINF:2,\n0.ts?token={token}\n#EXTINF:2,\n1.ts?token={token}\n")
            .into_bytes()
    }

    #[test]
    fn filling_gives_what_rendering_with_the_token_gives() {
        let template = Template::render(2, playlist).unwrap();
        for token in ["k1.1700000000.abc-_DEF", "", "x"] {
            assert_eq!(template.fill(token), playlist(token), "{token:?}");
        }
    }

    #[test]
    fn a_placeholder_count_other_than_the_uris_refuses_to_template() {
        assert!(Template::render(3, playlist).is_none(), "one URI missing");
        let injected = |p: &str| format!("CODECS=\"{p}\"\n{p}\n").into_bytes();
        assert!(Template::render(1, injected).is_none(), "one too many");
    }

    #[test]
    fn text_without_uris_is_its_own_template() {
        let template = Template::render(0, |_| b"#EXTM3U\n".to_vec()).unwrap();
        assert_eq!(template.fill("t"), b"#EXTM3U\n");
    }
}
