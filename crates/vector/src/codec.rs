//! Vector text codec: `'[1, 2.5e0, -3]'` in, `[1,2.5,-3]` out.
//!
//! TiDB parses vector text with json-iterator's `ReadArrayCB` +
//! `ReadFloat64`, converts each float64 to float32 and then checks what is
//! left after the array. Its answers differ from a strict JSON parser in a
//! few corners, and tiembed has to give the same answers, so this parser is a
//! byte-level re-creation of that code path rather than a JSON library call:
//!
//! * numbers take json-iterator's fast path (`digits[.digits]` with at most
//!   six decimals, computed as `int / 10^k` in float64) or its slow path
//!   (`strconv.ParseFloat` over the run of `+-.eE0-9` bytes, after its
//!   `validateFloat` checks), so `[+1]` and `[-+1]` are accepted like on TiDB
//!   while `[01]`, `[.5]`, `[1.]`, `[1.e3]` are not;
//! * whitespace between tokens is ` \t\n\r`; after the array TiDB only
//!   inspects the first non-whitespace byte, and accepts it when Go's
//!   `TrimSpace` would remove it (`\v`, `\f`);
//! * errors come in the order TiDB meets them: a value error in element *i*
//!   wins over a syntax error after it, and a number that runs into the end of
//!   the text is a syntax error even when its value is out of range.
//!
//! No allocation happens per element: numbers are read in place.

use tiembed_types::MAX_VECTOR_DIMS;

use crate::VectorError;

pub use tiembed_types::vector_to_text;

/// json-iterator accepts at most this many decimals on its fast path
/// (`len(pow10)` is 7).
const POW10: [u64; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
/// json-iterator's `uint64SafeToMultiple10`.
const SAFE_TO_MULTIPLY_10: u64 = u64::MAX / 10 - 1;

/// Parses vector text as TiDB's `ParseVectorFloat32` does, including the
/// 16383-dimension limit. The error carries TiDB's message text.
pub fn parse_vector(text: &str) -> Result<Vec<f32>, VectorError> {
    let invalid = || VectorError::InvalidText(text.to_owned());
    // json-iterator reads `null` as an empty array (pingcap/tidb#57143).
    if text.trim() == "null" {
        return Err(invalid());
    }
    let mut cur = Cursor {
        b: text.as_bytes(),
        pos: 0,
    };
    // One f32 needs at least two bytes of text (`0,`).
    let mut out = Vec::with_capacity((text.len() / 2).min(MAX_VECTOR_DIMS + 1));
    match cur.next_token() {
        Some(b'[') => {
            match cur.next_token() {
                Some(b']') => {}
                None => return Err(invalid()),
                Some(_) => {
                    cur.pos -= 1;
                    loop {
                        let v = cur.read_float64().ok_or_else(invalid)?;
                        if cur.pos >= cur.b.len() {
                            // json-iterator hit EOF inside the number: its error
                            // is set, and TiDB checks that before value errors.
                            return Err(invalid());
                        }
                        out.push(check_element(v)?);
                        match cur.next_token() {
                            Some(b',') => continue,
                            Some(b']') => break,
                            _ => return Err(invalid()),
                        }
                    }
                }
            }
        }
        Some(b'n') if cur.b[cur.pos..].starts_with(b"ull") => cur.pos += 3,
        _ => return Err(invalid()),
    }
    // TiDB skips the next JSON value and trims what it skipped with Go's
    // `strings.TrimSpace`: only that first token decides.
    match cur.next_token() {
        None | Some(b'\x0b') | Some(b'\x0c') => {}
        Some(_) => return Err(invalid()),
    }
    check_dimensions(out.len())?;
    Ok(out)
}

/// `vector cannot have more than 16383 dimensions`.
pub fn check_dimensions(dims: usize) -> Result<(), VectorError> {
    if dims > MAX_VECTOR_DIMS {
        return Err(VectorError::TooManyDimensions(MAX_VECTOR_DIMS));
    }
    Ok(())
}

/// `vector has <n> dimensions, does not fit VECTOR(<D>)` when a vector meets
/// a column or cast with a declared dimension; `None` means plain `VECTOR`.
pub fn check_fits(v: &[f32], declared: Option<usize>) -> Result<(), VectorError> {
    match declared {
        Some(d) if d != v.len() => Err(VectorError::DoesNotFit {
            got: v.len(),
            declared: d,
        }),
        _ => Ok(()),
    }
}

/// Rejects NaN and infinities the way TiDB's `CreateVectorFloat32` does, for
/// vectors that come from somewhere other than text (embedding providers).
pub fn check_finite(v: &[f32]) -> Result<(), VectorError> {
    for x in v {
        if x.is_nan() {
            return Err(VectorError::NaN);
        }
        if x.is_infinite() {
            return Err(VectorError::Infinite);
        }
    }
    Ok(())
}

/// The per-element checks of `ParseVectorFloat32`, in its order.
fn check_element(v: f64) -> Result<f32, VectorError> {
    if v.is_nan() {
        return Err(VectorError::NaN);
    }
    if v.is_infinite() {
        return Err(VectorError::Infinite);
    }
    if v < -(f32::MAX as f64) || v > f32::MAX as f64 {
        return Err(VectorError::OutOfRange(v));
    }
    Ok(v as f32)
}

/// json-iterator's `floatDigits` classes.
enum Class {
    Digit(u8),
    End,
    Dot,
    Invalid,
}

fn class(c: u8) -> Class {
    match c {
        b'0'..=b'9' => Class::Digit(c - b'0'),
        b',' | b']' | b'}' | b' ' | b'\t' | b'\n' => Class::End,
        b'.' => Class::Dot,
        _ => Class::Invalid,
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    /// json-iterator's `nextToken`: skip ` \t\n\r`, return and consume the
    /// next byte.
    fn next_token(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.pos) {
            self.pos += 1;
            if !matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(c);
            }
        }
        None
    }

    /// `ReadFloat64`; `None` is a syntax error.
    fn read_float64(&mut self) -> Option<f64> {
        match self.next_token() {
            Some(b'-') => self.read_positive().map(|v| -v),
            Some(_) => {
                self.pos -= 1;
                self.read_positive()
            }
            None => None,
        }
    }

    /// `readPositiveFloat64`: the fast path, falling back to the slow path
    /// exactly where json-iterator does.
    fn read_positive(&mut self) -> Option<f64> {
        let b = self.b;
        let start = self.pos;
        let mut i = start;
        let Some(&first) = b.get(i) else {
            return self.slow_path(start);
        };
        i += 1;
        let mut value = match class(first) {
            Class::Invalid => return self.slow_path(start),
            Class::End | Class::Dot => return None,
            Class::Digit(d) => {
                if d == 0 {
                    match b.get(i) {
                        None => return self.slow_path(start),
                        Some(c) if c.is_ascii_digit() => return None, // leading zero
                        Some(_) => {}
                    }
                }
                u64::from(d)
            }
        };
        // Digits before the dot.
        let mut saw_dot = false;
        while i < b.len() {
            match class(b[i]) {
                Class::Invalid => return self.slow_path(start),
                Class::End => {
                    self.pos = i;
                    return Some(value as f64);
                }
                Class::Dot => {
                    saw_dot = true;
                    break;
                }
                Class::Digit(d) => {
                    if value > SAFE_TO_MULTIPLY_10 {
                        return self.slow_path(start);
                    }
                    value = value * 10 + u64::from(d);
                }
            }
            i += 1;
        }
        if !saw_dot {
            return self.slow_path(start);
        }
        // Digits after the dot.
        i += 1;
        let mut decimals = 0usize;
        while i < b.len() {
            match class(b[i]) {
                Class::End => {
                    if decimals > 0 && decimals < POW10.len() {
                        self.pos = i;
                        // Not correctly rounded for 16+ digit mantissas, and
                        // that is what TiDB stores.
                        return Some(value as f64 / POW10[decimals] as f64);
                    }
                    return self.slow_path(start);
                }
                Class::Invalid | Class::Dot => return self.slow_path(start),
                Class::Digit(d) => {
                    decimals += 1;
                    if value > SAFE_TO_MULTIPLY_10 {
                        return self.slow_path(start);
                    }
                    value = value * 10 + u64::from(d);
                }
            }
            i += 1;
        }
        self.slow_path(start)
    }

    /// `readFloat64SlowPath`: the run of number bytes, `validateFloat`, then
    /// `strconv.ParseFloat` (both it and Rust's parser round correctly).
    fn slow_path(&mut self, start: usize) -> Option<f64> {
        let b = self.b;
        let mut end = start;
        while end < b.len() && matches!(b[end], b'+' | b'-' | b'.' | b'e' | b'E' | b'0'..=b'9') {
            end += 1;
        }
        self.pos = end;
        let s = &b[start..end];
        if s.is_empty() || s[0] == b'-' {
            return None;
        }
        if let Some(dot) = s.iter().position(|&c| c == b'.') {
            // "dot can not be last character" / "missing digit after dot"
            if !s.get(dot + 1).is_some_and(u8::is_ascii_digit) {
                return None;
            }
        }
        // The bytes are ASCII by construction.
        let s = std::str::from_utf8(s).ok()?;
        // Go reports overflow as an error; Rust returns an infinity.
        s.parse::<f64>().ok().filter(|v| v.is_finite())
    }
}

/// Go's `fmt` `%v` for a float64 (`strconv` `'g'`, shortest): TiDB formats
/// the out-of-range value with it, e.g. `-1e+39`.
pub(crate) fn go_float_v(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Rust's `{:e}` gives the same shortest round-trip digits as Go.
    let sci = format!("{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if v < 0.0 {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    } else {
        let point = exp + 1; // digits before the decimal point
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
            out.push_str(&digits);
        } else if point as usize >= digits.len() {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
        } else {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Vec<f32> {
        parse_vector(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn err(s: &str) -> String {
        match parse_vector(s) {
            Ok(v) => panic!("{s:?} parsed as {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn accepts_json_numbers_with_whitespace() {
        assert_eq!(ok("[1, 2.5e0, -3]"), vec![1.0, 2.5, -3.0]);
        assert_eq!(ok("[]"), Vec::<f32>::new());
        assert_eq!(ok(" [ ] "), Vec::<f32>::new());
        assert_eq!(ok("\t[\n1\r,\r\n2 ]\n"), vec![1.0, 2.0]);
        assert_eq!(
            ok("[1e3,1E-2,-0.5,0,0.25e+1]"),
            vec![1000.0, 0.01, -0.5, 0.0, 2.5]
        );
        assert_eq!(ok("[0.3, 0.5, -0.1]"), vec![0.3, 0.5, -0.1]);
        assert_eq!(ok("[1e-400]"), vec![0.0]);
    }

    #[test]
    fn accepts_what_json_iterator_accepts() {
        // Leading `+` goes through strconv.ParseFloat on TiDB.
        assert_eq!(ok("[+1]"), vec![1.0]);
        assert_eq!(ok("[-+1]"), vec![-1.0]);
        assert_eq!(ok("[+.5]"), vec![0.5]);
        assert_eq!(ok("[+01]"), vec![1.0]);
        assert_eq!(ok("[1]\x0bgarbage"), vec![1.0]);
        assert_eq!(ok("null\x0cx"), Vec::<f32>::new());
    }

    #[test]
    fn negative_zero_is_kept() {
        let v = ok("[-0]");
        assert!(v[0] == 0.0 && v[0].is_sign_negative());
        assert_eq!(vector_to_text(&v), "[-0]");
    }

    #[test]
    fn rejects_everything_else_with_the_original_text() {
        for s in [
            "null",
            " null ",
            "[5, ]",
            "[123,]",
            "123",
            "\"str\"",
            "abc",
            "",
            "[",
            "[1",
            "[1,",
            "[1 2]",
            "[1]x",
            "[1] [2]",
            "[1]]",
            "[[1]]",
            "[\"1\"]",
            "[01]",
            "[-01]",
            "[.5]",
            "[-.5]",
            "[1.]",
            "[1.e3]",
            "[--1]",
            "[- 1]",
            "[1e]",
            "[1e+]",
            "[e5]",
            "[NaN]",
            "[Infinity]",
            "[-Infinity]",
            "[1e400]",
            "[-1e400]",
            "[0x10]",
            "[1,,2]",
            "[,1]",
            "{}",
            "[true]",
            "[null]",
            "nul",
            "\x0b[1]",
            "[1]\u{a0}",
            "[1}",
            "[1.5.5]",
            "[1e39",
        ] {
            assert_eq!(err(s), format!("Invalid vector text: {s}"), "{s:?}");
        }
    }

    #[test]
    fn out_of_range_prints_like_go() {
        assert_eq!(
            err("[-1e39, 1e39]"),
            "value -1e+39 out of range for float32"
        );
        assert_eq!(
            err("[3.4028235e38]"),
            "value 3.4028235e+38 out of range for float32"
        );
        assert_eq!(err("[1e300]"), "value 1e+300 out of range for float32");
        // The first failing element decides, even before a syntax error.
        assert_eq!(err("[1e39, x"), "value 1e+39 out of range for float32");
        // f32::MAX itself fits.
        assert_eq!(ok("[3.4028234663852886e38]"), vec![f32::MAX]);
        assert_eq!(ok("[-3.4028234e38]").len(), 1);
    }

    #[test]
    fn dimension_limits() {
        let text = format!("[{}]", vec!["1"; MAX_VECTOR_DIMS].join(","));
        assert_eq!(ok(&text).len(), MAX_VECTOR_DIMS);
        let text = format!("[{}]", vec!["1"; MAX_VECTOR_DIMS + 1].join(","));
        assert_eq!(err(&text), "vector cannot have more than 16383 dimensions");
        assert_eq!(
            check_fits(&[0.3, 0.5], Some(3)).unwrap_err().to_string(),
            "vector has 2 dimensions, does not fit VECTOR(3)"
        );
        assert!(check_fits(&[0.3, 0.5], None).is_ok());
        assert!(check_fits(&[0.3, 0.5, 1.0], Some(3)).is_ok());
    }

    #[test]
    fn non_finite_elements_from_providers() {
        assert_eq!(
            check_finite(&[1.0, f32::NAN]).unwrap_err().to_string(),
            "NaN not allowed in vector"
        );
        assert_eq!(
            check_finite(&[f32::NEG_INFINITY]).unwrap_err().to_string(),
            "infinite value not allowed in vector"
        );
        assert!(check_finite(&[1.0, -2.0]).is_ok());
    }

    #[test]
    fn fast_path_matches_json_iterator_arithmetic() {
        // <= 6 decimals: int / 10^k in float64, then to float32.
        assert_eq!(ok("[0.1]")[0], (1f64 / 10f64) as f32);
        assert_eq!(ok("[123.456789]")[0], (123456789f64 / 1e6) as f32);
        // 17 significant digits with 6 decimals: the float64 quotient of the
        // rounded integer, which strconv would round differently.
        let v = ok("[12345678901.234567]")[0];
        assert_eq!(v, (12345678901234567u64 as f64 / 1e6) as f32);
        // More decimals: correctly rounded slow path.
        assert_eq!(
            ok("[0.1234567]")[0],
            "0.1234567".parse::<f64>().unwrap() as f32
        );
    }

    #[test]
    fn round_trips_through_text() {
        let v = vec![1.0f32, 2.5, -0.1, 1e-7, 3.4e38, 123456.79];
        assert_eq!(ok(&vector_to_text(&v)), v);
        assert_eq!(vector_to_text(&ok("[1.000, 2.5]")), "[1,2.5]");
    }

    #[test]
    fn go_v_formatting() {
        for (v, s) in [
            (1e39, "1e+39"),
            (-1e39, "-1e+39"),
            (3.4028235e38, "3.4028235e+38"),
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5, "1.5"),
            (0.0, "0"),
            (-2.25, "-2.25"),
            (1e300, "1e+300"),
        ] {
            assert_eq!(go_float_v(v), s, "{v}");
        }
    }

    #[test]
    fn errors_become_1105_texts() {
        let e: tiembed_types::Error = VectorError::InvalidText("[5, ]".into()).into();
        assert_eq!(
            e,
            tiembed_types::Error::Other("Invalid vector text: [5, ]".into())
        );
    }
}
