//! Pagination of every listing: `?limit=` (1 to 500, 50 by default) and `?offset=`. The body
//! stays a JSON array; when more items follow, a `Link: <…>; rel="next"` header names the
//! next page, as GitHub's API does, keeping the request's other parameters (filters).

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, OriginalUri, Query};
use axum::http::header::LINK;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::store::Page;

/// The page size when the request names none.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page a request may ask for.
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// How many items (1 to 500; 50 when left out).
    limit: Option<u32>,
    /// How many items to skip.
    offset: Option<u32>,
}

/// The page a request asks for, and the path and other query parameters it was asked with
/// (for the `Link` header).
#[derive(Debug, Clone)]
pub struct PageQuery {
    pub page: Page,
    /// `path?` or `path?other=params&`, ready for `limit=…&offset=…`.
    base: String,
}

impl PageQuery {
    /// The page to ask the store for: one item more than wanted, to know whether more follow.
    pub fn probe(&self) -> Page {
        Page {
            limit: self.page.limit + 1,
            offset: self.page.offset,
        }
    }

    /// Answers `items` (fetched with [`PageQuery::probe`]) as a page.
    pub fn answer<T: Serialize>(&self, mut items: Vec<T>) -> Response {
        let more = items.len() > self.page.limit as usize;
        items.truncate(self.page.limit as usize);
        let mut response = Json(items).into_response();
        if more {
            let next = format!(
                "<{}limit={}&offset={}>; rel=\"next\"",
                self.base,
                self.page.limit,
                self.page.offset.saturating_add(self.page.limit)
            );
            if let Ok(value) = HeaderValue::from_str(&next) {
                response.headers_mut().insert(LINK, value);
            }
        }
        response
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let query: Result<Query<PageParams>, QueryRejection> =
            Query::from_request_parts(parts, state).await;
        let Query(params) = query.map_err(|e| {
            ApiError::BadRequest(format!(
                "limit and offset must be whole numbers ({})",
                e.body_text()
            ))
        })?;
        let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::BadRequest(format!(
                "limit must be 1 to {MAX_LIMIT}, not {limit}"
            )));
        }
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(&parts.uri, |original| &original.0);
        let mut base = format!("{}?", uri.path());
        for pair in uri.query().unwrap_or_default().split('&') {
            let key = pair.split_once('=').map_or(pair, |(key, _)| key);
            // A '>' would end the Link header's URI early.
            if !pair.is_empty() && key != "limit" && key != "offset" && !pair.contains('>') {
                base.push_str(pair);
                base.push('&');
            }
        }
        Ok(PageQuery {
            page: Page {
                limit,
                offset: params.offset.unwrap_or(0),
            },
            base,
        })
    }
}
