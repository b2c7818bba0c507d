//! Authentication plugins: the per-connection scramble,
//! `mysql_native_password`, and `caching_sha2_password` (its fast-auth
//! cache and the RSA key pair for full authentication over plain TCP).
//!
//! Passwords are configured in plain text, so the server could check any
//! scramble at any time. `caching_sha2_password` still behaves like
//! MySQL's: fast authentication only succeeds once a full authentication
//! has put the account's `SHA256(SHA256(password))` into the cache, so
//! clients see (and the tests exercise) both paths exactly as MySQL 8
//! drives them.

use parking_lot::Mutex;
use rand::Rng;
use sha1::{Digest, Sha1};
use sha2::Sha256;
use std::collections::HashMap;

pub const SCRAMBLE_LEN: usize = 20;
pub const NATIVE_PASSWORD: &str = "mysql_native_password";
pub const CACHING_SHA2_PASSWORD: &str = "caching_sha2_password";

/// The authentication plugins tiembed implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthPlugin {
    NativePassword,
    CachingSha2Password,
}

impl AuthPlugin {
    pub fn name(self) -> &'static str {
        match self {
            AuthPlugin::NativePassword => NATIVE_PASSWORD,
            AuthPlugin::CachingSha2Password => CACHING_SHA2_PASSWORD,
        }
    }

    pub fn from_name(name: &str) -> Option<AuthPlugin> {
        match name {
            NATIVE_PASSWORD => Some(AuthPlugin::NativePassword),
            CACHING_SHA2_PASSWORD => Some(AuthPlugin::CachingSha2Password),
            _ => None,
        }
    }
}

/// `caching_sha2_password` AuthMoreData status bytes (after the 0x01 header).
pub mod sha2_status {
    /// The client asks for the server's RSA public key.
    pub const REQUEST_PUBLIC_KEY: u8 = 0x02;
    pub const FAST_AUTH_SUCCESS: u8 = 0x03;
    pub const PERFORM_FULL_AUTH: u8 = 0x04;
}

/// A fresh 20-byte scramble. Like MySQL's, it is printable ASCII without
/// NUL (the greeting NUL-terminates it) and without `$` (which some
/// clients treat as a separator).
pub fn new_salt() -> [u8; SCRAMBLE_LEN] {
    let mut rng = rand::rng();
    let mut salt = [0u8; SCRAMBLE_LEN];
    for b in salt.iter_mut() {
        *b = loop {
            let c = rng.random_range(0x21u8..=0x7E);
            if c != b'$' {
                break c;
            }
        };
    }
    salt
}

fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// What a client sends for `password` under `mysql_native_password`:
/// `SHA1(pw) XOR SHA1(salt || SHA1(SHA1(pw)))`; empty for an empty password.
pub fn native_scramble(password: &[u8], salt: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = sha1(&[password]);
    let stage2 = sha1(&[&stage1]);
    let mix = sha1(&[salt, &stage2]);
    stage1.iter().zip(mix.iter()).map(|(a, b)| a ^ b).collect()
}

/// Whether `response` proves knowledge of `password` for this `salt`.
pub fn verify_native(password: &str, salt: &[u8], response: &[u8]) -> bool {
    if password.is_empty() {
        return response.is_empty();
    }
    if response.len() != SCRAMBLE_LEN {
        return false;
    }
    let expected = native_scramble(password.as_bytes(), salt);
    // Constant-time comparison: the scramble must not leak through timing.
    expected
        .iter()
        .zip(response)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What the fast-auth cache keeps per account: `SHA256(SHA256(password))`,
/// never the password.
pub fn sha2_cache_entry(password: &str) -> [u8; 32] {
    sha256(&[&sha256(&[password.as_bytes()])])
}

/// What a client sends under `caching_sha2_password`:
/// `SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) || salt)`; empty for an empty
/// password. The server never computes it (fast authentication works from
/// the cache entry); the tests play the client with it.
#[cfg(test)]
pub fn sha2_scramble(password: &[u8], salt: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = sha256(&[password]);
    let stage2 = sha256(&[&stage1]);
    let mix = sha256(&[&stage2, salt]);
    stage1.iter().zip(mix.iter()).map(|(a, b)| a ^ b).collect()
}

/// Fast authentication against a cache entry: the response unmasked with
/// the entry must hash to the entry again.
pub fn verify_sha2_fast(cached: &[u8; 32], salt: &[u8], response: &[u8]) -> bool {
    if response.len() != 32 {
        return false;
    }
    let mix = sha256(&[cached, salt]);
    let stage1: Vec<u8> = response
        .iter()
        .zip(mix.iter())
        .map(|(a, b)| a ^ b)
        .collect();
    constant_time_eq(&sha256(&[&stage1]), cached)
}

/// Full authentication: the password the client sent (TLS cleartext or
/// RSA-decrypted), without its terminating NUL.
pub fn verify_cleartext(password: &str, sent: &[u8]) -> bool {
    let sent = sent.strip_suffix(&[0]).unwrap_or(sent);
    constant_time_eq(password.as_bytes(), sent)
}

/// The server-wide `caching_sha2_password` cache: account name ->
/// `SHA256(SHA256(password))`, filled by successful full authentications.
#[derive(Default)]
pub struct Sha2Cache(Mutex<HashMap<String, [u8; 32]>>);

impl Sha2Cache {
    pub fn get(&self, user: &str) -> Option<[u8; 32]> {
        self.0.lock().get(user).copied()
    }

    pub fn remember(&self, user: &str, password: &str) {
        self.0
            .lock()
            .insert(user.to_string(), sha2_cache_entry(password));
    }
}

/// The RSA key pair clients encrypt their password with when full
/// authentication runs over plain TCP (MySQL's
/// `caching_sha2_password_auto_generate_rsa_keys`). Generated once per
/// process, on first use.
pub struct RsaKeys {
    private: rsa::RsaPrivateKey,
    /// SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY"), what clients parse.
    pub public_pem: String,
}

impl RsaKeys {
    /// Generates a 2048-bit pair (MySQL's size). Blocking: hundreds of ms.
    pub fn generate() -> Result<RsaKeys, String> {
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        let private =
            rsa::RsaPrivateKey::new(&mut rand_core_06::OsRng, 2048).map_err(|e| e.to_string())?;
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| e.to_string())?;
        Ok(RsaKeys {
            private,
            public_pem,
        })
    }

    /// Decrypts what a client sent after fetching the public key:
    /// RSA-OAEP(SHA-1) of `(password || NUL) XOR salt` (the salt repeated).
    /// `None` if it does not decrypt.
    pub fn decrypt_password(&self, salt: &[u8], encrypted: &[u8]) -> Option<Vec<u8>> {
        let mut plain = self
            .private
            .decrypt(rsa::Oaep::new::<Sha1>(), encrypted)
            .ok()?;
        for (i, b) in plain.iter_mut().enumerate() {
            *b ^= salt[i % salt.len()];
        }
        Some(plain)
    }

    #[cfg(test)]
    fn encrypt_for_test(&self, salt: &[u8], password: &str) -> Vec<u8> {
        let mut plain: Vec<u8> = password.bytes().chain([0]).collect();
        for (i, b) in plain.iter_mut().enumerate() {
            *b ^= salt[i % salt.len()];
        }
        self.private
            .to_public_key()
            .encrypt(&mut rand_core_06::OsRng, rsa::Oaep::new::<Sha1>(), &plain)
            .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_are_printable_and_differ() {
        let a = new_salt();
        let b = new_salt();
        assert_ne!(a, b);
        for s in [a, b] {
            assert!(s.iter().all(|&c| (0x21..=0x7E).contains(&c) && c != b'$'));
        }
    }

    #[test]
    fn native_password_round_trip() {
        let salt = new_salt();
        let resp = native_scramble(b"secret", &salt);
        assert_eq!(resp.len(), 20);
        assert!(verify_native("secret", &salt, &resp));
        assert!(!verify_native("Secret", &salt, &resp));
        assert!(!verify_native("secret", &new_salt(), &resp));
        assert!(!verify_native("secret", &salt, &[]));
        assert!(verify_native("", &salt, &[]));
        assert!(!verify_native("", &salt, &resp));
    }

    #[test]
    fn known_vector() {
        // Computed independently (Python hashlib) for password "root" and
        // the salt b"abcdefghijklmnopqrst".
        let resp = native_scramble(b"root", b"abcdefghijklmnopqrst");
        let hex: String = resp.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, KNOWN_ROOT_SCRAMBLE);
    }

    #[test]
    fn caching_sha2_fast_auth_needs_the_right_cache_entry() {
        let salt = new_salt();
        let resp = sha2_scramble(b"secret", &salt);
        assert_eq!(resp.len(), 32);
        assert!(verify_sha2_fast(&sha2_cache_entry("secret"), &salt, &resp));
        assert!(!verify_sha2_fast(&sha2_cache_entry("Secret"), &salt, &resp));
        assert!(!verify_sha2_fast(
            &sha2_cache_entry("secret"),
            &new_salt(),
            &resp
        ));
        assert!(!verify_sha2_fast(&sha2_cache_entry("secret"), &salt, &[]));
        assert!(sha2_scramble(b"", &salt).is_empty());
    }

    #[test]
    fn caching_sha2_known_vector() {
        // Computed independently (Python hashlib) for password "root" and
        // the salt b"abcdefghijklmnopqrst".
        let resp = sha2_scramble(b"root", b"abcdefghijklmnopqrst");
        let hex: String = resp.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, KNOWN_ROOT_SHA2_SCRAMBLE);
    }

    #[test]
    fn cleartext_password_with_or_without_nul() {
        assert!(verify_cleartext("pw", b"pw\0"));
        assert!(verify_cleartext("pw", b"pw"));
        assert!(!verify_cleartext("pw", b"pw2\0"));
        assert!(verify_cleartext("", b"\0"));
    }

    #[test]
    fn rsa_round_trip_and_garbage() {
        let keys = RsaKeys::generate().unwrap();
        assert!(keys.public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let salt = new_salt();
        let sent = keys.encrypt_for_test(&salt, "s3cret");
        let plain = keys.decrypt_password(&salt, &sent).unwrap();
        assert!(verify_cleartext("s3cret", &plain));
        assert!(keys.decrypt_password(&salt, b"not rsa at all").is_none());
        assert!(keys.decrypt_password(&salt, &[]).is_none());
    }

    const KNOWN_ROOT_SCRAMBLE: &str = "5d14f4172d69b6d30da98a8c52f0911e8a019132";
    const KNOWN_ROOT_SHA2_SCRAMBLE: &str =
        "5b6f77c1d5a261f417461f16d95243406e0b8dda76bd7d75ffb7d82221c66bbf";
}
