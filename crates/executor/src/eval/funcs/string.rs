//! String functions. Positions and lengths count characters for character
//! strings and bytes for binary ones (LENGTH always counts bytes).

use crate::eval::compare::compare_str;
use crate::eval::convert::{to_bytes, to_decimal, to_i64, to_num, to_text, Num};
use crate::eval::EvalContext;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::RoundingStrategy;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;
use tiembed_sql::Func;
use tiembed_types::{Collation, Error, Result, Value};

/// `max_allowed_packet`: REPEAT/LPAD/SPACE results beyond it are NULL.
const MAX_RESULT_BYTES: usize = 64 * 1024 * 1024;

type Args<'a, 'b> = &'b [Cow<'a, Value>];

fn text<'v>(v: &'v Value) -> Cow<'v, str> {
    to_text(v).unwrap_or_default()
}

fn int(v: &Value) -> Result<i64> {
    Ok(to_i64(v)?.unwrap_or(0))
}

fn too_big(func: &str, ctx: &dyn EvalContext) -> Value {
    ctx.warn(1301, format!("Result of {func}() was larger than max_allowed_packet ({MAX_RESULT_BYTES}) - truncated"));
    Value::Null
}

pub(super) fn call(func: Func, a: Args<'_, '_>, ctx: &dyn EvalContext) -> Result<Value> {
    Ok(match func {
        Func::Concat => concat(a),
        Func::ConcatWs => {
            if a[0].is_null() {
                return Ok(Value::Null);
            }
            let sep = text(&a[0]);
            let parts: Vec<Cow<'_, str>> = a[1..].iter().filter_map(|v| to_text(v)).collect();
            Value::Str(parts.join(&*sep))
        }
        Func::Lower => case_map(&a[0], |s| s.to_lowercase()),
        Func::Upper => case_map(&a[0], |s| s.to_uppercase()),
        Func::Length => Value::Int(to_bytes(&a[0]).map(|b| b.len()).unwrap_or(0) as i64),
        Func::CharLength => Value::Int(match a[0].as_ref() {
            Value::Bytes(b) => b.len(),
            v => text(v).chars().count(),
        } as i64),
        Func::Substring => {
            let pos = int(&a[1])?;
            let len = match a.get(2) {
                Some(l) => Some(int(l)?),
                None => None,
            };
            match a[0].as_ref() {
                Value::Bytes(b) => {
                    let (s, e) = substr_range(b.len(), pos, len);
                    Value::Bytes(b[s..e].to_vec())
                }
                v => {
                    let t = text(v);
                    let n = t.chars().count();
                    let (s, e) = substr_range(n, pos, len);
                    Value::Str(t.chars().skip(s).take(e - s).collect())
                }
            }
        }
        Func::SubstringIndex => {
            Value::Str(substring_index(&text(&a[0]), &text(&a[1]), int(&a[2])?).to_string())
        }
        Func::Left | Func::Right => {
            let t = text(&a[0]);
            let n = int(&a[1])?.max(0) as usize;
            let total = t.chars().count();
            Value::Str(if func == Func::Left {
                t.chars().take(n).collect()
            } else {
                t.chars().skip(total.saturating_sub(n)).collect()
            })
        }
        Func::Trim | Func::TrimLeading | Func::TrimTrailing => {
            let t = text(&a[0]);
            let r = a.get(1).map(|v| text(v)).unwrap_or(Cow::Borrowed(" "));
            let (lead, trail) = match func {
                Func::Trim => (true, true),
                Func::TrimLeading => (true, false),
                _ => (false, true),
            };
            Value::Str(trim(&t, &r, lead, trail).to_string())
        }
        Func::LTrim => Value::Str(text(&a[0]).trim_start_matches(' ').to_string()),
        Func::RTrim => Value::Str(text(&a[0]).trim_end_matches(' ').to_string()),
        Func::Replace => {
            let (s, from, to) = (text(&a[0]), text(&a[1]), text(&a[2]));
            Value::Str(if from.is_empty() {
                s.into_owned()
            } else {
                s.replace(&*from, &to)
            })
        }
        Func::Locate => {
            let pos = match a.get(2) {
                Some(p) => int(p)?,
                None => 1,
            };
            Value::Int(locate(&text(&a[0]), &text(&a[1]), pos))
        }
        Func::Instr => Value::Int(locate(&text(&a[1]), &text(&a[0]), 1)),
        Func::LPad | Func::RPad => {
            let len = int(&a[1])?;
            if len < 0 {
                return Ok(Value::Null);
            }
            if len as usize > MAX_RESULT_BYTES {
                return Ok(too_big(
                    if func == Func::LPad { "lpad" } else { "rpad" },
                    ctx,
                ));
            }
            match pad(&text(&a[0]), len as usize, &text(&a[2]), func == Func::LPad) {
                Some(s) => Value::Str(s),
                None => Value::Null,
            }
        }
        Func::Repeat => {
            let t = text(&a[0]);
            let n = int(&a[1])?.max(0) as usize;
            if t.len().saturating_mul(n) > MAX_RESULT_BYTES {
                return Ok(too_big("repeat", ctx));
            }
            Value::Str(t.repeat(n))
        }
        Func::Space => {
            let n = int(&a[0])?.max(0) as usize;
            if n > MAX_RESULT_BYTES {
                return Ok(too_big("space", ctx));
            }
            Value::Str(" ".repeat(n))
        }
        Func::Reverse => match a[0].as_ref() {
            Value::Bytes(b) => Value::Bytes(b.iter().rev().copied().collect()),
            v => Value::Str(text(v).chars().rev().collect()),
        },
        Func::Ascii => Value::Int(
            to_bytes(&a[0])
                .and_then(|b| b.first().copied())
                .map(i64::from)
                .unwrap_or(0),
        ),
        Func::Hex => Value::Str(hex(&a[0])?),
        Func::Unhex => match unhex(&text(&a[0])) {
            Some(b) => Value::Bytes(b),
            None => Value::Null,
        },
        Func::Md5 => {
            use md5::Digest;
            Value::Str(lower_hex(&md5::Md5::digest(
                to_bytes(&a[0]).unwrap_or_default(),
            )))
        }
        Func::Sha1 => {
            use sha1::Digest;
            Value::Str(lower_hex(&sha1::Sha1::digest(
                to_bytes(&a[0]).unwrap_or_default(),
            )))
        }
        Func::Sha2 => sha2_hex(&to_bytes(&a[0]).unwrap_or_default(), int(&a[1])?),
        Func::FindInSet => {
            let (s, list) = (text(&a[0]), text(&a[1]));
            Value::Int(if s.contains(',') || list.is_empty() {
                0
            } else {
                list.split(',')
                    .position(|x| x == s)
                    .map(|p| p as i64 + 1)
                    .unwrap_or(0)
            })
        }
        Func::Strcmp => Value::Int(
            match compare_str(&text(&a[0]), &text(&a[1]), Collation::Utf8mb4Bin) {
                Ordering::Less => -1,
                Ordering::Equal => 0,
                Ordering::Greater => 1,
            },
        ),
        Func::Format => Value::Str(format_number(&a[0], int(&a[1])?)?),
        _ => {
            return Err(Error::internal(format!(
                "{} is not a string function",
                func.name()
            )))
        }
    })
}

fn concat(a: Args<'_, '_>) -> Value {
    if a.iter().any(|v| matches!(v.as_ref(), Value::Bytes(_))) {
        let mut out = Vec::new();
        for v in a {
            out.extend_from_slice(&to_bytes(v).unwrap_or_default());
        }
        return Value::Bytes(out);
    }
    let mut out = String::new();
    for v in a {
        out.push_str(&text(v));
    }
    Value::Str(out)
}

/// LOWER/UPPER leave binary strings alone, as MySQL does.
fn case_map(v: &Value, f: impl Fn(&str) -> String) -> Value {
    match v {
        Value::Bytes(b) => Value::Bytes(b.clone()),
        other => Value::Str(f(&text(other))),
    }
}

/// SUBSTRING's [start, end) in a string of `n` units: 1-based `pos`,
/// negative from the end, 0 selects nothing.
fn substr_range(n: usize, pos: i64, len: Option<i64>) -> (usize, usize) {
    let n_i = n as i64;
    let start = if pos > 0 { pos - 1 } else { n_i + pos };
    if pos == 0 || start < 0 || start >= n_i {
        return (0, 0);
    }
    let len = len.unwrap_or(i64::MAX);
    if len <= 0 {
        return (0, 0);
    }
    let end = start.saturating_add(len).min(n_i);
    (start as usize, end as usize)
}

fn substring_index<'s>(s: &'s str, delim: &str, count: i64) -> &'s str {
    if delim.is_empty() || count == 0 {
        return "";
    }
    if count > 0 {
        match s.match_indices(delim).nth(count as usize - 1) {
            Some((i, _)) => &s[..i],
            None => s,
        }
    } else {
        match s
            .rmatch_indices(delim)
            .nth(count.unsigned_abs() as usize - 1)
        {
            Some((i, _)) => &s[i + delim.len()..],
            None => s,
        }
    }
}

fn trim<'s>(s: &'s str, r: &str, lead: bool, trail: bool) -> &'s str {
    if r.is_empty() {
        return s;
    }
    let mut out = s;
    if lead {
        while let Some(rest) = out.strip_prefix(r) {
            out = rest;
        }
    }
    if trail {
        while let Some(rest) = out.strip_suffix(r) {
            out = rest;
        }
    }
    out
}

/// LOCATE(sub, s, pos): 1-based character position of `sub` in `s` at or
/// after `pos`, 0 when absent.
fn locate(sub: &str, s: &str, pos: i64) -> i64 {
    if pos < 1 {
        return 0;
    }
    let skip = (pos - 1) as usize;
    let byte_start = match s.char_indices().nth(skip) {
        Some((i, _)) => i,
        // Just past the last character still finds the empty string.
        None if s.chars().count() == skip => s.len(),
        None => return 0,
    };
    match s[byte_start..].find(sub) {
        Some(off) => pos + s[byte_start..byte_start + off].chars().count() as i64,
        None => 0,
    }
}

fn pad(s: &str, len: usize, padding: &str, left: bool) -> Option<String> {
    let n = s.chars().count();
    if len <= n {
        return Some(s.chars().take(len).collect());
    }
    if padding.is_empty() {
        return None;
    }
    let fill: String = padding.chars().cycle().take(len - n).collect();
    Some(if left {
        fill + s
    } else {
        s.to_string() + &fill
    })
}

fn lower_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// HEX: strings byte by byte, numbers as their (rounded) 64-bit value.
fn hex(v: &Value) -> Result<String> {
    let n = match v {
        Value::Str(_)
        | Value::Bytes(_)
        | Value::Json(_)
        | Value::Vector(_)
        | Value::Date(_)
        | Value::DateTime(_) => {
            return Ok(lower_hex(&to_bytes(v).unwrap_or_default()).to_ascii_uppercase());
        }
        other => to_num(other)?,
    };
    let bits = match n {
        Some(Num::Int(i)) => i as u64,
        Some(Num::UInt(u)) => u,
        Some(other) => crate::eval::convert::f64_to_i64_round(other.to_f64()) as u64,
        None => 0,
    };
    Ok(format!("{bits:X}"))
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s
        .bytes()
        .map(|c| (c as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(digits.len() / 2 + 1);
    let mut iter = digits.iter();
    if digits.len() % 2 == 1 {
        out.push(*iter.next()?);
    }
    while let (Some(h), Some(l)) = (iter.next(), iter.next()) {
        out.push(h << 4 | l);
    }
    Some(out)
}

fn sha2_hex(data: &[u8], bits: i64) -> Value {
    use sha2::Digest;
    let digest = match bits {
        0 | 256 => sha2::Sha256::digest(data).to_vec(),
        224 => sha2::Sha224::digest(data).to_vec(),
        384 => sha2::Sha384::digest(data).to_vec(),
        512 => sha2::Sha512::digest(data).to_vec(),
        _ => return Value::Null,
    };
    Value::Str(lower_hex(&digest))
}

/// FORMAT(x, d): rounded to `d` decimals (half away from zero), with `,`
/// between thousands (the en_US locale, the only one MySQL applies by default).
fn format_number(x: &Value, d: i64) -> Result<String> {
    let d = d.clamp(0, 30) as u32;
    let plain = match to_decimal(x)? {
        Some(dec) if !matches!(x, Value::Double(_) | Value::Float(_)) || dec.to_f64().is_some() => {
            let mut r =
                dec.round_dp_with_strategy(d.min(28), RoundingStrategy::MidpointAwayFromZero);
            r.rescale(d.min(28));
            r.to_string()
        }
        _ => format!(
            "{:.*}",
            d as usize,
            crate::eval::convert::to_f64(x)?.unwrap_or(0.0)
        ),
    };
    let (neg, body) = match plain.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, plain.as_str()),
    };
    let (int_part, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let mut out = String::with_capacity(plain.len() + plain.len() / 3);
    if neg {
        out.push('-');
    }
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(substr_range(5, 2, None), (1, 5));
        assert_eq!(substr_range(5, -3, Some(2)), (2, 4));
        assert_eq!(substr_range(5, 0, None), (0, 0));
        assert_eq!(substr_range(5, 9, None), (0, 0));
        assert_eq!(substr_range(5, -9, None), (0, 0));
        assert_eq!(substring_index("www.mysql.com", ".", 2), "www.mysql");
        assert_eq!(substring_index("www.mysql.com", ".", -2), "mysql.com");
        assert_eq!(substring_index("www.mysql.com", ".", 5), "www.mysql.com");
        assert_eq!(trim("xxbarxx", "x", true, true), "bar");
        assert_eq!(trim("xyxybarxy", "xy", true, false), "barxy");
        assert_eq!(locate("bar", "foobarbar", 1), 4);
        assert_eq!(locate("bar", "foobarbar", 5), 7);
        assert_eq!(locate("xbar", "foobar", 1), 0);
        assert_eq!(locate("", "abc", 1), 1);
        assert_eq!(locate("", "abc", 4), 4);
        assert_eq!(locate("", "abc", 5), 0);
        assert_eq!(locate("é", "aéb", 1), 2);
        assert_eq!(pad("hi", 5, "?", true).unwrap(), "???hi");
        assert_eq!(pad("hi", 1, "?", true).unwrap(), "h");
        assert_eq!(pad("hi", 6, "ab", false).unwrap(), "hiabab");
        assert_eq!(pad("hi", 6, "", false), None);
        assert_eq!(unhex("4D7953514C").unwrap(), b"MySQL");
        assert_eq!(unhex("F").unwrap(), vec![0x0F]);
        assert_eq!(unhex("GG"), None);
    }

    #[test]
    fn format() {
        let f = |v: Value, d| format_number(&v, d).unwrap();
        assert_eq!(f(Value::Double(12332.123456), 4), "12,332.1235");
        assert_eq!(f(Value::Double(12332.1), 4), "12,332.1000");
        assert_eq!(f(Value::Double(12332.2), 0), "12,332");
        assert_eq!(f(Value::Int(-1234567), 2), "-1,234,567.00");
        assert_eq!(f(Value::Str("999.5".into()), 0), "1,000");
        assert_eq!(f(Value::Int(100), 0), "100");
    }
}
