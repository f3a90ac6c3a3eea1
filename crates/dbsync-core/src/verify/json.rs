//! One text for every spelling of a JSON document.
//!
//! Engines store JSON differently: MariaDB keeps the text as written, MySQL and
//! PostgreSQL's `jsonb` reorder keys, drop whitespace and respell numbers (`1e2` may
//! come back as `100`). The canonical form has no whitespace, object keys sorted by
//! their bytes (the last of duplicate keys wins, as in `jsonb` and MySQL), strings in
//! one escaping, and numbers as exact decimals, `<digits>e<exponent>` with no
//! trailing zero in the digits: `100`, `1e2` and `100.0` are the one number `1e2`,
//! without going through a float that would merge numbers differing in the 17th digit.

use std::collections::BTreeMap;

/// The canonical text of `text`, or `None` when it is not JSON.
pub(crate) fn canonical_json(text: &str) -> Option<String> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        at: 0,
    };
    let value = parser.value()?;
    parser.skip_whitespace();
    if parser.at != parser.bytes.len() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    value.write(&mut out);
    Some(out)
}

enum Json {
    Literal(&'static str),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

impl Json {
    fn write(&self, out: &mut String) {
        match self {
            Json::Literal(text) => out.push_str(text),
            Json::Number(number) => out.push_str(number),
            Json::String(text) => write_string(text, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_string(text: &str, out: &mut String) {
    // serde_json's escaping is one fixed choice for every string.
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
}

struct Parser<'t> {
    bytes: &'t [u8],
    at: usize,
}

impl Parser<'_> {
    fn skip_whitespace(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let found = self.bytes.get(self.at) == Some(&byte);
        if found {
            self.at += 1;
        }
        found
    }

    fn value(&mut self) -> Option<Json> {
        self.skip_whitespace();
        match *self.bytes.get(self.at)? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => self.string().map(Json::String),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &'static str) -> Option<Json> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word.as_bytes()).then(|| {
            self.at = end;
            Json::Literal(word)
        })
    }

    fn object(&mut self) -> Option<Json> {
        self.at += 1;
        let mut members = BTreeMap::new();
        if self.eat(b'}') {
            return Some(Json::Object(members));
        }
        loop {
            self.skip_whitespace();
            let key = self.string()?;
            if !self.eat(b':') {
                return None;
            }
            members.insert(key, self.value()?);
            if self.eat(b'}') {
                return Some(Json::Object(members));
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    fn array(&mut self) -> Option<Json> {
        self.at += 1;
        let mut items = Vec::new();
        if self.eat(b']') {
            return Some(Json::Array(items));
        }
        loop {
            items.push(self.value()?);
            if self.eat(b']') {
                return Some(Json::Array(items));
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// A string token, unescaped; serde_json knows every escape, surrogate pairs
    /// included.
    fn string(&mut self) -> Option<String> {
        let start = self.at;
        if self.bytes.get(start) != Some(&b'"') {
            return None;
        }
        let mut at = start + 1;
        loop {
            match *self.bytes.get(at)? {
                b'\\' => at += 2,
                b'"' => break,
                _ => at += 1,
            }
        }
        self.at = at + 1;
        serde_json::from_slice(&self.bytes[start..self.at]).ok()
    }

    fn number(&mut self) -> Option<Json> {
        let start = self.at;
        let digits = |parser: &mut Self| {
            let from = parser.at;
            while parser.bytes.get(parser.at).is_some_and(u8::is_ascii_digit) {
                parser.at += 1;
            }
            std::str::from_utf8(&parser.bytes[from..parser.at]).ok()
        };
        let negative = self.bytes.get(self.at) == Some(&b'-');
        if negative {
            self.at += 1;
        }
        let int = digits(self)?;
        let frac = if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            digits(self)?
        } else {
            ""
        };
        let mut exponent: i64 = 0;
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            let sign = match self.bytes.get(self.at) {
                Some(b'-') => {
                    self.at += 1;
                    -1
                }
                Some(b'+') => {
                    self.at += 1;
                    1
                }
                _ => 1,
            };
            exponent = sign * digits(self)?.parse::<i64>().ok()?;
        }
        if int.is_empty() || self.at == start {
            return None;
        }
        let all = format!("{int}{frac}");
        let significant = all.trim_start_matches('0');
        let trimmed = significant.trim_end_matches('0');
        if trimmed.is_empty() {
            return Some(Json::Number("0".to_owned()));
        }
        let exponent = exponent - frac.len() as i64 + (significant.len() - trimmed.len()) as i64;
        let sign = if negative { "-" } else { "" };
        Some(Json::Number(if exponent == 0 {
            format!("{sign}{trimmed}")
        } else {
            format!("{sign}{trimmed}e{exponent}")
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        canonical_json(text).unwrap()
    }

    #[test]
    fn key_order_and_whitespace_do_not_matter() {
        assert_eq!(
            canonical(r#"{"b": 1, "a": [true, null, {"d": "x", "c": false}]}"#),
            canonical(r#"{"a":[true,null,{"c":false,"d":"x"}],"b":1}"#),
        );
        assert_eq!(canonical(r#"{"b":1,"a":2}"#), r#"{"a":2,"b":1}"#);
    }

    #[test]
    fn numbers_compare_by_exact_value() {
        assert_eq!(canonical("100"), canonical("1e2"));
        assert_eq!(canonical("100.0"), canonical("1E+2"));
        assert_eq!(canonical("0.5"), canonical("5e-1"));
        assert_eq!(canonical("-0.0"), canonical("0"));
        assert_ne!(canonical("1"), canonical("-1"));
        // Beyond a double's 17 digits, still different.
        assert_ne!(
            canonical("12345678901234567890123"),
            canonical("12345678901234567890124")
        );
    }

    #[test]
    fn strings_compare_by_their_characters() {
        assert_eq!(canonical(r#""\u00e9\/""#), canonical(r#""é/""#));
        assert_eq!(canonical(r#""\ud83d\ude00""#), canonical(r#""😀""#));
        assert_ne!(canonical(r#""a""#), canonical(r#""A""#));
    }

    #[test]
    fn duplicate_keys_keep_the_last() {
        assert_eq!(canonical(r#"{"a":1,"a":2}"#), r#"{"a":2}"#);
    }

    #[test]
    fn rejects_what_is_not_json() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "tru", "1 2", "-", "\"open"] {
            assert_eq!(canonical_json(bad), None, "{bad:?}");
        }
    }
}
