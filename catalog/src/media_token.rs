//! Media tokens: `<key-id>.<expiry>.<base64url HMAC-SHA256(key, "<key-id>.<lecture>.<expiry>")>`,
//! scoped to one lecture, carried as `?token=` on every media URI (design decision 7).
//! Verification is constant-time and refuses anything it does not fully understand.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::MediaKey;

type HmacSha256 = Hmac<Sha256>;

/// The id of the only key for now; rotation adds `k2` beside it.
pub const KEY_ID: &str = "k1";

/// Signs and checks media tokens with the configured key.
#[derive(Clone, Debug)]
pub struct MediaSigner {
    key: MediaKey,
}

impl MediaSigner {
    /// A signer over `key`.
    pub fn new(key: MediaKey) -> Self {
        MediaSigner { key }
    }

    fn mac(&self, lecture: &str, expires: u64) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(self.key.as_bytes()).expect("HMAC takes keys of any length");
        mac.update(format!("{KEY_ID}.{lecture}.{expires}").as_bytes());
        mac
    }

    /// A token for `lecture` valid until `expires` (Unix seconds).
    pub fn sign(&self, lecture: &str, expires: u64) -> String {
        let tag = self.mac(lecture, expires).finalize().into_bytes();
        format!("{KEY_ID}.{expires}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// True when `token` was signed by this key for `lecture` and has not expired at `now`.
    pub fn verify(&self, token: &str, lecture: &str, now: u64) -> bool {
        let mut parts = token.split('.');
        let (Some(key_id), Some(expires), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        if key_id != KEY_ID || !expires.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        let Ok(expires) = expires.parse::<u64>() else {
            return false;
        };
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        // Check the MAC first, always, so timing says nothing about the expiry either.
        let authentic = self.mac(lecture, expires).verify_slice(&tag).is_ok();
        authentic && now < expires
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(byte: u8) -> MediaSigner {
        MediaSigner::new(MediaKey::from_hex(&hex::encode([byte; 32])).unwrap())
    }

    #[test]
    fn a_fresh_token_verifies_for_its_lecture_only() {
        let s = signer(1);
        let token = s.sign("lec-a", 1000);
        assert!(token.starts_with("k1.1000."));
        assert!(s.verify(&token, "lec-a", 999));
        assert!(!s.verify(&token, "lec-b", 999));
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let s = signer(1);
        let token = s.sign("lec-a", 1000);
        assert!(!s.verify(&token, "lec-a", 1000), "expired");
        let later = token.replacen("k1.1000.", "k1.9000.", 1);
        assert!(!s.verify(&later, "lec-a", 999), "expiry changed");
        assert!(!signer(2).verify(&token, "lec-a", 999), "other key");
        let k2 = token.replacen("k1.", "k2.", 1);
        assert!(!s.verify(&k2, "lec-a", 999), "other key id");
        for bad in ["", "k1", "k1.1000", "k1.+1000.x", &format!("{token}.x")] {
            assert!(!s.verify(bad, "lec-a", 999), "{bad}");
        }
    }
}
