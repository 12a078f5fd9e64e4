//! The benchmark's HTTP client of the catalog: logins and timed GETs over one keep-alive
//! connection pool, the session cookie set by hand (no cookie jar: every request picks its
//! own student).

use anyhow::{bail, Context};
use bytes::Bytes;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

/// Logins run this many at a time: each costs an argon2 verification on a blocking thread.
const LOGINS_AT_ONCE: usize = 2;

pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// A whole answer and how long it took, from sending the request to its body's last byte.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
    pub elapsed: Duration,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: base.to_owned(),
        }
    }

    /// Signs in through `POST /api/v1/auth/login`; returns the `Cookie` header value.
    pub async fn login(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let answer = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await?;
        let status = answer.status();
        if status != StatusCode::OK {
            bail!("login of {email}: {status} {}", answer.text().await?);
        }
        let cookie = answer
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .with_context(|| format!("login of {email} set no cookie"))?;
        Ok(cookie.to_owned())
    }

    /// Signs in every one of `emails`, in order.
    pub async fn login_all(&self, emails: &[&str], password: &str) -> anyhow::Result<Vec<String>> {
        stream::iter(emails)
            .map(|email| self.login(email, password))
            .buffered(LOGINS_AT_ONCE)
            .try_collect()
            .await
    }

    /// `GET path` (with `cookie`), timed.
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> anyhow::Result<Answer> {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(cookie) = cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        let started = Instant::now();
        let answer = request
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = answer.status();
        let body = answer
            .bytes()
            .await
            .with_context(|| format!("GET {path}"))?;
        Ok(Answer {
            status,
            body,
            elapsed: started.elapsed(),
        })
    }

    /// `GET path` that must answer 200; returns the body.
    pub async fn get_ok(&self, path: &str, cookie: Option<&str>) -> anyhow::Result<Bytes> {
        let answer = self.get(path, cookie).await?;
        if answer.status != StatusCode::OK {
            bail!(
                "GET {path}: {} {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
        }
        Ok(answer.body)
    }
}
