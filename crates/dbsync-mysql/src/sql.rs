//! Writing MySQL SQL text.

/// `name` as a quoted identifier: `` `name` `` with backticks doubled.
pub(crate) fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `text` as a string literal, with embedded single quotes doubled: exact in sessions
/// with `NO_BACKSLASH_ESCAPES`, as every dbsync session has (see [`crate::session`]).
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn quote_doubles_backticks() {
        assert_eq!(super::quote("we`ird"), "`we``ird`");
    }
}
