//! Writing SQLite SQL text.

/// `name` as a quoted identifier, with embedded double quotes doubled.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `count` parameter placeholders, `?, ?, ?`.
pub(crate) fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote("film"), "\"film\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(placeholders(3), "?, ?, ?");
    }
}
