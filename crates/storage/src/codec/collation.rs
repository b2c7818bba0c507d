//! Sort weights of strings under a collation.
//!
//! Keys store the weight, not the text, so that strings a collation calls
//! equal ('A' and 'a' under `_ci`) collide in PRIMARY/UNIQUE keys and sort
//! together. The executor should compare strings with [`compare`] so that
//! WHERE/ORDER BY agree with what the indexes return.
//!
//! The rules follow TiDB's "new collation" framework closely enough for the
//! collations tiembed accepts:
//! - `utf8mb4_bin`: code point order, trailing spaces ignored (PAD SPACE);
//! - `binary`: bytes as they are;
//! - `utf8mb4_general_ci` / `utf8mb4_unicode_ci`: case- and accent-folded
//!   (Latin letters with diacritics weigh as their base letter, uppercase
//!   weights as in MySQL so that `'a' < '_'`), trailing spaces ignored;
//! - `utf8mb4_0900_ai_ci`: folded the same way but NO PAD (trailing
//!   spaces count), as in MySQL 8 / TiDB.
//!
//! Full UCA weights (ligatures, contractions, non-Latin accents) are not
//! modelled: those strings compare by their upper-cased code points.

use std::borrow::Cow;
use std::cmp::Ordering;
use tiembed_types::Collation;

/// The weight string of `s`: equal weights mean equal under `collation`, and
/// byte order of weights is the collation's order.
pub fn weight(s: &str, collation: Collation) -> Cow<'_, str> {
    match collation {
        Collation::Binary => Cow::Borrowed(s),
        Collation::Utf8mb4Bin => Cow::Borrowed(s.trim_end_matches(' ')),
        Collation::Utf8mb4GeneralCi | Collation::Utf8mb4UnicodeCi => fold(s.trim_end_matches(' ')),
        Collation::Utf8mb40900AiCi => fold(s),
    }
}

/// Compares two strings under a collation (consistent with the key encoding).
pub fn compare(a: &str, b: &str, collation: Collation) -> Ordering {
    weight(a, collation)
        .as_bytes()
        .cmp(weight(b, collation).as_bytes())
}

/// Whether two strings are equal under a collation.
pub fn equal(a: &str, b: &str, collation: Collation) -> bool {
    compare(a, b, collation) == Ordering::Equal
}

fn fold(s: &str) -> Cow<'_, str> {
    // Pure ASCII without lowercase letters is already its own weight; this is
    // the common case for ids and codes.
    if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_lowercase()) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        out.push(fold_char(c));
    }
    Cow::Owned(out)
}

fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    if let Some(base) = latin_base(c as u32) {
        return base;
    }
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        // Multi-char uppercase forms (e.g. 'ŉ') keep the original: a
        // single weight per character keeps the encoding prefix-free.
        _ => c,
    }
}

/// Base letter of a Latin letter with a diacritic (Latin-1 Supplement and
/// Latin Extended-A), as MySQL's general_ci weighs them.
fn latin_base(cp: u32) -> Option<char> {
    Some(match cp {
        0xC0..=0xC5 | 0xE0..=0xE5 | 0x100..=0x105 => 'A',
        0xC7 | 0xE7 | 0x106..=0x10D => 'C',
        0xD0 | 0xF0 | 0x10E..=0x111 => 'D',
        0xC8..=0xCB | 0xE8..=0xEB | 0x112..=0x11B => 'E',
        0x11C..=0x123 => 'G',
        0x124..=0x127 => 'H',
        0xCC..=0xCF | 0xEC..=0xEF | 0x128..=0x130 => 'I',
        0x134..=0x135 => 'J',
        0x136..=0x137 => 'K',
        0x139..=0x142 => 'L',
        0xD1 | 0xF1 | 0x143..=0x148 => 'N',
        0xD2..=0xD6 | 0xD8 | 0xF2..=0xF6 | 0xF8 | 0x14C..=0x151 => 'O',
        0x154..=0x159 => 'R',
        0xDF | 0x15A..=0x161 => 'S',
        0x162..=0x167 => 'T',
        0xD9..=0xDC | 0xF9..=0xFC | 0x168..=0x173 => 'U',
        0x174..=0x175 => 'W',
        0xDD | 0xFD | 0xFF | 0x176..=0x178 => 'Y',
        0x179..=0x17E => 'Z',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_folds_case_accents_and_trailing_spaces() {
        let ci = Collation::Utf8mb4GeneralCi;
        assert!(equal("Abc", "aBC ", ci));
        assert!(equal("café", "CAFE", ci));
        // general_ci weighs 'ß' as a single 's'.
        assert!(equal("straße", "STRASE", ci));
        assert!(!equal("abc", "abd", ci));
        // MySQL weighs by uppercase: 'a' (A = 0x41) sorts before '_' (0x5F).
        assert_eq!(compare("a", "_", ci), Ordering::Less);
    }

    #[test]
    fn bin_is_case_sensitive_pad_space() {
        let bin = Collation::Utf8mb4Bin;
        assert!(!equal("a", "A", bin));
        assert!(equal("a", "a  ", bin));
        assert_eq!(compare("B", "a", bin), Ordering::Less);
        assert!(!equal("a", "a ", Collation::Binary));
    }

    #[test]
    fn ai_ci_is_no_pad() {
        assert!(!equal("a", "a ", Collation::Utf8mb40900AiCi));
        assert!(equal("Ä", "a", Collation::Utf8mb40900AiCi));
    }
}
