//! Refusing cross-site requests that change things (CSRF): one middleware layer,
//! [`refuse_cross_site`], over the whole catalog.
//!
//! An unsafe request (POST, PUT, PATCH, DELETE) without a bearer token is refused with 403
//! `cross_site_refused` when the browser says it comes from another site
//! (`Sec-Fetch-Site: cross-site`) or its `Origin` is not the catalog's own origin. That
//! covers every request a session cookie authenticates, and login too (a forged login
//! would sign the victim into the attacker's account). It is 403, not the 404 Lectern gives
//! outsiders, because it says nothing about the resource: the same request from the
//! catalog's own pages passes.
//!
//! Requests with `Authorization: Bearer` (capture boxes, workers, Prometheus) pass: a
//! browser cannot add that header to a cross-site request without a CORS preflight, which
//! the catalog never grants. Requests without `Origin` or `Sec-Fetch-Site` (curl, the
//! clients, old browsers on same-origin requests) pass too; the cookie's `SameSite=Lax`
//! still keeps it off cross-site POSTs.
//!
//! The catalog's own origin is `public_origin` when configured (needed behind a proxy
//! that rewrites `Host`), else the request's `Host` with `https` when `secure_cookies` is on
//! and `http` otherwise.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer};
use std::fmt;

use crate::error::ApiError;
use crate::startup::AppState;

/// `public_origin`: the catalog's origin as browsers see it, `https://lectern.example.edu`
/// (scheme, host, port if not the default; no path).
#[derive(Clone, PartialEq, Eq)]
pub struct PublicOrigin(String);

impl PublicOrigin {
    /// Parses and normalises an origin: lower case, default port left out, no trailing `/`.
    pub fn parse(text: &str) -> Result<PublicOrigin, String> {
        normalise_origin(text.trim().trim_end_matches('/'))
            .ok_or_else(|| {
                format!(
                    "{text:?} is not an origin such as https://lectern.example.edu \
                 (http or https, a host, no path)"
                )
            })
            .map(PublicOrigin)
    }

    /// The origin as text, `scheme://host[:port]`, for building absolute URLs.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PublicOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PublicOrigin {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        PublicOrigin::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `scheme://host[:port]` in lower case without the scheme's default port, or `None` when
/// `text` is not an http(s) origin (the `null` origin is not one).
fn normalise_origin(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let (scheme, authority) = lower.split_once("://")?;
    let default_port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let valid = !authority.is_empty()
        && authority.parse::<axum::http::uri::Authority>().is_ok()
        && !authority.contains(['/', '?', '#', '@']);
    if !valid {
        return None;
    }
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    Some(format!("{scheme}://{authority}"))
}

/// The middleware: answers 403 `cross_site_refused` to an unsafe cross-site request, passes
/// everything else on.
pub async fn refuse_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // Safe requests always pass: spare them working out the origin (media polls are many).
    if !is_unsafe(request.method()) {
        return next.run(request).await;
    }
    let own = match &state.config.public_origin {
        Some(PublicOrigin(origin)) => Some(origin.clone()),
        None => origin_from_host(request.headers(), state.config.secure_cookies),
    };
    if is_refused(request.method(), request.headers(), own.as_deref()) {
        tracing::warn!(
            method = %request.method(),
            path = %request.uri().path(),
            origin = ?request.headers().get(header::ORIGIN),
            sec_fetch_site = ?request.headers().get("sec-fetch-site"),
            "cross-site request refused"
        );
        return ApiError::CrossSiteRefused.into_response();
    }
    next.run(request).await
}

/// The origin a request addressed, from its `Host`.
fn origin_from_host(headers: &HeaderMap, https: bool) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let scheme = if https { "https" } else { "http" };
    normalise_origin(&format!("{scheme}://{host}"))
}

/// True for an unsafe request without a bearer token that the browser marks cross-site or
/// whose `Origin` is not `own` (an `Origin` with no known own origin is refused too).
fn is_refused(method: &Method, headers: &HeaderMap, own: Option<&str>) -> bool {
    if !is_unsafe(method) || has_bearer(headers) {
        return false;
    }
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    let foreign_origin = headers.get(header::ORIGIN).is_some_and(|origin| {
        let origin = origin.to_str().ok().and_then(normalise_origin);
        origin.is_none() || origin.as_deref() != own
    });
    cross_site || foreign_origin
}

/// The methods that change things.
fn is_unsafe(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    const OWN: Option<&str> = Some("https://lectern.example.edu");

    #[test]
    fn origins_are_compared_without_case_or_default_ports() {
        assert_eq!(
            normalise_origin("HTTPS://Lectern.Example.EDU:443").as_deref(),
            Some("https://lectern.example.edu")
        );
        assert_eq!(
            normalise_origin("http://localhost:8080").as_deref(),
            Some("http://localhost:8080")
        );
        for bad in ["null", "ftp://x", "https://", "https://a/b", "https://u@a"] {
            assert_eq!(normalise_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_public_origin_must_be_an_origin() {
        assert_eq!(
            PublicOrigin::parse("https://Lectern.example.edu/").unwrap(),
            PublicOrigin("https://lectern.example.edu".into())
        );
        assert!(PublicOrigin::parse("lectern.example.edu").is_err());
        assert!(PublicOrigin::parse("https://lectern.example.edu/app").is_err());
    }

    #[test]
    fn unsafe_requests_from_another_site_or_origin_are_refused() {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            for pairs in [
                &[("sec-fetch-site", "cross-site")][..],
                &[("origin", "https://evil.example")],
                &[("origin", "null")],
                &[("origin", "http://lectern.example.edu")],
                &[
                    ("origin", "https://lectern.example.edu"),
                    ("sec-fetch-site", "cross-site"),
                ],
            ] {
                assert!(
                    is_refused(&method, &headers(pairs), OWN),
                    "{method} {pairs:?}"
                );
            }
        }
    }

    #[test]
    fn same_origin_safe_bearer_and_headerless_requests_pass() {
        let same = [
            ("origin", "https://lectern.example.edu"),
            ("sec-fetch-site", "same-origin"),
        ];
        assert!(!is_refused(&Method::POST, &headers(&same), OWN));
        assert!(!is_refused(&Method::POST, &headers(&[]), OWN));
        let evil = [
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ];
        assert!(!is_refused(&Method::GET, &headers(&evil), OWN));
        let bearer = [("authorization", "Bearer t"), evil[0], evil[1]];
        assert!(!is_refused(&Method::POST, &headers(&bearer), OWN));
        assert!(
            is_refused(&Method::POST, &headers(&[evil[0]]), None),
            "an Origin with no own origin to compare is refused"
        );
    }
}
