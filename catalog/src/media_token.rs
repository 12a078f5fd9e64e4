//! Media tokens: `<key-id>.<expiry>.<base64url HMAC-SHA256(key, "<key-id>.<lecture>.<expiry>")>`,
//! scoped to one lecture, carried as `?token=` on every media URI (design decision 7).
//! Verification is constant-time and refuses anything it does not fully understand.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use std::collections::BTreeMap;
use std::io::Write as _;

use crate::config::{MediaKey, MediaKeyId};

type HmacSha256 = Hmac<Sha256>;

/// Signs media tokens with the current key and checks them with any configured key, found
/// by the id the token carries (key rotation: `media_key_id`, `previous_media_keys`).
#[derive(Clone, Debug)]
pub struct MediaSigner {
    current: MediaKeyId,
    /// Each key as an HMAC that has taken the key and nothing else: every token is checked
    /// (each playlist and segment request), and keying is half the work of a short MAC.
    keys: BTreeMap<MediaKeyId, HmacSha256>,
}

impl MediaSigner {
    /// A signer with `key` as `id`; `previous` keys verify only. The current key wins
    /// should `previous` name its id too.
    pub fn new(id: MediaKeyId, key: MediaKey, previous: BTreeMap<MediaKeyId, MediaKey>) -> Self {
        let mut keys = previous;
        keys.insert(id.clone(), key);
        let keys = keys
            .into_iter()
            .map(|(id, key)| {
                let keyed = HmacSha256::new_from_slice(key.as_bytes())
                    .expect("HMAC takes keys of any length");
                (id, keyed)
            })
            .collect();
        MediaSigner { current: id, keys }
    }

    /// The MAC of `"<key-id>.<lecture>.<expires>"`.
    fn mac(key_id: &str, keyed: &HmacSha256, lecture: &str, expires: u64) -> HmacSha256 {
        let mut digits = [0u8; 20]; // u64::MAX has 20
        let mut rest = &mut digits[..];
        write!(rest, "{expires}").expect("20 digits hold any u64");
        let written = 20 - rest.len();
        let mut mac = keyed.clone();
        for part in [key_id.as_bytes(), b".", lecture.as_bytes(), b"."] {
            mac.update(part);
        }
        mac.update(&digits[..written]);
        mac
    }

    /// A token for `lecture` valid until `expires` (Unix seconds), signed with the current key.
    pub fn sign(&self, lecture: &str, expires: u64) -> String {
        let id = self.current.as_str();
        let key = &self.keys[&self.current];
        let tag = Self::mac(id, key, lecture, expires).finalize().into_bytes();
        format!("{id}.{expires}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// True when `token` was signed by a configured key for `lecture` and has not expired at
    /// `now`.
    pub fn verify(&self, token: &str, lecture: &str, now: u64) -> bool {
        let mut parts = token.split('.');
        let (Some(key_id), Some(expires), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Some(key) = self
            .keys
            .iter()
            .find(|(id, _)| id.as_str() == key_id)
            .map(|(_, k)| k)
        else {
            return false;
        };
        if !expires.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        let Ok(expires) = expires.parse::<u64>() else {
            return false;
        };
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        // Check the MAC first, always, so timing says nothing about the expiry either.
        let authentic = Self::mac(key_id, key, lecture, expires)
            .verify_slice(&tag)
            .is_ok();
        authentic && now < expires
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MediaKey {
        MediaKey::from_hex(&hex::encode([byte; 32])).unwrap()
    }

    fn id(text: &str) -> MediaKeyId {
        serde_json::from_value(serde_json::json!(text)).unwrap()
    }

    fn signer(byte: u8) -> MediaSigner {
        MediaSigner::new(id("k1"), key(byte), BTreeMap::new())
    }

    #[test]
    fn after_a_rotation_old_tokens_verify_until_the_old_key_is_dropped() {
        let old = signer(1);
        let token = old.sign("lec-a", 1000);
        let rotated = MediaSigner::new(id("k2"), key(2), BTreeMap::from([(id("k1"), key(1))]));
        let fresh = rotated.sign("lec-a", 1000);
        assert!(fresh.starts_with("k2.1000."), "{fresh}");
        assert!(rotated.verify(&token, "lec-a", 999), "the old key's token");
        assert!(rotated.verify(&fresh, "lec-a", 999));
        assert!(
            !old.verify(&fresh, "lec-a", 999),
            "k2 unknown before the rotation"
        );
        let dropped = MediaSigner::new(id("k2"), key(2), BTreeMap::new());
        assert!(!dropped.verify(&token, "lec-a", 999), "k1 dropped");
        let forged = fresh.replacen("k2.", "k1.", 1);
        assert!(
            !rotated.verify(&forged, "lec-a", 999),
            "the id is part of the MAC"
        );
    }

    #[test]
    fn a_token_carries_the_mac_of_its_key_id_lecture_and_expiry() {
        let mut mac = HmacSha256::new_from_slice(&[1; 32]).unwrap();
        mac.update(b"k1.lec-a.18446744073709551615");
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        assert_eq!(
            signer(1).sign("lec-a", u64::MAX),
            format!("k1.18446744073709551615.{tag}")
        );
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
