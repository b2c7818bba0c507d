//! Literal extraction for the text-protocol statement cache.
//!
//! Point selects arrive as text that differs only in its literals
//! (`SELECT … WHERE id = 17`, `… = 42`); parsing and binding each one costs
//! more than running it. [`parameterize`] splits a single SELECT's text into
//! a template, with every number and single-quoted string replaced by `?`
//! (except `LIMIT`/`OFFSET` counts, which stay), and the literals' values, so that the executor can bind the template once
//! and run it with each statement's values, as a prepared statement would.
//!
//! The scan is deliberately narrow: anything it does not fully understand
//! (comments, `?`, `@` variables, backslash escapes, hex or introduced
//! literals like `x'1F'` and `_utf8mb4'a'`, several statements) returns
//! `None` and the statement takes the ordinary path. Whether a template may
//! stand for its statements at all is decided by the executor, which
//! compares the two bound plans (see `tiembed_executor::plan_cache`).

use crate::bind::number_literal_value;
use tiembed_types::Value;

/// A SELECT's text split into a template and its literals.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameterized {
    /// The text with each literal replaced by `?`.
    pub template: String,
    /// The literals in text order (the template's `?1`, `?2`, …).
    pub values: Vec<Value>,
}

impl Parameterized {
    /// A key naming the current database, the template and the kind of
    /// each literal: `5` and `'5'` (or `5.0`) may bind differently, so
    /// they get their own plans.
    pub fn cache_key(&self, db: Option<&str>) -> String {
        let db = db.unwrap_or("");
        let mut key = String::with_capacity(db.len() + self.template.len() + 2 + self.values.len());
        key.push_str(db);
        key.push('\0');
        key.push_str(&self.template);
        key.push('\0');
        key.extend(self.values.iter().map(|v| match v {
            Value::Int(_) => 'i',
            Value::UInt(_) => 'u',
            Value::Decimal(_) => 'd',
            Value::Double(_) => 'f',
            _ => 's',
        }));
        key
    }
}

/// The template and literals of `sql` when it is one SELECT the scan fully
/// understands; `None` otherwise.
pub fn parameterize(sql: &str) -> Option<Parameterized> {
    let text = sql.trim();
    let text = text.strip_suffix(';').unwrap_or(text).trim_end();
    let b = text.as_bytes();
    if !(b.len() > 6 && b[..6].eq_ignore_ascii_case(b"select") && !is_word_byte(b[6])) {
        return None;
    }
    let mut out = Parameterized {
        template: String::with_capacity(text.len()),
        values: Vec::new(),
    };
    // Bytes `copied..i` are still to be copied verbatim. Every byte the
    // scan acts on is ASCII, so slicing `text` at them is always valid.
    let (mut i, mut copied) = (0, 0);
    // Inside `LIMIT n[, m]` / `OFFSET n`: the counts stay in the template
    // (the plan holds them as numbers, not expressions).
    let mut in_limit = false;
    while i < b.len() {
        let c = b[i];
        let literal_start = i;
        if !(c.is_ascii_digit() || c == b',' || c.is_ascii_whitespace()) {
            in_limit = false;
        }
        let value = if is_word_byte(c) && !c.is_ascii_digit() {
            // A word (keyword or name), digits included: `t1` is no number.
            while i < b.len() && is_word_byte(b[i]) {
                i += 1;
            }
            let word = &b[literal_start..i];
            in_limit = word.eq_ignore_ascii_case(b"limit") || word.eq_ignore_ascii_case(b"offset");
            if b.get(i) == Some(&b'\'') {
                return None; // x'1F', N'a', _utf8mb4'a'
            }
            continue;
        } else if c == b'\'' {
            let (value, end) = single_quoted(text, i)?;
            i = end;
            Value::Str(value)
        } else if c == b'"' || c == b'`' {
            i = skip_quoted(b, i)?;
            continue;
        } else if c.is_ascii_digit() && in_limit {
            i = number_end(b, i)?;
            continue;
        } else if c.is_ascii_digit() || (c == b'.' && starts_number_after_dot(b, i)) {
            let end = number_end(b, i)?;
            let value = number_literal_value(&text[i..end]).ok()?;
            i = end;
            value
        } else if matches!(c, b'?' | b'@' | b'#' | b'\\' | b';')
            || (c == b'-' && b.get(i + 1) == Some(&b'-'))
            || (c == b'/' && b.get(i + 1) == Some(&b'*'))
        {
            return None;
        } else {
            i += 1;
            continue;
        };
        out.template.push_str(&text[copied..literal_start]);
        out.template.push('?');
        out.values.push(value);
        copied = i;
    }
    out.template.push_str(&text[copied..]);
    Some(out)
}

/// Letters, digits, `_`, `$` and any non-ASCII byte continue a word.
fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// `.5` is a number unless the dot qualifies a name (`t.5`, `` `t`.5 ``).
fn starts_number_after_dot(b: &[u8], i: usize) -> bool {
    b.get(i + 1).is_some_and(u8::is_ascii_digit)
        && (i == 0 || !(is_word_byte(b[i - 1]) || matches!(b[i - 1], b'`' | b')' | b'"')))
}

/// The end of the number at `i`: digits, an optional fraction and an
/// optional exponent; `None` when a word character follows (`0x1F`, `1abc`).
fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |b: &[u8], mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    i = digits(b, i);
    if b.get(i) == Some(&b'.') {
        i = digits(b, i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if !b.get(j).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        i = digits(b, j);
    }
    (!b.get(i).copied().is_some_and(is_word_byte)).then_some(i)
}

/// The value of the `'…'` string at `start` (`''` is a quote) and the
/// index after it; `None` for a backslash escape or no closing quote.
fn single_quoted(text: &str, start: usize) -> Option<(String, usize)> {
    let b = text.as_bytes();
    let mut value = String::new();
    let (mut i, mut piece) = (start + 1, start + 1);
    loop {
        match *b.get(i)? {
            b'\\' => return None,
            b'\'' if b.get(i + 1) == Some(&b'\'') => {
                value.push_str(&text[piece..=i]);
                i += 2;
                piece = i;
            }
            b'\'' => {
                value.push_str(&text[piece..i]);
                return Some((value, i + 1));
            }
            _ => i += 1,
        }
    }
}

/// The index after the `"…"` or `` `…` `` at `start` (a doubled quote
/// continues it); `None` for a backslash in `"…"` or no closing quote.
fn skip_quoted(b: &[u8], start: usize) -> Option<usize> {
    let quote = b[start];
    let mut i = start + 1;
    loop {
        match *b.get(i)? {
            b'\\' if quote == b'"' => return None,
            c if c == quote && b.get(i + 1) == Some(&quote) => i += 2,
            c if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(sql: &str) -> Option<(String, Vec<Value>)> {
        parameterize(sql).map(|p| (p.template, p.values))
    }

    #[test]
    fn numbers_and_strings_become_placeholders() {
        let (t, v) = split("SELECT id, k, v FROM kv WHERE id = 42;").unwrap();
        assert_eq!(t, "SELECT id, k, v FROM kv WHERE id = ?");
        assert_eq!(v, vec![Value::Int(42)]);
        let (t, v) =
            split("select * from t1 where a in (1, 2.5, 1e3) and b = 'it''s ü' limit 10").unwrap();
        assert_eq!(
            t,
            "select * from t1 where a in (?, ?, ?) and b = ? limit 10"
        );
        assert_eq!(v.len(), 4);
        assert_eq!(v[1], number_literal_value("2.5").unwrap());
        assert_eq!(v[2], Value::Double(1000.0));
        assert_eq!(v[3], Value::Str("it's ü".into()));
        // Names keep their digits; quoted names and "strings" stay verbatim.
        let (t, v) = split("SELECT `a 1`, \"x\"\"y\", t2.c3, .5 FROM db1.t2").unwrap();
        assert_eq!(t, "SELECT `a 1`, \"x\"\"y\", t2.c3, ? FROM db1.t2");
        assert_eq!(v, vec![number_literal_value(".5").unwrap()]);
        // Row counts are part of the template.
        let (t, v) = split("SELECT a FROM t WHERE b > 1 LIMIT 5, 10").unwrap();
        assert_eq!(
            (t.as_str(), v.len()),
            ("SELECT a FROM t WHERE b > ? LIMIT 5, 10", 1)
        );
        let (t, _) = split("SELECT a FROM t LIMIT 10 OFFSET 20").unwrap();
        assert_eq!(t, "SELECT a FROM t LIMIT 10 OFFSET 20");
    }

    #[test]
    fn anything_unusual_takes_the_ordinary_path() {
        for sql in [
            "INSERT INTO t VALUES (1)",
            "SELECT 1; SELECT 2",
            "SELECT ?",
            "SELECT @x",
            "SELECT 1 -- comment",
            "SELECT /*+ hint */ 1",
            "SELECT 1 # comment",
            "SELECT 'a\\'b'",
            "SELECT x'1F'",
            "SELECT 0x1F",
            "SELECT _utf8mb4'a'",
            "SELECT 'unterminated",
            "SELECT 1e",
            "SELECTED",
        ] {
            assert_eq!(parameterize(sql), None, "{sql}");
        }
    }

    #[test]
    fn the_key_tells_literal_kinds_apart() {
        let key = |sql: &str| parameterize(sql).unwrap().cache_key(None);
        assert_eq!(
            key("SELECT 1 FROM t WHERE a = 5"),
            key("SELECT 2 FROM t WHERE a = 7")
        );
        assert_ne!(
            key("SELECT 1 FROM t WHERE a = 5"),
            key("SELECT 1 FROM t WHERE a = '5'")
        );
        assert_ne!(
            key("SELECT 1 FROM t WHERE a = 5"),
            key("SELECT 1 FROM t WHERE a = 5.0")
        );
    }
}
