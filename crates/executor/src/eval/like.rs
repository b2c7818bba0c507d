//! `LIKE` with `%`, `_` and an escape character, honouring the collation's
//! case (and accent) folding. Unlike `=`, trailing spaces are significant.

use super::compare::fold_char;
use super::convert::to_text;
use tiembed_types::{Collation, Result, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Any,
    One,
    Lit(char),
}

/// `v LIKE p ESCAPE e`; NULL when either side is NULL.
pub(crate) fn like(
    v: &Value,
    p: &Value,
    escape: char,
    collation: Collation,
) -> Result<Option<bool>> {
    let (Some(text), Some(pat)) = (to_text(v), to_text(p)) else {
        return Ok(None);
    };
    Ok(Some(like_match(
        &text,
        &pat,
        escape,
        collation.is_case_insensitive(),
    )))
}

fn compile(pattern: &str, escape: char, ci: bool) -> Vec<Tok> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        let tok = if c == escape {
            // A trailing escape character stands for itself (MySQL).
            Tok::Lit(chars.next().unwrap_or(escape))
        } else if c == '%' {
            if out.last() == Some(&Tok::Any) {
                continue;
            }
            Tok::Any
        } else if c == '_' {
            Tok::One
        } else {
            Tok::Lit(c)
        };
        out.push(match tok {
            Tok::Lit(c) if ci => Tok::Lit(fold_char(c)),
            t => t,
        });
    }
    out
}

/// Wildcard match with one backtrack point per `%` (linear for the usual
/// prefix/suffix/infix patterns).
pub(crate) fn like_match(text: &str, pattern: &str, escape: char, ci: bool) -> bool {
    let p = compile(pattern, escape, ci);
    let t: Vec<char> = if ci {
        text.chars().map(fold_char).collect()
    } else {
        text.chars().collect()
    };
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(Tok::One) => {
                ti += 1;
                pi += 1;
            }
            Some(Tok::Lit(c)) if *c == t[ti] => {
                ti += 1;
                pi += 1;
            }
            Some(Tok::Any) => {
                star = Some((pi, ti));
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    while p.get(pi) == Some(&Tok::Any) {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: &str, p: &str) -> bool {
        like_match(t, p, '\\', false)
    }

    #[test]
    fn wildcards() {
        assert!(m("hello", "h%"));
        assert!(m("hello", "%llo"));
        assert!(m("hello", "%ll%"));
        assert!(m("hello", "h_llo"));
        assert!(!m("hello", "h_lo"));
        assert!(m("", "%"));
        assert!(!m("", "_"));
        assert!(m("abcabc", "%abc"));
        assert!(m("aXbXc", "a%b%c"));
        assert!(!m("abc", "a%d"));
        assert!(m("mississippi", "%iss%ppi"));
        assert!(!m("abc ", "abc"));
    }

    #[test]
    fn escapes() {
        assert!(m("50%", "50\\%"));
        assert!(!m("500", "50\\%"));
        assert!(m("a_b", "a\\_b"));
        assert!(!m("axb", "a\\_b"));
        assert!(like_match("a|%b", "a||%b", '|', false));
        assert!(like_match("10%", "10!%", '!', false));
        assert!(m("a\\", "a\\"));
    }

    #[test]
    fn case_insensitive_collations() {
        let ci = Collation::Utf8mb4GeneralCi;
        let s = |x: &str| Value::Str(x.into());
        assert_eq!(like(&s("Hello"), &s("hel%"), '\\', ci).unwrap(), Some(true));
        assert_eq!(
            like(&s("Hello"), &s("hel%"), '\\', Collation::Utf8mb4Bin).unwrap(),
            Some(false)
        );
        assert_eq!(like(&s("Café"), &s("CAFE"), '\\', ci).unwrap(), Some(true));
        assert_eq!(like(&Value::Null, &s("%"), '\\', ci).unwrap(), None);
        assert_eq!(
            like(&Value::Int(123), &s("1%"), '\\', ci).unwrap(),
            Some(true)
        );
    }
}
