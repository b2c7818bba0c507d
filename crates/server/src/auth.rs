//! Per-connection scramble and `mysql_native_password` verification.

use rand::Rng;
use sha1::{Digest, Sha1};

pub const SCRAMBLE_LEN: usize = 20;
pub const NATIVE_PASSWORD: &str = "mysql_native_password";

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

    const KNOWN_ROOT_SCRAMBLE: &str = "5d14f4172d69b6d30da98a8c52f0911e8a019132";
}
