//! MySQL JSON path expressions: `$`, `.key`, `."quoted key"`, `.*`, `[n]`,
//! `[last]`, `[last-n]`, `[m to n]`, `[*]`, `**`. Parse errors are 3143 with
//! the character position, as MySQL reports them.

use serde_json::Value as J;
use tiembed_types::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Index {
    At(usize),
    /// `last - n`
    Last(usize),
}

impl Index {
    /// The position in an array of `len` elements (may be past the end).
    fn resolve(self, len: usize) -> Option<usize> {
        match self {
            Index::At(n) => Some(n),
            Index::Last(n) => len.checked_sub(1 + n),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Leg {
    Key(String),
    AnyKey,
    Index(Index),
    AnyIndex,
    Range(Index, Index),
    DoubleStar,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonPath {
    pub legs: Vec<Leg>,
}

fn err(pos: usize) -> Error {
    Error::InvalidJsonPath(pos)
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }
    fn eat_word(&mut self, w: &str) -> bool {
        if self.s[self.pos..].starts_with(w) {
            self.pos += w.len();
            true
        } else {
            false
        }
    }
    fn number(&mut self) -> Result<usize> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.s[start..self.pos].parse().map_err(|_| err(start))
    }
    fn index(&mut self) -> Result<Index> {
        self.skip_ws();
        if self.eat_word("last") {
            self.skip_ws();
            if self.peek() == Some('-') {
                self.pos += 1;
                self.skip_ws();
                return Ok(Index::Last(self.number()?));
            }
            return Ok(Index::Last(0));
        }
        Ok(Index::At(self.number()?))
    }
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<JsonPath> {
        let mut c = Cursor { s: text, pos: 0 };
        c.skip_ws();
        if c.bump() != Some('$') {
            return Err(err(c.pos.saturating_sub(1)));
        }
        let mut legs = Vec::new();
        loop {
            c.skip_ws();
            let at = c.pos;
            match c.bump() {
                None => break,
                Some('.') => {
                    c.skip_ws();
                    match c.peek() {
                        Some('*') => {
                            c.bump();
                            legs.push(Leg::AnyKey);
                        }
                        Some('"') => legs.push(Leg::Key(quoted_key(&mut c)?)),
                        _ => {
                            let start = c.pos;
                            while c
                                .peek()
                                .is_some_and(|ch| ch.is_alphanumeric() || ch == '_' || ch == '$')
                            {
                                c.bump();
                            }
                            let key = &text[start..c.pos];
                            if key.is_empty() || key.starts_with(|ch: char| ch.is_ascii_digit()) {
                                return Err(err(start));
                            }
                            legs.push(Leg::Key(key.to_string()));
                        }
                    }
                }
                Some('[') => {
                    c.skip_ws();
                    if c.peek() == Some('*') {
                        c.bump();
                        legs.push(Leg::AnyIndex);
                    } else {
                        let from = c.index()?;
                        c.skip_ws();
                        if c.eat_word("to") {
                            let to = c.index()?;
                            legs.push(Leg::Range(from, to));
                        } else {
                            legs.push(Leg::Index(from));
                        }
                    }
                    c.skip_ws();
                    if c.bump() != Some(']') {
                        return Err(err(c.pos.saturating_sub(1)));
                    }
                }
                Some('*') => {
                    if c.bump() != Some('*') || c.peek() == Some('*') {
                        return Err(err(at));
                    }
                    legs.push(Leg::DoubleStar);
                }
                Some(_) => return Err(err(at)),
            }
        }
        if legs.last() == Some(&Leg::DoubleStar) {
            return Err(err(text.len()));
        }
        Ok(JsonPath { legs })
    }

    /// Whether the path may select more than one value.
    pub fn has_wildcard(&self) -> bool {
        self.legs.iter().any(|l| {
            matches!(
                l,
                Leg::AnyKey | Leg::AnyIndex | Leg::Range(..) | Leg::DoubleStar
            )
        })
    }

    /// Every value the path selects, in document order.
    pub fn find<'a>(&self, doc: &'a J) -> Vec<&'a J> {
        let mut out = Vec::new();
        walk(&self.legs, doc, &mut out);
        out
    }

    /// The one value a wildcard-free path selects.
    pub fn get<'a>(&self, doc: &'a J) -> Option<&'a J> {
        self.find(doc).into_iter().next()
    }

    /// JSON_SET: replaces the value at the path, or adds it when the parent
    /// exists (a new object member, an element appended to an array, or a
    /// non-array parent wrapped into an array first).
    pub fn set(&self, doc: &mut J, value: J) {
        let Some((last, parent_legs)) = self.legs.split_last() else {
            *doc = value;
            return;
        };
        let Some(parent) = get_mut(doc, parent_legs) else {
            return;
        };
        match last {
            Leg::Key(k) => {
                if let J::Object(m) = parent {
                    m.insert(k.clone(), value);
                }
            }
            Leg::Index(ix) => match parent {
                J::Array(a) => match ix.resolve(a.len()) {
                    Some(i) if i < a.len() => a[i] = value,
                    _ => a.push(value),
                },
                other => {
                    if ix.resolve(1) == Some(0) {
                        *other = value;
                    } else {
                        let old = std::mem::take(other);
                        *other = J::Array(vec![old, value]);
                    }
                }
            },
            _ => {}
        }
    }

    /// JSON_REMOVE: drops the member or element at the path, if present.
    pub fn remove(&self, doc: &mut J) {
        let Some((last, parent_legs)) = self.legs.split_last() else {
            return;
        };
        let Some(parent) = get_mut(doc, parent_legs) else {
            return;
        };
        match (last, parent) {
            (Leg::Key(k), J::Object(m)) => {
                m.remove(k);
            }
            (Leg::Index(ix), J::Array(a)) => {
                if let Some(i) = ix.resolve(a.len()).filter(|i| *i < a.len()) {
                    a.remove(i);
                }
            }
            _ => {}
        }
    }
}

fn quoted_key(c: &mut Cursor<'_>) -> Result<String> {
    let start = c.pos;
    c.bump(); // opening quote
    let mut escaped = false;
    loop {
        match c.bump() {
            None => return Err(err(start)),
            Some('\\') if !escaped => escaped = true,
            Some('"') if !escaped => break,
            Some(_) => escaped = false,
        }
    }
    serde_json::from_str::<String>(&c.s[start..c.pos]).map_err(|_| err(start))
}

fn walk<'a>(legs: &[Leg], v: &'a J, out: &mut Vec<&'a J>) {
    let Some((leg, rest)) = legs.split_first() else {
        out.push(v);
        return;
    };
    match leg {
        Leg::Key(k) => {
            if let Some(x) = v.as_object().and_then(|m| m.get(k)) {
                walk(rest, x, out);
            }
        }
        Leg::AnyKey => {
            if let J::Object(m) = v {
                for x in m.values() {
                    walk(rest, x, out);
                }
            }
        }
        Leg::Index(ix) => match v {
            J::Array(a) => {
                if let Some(x) = ix.resolve(a.len()).and_then(|i| a.get(i)) {
                    walk(rest, x, out);
                }
            }
            // A non-array is treated as a one-element array around itself.
            other => {
                if ix.resolve(1) == Some(0) {
                    walk(rest, other, out);
                }
            }
        },
        Leg::AnyIndex => {
            if let J::Array(a) = v {
                for x in a {
                    walk(rest, x, out);
                }
            }
        }
        Leg::Range(from, to) => {
            let items: &[J] = match v {
                J::Array(a) => a,
                other => std::slice::from_ref(other),
            };
            if let (Some(f), Some(t)) = (from.resolve(items.len()), to.resolve(items.len())) {
                for x in items.iter().take(t.saturating_add(1)).skip(f) {
                    walk(rest, x, out);
                }
            }
        }
        Leg::DoubleStar => {
            walk(rest, v, out);
            match v {
                J::Array(a) => a.iter().for_each(|x| walk(legs, x, out)),
                J::Object(m) => m.values().for_each(|x| walk(legs, x, out)),
                _ => {}
            }
        }
    }
}

fn get_mut<'a>(v: &'a mut J, legs: &[Leg]) -> Option<&'a mut J> {
    let Some((leg, rest)) = legs.split_first() else {
        return Some(v);
    };
    match leg {
        Leg::Key(k) => get_mut(v.as_object_mut()?.get_mut(k)?, rest),
        Leg::Index(ix) => {
            if let J::Array(a) = v {
                let i = ix.resolve(a.len())?;
                get_mut(a.get_mut(i)?, rest)
            } else if ix.resolve(1) == Some(0) {
                get_mut(v, rest)
            } else {
                None
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> J {
        serde_json::from_str(s).unwrap()
    }
    fn find(d: &J, p: &str) -> Vec<String> {
        JsonPath::parse(p)
            .unwrap()
            .find(d)
            .into_iter()
            .map(|v| v.to_string())
            .collect()
    }

    #[test]
    fn paths() {
        let d = doc(r#"{"a": {"b": [10, 20, {"c": 3}]}, "x y": 5, "d": [1, [2, 3]]}"#);
        assert_eq!(find(&d, "$.a.b[1]"), ["20"]);
        assert_eq!(find(&d, "$.a.b[last]"), [r#"{"c":3}"#]);
        assert_eq!(find(&d, "$.a.b[last - 1]"), ["20"]);
        assert_eq!(find(&d, "$.a.b[0 to 1]"), ["10", "20"]);
        assert_eq!(find(&d, r#"$."x y""#), ["5"]);
        assert_eq!(find(&d, "$.a.b[*]").len(), 3);
        assert_eq!(find(&d, "$.*").len(), 3);
        assert_eq!(find(&d, "$**.c"), ["3"]);
        assert_eq!(find(&d, "$.nope"), Vec::<String>::new());
        assert_eq!(find(&d, "$.d[0][0]"), ["1"]); // a scalar acts as [scalar]
        assert_eq!(find(&d, " $ . a . b [ 0 ] "), ["10"]);
        assert_eq!(find(&d, "$"), [d.to_string()]);
        assert_eq!(find(&d, "$\u{3000}.a.b[0]"), ["10"]); // non-ASCII whitespace
    }

    #[test]
    fn bad_paths_report_positions() {
        for (p, pos) in [
            ("$.", 2),
            ("a", 0),
            ("$[", 2),
            ("$.a[x]", 4),
            ("$**", 3),
            ("$.1a", 2),
            ("$***", 1),
        ] {
            match JsonPath::parse(p) {
                Err(Error::InvalidJsonPath(n)) => assert_eq!(n, pos, "{p}"),
                other => panic!("{p}: {other:?}"),
            }
        }
    }

    #[test]
    fn set_and_remove() {
        let mut d = doc(r#"{"a": 1, "b": [1, 2]}"#);
        JsonPath::parse("$.a").unwrap().set(&mut d, J::from(5));
        JsonPath::parse("$.c").unwrap().set(&mut d, J::from("x"));
        JsonPath::parse("$.b[5]").unwrap().set(&mut d, J::from(3));
        JsonPath::parse("$.a[1]").unwrap().set(&mut d, J::from(6));
        JsonPath::parse("$.z.y").unwrap().set(&mut d, J::from(0));
        assert_eq!(d.to_string(), r#"{"a":[5,6],"b":[1,2,3],"c":"x"}"#);
        JsonPath::parse("$.b[0]").unwrap().remove(&mut d);
        JsonPath::parse("$.c").unwrap().remove(&mut d);
        assert_eq!(d.to_string(), r#"{"a":[5,6],"b":[2,3]}"#);
    }
}
