//! The tus 1.0.0 protocol's headers (<https://tus.io/protocols/resumable-upload>): reading
//! what a client sends, each refusal a message that says what to send instead, and the
//! headers every answer of a resumable upload carries. Pure: the handlers are in
//! `api::resumable`.

use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use chrono::{DateTime, Utc};

use crate::error::ApiError;

/// The protocol version spoken, the only one.
pub const VERSION: &str = "1.0.0";
/// The extensions supported, as `Tus-Extension` lists them.
pub const EXTENSIONS: &str = "creation,termination,expiration";
/// The media type of a PATCH's body.
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

pub const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
pub const TUS_VERSION: HeaderName = HeaderName::from_static("tus-version");
pub const TUS_EXTENSION: HeaderName = HeaderName::from_static("tus-extension");
pub const TUS_MAX_SIZE: HeaderName = HeaderName::from_static("tus-max-size");
pub const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
pub const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
pub const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
pub const UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
pub const UPLOAD_DEFER_LENGTH: HeaderName = HeaderName::from_static("upload-defer-length");
/// Lectern's own: the lecture a finished upload became.
pub const LECTURE_ID: HeaderName = HeaderName::from_static("lectern-lecture-id");

/// Metadata values longer than this are refused (a file name, a title).
const MAX_METADATA_BYTES: usize = 4096;

/// Middleware on every resumable-upload route: each answer, refusals included, carries
/// `Tus-Resumable`; a 412 (a version not spoken) names the one that is in `Tus-Version`.
pub async fn answer_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(TUS_RESUMABLE, HeaderValue::from_static(VERSION));
    if response.status() == StatusCode::PRECONDITION_FAILED {
        response
            .headers_mut()
            .insert(TUS_VERSION, HeaderValue::from_static(VERSION));
    }
    response
}

/// Refuses a request that does not say `Tus-Resumable: 1.0.0` (412).
pub fn require_version(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(TUS_RESUMABLE) {
        Some(v) if v == VERSION => Ok(()),
        Some(v) => Err(ApiError::PreconditionFailed(format!(
            "this server speaks tus {VERSION} only, not {}: send Tus-Resumable: {VERSION}",
            String::from_utf8_lossy(v.as_bytes())
        ))),
        None => Err(ApiError::PreconditionFailed(format!(
            "send the header Tus-Resumable: {VERSION} (this is a tus resumable upload endpoint)"
        ))),
    }
}

/// A whole number of bytes in the header `name` (written `shown` in messages): digits
/// only, as tus says.
fn byte_count(
    headers: &HeaderMap,
    name: &HeaderName,
    shown: &str,
) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::BadRequest(format!(
            "{shown} must be a whole number of bytes, not {:?}",
            String::from_utf8_lossy(value.as_bytes())
        )));
    }
    text.parse()
        .map(Some)
        .map_err(|_| ApiError::BadRequest(format!("{name} {text} is more bytes than anyone has")))
}

/// `Upload-Length` of a creation: the file's size. Deferred lengths are not supported.
pub fn upload_length(headers: &HeaderMap) -> Result<u64, ApiError> {
    if headers.contains_key(UPLOAD_DEFER_LENGTH) {
        return Err(ApiError::BadRequest(
            "a deferred length is not supported: send Upload-Length with the file's size".into(),
        ));
    }
    byte_count(headers, &UPLOAD_LENGTH, "Upload-Length")?.ok_or_else(|| {
        ApiError::BadRequest("send Upload-Length: the size of the file in bytes".into())
    })
}

/// `Upload-Offset` of a PATCH: where its bytes go.
pub fn upload_offset(headers: &HeaderMap) -> Result<u64, ApiError> {
    byte_count(headers, &UPLOAD_OFFSET, "Upload-Offset")?.ok_or_else(|| {
        ApiError::BadRequest(
            "send Upload-Offset: the offset the body's bytes start at (HEAD tells it)".into(),
        )
    })
}

/// A PATCH's body must be `application/offset+octet-stream` (415).
pub fn require_offset_octet_stream(headers: &HeaderMap) -> Result<(), ApiError> {
    let ok = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(OFFSET_OCTET_STREAM));
    if ok {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "send the file's bytes with Content-Type: {OFFSET_OCTET_STREAM}"
        )))
    }
}

/// The `filename` and `title` of `Upload-Metadata` (`key base64,key base64`, a key alone for
/// an empty value); other keys are ignored.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    pub filename: Option<String>,
    pub title: Option<String>,
}

/// Base64 as tus clients write it, with or without padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Reads `Upload-Metadata`; a malformed pair, a repeated key, a value that is not base64 or
/// (for `filename` and `title`) not UTF-8 text is refused with 400.
pub fn metadata(headers: &HeaderMap) -> Result<Metadata, ApiError> {
    let mut found = Metadata::default();
    let Some(value) = headers.get(UPLOAD_METADATA) else {
        return Ok(found);
    };
    let bad = |why: String| {
        ApiError::BadRequest(format!(
            "Upload-Metadata must be `key base64value` pairs separated by commas: {why}"
        ))
    };
    let text = value.to_str().map_err(|_| bad("it is not ASCII".into()))?;
    let mut keys = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, encoded) = pair.split_once(' ').unwrap_or((pair, ""));
        if encoded.contains(' ') {
            return Err(bad(format!("{pair:?} has more than a key and a value")));
        }
        if keys.contains(&key) {
            return Err(bad(format!("the key {key:?} comes twice")));
        }
        keys.push(key);
        let slot = match key {
            "filename" => &mut found.filename,
            "title" => &mut found.title,
            _ => continue,
        };
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| bad(format!("the value of {key:?} is not base64")))?;
        if bytes.len() > MAX_METADATA_BYTES {
            return Err(bad(format!(
                "the value of {key:?} is over {MAX_METADATA_BYTES} bytes"
            )));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| bad(format!("the value of {key:?} is not UTF-8 text")))?;
        *slot = Some(text);
    }
    Ok(found)
}

/// A time as HTTP writes it (`Upload-Expires`): `Wed, 25 Jun 2014 16:00:00 GMT`.
pub fn http_date(t: DateTime<Utc>) -> HeaderValue {
    let text = t.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn metadata_takes_filename_and_title_with_or_without_padding() {
        // "Week 3.mp4", "Sorting" (unpadded), an unknown key, a key without a value.
        let found = metadata(&headers(&[(
            "upload-metadata",
            "filename V2VlayAzLm1wNA==, title U29ydGluZw,filetype dmlkZW8vbXA0,is_public",
        )]))
        .unwrap();
        assert_eq!(found.filename.as_deref(), Some("Week 3.mp4"));
        assert_eq!(found.title.as_deref(), Some("Sorting"));
        assert_eq!(metadata(&HeaderMap::new()).unwrap(), Metadata::default());
    }

    #[test]
    fn malformed_metadata_is_refused_with_the_reason() {
        for (value, reason) in [
            ("filename !!!", "not base64"),
            ("title YQ==,title Yg==", "comes twice"),
            ("title YQ== Yg==", "more than a key and a value"),
            ("filename /w==", "not UTF-8"),
        ] {
            let error = metadata(&headers(&[("upload-metadata", value)]))
                .unwrap_err()
                .to_string();
            assert!(error.contains(reason), "{value}: {error}");
        }
    }

    #[test]
    fn byte_counts_are_digits_only() {
        assert_eq!(
            upload_length(&headers(&[("upload-length", "42")])).unwrap(),
            42
        );
        for bad in ["-1", "1e3", "", " 4", "99999999999999999999999"] {
            assert!(
                upload_length(&headers(&[("upload-length", bad)])).is_err(),
                "{bad:?}"
            );
        }
        assert!(upload_length(&HeaderMap::new()).is_err());
        assert!(upload_length(&headers(&[("upload-defer-length", "1")])).is_err());
        assert!(upload_offset(&HeaderMap::new()).is_err());
    }

    #[test]
    fn only_tus_1_0_0_and_the_offset_stream_type_pass() {
        assert!(require_version(&headers(&[("tus-resumable", "1.0.0")])).is_ok());
        assert!(require_version(&headers(&[("tus-resumable", "0.2.2")])).is_err());
        assert!(require_version(&HeaderMap::new()).is_err());
        let ok = headers(&[("content-type", "application/offset+octet-stream")]);
        assert!(require_offset_octet_stream(&ok).is_ok());
        let json = headers(&[("content-type", "application/json")]);
        assert!(require_offset_octet_stream(&json).is_err());
    }

    #[test]
    fn expiry_is_an_http_date() {
        let t = Utc.with_ymd_and_hms(2014, 6, 25, 16, 0, 0).unwrap();
        assert_eq!(http_date(t), "Wed, 25 Jun 2014 16:00:00 GMT");
    }
}
