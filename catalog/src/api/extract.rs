//! The API's extractors for request bodies and path parameters: axum's `Json` and `Path`,
//! but every rejection is an [`ApiError`], so a malformed request gets the same
//! `{"error": {"code", "message"}}` body as every other error instead of axum's plain text
//! (400 for a malformed body or parameter, 413 for a body over the limit, 415 for a body
//! not sent as `application/json`).
//!
//! Both also refuse text with the NUL character: no id, name or title has one, and
//! PostgreSQL cannot store or even compare text that holds one (it would fail the query,
//! a 500), while SQLite would keep it.

use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// A JSON request body of type `T`: axum's `Json` with [`ApiError`] rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        // Parsed as a value first, so NUL is refused wherever it is, even in a field the
        // type ignores; axum's checks (content type, body limit, syntax) come with it.
        let axum::Json(value) = axum::Json::<Value>::from_request(request, state)
            .await
            .map_err(|rejection| rejected(rejection.status(), rejection.body_text()))?;
        if holds_nul(&value) {
            return Err(ApiError::BadRequest(
                "the body's text may not contain the NUL character (\\u0000)".into(),
            ));
        }
        // serde_path_to_error names the field that is wrong, as axum's own message does.
        serde_path_to_error::deserialize(value)
            .map(Json)
            .map_err(|e| {
                ApiError::BadRequest(format!("the body is not what this endpoint takes: {e}"))
            })
    }
}

/// Path parameters of type `T`: axum's `Path` with [`ApiError`] rejections; a parameter
/// with NUL answers 404, as nothing has such a name.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(value) = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| rejected(rejection.status(), rejection.body_text()))?;
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| rejected(rejection.status(), rejection.body_text()))?;
        if raw.iter().any(|(_, text)| text.contains('\0')) {
            return Err(ApiError::NotFound);
        }
        Ok(Path(value))
    }
}

/// The [`ApiError`] for one of axum's rejections, by its status.
fn rejected(status: StatusCode, message: String) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(message),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(message),
        // A route whose pattern does not match its extractor: our bug, not the caller's.
        status if status.is_server_error() => ApiError::Internal(message),
        _ => ApiError::BadRequest(message),
    }
}

/// True when any string in `value`, or any object key, contains NUL.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| key.contains('\0') || holds_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_is_found_in_strings_keys_and_nested_values() {
        assert!(!holds_nul(&json!({"a": ["b", 1, null, {"c": "d"}]})));
        assert!(!holds_nul(&json!("\\u0000 written out")));
        assert!(holds_nul(&json!("a\u{0}b")));
        assert!(holds_nul(&json!({"a\u{0}": 1})));
        assert!(holds_nul(&json!([{"a": ["\u{0}"]}])));
    }
}
