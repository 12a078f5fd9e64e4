//! The one HTTP error type of the catalog's API. Every handler returns [`ApiError`]; it
//! becomes a status and `{"error":{"code","message"}}` in [`IntoResponse`] below, the only
//! place that decides. Internal errors are logged there and hidden from the client.

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use lectern_wire::api::{ErrorBody, ErrorDetail};

use crate::accounts::InvalidField;
use crate::password_policy::WeakPassword;
use crate::store::{StoreError, UserError};

/// Why an API request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid session cookie, or no valid bearer token (401).
    #[error("authentication required")]
    Unauthenticated,
    /// Login with a wrong email or password (401).
    #[error("wrong email or password")]
    InvalidCredentials,
    /// Too many failed logins or sign-ups for the account or from the address (429, with
    /// `Retry-After: retry_after_seconds`).
    #[error(
        "too many failed attempts for this account or from this address; try again in \
         {retry_after_seconds} s (at {})",
        retry_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )]
    TooManyAttempts {
        retry_after_seconds: u64,
        retry_at: chrono::DateTime<chrono::Utc>,
    },
    /// An unsafe request from another site or origin (403; see `cross_site`). Not a
    /// visibility answer: the same request from the catalog's own pages passes.
    #[error("cross-site request refused: send it from the catalog's own origin")]
    CrossSiteRefused,
    /// An account under 13 asks to watch before its guardian's consent is recorded (403).
    /// Only for a lecture the person may see: they know it exists, so this tells nothing.
    #[error(
        "your account is for someone under 13: your institute must record a parent's or \
         guardian's consent before you can watch lectures; ask your institute's Lectern admins"
    )]
    GuardianConsentRequired,
    /// Viewing aggregates asked for over fewer students than [`crate::viewing::MIN_COHORT`]
    /// (409): fewer, and one person's viewing could be told from them.
    #[error(
        "fewer than {} students of the course have watched this lecture (not counting those \
         who opted out of research): analytics are shown only over {} or more, so that no \
         one's viewing can be singled out",
        crate::viewing::MIN_COHORT,
        crate::viewing::MIN_COHORT
    )]
    CohortTooSmall,
    /// The thing does not exist, or the caller may not see it: the two are not told apart (404).
    #[error("not found")]
    NotFound,
    /// The request body or a parameter is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The path exists, but not with this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request body is over the limit (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The request body is not of the media type the endpoint takes (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// An activation link that is unknown, used or expired (400). One answer for all three:
    /// it tells a guesser nothing.
    #[error(
        "this activation link does not work: it is unknown, was already used or has expired; \
         ask your institute's admins for a new one"
    )]
    InvalidActivationLink,
    /// A password the policy refuses (422); the message says why (`password_policy`).
    #[error(transparent)]
    WeakPassword(#[from] WeakPassword),
    /// The request is understood but the state does not allow it (409).
    #[error("{0}")]
    Conflict(String),
    /// The thing existed for the caller but has expired (410): a resumable upload.
    #[error("{0}")]
    Gone(String),
    /// A protocol version the endpoint does not speak (412): tus's `Tus-Resumable`.
    #[error("{0}")]
    PreconditionFailed(String),
    /// An uploaded body does not have the SHA-256 it was sent with (422); nothing was kept.
    #[error("{0}")]
    ChecksumMismatch(String),
    /// The database failed (500, logged, not shown).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something else inside failed (500, logged, not shown).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            ApiError::TooManyAttempts { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
            }
            ApiError::CrossSiteRefused => (StatusCode::FORBIDDEN, "cross_site_refused"),
            ApiError::GuardianConsentRequired => {
                (StatusCode::FORBIDDEN, "guardian_consent_required")
            }
            ApiError::CohortTooSmall => (StatusCode::CONFLICT, "cohort_too_small"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::InvalidActivationLink => (StatusCode::BAD_REQUEST, "invalid_activation_link"),
            ApiError::WeakPassword(_) => (StatusCode::UNPROCESSABLE_ENTITY, "weak_password"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Gone(_) => (StatusCode::GONE, "gone"),
            ApiError::PreconditionFailed(_) => {
                (StatusCode::PRECONDITION_FAILED, "precondition_failed")
            }
            ApiError::ChecksumMismatch(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "checksum_mismatch")
            }
            ApiError::Store(_) | ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl From<InvalidField> for ApiError {
    fn from(e: InvalidField) -> ApiError {
        ApiError::BadRequest(e.0)
    }
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> ApiError {
        match e {
            UserError::Store(e) => ApiError::Store(e),
            other => ApiError::Conflict(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "internal error".to_owned()
        } else {
            self.to_string()
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyAttempts {
            retry_after_seconds,
            ..
        } = self
        {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after_seconds));
        }
        response
    }
}
