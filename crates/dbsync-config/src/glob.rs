//! Table globs: `*` and `?` as wildcards, a leading `!` to exclude.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A table glob as written in `tables`, such as `"*"`, `"orders"`, `"audit.*"` or
/// `"!audit_*"`.
///
/// A table is named `table` (a MySQL or SQLite table, or a PostgreSQL table in schema
/// `public`) or `schema.table` (a PostgreSQL table in another schema); `public.orders` is
/// the same table as `orders`. `*` matches any run of characters and `?` any one character,
/// except `.`, which separates the schema from the table: `"*"` matches the tables of
/// `public`, `"audit.*"` those of schema `audit`. Matching is case-sensitive, as table
/// names are on MySQL under Linux.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Glob {
    written: String,
    exclude: bool,
}

/// Why a text is not a table glob: a predicate to follow the key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobError {
    text: String,
    problem: &'static str,
}

impl fmt::Display for GlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "is `{}`, which is not a table glob: {}",
            self.text, self.problem
        )
    }
}

impl std::error::Error for GlobError {}

impl Glob {
    pub fn parse(text: &str) -> Result<Glob, GlobError> {
        let error = |problem| GlobError {
            text: text.to_owned(),
            problem,
        };
        let (exclude, pattern) = match text.strip_prefix('!') {
            Some(pattern) => (true, pattern),
            None => (false, text),
        };
        if pattern.is_empty() {
            return Err(error("it names no table; write a name or `*`"));
        }
        if pattern.starts_with('!') {
            return Err(error("only one leading `!` excludes; remove the others"));
        }
        if pattern.trim() != pattern {
            return Err(error("it starts or ends with a space; remove it"));
        }
        if pattern.contains(['[', ']', '{', '}']) {
            return Err(error(
                "only `*` and `?` are wildcards; list the tables one by one instead of `[...]` or `{...}`",
            ));
        }
        if pattern.split('.').count() > 2 || pattern.split('.').any(str::is_empty) {
            return Err(error("it is not `table` or `schema.table`; fix the dots"));
        }
        Ok(Glob {
            written: text.to_owned(),
            exclude,
        })
    }

    /// `*`: every table.
    pub fn all() -> Glob {
        Glob {
            written: "*".to_owned(),
            exclude: false,
        }
    }

    /// Whether the glob starts with `!`.
    pub fn is_exclusion(&self) -> bool {
        self.exclude
    }

    /// Whether the glob has a wildcard, rather than naming one table.
    pub fn is_wildcard(&self) -> bool {
        self.pattern().contains(['*', '?'])
    }

    /// The glob without its `!`.
    pub fn pattern(&self) -> &str {
        self.written.strip_prefix('!').unwrap_or(&self.written)
    }

    pub fn as_str(&self) -> &str {
        &self.written
    }

    /// Whether the glob (without its `!`) matches `table`.
    pub fn matches(&self, table: &str) -> bool {
        wildcard_match(
            without_default_schema(self.pattern()).as_bytes(),
            without_default_schema(table).as_bytes(),
        )
    }
}

/// `public.orders` -> `orders`: PostgreSQL's default schema may be written or left out.
fn without_default_schema(name: &str) -> &str {
    name.strip_prefix("public.").unwrap_or(name)
}

/// Classic wildcard matching with one backtrack point: linear for the patterns of a
/// configuration, and without the recursion that explodes on `*a*a*a*b`.
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and where in the text it started matching.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(b'?') if text[t] != b'.' => {
                p += 1;
                t += 1;
            }
            Some(&c) if c != b'*' && c != b'?' && c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                // Let the last `*` swallow one more character, unless it is the dot.
                Some((star_p, star_t)) if text[star_t] != b'.' => {
                    star = Some((star_p, star_t + 1));
                    p = star_p + 1;
                    t = star_t + 1;
                }
                _ => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

impl TryFrom<String> for Glob {
    type Error = GlobError;

    fn try_from(text: String) -> Result<Self, GlobError> {
        Glob::parse(&text)
    }
}

impl From<Glob> for String {
    fn from(glob: Glob) -> String {
        glob.written
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(glob: &str, table: &str) -> bool {
        Glob::parse(glob).unwrap().matches(table)
    }

    #[test]
    fn matches_star_and_question_mark() {
        assert!(matches("*", "orders"));
        assert!(matches("orders", "orders"));
        assert!(!matches("orders", "Orders"));
        assert!(matches("audit_*", "audit_log"));
        assert!(matches("audit_*", "audit_"));
        assert!(!matches("audit_*", "audit"));
        assert!(matches("*_log", "audit_log"));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "abbc"));
        assert!(matches("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaab"));
        assert!(!matches("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaa"));
        assert!(matches("!audit_*", "audit_x"));
    }

    #[test]
    fn wildcards_stop_at_the_schema_dot() {
        assert!(!matches("*", "audit.logs"));
        assert!(matches("audit.*", "audit.logs"));
        assert!(matches("*.*", "audit.logs"));
        assert!(!matches("audit.*", "logs"));
        assert!(!matches("a?c", "a.c"));
        assert!(matches("public.products", "products"));
        assert!(matches("products", "public.products"));
        assert!(matches("public.*", "products"));
    }

    #[test]
    fn knows_exclusions_and_wildcards() {
        let glob = Glob::parse("!audit_*").unwrap();
        assert!(glob.is_exclusion());
        assert!(glob.is_wildcard());
        assert_eq!(glob.pattern(), "audit_*");
        assert_eq!(glob.as_str(), "!audit_*");
        assert!(!Glob::parse("orders").unwrap().is_wildcard());
    }

    #[test]
    fn refuses_what_it_cannot_match() {
        let error = |text: &str| Glob::parse(text).unwrap_err().to_string();
        assert_eq!(
            error(""),
            "is ``, which is not a table glob: it names no table; write a name or `*`"
        );
        assert_eq!(
            error("!"),
            "is `!`, which is not a table glob: it names no table; write a name or `*`"
        );
        assert_eq!(
            error("!!a"),
            "is `!!a`, which is not a table glob: only one leading `!` excludes; remove the others"
        );
        assert_eq!(
            error("log_[0-9]"),
            "is `log_[0-9]`, which is not a table glob: only `*` and `?` are wildcards; list the tables one by one instead of `[...]` or `{...}`"
        );
        assert_eq!(
            error("a.b.c"),
            "is `a.b.c`, which is not a table glob: it is not `table` or `schema.table`; fix the dots"
        );
        assert_eq!(
            error(" orders"),
            "is ` orders`, which is not a table glob: it starts or ends with a space; remove it"
        );
    }
}
