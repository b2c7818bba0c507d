//! EMBED_TEXT's third argument: a JSON object of provider options.
//!
//! Keys ending in `@search` belong to the VEC_EMBED_* rewrite: they replace
//! their base key when a column's model embeds a query text, and are
//! dropped everywhere else (direct calls, INSERT/UPDATE materialisation).

use crate::EmbedError;
use serde_json::{Map, Value};

/// The JSON object EMBED_TEXT passes to a provider.
pub type Options = Map<String, Value>;

const SEARCH_SUFFIX: &str = "@search";

/// Parses EMBED_TEXT's options argument. SQL NULL and `''` mean no
/// options; anything else must be a JSON object.
pub fn parse(options: Option<&str>) -> Result<Option<Options>, EmbedError> {
    match options {
        None | Some("") => Ok(None),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            _ => Err(EmbedError::BadOptions),
        },
    }
}

/// Drops every `*@search` key: what a direct EMBED_TEXT call and the
/// generated-column materialisation send.
pub fn strip_search_keys(options: &Options) -> Options {
    options
        .iter()
        .filter(|(k, _)| !k.ends_with(SEARCH_SUFFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The options a VEC_EMBED_* rewrite uses: every `k@search` value replaces
/// `k`, then all `@search` keys are dropped (`{"plus":0.1,"plus@search":0.2}`
/// becomes `{"plus":0.2}`).
pub fn search_options(options: &Options) -> Options {
    let mut out = strip_search_keys(options);
    for (k, v) in options {
        if let Some(base) = k.strip_suffix(SEARCH_SUFFIX) {
            out.insert(base.to_string(), v.clone());
        }
    }
    out
}

/// A stable text for cache keys: keys sorted at every level, so two
/// spellings of the same object share cache entries. No options and `{}`
/// are the same thing to every provider.
pub fn canonical(options: Option<&Options>) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(&m[k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    match options {
        Some(m) => write(&Value::Object(m.clone()), &mut out),
        None => out.push_str("{}"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> Options {
        parse(Some(s)).unwrap().unwrap()
    }

    #[test]
    fn null_and_empty_mean_none() {
        assert_eq!(parse(None).unwrap(), None);
        assert_eq!(parse(Some("")).unwrap(), None);
    }

    #[test]
    fn non_objects_are_refused_with_tidbs_text() {
        for bad in ["[1]", "null", "\"x\"", "1", "true", "{", "{'a':1}", " "] {
            let err = parse(Some(bad)).unwrap_err();
            assert_eq!(
                err.to_string(),
                "EMBED_TEXT expects options in JSON format",
                "{bad}"
            );
        }
        assert_eq!(obj(r#" {"a": 1} "#).len(), 1);
    }

    #[test]
    fn search_keys() {
        let o = obj(r#"{"plus":0.1,"plus@search":0.2,"input_type@search":"search_query","x":1}"#);
        assert_eq!(
            Value::Object(strip_search_keys(&o)),
            serde_json::json!({"plus":0.1,"x":1})
        );
        assert_eq!(
            Value::Object(search_options(&o)),
            serde_json::json!({"plus":0.2,"x":1,"input_type":"search_query"})
        );
    }

    #[test]
    fn canonical_sorts_keys() {
        let a = obj(r#"{"b":1,"a":{"y":[1,2],"x":"s"}}"#);
        let b = obj(r#"{"a":{"x":"s","y":[1,2]},"b":1}"#);
        assert_eq!(canonical(Some(&a)), canonical(Some(&b)));
        assert_eq!(canonical(Some(&a)), r#"{"a":{"x":"s","y":[1,2]},"b":1}"#);
        assert_eq!(canonical(None), canonical(Some(&Options::new())));
    }
}
