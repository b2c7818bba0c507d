//! JSON functions with MySQL semantics. A document argument is a JSON value
//! or JSON text (parsed; invalid text is 3140); paths are MySQL path
//! expressions (invalid ones are 3143).

use crate::eval::cast::parse_json;
use crate::eval::compare::json_cmp;
use crate::eval::convert::{kind_name, to_json, to_text};
use crate::eval::json_path::JsonPath;
use serde_json::Value as J;
use std::borrow::Cow;
use std::cmp::Ordering;
use tiembed_sql::Func;
use tiembed_types::{json_to_text, Error, Result, Value};

type Args<'a, 'b> = &'b [Cow<'a, Value>];

/// A document argument; `None` for NULL.
fn doc<'v>(v: &'v Value, func: Func, pos: usize) -> Result<Option<Cow<'v, J>>> {
    Ok(Some(match v {
        Value::Null => return Ok(None),
        Value::Json(j) => Cow::Borrowed(j.as_ref()),
        Value::Str(s) => Cow::Owned(parse_json(s)?),
        Value::Bytes(b) => Cow::Owned(parse_json(&String::from_utf8_lossy(b))?),
        other => {
            return Err(Error::other(format!(
                "Invalid data type for JSON data in argument {pos} to function {}; a JSON string or JSON type is required (got {}).",
                func.name().to_ascii_lowercase(),
                kind_name(other)
            )))
        }
    }))
}

/// A path argument; `None` for NULL.
fn path(v: &Value) -> Result<Option<JsonPath>> {
    match to_text(v) {
        None => Ok(None),
        Some(t) => JsonPath::parse(&t).map(Some),
    }
}

fn no_wildcards(p: &JsonPath) -> Result<()> {
    if p.has_wildcard() {
        return Err(Error::other(
            "In this situation, path expressions may not contain the * and ** tokens.",
        ));
    }
    Ok(())
}

fn json(v: J) -> Value {
    Value::json(v)
}

pub(super) fn call(func: Func, a: Args<'_, '_>) -> Result<Value> {
    Ok(match func {
        Func::JsonExtract => {
            let Some(d) = doc(&a[0], func, 1)? else {
                return Ok(Value::Null);
            };
            let mut paths = Vec::with_capacity(a.len() - 1);
            for v in &a[1..] {
                match path(v)? {
                    Some(p) => paths.push(p),
                    None => return Ok(Value::Null),
                }
            }
            if paths.len() == 1 && !paths[0].has_wildcard() {
                return Ok(paths[0]
                    .get(&d)
                    .map(|x| json(x.clone()))
                    .unwrap_or(Value::Null));
            }
            let found: Vec<J> = paths.iter().flat_map(|p| p.find(&d)).cloned().collect();
            if found.is_empty() {
                Value::Null
            } else {
                json(J::Array(found))
            }
        }
        Func::JsonUnquote => match a[0].as_ref() {
            Value::Null => Value::Null,
            Value::Json(j) => Value::Str(match j.as_ref() {
                J::String(s) => s.clone(),
                other => json_to_text(other),
            }),
            other => {
                let s = to_text(other).unwrap_or_default();
                if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
                    match serde_json::from_str::<String>(&s) {
                        Ok(u) => Value::Str(u),
                        Err(_) => Value::Str(s.into_owned()),
                    }
                } else {
                    Value::Str(s.into_owned())
                }
            }
        },
        Func::JsonContains => {
            let (Some(target), Some(cand)) = (doc(&a[0], func, 1)?, doc(&a[1], func, 2)?) else {
                return Ok(Value::Null);
            };
            let target = match a.get(2) {
                Some(p) => {
                    let Some(p) = path(p)? else {
                        return Ok(Value::Null);
                    };
                    no_wildcards(&p)?;
                    match p.get(&target) {
                        Some(t) => t.clone(),
                        None => return Ok(Value::Null),
                    }
                }
                None => target.into_owned(),
            };
            Value::Int(i64::from(contains(&target, &cand)))
        }
        Func::JsonObject => {
            if a.len() % 2 == 1 {
                return Err(Error::WrongArgCount("json_object".into()));
            }
            let mut m = serde_json::Map::new();
            for pair in a.chunks(2) {
                let Some(k) = to_text(&pair[0]) else {
                    return Err(Error::other(
                        "JSON documents may not contain NULL member names.",
                    ));
                };
                m.insert(k.into_owned(), to_json(&pair[1]).unwrap_or(J::Null));
            }
            json(J::Object(m))
        }
        Func::JsonArray => json(J::Array(
            a.iter().map(|v| to_json(v).unwrap_or(J::Null)).collect(),
        )),
        Func::JsonLength => {
            let Some(d) = doc(&a[0], func, 1)? else {
                return Ok(Value::Null);
            };
            let target = match a.get(1) {
                Some(p) => {
                    let Some(p) = path(p)? else {
                        return Ok(Value::Null);
                    };
                    no_wildcards(&p)?;
                    match p.get(&d) {
                        Some(t) => t.clone(),
                        None => return Ok(Value::Null),
                    }
                }
                None => d.into_owned(),
            };
            Value::Int(match &target {
                J::Array(x) => x.len() as i64,
                J::Object(m) => m.len() as i64,
                _ => 1,
            })
        }
        Func::JsonKeys => {
            let Some(d) = doc(&a[0], func, 1)? else {
                return Ok(Value::Null);
            };
            let target = match a.get(1) {
                Some(p) => {
                    let Some(p) = path(p)? else {
                        return Ok(Value::Null);
                    };
                    no_wildcards(&p)?;
                    p.get(&d).cloned()
                }
                None => Some(d.into_owned()),
            };
            match target {
                Some(J::Object(m)) => {
                    json(J::Array(m.keys().map(|k| J::String(k.clone())).collect()))
                }
                _ => Value::Null,
            }
        }
        Func::JsonValid => match a[0].as_ref() {
            Value::Null => Value::Null,
            Value::Json(_) => Value::Int(1),
            Value::Str(s) => Value::Int(i64::from(serde_json::from_str::<J>(s).is_ok())),
            Value::Bytes(b) => Value::Int(i64::from(serde_json::from_slice::<J>(b).is_ok())),
            _ => Value::Int(0),
        },
        Func::JsonType => match doc(&a[0], func, 1)? {
            None => Value::Null,
            Some(d) => Value::Str(
                match d.as_ref() {
                    J::Object(_) => "OBJECT",
                    J::Array(_) => "ARRAY",
                    J::String(_) => "STRING",
                    J::Bool(_) => "BOOLEAN",
                    J::Null => "NULL",
                    J::Number(n) if n.is_i64() => "INTEGER",
                    J::Number(n) if n.is_u64() => "UNSIGNED INTEGER",
                    J::Number(_) => "DOUBLE",
                }
                .to_string(),
            ),
        },
        Func::JsonQuote => match to_text(&a[0]) {
            None => Value::Null,
            Some(s) => Value::Str(serde_json::to_string(s.as_ref()).unwrap_or_default()),
        },
        Func::JsonSet => {
            if a.len() % 2 != 1 {
                return Err(Error::WrongArgCount("json_set".into()));
            }
            let Some(d) = doc(&a[0], func, 1)? else {
                return Ok(Value::Null);
            };
            let mut d = d.into_owned();
            for pair in a[1..].chunks(2) {
                let Some(p) = path(&pair[0])? else {
                    return Ok(Value::Null);
                };
                no_wildcards(&p)?;
                p.set(&mut d, to_json(&pair[1]).unwrap_or(J::Null));
            }
            json(d)
        }
        Func::JsonRemove => {
            let Some(d) = doc(&a[0], func, 1)? else {
                return Ok(Value::Null);
            };
            let mut d = d.into_owned();
            for v in &a[1..] {
                let Some(p) = path(v)? else {
                    return Ok(Value::Null);
                };
                no_wildcards(&p)?;
                if p.legs.is_empty() {
                    return Err(Error::other(
                        "The path expression '$' is not allowed in this context.",
                    ));
                }
                p.remove(&mut d);
            }
            json(d)
        }
        Func::JsonContainsPath => {
            let Some(d) = doc(&a[0], func, 1)? else {
                return Ok(Value::Null);
            };
            let Some(mode) = to_text(&a[1]) else {
                return Ok(Value::Null);
            };
            let all = match mode.to_ascii_lowercase().as_str() {
                "all" => true,
                "one" => false,
                _ => {
                    return Err(Error::other(
                        "The oneOrAll argument to json_contains_path may take these values: 'one' or 'all'.",
                    ))
                }
            };
            let mut hits = Vec::with_capacity(a.len() - 2);
            for v in &a[2..] {
                match path(v)? {
                    Some(p) => hits.push(!p.find(&d).is_empty()),
                    None => return Ok(Value::Null),
                }
            }
            Value::Int(i64::from(if all {
                hits.iter().all(|h| *h)
            } else {
                hits.iter().any(|h| *h)
            }))
        }
        _ => {
            return Err(Error::internal(format!(
                "{} is not a JSON function",
                func.name()
            )))
        }
    })
}

/// MySQL's JSON_CONTAINS: scalars by equality; a candidate array is in a
/// target array when each of its elements is in some target element, a
/// non-array candidate when it is in some element; a candidate object is in
/// a target object when each of its members is in the target's member of
/// the same key.
fn contains(target: &J, cand: &J) -> bool {
    match (target, cand) {
        (J::Array(t), J::Array(c)) => c.iter().all(|ce| t.iter().any(|te| contains(te, ce))),
        (J::Array(t), c) => t.iter().any(|te| contains(te, c)),
        (J::Object(t), J::Object(c)) => c
            .iter()
            .all(|(k, cv)| t.get(k).is_some_and(|tv| contains(tv, cv))),
        (J::Object(_), _) | (_, J::Array(_) | J::Object(_)) => false,
        (t, c) => json_cmp(t, c) == Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> J {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn containment() {
        assert!(contains(&j("[1, 2, [3, 4]]"), &j("1")));
        assert!(contains(&j("[1, 2, [3, 4]]"), &j("[2, 1]")));
        assert!(contains(&j("[1, 2, [3, 4]]"), &j("[3]")));
        assert!(!contains(&j("[1, 2]"), &j("[1, 5]")));
        assert!(contains(
            &j(r#"{"a": 1, "b": {"c": [1, 2]}}"#),
            &j(r#"{"b": {"c": [2]}}"#)
        ));
        assert!(!contains(&j(r#"{"a": 1}"#), &j(r#"{"a": 2}"#)));
        assert!(!contains(&j(r#"{"a": 1}"#), &j("1")));
        assert!(contains(&j("1.0"), &j("1")));
        assert!(!contains(&j("1"), &j("[1]")));
        assert!(contains(&j(r#""x""#), &j(r#""x""#)));
    }
}
