//! Writing MySQL SQL text.

/// `name` as a quoted identifier: `` `name` `` with backticks doubled.
pub(crate) fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn quote_doubles_backticks() {
        assert_eq!(super::quote("we`ird"), "`we``ird`");
    }
}
