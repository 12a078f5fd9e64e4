//! Login throttling: after too many failed logins in a sliding window, further attempts
//! for that account (email, case-insensitive) or from that client address are refused with
//! 429 `too_many_attempts` and a `Retry-After`, without checking the password.
//!
//! The counters live in the store (`login_attempts` table), not in this process: catalog
//! replicas behind a load balancer share the database, so an attacker gets the limit once,
//! not once per replica, and a restart forgets nothing. The cost is a few small queries per
//! login, next to an argon2id check that costs far more.
//!
//! How one login goes ([`begin`]): the attempt is written under its keys *first*, then the
//! other attempts in the window are counted; if a key is at its limit the attempt is
//! forgotten and refused. Otherwise the password is checked: success clears the account's
//! attempts ([`Attempt::succeeded`]); failure leaves the row counting ([`Attempt::failed`]).
//! Writing before counting keeps the limit under concurrency: of N simultaneous attempts
//! at most the limit find room. An unknown email is throttled like a known one, so the
//! answer never tells who has an account.
//!
//! Open sign-up goes through the same [`begin`] with the same keys and limits: a sign-up
//! that finds the email taken is a failed attempt (it tells that the account exists), one
//! that makes an account succeeds.
//!
//! Keys are SHA-256 of `account:<email>` and `address:<ip>`; an IPv6 client counts by its
//! /64, the block one subscriber typically gets. Without a known address (an app driven by
//! `oneshot` with no `ConnectInfo`) only the account limit applies.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::net::IpAddr;

use crate::error::ApiError;
use crate::store::Store;

/// `[login_throttle]`: how many failed logins are allowed in a sliding window.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginThrottleConfig {
    /// Failed logins per account (email) in the window before it is refused (default 5).
    #[serde(default = "default_per_account")]
    pub max_failures_per_account: u32,
    /// Failed logins per client address in the window before it is refused (default 20).
    #[serde(default = "default_per_address")]
    pub max_failures_per_address: u32,
    /// The sliding window, in seconds (default 900, 15 minutes; at most one day).
    #[serde(default = "default_window")]
    pub window_seconds: u32,
}

fn default_per_account() -> u32 {
    5
}

fn default_per_address() -> u32 {
    20
}

fn default_window() -> u32 {
    900
}

impl Default for LoginThrottleConfig {
    fn default() -> Self {
        LoginThrottleConfig {
            max_failures_per_account: default_per_account(),
            max_failures_per_address: default_per_address(),
            window_seconds: default_window(),
        }
    }
}

/// The largest limit accepted: beyond it a limit throttles nothing.
const MAX_LIMIT: u32 = 10_000;
/// The longest window accepted: a day.
const MAX_WINDOW_SECONDS: u32 = 86_400;

impl LoginThrottleConfig {
    /// Checks the ranges; the error names the key and says what it must be.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        for (key, value) in [
            (
                "login_throttle.max_failures_per_account",
                self.max_failures_per_account,
            ),
            (
                "login_throttle.max_failures_per_address",
                self.max_failures_per_address,
            ),
        ] {
            if !(1..=MAX_LIMIT).contains(&value) {
                return Err((key, format!("must be 1 to {MAX_LIMIT}, not {value}")));
            }
        }
        if !(1..=MAX_WINDOW_SECONDS).contains(&self.window_seconds) {
            return Err((
                "login_throttle.window_seconds",
                format!(
                    "must be 1 to {MAX_WINDOW_SECONDS} (a day), not {}",
                    self.window_seconds
                ),
            ));
        }
        Ok(())
    }

    fn window(&self) -> Duration {
        Duration::seconds(i64::from(self.window_seconds))
    }
}

/// The throttle key of an account: emails compare without case or surrounding blanks.
pub(crate) fn account_key(email: &str) -> String {
    key("account", &email.trim().to_lowercase())
}

/// The throttle key of a client address: IPv4 as is (also when mapped into IPv6), IPv6 by
/// its /64.
fn address_key(address: IpAddr) -> String {
    let text = match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    };
    key("address", &text)
}

fn key(kind: &str, value: &str) -> String {
    hex::encode(Sha256::digest(format!("{kind}:{value}").as_bytes()))
}

/// A login attempt that found room under every limit: end it with [`Attempt::succeeded`]
/// or [`Attempt::failed`]. Dropped unfinished (the request was cancelled), it counts as a
/// failure until it leaves the window.
#[derive(Debug)]
#[must_use = "a login attempt ends with succeeded() or failed()"]
pub struct Attempt {
    id: String,
    account_key: String,
}

/// Starts a login attempt for `email` from `address` at `now`, or refuses it with
/// [`ApiError::TooManyAttempts`] when the account or the address is at its limit.
pub async fn begin(
    store: &Store,
    config: &LoginThrottleConfig,
    email: &str,
    address: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<Attempt, ApiError> {
    let window = config.window();
    let account_key = account_key(email);
    let mut limits = vec![(account_key.clone(), config.max_failures_per_account)];
    if let Some(address) = address {
        limits.push((address_key(address), config.max_failures_per_address));
    }
    let keys: Vec<String> = limits.iter().map(|(key, _)| key.clone()).collect();
    let id = store.begin_login_attempt(&keys, now, now - window).await?;
    let mut free_at = None;
    for (key, limit) in &limits {
        let recent = store
            .recent_login_attempts(key, now - window, &id, *limit)
            .await?;
        free_at = free_at.max(room_at(&recent, *limit, window));
    }
    if let Some(free_at) = free_at {
        store.forget_login_attempt(&id).await?;
        tracing::warn!(%free_at, "login refused: too many failed attempts");
        return Err(ApiError::TooManyAttempts {
            retry_after_seconds: seconds_until(now, free_at),
            retry_at: free_at,
        });
    }
    Ok(Attempt { id, account_key })
}

/// When a key whose newest other attempts (newest first, at most `limit`) are `recent`
/// has room for one more: `None` when it has room now, else when the `limit`-th newest
/// leaves the window.
fn room_at(recent: &[DateTime<Utc>], limit: u32, window: Duration) -> Option<DateTime<Utc>> {
    let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
    (recent.len() >= limit).then(|| recent[limit - 1] + window)
}

/// Whole seconds from `now` to `then`, rounded up, at least 1 (a `Retry-After` value).
fn seconds_until(now: DateTime<Utc>, then: DateTime<Utc>) -> u64 {
    let millis = (then - now).num_milliseconds().max(1);
    u64::try_from(millis).unwrap_or(1).div_ceil(1000)
}

impl Attempt {
    /// The password was right: this attempt and every earlier one on the account stop
    /// counting (the address keeps its other failures).
    pub async fn succeeded(self, store: &Store) -> Result<(), ApiError> {
        store.clear_login_attempts(&self.account_key).await?;
        store.forget_login_attempt(&self.id).await?;
        Ok(())
    }

    /// The email or password was wrong: the attempt keeps counting until it leaves the
    /// window.
    pub fn failed(self) {
        tracing::info!("login failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn accounts_are_keyed_without_case_or_blanks() {
        assert_eq!(
            account_key(" Student@Demo.Lectern.TEST "),
            account_key("student@demo.lectern.test")
        );
        assert_ne!(account_key("a@b.c"), account_key("a@b.d"));
        assert_ne!(
            account_key("1.2.3.4"),
            address_key("1.2.3.4".parse().unwrap())
        );
    }

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(one), address_key(same_64));
        assert_ne!(address_key(one), address_key(other_64));
        assert_eq!(
            address_key("::ffff:192.0.2.7".parse().unwrap()),
            address_key("192.0.2.7".parse().unwrap())
        );
    }

    #[test]
    fn a_key_has_room_until_its_limit_and_again_when_the_oldest_counted_leaves() {
        let t = |minute| Utc.with_ymd_and_hms(2026, 11, 24, 9, minute, 0).unwrap();
        let window = Duration::minutes(15);
        let newest_first = [t(10), t(8), t(5), t(3), t(1)];
        assert_eq!(room_at(&newest_first[..4], 5, window), None);
        assert_eq!(room_at(&newest_first, 5, window), Some(t(16)));
        assert_eq!(room_at(&newest_first[..2], 2, window), Some(t(23)));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
        assert_eq!(seconds_until(now, now + Duration::milliseconds(1500)), 2);
        assert_eq!(seconds_until(now, now + Duration::seconds(900)), 900);
        assert_eq!(seconds_until(now, now), 1);
        assert_eq!(seconds_until(now, now - Duration::seconds(3)), 1);
    }

    #[test]
    fn limits_out_of_range_are_errors_naming_their_key() {
        let ok = LoginThrottleConfig::default();
        assert_eq!(ok.validate(), Ok(()));
        let zero = LoginThrottleConfig {
            max_failures_per_account: 0,
            ..ok.clone()
        };
        assert_eq!(
            zero.validate().unwrap_err().0,
            "login_throttle.max_failures_per_account"
        );
        let huge = LoginThrottleConfig {
            max_failures_per_address: MAX_LIMIT + 1,
            ..ok.clone()
        };
        assert_eq!(
            huge.validate().unwrap_err().0,
            "login_throttle.max_failures_per_address"
        );
        let long = LoginThrottleConfig {
            window_seconds: MAX_WINDOW_SECONDS + 1,
            ..ok
        };
        assert_eq!(
            long.validate().unwrap_err().0,
            "login_throttle.window_seconds"
        );
    }
}
