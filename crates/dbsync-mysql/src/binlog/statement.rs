//! What a statement in a QUERY event does to tables, as far as the stream cares.
//!
//! With row-based logging, statements reach the binlog as text only for DDL (and for
//! DML a session logged in statement format). The stream needs to know which tables
//! a statement empties (`TRUNCATE`), which it redefines (`ALTER`, `DROP`, `RENAME`,
//! `CREATE OR REPLACE`) and which it writes without row events. This is a reader of
//! those statements' heads, not a SQL parser: it stops at the table names.

/// A table a statement names; `schema` is `None` when unqualified, meaning the
/// event's default database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NamedTable {
    pub(crate) schema: Option<String>,
    pub(crate) name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Statement {
    /// `TRUNCATE [TABLE] t`
    Truncate(NamedTable),
    /// `ALTER`, `DROP`, `RENAME` or `CREATE OR REPLACE` of these tables.
    Redefine(Vec<NamedTable>),
    /// `DROP DATABASE d`: every table in it.
    DropDatabase(String),
    /// `INSERT`, `REPLACE`, `UPDATE`, `DELETE` or `LOAD DATA` into this table, logged
    /// as a statement rather than as rows.
    Write(NamedTable),
    /// Anything else: transaction control, DDL of other objects, grants ...
    Other,
}

impl Statement {
    pub(crate) fn parse(sql: &str) -> Statement {
        let mut tokens = Tokens::new(sql);
        let Some(first) = tokens.keyword() else {
            return Statement::Other;
        };
        match first.as_str() {
            "TRUNCATE" => {
                tokens.skip_keywords(&["TABLE"]);
                tokens.table().map_or(Statement::Other, Statement::Truncate)
            }
            "ALTER" => {
                tokens.skip_keywords(&["ONLINE", "OFFLINE", "IGNORE"]);
                if !tokens.expect_keyword("TABLE") {
                    return Statement::Other;
                }
                tokens.skip_keywords(&["IF", "EXISTS"]);
                redefine(tokens.table().into_iter().collect())
            }
            // Temporary tables are never the tables a pair syncs, whatever their name.
            "DROP" => match tokens.keyword().as_deref() {
                Some("TABLE" | "TABLES") => {
                    tokens.skip_keywords(&["IF", "EXISTS"]);
                    redefine(tokens.table_list())
                }
                Some("DATABASE" | "SCHEMA") => {
                    tokens.skip_keywords(&["IF", "EXISTS"]);
                    tokens
                        .identifier()
                        .map_or(Statement::Other, Statement::DropDatabase)
                }
                _ => Statement::Other,
            },
            "RENAME" => {
                if !matches!(tokens.keyword().as_deref(), Some("TABLE" | "TABLES")) {
                    return Statement::Other;
                }
                tokens.skip_keywords(&["IF", "EXISTS"]);
                let mut tables = Vec::new();
                // `a TO b, c TO d`: both sides of each pair.
                while let Some(table) = tokens.table() {
                    tables.push(table);
                    if !tokens.punctuation(',') && !tokens.expect_keyword("TO") {
                        break;
                    }
                }
                redefine(tables)
            }
            "CREATE" => {
                if !(tokens.expect_keyword("OR") && tokens.expect_keyword("REPLACE")) {
                    return Statement::Other;
                }
                if !tokens.expect_keyword("TABLE") {
                    return Statement::Other;
                }
                tokens.skip_keywords(&["IF", "NOT", "EXISTS"]);
                redefine(tokens.table().into_iter().collect())
            }
            "INSERT" | "REPLACE" => {
                tokens.skip_keywords(&[
                    "LOW_PRIORITY",
                    "DELAYED",
                    "HIGH_PRIORITY",
                    "IGNORE",
                    "INTO",
                ]);
                tokens.table().map_or(Statement::Other, Statement::Write)
            }
            "UPDATE" => {
                tokens.skip_keywords(&["LOW_PRIORITY", "IGNORE"]);
                tokens.table().map_or(Statement::Other, Statement::Write)
            }
            "DELETE" => {
                tokens.skip_keywords(&["LOW_PRIORITY", "QUICK", "IGNORE"]);
                if !tokens.expect_keyword("FROM") {
                    return Statement::Other;
                }
                tokens.table().map_or(Statement::Other, Statement::Write)
            }
            "LOAD" => {
                // LOAD DATA [options] INFILE 'file' [REPLACE | IGNORE] INTO TABLE t
                while let Some(token) = tokens.next() {
                    if token.is_keyword("INTO") && tokens.expect_keyword("TABLE") {
                        return tokens.table().map_or(Statement::Other, Statement::Write);
                    }
                }
                Statement::Other
            }
            _ => Statement::Other,
        }
    }
}

fn redefine(tables: Vec<NamedTable>) -> Statement {
    if tables.is_empty() {
        Statement::Other
    } else {
        Statement::Redefine(tables)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// An unquoted word, as written: a keyword or a name.
    Word(String),
    /// A name in backticks (or double quotes, under `ANSI_QUOTES`), unescaped.
    Quoted(String),
    Punctuation(char),
    /// A string literal, whose content never matters here.
    Literal,
}

impl Token {
    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(word) if word.eq_ignore_ascii_case(keyword))
    }
}

/// Splits SQL into tokens, skipping whitespace and comments. MySQL's executable
/// comments (`/*! ... */`, `/*M! ... */`) are read as the code they hold.
#[derive(Clone)]
struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn new(sql: &'a str) -> Self {
        Tokens { rest: sql }
    }

    fn skip_blanks(&mut self) {
        loop {
            let trimmed = self.rest.trim_start();
            if let Some(body) = trimmed.strip_prefix("/*") {
                if let Some(code) = body.strip_prefix('!').or_else(|| body.strip_prefix("M!")) {
                    self.rest = code.trim_start_matches(|c: char| c.is_ascii_digit());
                } else {
                    self.rest = body.split_once("*/").map_or("", |(_, after)| after);
                }
            } else if let Some(after) = trimmed.strip_prefix("*/") {
                self.rest = after; // the end of an executable comment
            } else if trimmed.starts_with("-- ") || trimmed.starts_with('#') {
                self.rest = trimmed.split_once('\n').map_or("", |(_, after)| after);
            } else {
                self.rest = trimmed;
                return;
            }
        }
    }

    fn next(&mut self) -> Option<Token> {
        self.skip_blanks();
        let first = self.rest.chars().next()?;
        let token = match first {
            '`' | '"' => {
                let (name, len) = quoted(self.rest, first);
                self.rest = &self.rest[len..];
                return Some(Token::Quoted(name));
            }
            '\'' => {
                self.rest = &self.rest[string_literal_len(self.rest)..];
                return Some(Token::Literal);
            }
            c if is_word_char(c) => {
                let end = self
                    .rest
                    .find(|c: char| !is_word_char(c))
                    .unwrap_or(self.rest.len());
                let word = Token::Word(self.rest[..end].to_owned());
                self.rest = &self.rest[end..];
                word
            }
            c => {
                self.rest = &self.rest[c.len_utf8()..];
                Token::Punctuation(c)
            }
        };
        Some(token)
    }

    fn peek(&self) -> Option<Token> {
        self.clone().next()
    }

    /// The next token if it is a word, upper-cased.
    fn keyword(&mut self) -> Option<String> {
        match self.peek()? {
            Token::Word(word) => {
                self.next();
                Some(word.to_ascii_uppercase())
            }
            _ => None,
        }
    }

    fn expect_keyword(&mut self, keyword: &str) -> bool {
        let found = self.peek().is_some_and(|token| token.is_keyword(keyword));
        if found {
            self.next();
        }
        found
    }

    fn skip_keywords(&mut self, keywords: &[&str]) {
        while keywords.iter().any(|keyword| self.expect_keyword(keyword)) {}
    }

    fn punctuation(&mut self, mark: char) -> bool {
        let found = self.peek() == Some(Token::Punctuation(mark));
        if found {
            self.next();
        }
        found
    }

    /// A name, quoted or not.
    fn identifier(&mut self) -> Option<String> {
        match self.next()? {
            Token::Word(name) | Token::Quoted(name) => Some(name),
            _ => None,
        }
    }

    /// `name` or `schema.name`.
    fn table(&mut self) -> Option<NamedTable> {
        let first = self.identifier()?;
        if self.punctuation('.') {
            let name = self.identifier()?;
            Some(NamedTable {
                schema: Some(first),
                name,
            })
        } else {
            Some(NamedTable {
                schema: None,
                name: first,
            })
        }
    }

    fn table_list(&mut self) -> Vec<NamedTable> {
        let mut tables = Vec::new();
        while let Some(table) = self.table() {
            tables.push(table);
            if !self.punctuation(',') {
                break;
            }
        }
        tables
    }
}

/// The name in the quoted identifier that starts `text` (a doubled quote stands for
/// itself), and the length of the identifier with its quotes.
fn quoted(text: &str, quote: char) -> (String, usize) {
    let mut name = String::new();
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c != quote {
            name.push(c);
        } else if chars.peek().is_some_and(|&(_, next)| next == quote) {
            chars.next();
            name.push(quote);
        } else {
            return (name, i + c.len_utf8());
        }
    }
    (name, text.len())
}

/// The length of the string literal that starts `text`, backslash escapes included.
fn string_literal_len(text: &str) -> usize {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '\'' if !escaped => return i + 1,
            _ => escaped = false,
        }
    }
    text.len()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(schema: Option<&str>, name: &str) -> NamedTable {
        NamedTable {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    #[test]
    fn truncate_in_its_spellings() {
        for sql in ["TRUNCATE TABLE t", "truncate t", "TRUNCATE /* hi */ `t`;"] {
            assert_eq!(
                Statement::parse(sql),
                Statement::Truncate(table(None, "t")),
                "{sql}"
            );
        }
        assert_eq!(
            Statement::parse("TRUNCATE TABLE `my db`.`we``ird`"),
            Statement::Truncate(table(Some("my db"), "we`ird"))
        );
    }

    #[test]
    fn ddl_that_redefines_tables() {
        let cases = [
            ("ALTER TABLE t ADD COLUMN c INT", vec![table(None, "t")]),
            (
                "alter online ignore table s.t drop c",
                vec![table(Some("s"), "t")],
            ),
            (
                "DROP TABLE IF EXISTS `a`,`b` /* generated by server */",
                vec![table(None, "a"), table(None, "b")],
            ),
            (
                "RENAME TABLE a TO b, s.c TO d",
                vec![
                    table(None, "a"),
                    table(None, "b"),
                    table(Some("s"), "c"),
                    table(None, "d"),
                ],
            ),
            ("CREATE OR REPLACE TABLE t (id INT)", vec![table(None, "t")]),
            (
                "/*!40000 ALTER TABLE `t` DISABLE KEYS */",
                vec![table(None, "t")],
            ),
        ];
        for (sql, tables) in cases {
            assert_eq!(Statement::parse(sql), Statement::Redefine(tables), "{sql}");
        }
    }

    #[test]
    fn statements_that_do_not_touch_tables() {
        for sql in [
            "BEGIN",
            "COMMIT",
            "CREATE TABLE t (id INT)",
            "DROP VIEW v",
            "DROP TEMPORARY TABLE IF EXISTS `t`",
            "CREATE OR REPLACE TEMPORARY TABLE t (id INT)",
            "ALTER DATABASE d CHARACTER SET utf8mb4",
            "GRANT SELECT ON *.* TO u",
            "",
            "-- only a comment",
        ] {
            assert_eq!(Statement::parse(sql), Statement::Other, "{sql}");
        }
        assert_eq!(
            Statement::parse("DROP DATABASE IF EXISTS `shop`"),
            Statement::DropDatabase("shop".into())
        );
    }

    #[test]
    fn dml_logged_as_statements() {
        let cases = [
            "INSERT INTO t VALUES (1)",
            "insert ignore t (a) values (1)",
            "REPLACE INTO `t` SET a = 'it''s'",
            "UPDATE t SET a = 1",
            "DELETE FROM t WHERE a = 1",
            "LOAD DATA INFILE 'x.csv' REPLACE INTO TABLE t",
        ];
        for sql in cases {
            assert_eq!(
                Statement::parse(sql),
                Statement::Write(table(None, "t")),
                "{sql}"
            );
        }
    }
}
