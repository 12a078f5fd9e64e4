//! How people get accounts, shared by the API and the operators' command line: activation
//! links ([`new_link`]), the checks of what people type for an account ([`check_text`],
//! [`check_email`]) and an institute created with its first admin ([`create_institute`]).
//!
//! An activation link is `/activate#token=<256 random bits>`: the token rides in the URL's
//! fragment, which browsers never send to a server, so it stays out of access logs, proxies
//! and `Referer` headers; the activation page hands it to `POST /api/v1/auth/activate`. The
//! catalog keeps only its SHA-256, like a session's. Lectern sends no mail: whoever creates
//! the account passes the link on.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::auth;
use crate::config::Config;
use crate::store::{AuditEvent, Invitation, Store, StoreError, UserError};

/// Something a person typed for an account that cannot be used; the message says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidField(pub String);

/// The longest email address that can be delivered to (RFC 5321's path limit).
const MAX_EMAIL_CHARS: usize = 254;
/// The longest name accepted for a person or an institute.
pub const MAX_NAME_CHARS: usize = 200;

/// A name or title people type: not blank, at most `max` characters, no control characters.
pub fn check_text(what: &str, value: &str, max: usize) -> Result<(), InvalidField> {
    if value.trim().is_empty() {
        return Err(InvalidField(format!("{what} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(InvalidField(format!(
            "{what} must be at most {max} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(InvalidField(format!(
            "{what} must not contain control characters (tabs, line breaks)"
        )));
    }
    Ok(())
}

/// An email address as people sign in with it, without surrounding blanks: one `@` with
/// something on both sides, no spaces. Whether it reaches anyone is not checked (no mail).
pub fn check_email(email: &str) -> Result<&str, InvalidField> {
    let email = email.trim();
    let wrong = || {
        InvalidField(format!(
            "{email:?} is not an email address such as ada@example.edu"
        ))
    };
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(InvalidField(format!(
            "an email address must be at most {MAX_EMAIL_CHARS} characters"
        )));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(wrong());
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.') =>
        {
            Ok(email)
        }
        _ => Err(wrong()),
    }
}

/// A new activation link: what the store keeps, and the URL to pass on (the only place the
/// token is; `Debug` leaves it out).
#[derive(Clone)]
pub struct NewLink {
    pub invitation: Invitation,
    pub url: String,
}

impl std::fmt::Debug for NewLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewLink")
            .field("expires_at", &self.invitation.expires_at)
            .finish_non_exhaustive()
    }
}

/// A link that works for `invitation_ttl_hours` from `now`.
pub fn new_link(config: &Config, now: DateTime<Utc>) -> NewLink {
    let token = auth::new_token();
    let invitation = Invitation {
        token_hash: auth::token_hash(&token),
        expires_at: now + Duration::hours(i64::from(config.invitation_ttl_hours)),
    };
    NewLink {
        invitation,
        url: activation_url(config, &token),
    }
}

/// `/activate#token=…`, absolute when `public_origin` is set. The token is base64url, so
/// it needs no escaping.
fn activation_url(config: &Config, token: &str) -> String {
    let origin = config
        .public_origin
        .as_ref()
        .map_or("", |origin| origin.as_str());
    format!("{origin}/activate#token={token}")
}

/// Why an operator's `institute create` failed.
#[derive(Debug, thiserror::Error)]
pub enum CreateInstituteError {
    #[error(transparent)]
    Invalid(#[from] InvalidField),
    #[error(transparent)]
    Taken(#[from] UserError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new institute and the activation link of its first admin.
#[derive(Debug)]
pub struct CreatedInstitute {
    pub institute_id: String,
    pub admin_id: String,
    pub link: NewLink,
}

/// Creates the institute `name` with its first admin, who sets their password with the
/// link returned; audited as done by no person (an operator on the command line).
pub async fn create_institute(
    store: &Store,
    config: &Config,
    name: &str,
    admin_email: &str,
    admin_name: &str,
    now: DateTime<Utc>,
) -> Result<CreatedInstitute, CreateInstituteError> {
    check_text("the institute's name", name, MAX_NAME_CHARS)?;
    let admin_email = check_email(admin_email)?;
    check_text("the admin's name", admin_name, MAX_NAME_CHARS)?;
    let link = new_link(config, now);
    let (institute_id, admin_id) = store
        .create_institute(
            name.trim(),
            admin_email,
            admin_name.trim(),
            &link.invitation,
            now,
        )
        .await?;
    for (action, kind, id) in [
        ("institute.create", "institute", &institute_id),
        ("user.create", "user", &admin_id),
    ] {
        let event = AuditEvent {
            action,
            target_kind: kind,
            target_id: Some(id),
            detail: json!({"via": "command line", "role": "admin"}),
        };
        store.audit_system(&institute_id, event, now).await?;
    }
    Ok(CreatedInstitute {
        institute_id,
        admin_id,
        link,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_one_at_with_something_on_both_sides_and_no_spaces() {
        assert_eq!(check_email("  ada@example.edu "), Ok("ada@example.edu"));
        assert_eq!(check_email("ada@localhost"), Ok("ada@localhost"));
        for wrong in [
            "",
            "ada",
            "@example.edu",
            "ada@",
            "ada@@example.edu",
            "a da@example.edu",
            "ada@example.edu.",
            "ada@.example.edu",
        ] {
            assert!(check_email(wrong).is_err(), "{wrong:?}");
        }
        let long = format!("{}@example.edu", "a".repeat(250));
        assert!(check_email(&long).unwrap_err().0.contains("254"));
    }

    #[test]
    fn links_carry_the_token_in_the_fragment_and_only_its_hash_is_kept() {
        let mut config = Config::from_toml(
            "media_key = \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"",
        )
        .unwrap();
        let now = Utc::now();
        let link = new_link(&config, now);
        let token = link.url.strip_prefix("/activate#token=").unwrap();
        assert_eq!(link.invitation.token_hash, auth::token_hash(token));
        assert_eq!(link.invitation.expires_at, now + Duration::hours(168));
        assert!(!format!("{link:?}").contains(token));

        config.public_origin =
            Some(crate::cross_site::PublicOrigin::parse("https://lectern.example.edu/").unwrap());
        let link = new_link(&config, now);
        assert!(
            link.url
                .starts_with("https://lectern.example.edu/activate#token="),
            "{}",
            link.url
        );
    }
}
