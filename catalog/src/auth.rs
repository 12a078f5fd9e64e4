//! Who is asking: people by session cookie ([`AuthUser`]), capture boxes ([`AgentAuth`]) and
//! workers ([`WorkerAuth`]) by bearer token. Each is an axum extractor, so a handler that
//! takes one cannot forget the check. Secrets are never stored: sessions and API tokens are
//! looked up by their SHA-256; passwords are argon2id.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, Utc};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::{Agent, StoreError, User, Worker};

/// The session cookie over plain HTTP.
pub const SESSION_COOKIE: &str = "lectern_session";
/// The session cookie over HTTPS (`__Host-` binds it to this origin).
pub const SECURE_SESSION_COOKIE: &str = "__Host-lectern_session";
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::days(7);

/// argon2id with the OWASP minimum: m = 19456 KiB, t = 2, p = 1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string. Slow on purpose: call off the async threads.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Password(e.to_string()))
}

/// True when `password` matches the PHC string `hash`. Slow on purpose.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the email is unknown, so a wrong email costs as much time
/// as a wrong password and timing does not reveal who has an account.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password").expect("hashing works"))
}

/// A new random 256-bit token, base64url.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The hex SHA-256 of a token: what the database keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The session cookie's name under this configuration.
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.config.secure_cookies {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The cookie that carries a new session. It has no Max-Age: it ends with the browser
/// session, and the server ends it after [`SESSION_TTL`] regardless.
pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build((cookie_name(state), token))
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .path("/")
        .build()
}

/// A cookie that, when removed from the jar, clears the session cookie in the browser.
pub fn cleared_cookie(state: &AppState) -> Cookie<'static> {
    Cookie::build((cookie_name(state), ""))
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .path("/")
        .build()
}

/// The signed-in person, from the session cookie. Rejects with 401.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(cookie_name(state))
            .ok_or(ApiError::Unauthenticated)?;
        let user = state
            .store
            .session_user(&token_hash(token.value()), Utc::now())
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(AuthUser(user))
    }
}

/// An admin of their institute, from the session cookie. Rejects with 401 without a session
/// and 404 for anyone else: to them the admin API does not exist.
#[derive(Debug, Clone)]
pub struct AdminUser(pub User);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        if user.role == lectern_wire::api::Role::Admin {
            Ok(AdminUser(user))
        } else {
            Err(ApiError::NotFound)
        }
    }
}

/// The `Authorization: Bearer` token of a request, if well formed.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(lectern_wire::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A capture box, by its bearer token. Rejects with 401.
#[derive(Debug, Clone)]
pub struct AgentAuth(pub Agent);

impl FromRequestParts<AppState> for AgentAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or(ApiError::Unauthenticated)?;
        let agent = state.store.agent_by_token_hash(&token_hash(token)).await?;
        agent.map(AgentAuth).ok_or(ApiError::Unauthenticated)
    }
}

/// A transcode worker, by its bearer token. Rejects with 401.
#[derive(Debug, Clone)]
pub struct WorkerAuth(pub Worker);

impl FromRequestParts<AppState> for WorkerAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or(ApiError::Unauthenticated)?;
        let worker = state.store.worker_by_token_hash(&token_hash(token)).await?;
        worker.map(WorkerAuth).ok_or(ApiError::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let hash = hash_password("correct horse").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn tokens_are_256_bits_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_eq!(token_hash(&a).len(), 64);
    }
}
