//! `GET /api/v1/agent/schedule`: the occurrences a box's room has coming. Boxes poll it and
//! keep the last answer to follow while the catalog is away (design decision 8), so it is
//! cheap to ask again: the strong `ETag` is a hash of the body, which holds nothing but the
//! occurrences (no "generated at"), so it stays the same until an occurrence ends, enters
//! the window or is changed; `If-None-Match` with it answers 304 without a body.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use headers::Header;
use lectern_wire::agent::AgentSchedule;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::startup::AppState;

/// The window when the box names none, and the longest it may ask for.
const DEFAULT_DAYS: u32 = 7;
const MAX_DAYS: u32 = 31;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ScheduleParams {
    /// How many days ahead (1 to 31; 7 when left out).
    days: Option<u32>,
}

#[tracing::instrument(skip_all, fields(agent = %agent.id))]
#[utoipa::path(get, path = "/api/v1/agent/schedule", tag = "capture boxes", security(("agent_token" = [])),
    params(ScheduleParams, ("If-None-Match" = Option<String>, Header, description = "the ETag of the schedule the box holds")),
    responses(
        (status = 200, body = AgentSchedule, description = "the room's occurrences that have not ended and start within the window, by start (UTC)",
            headers(("ETag" = String, description = "strong; changes only when the body does"))),
        (status = 304, description = "unchanged: the box's copy is current"),
        (status = 400, body = lectern_wire::api::ErrorBody), (status = 401, body = lectern_wire::api::ErrorBody)))]
pub(super) async fn schedule(
    State(state): State<AppState>,
    AgentAuth(agent): AgentAuth,
    query: Result<Query<ScheduleParams>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(params) = query.map_err(|e| {
        ApiError::BadRequest(format!("days must be a whole number ({})", e.body_text()))
    })?;
    let days = params.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::BadRequest(format!(
            "days must be 1 to {MAX_DAYS}, not {days}"
        )));
    }
    let now = Utc::now();
    let occurrences = state
        .store
        .room_occurrences(&agent.room_id, now, now + Duration::days(i64::from(days)))
        .await?;
    let body = AgentSchedule {
        room_id: agent.room_id,
        occurrences,
    };
    let body = serde_json::to_vec(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let tag = entity_tag(&body);
    let etag = HeaderValue::from_str(&tag).map_err(|e| ApiError::Internal(e.to_string()))?;
    let unchanged = matches_any(&headers, &tag);
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    };
    let h = response.headers_mut();
    h.insert(ETAG, etag);
    // Any cache must ask again each time; only the box itself may keep it.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    Ok(response)
}

/// A strong entity tag of a body: 128 bits of its SHA-256, quoted.
fn entity_tag(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..16]))
}

/// True when `If-None-Match` names `tag` (or `*`), compared as RFC 9110 says for it (weakly).
/// A malformed header is ignored: the full answer is always a safe reply.
fn matches_any(headers: &HeaderMap, tag: &str) -> bool {
    let Ok(tag) = tag.parse::<headers::ETag>() else {
        return false;
    };
    let mut values = headers.get_all(IF_NONE_MATCH).iter();
    match headers::IfNoneMatch::decode(&mut values) {
        Ok(condition) => !condition.precondition_passes(&tag),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn if_none_match_matches_its_tag_in_a_list_weakly_or_as_a_star() {
        let tag = entity_tag(b"{}");
        assert_eq!(tag.len(), 34);
        assert!(matches_any(&with(&tag), &tag));
        assert!(matches_any(&with(&format!("\"other\", {tag}")), &tag));
        assert!(matches_any(&with(&format!("W/{tag}")), &tag));
        assert!(matches_any(&with("*"), &tag));
        assert!(!matches_any(&with("\"other\""), &tag));
        assert!(!matches_any(&with("not quoted"), &tag));
        assert!(!matches_any(&HeaderMap::new(), &tag));
    }
}
