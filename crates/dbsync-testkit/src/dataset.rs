//! The real sample databases in `datasets/`, loadable into any fresh database.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// A sample database shipped in the repository's `datasets/` directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    /// MySQL's Sakila 1.5: 16 tables, ENUM, SET, YEAR, a PNG BLOB, unsigned integers.
    Sakila,
    /// Sakila with `address.location GEOMETRY` and its SPATIAL index.
    SakilaGeo,
    /// Chinook 1.4.5 for MySQL: mixed-case identifiers, composite keys, non-ASCII text.
    ChinookMysql,
    /// The same Chinook data for PostgreSQL.
    ChinookPostgres,
}

/// Which server a dataset's SQL is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Mysql,
    Postgres,
}

impl Dataset {
    pub fn dialect(self) -> Dialect {
        match self {
            Dataset::ChinookPostgres => Dialect::Postgres,
            _ => Dialect::Mysql,
        }
    }

    /// The database name the scripts hard-code, which loading replaces.
    fn original_name(self) -> &'static str {
        match self {
            Dataset::Sakila => "sakila",
            Dataset::SakilaGeo => "sakila_geo",
            Dataset::ChinookMysql => "Chinook",
            Dataset::ChinookPostgres => "chinook",
        }
    }

    fn files(self) -> &'static [&'static str] {
        match self {
            Dataset::Sakila => &["sakila/sakila-schema.sql", "sakila/sakila-data.sql"],
            Dataset::SakilaGeo => &[
                "sakila-geo/sakila_geo-schema.sql",
                "sakila-geo/sakila_geo-data.sql",
            ],
            Dataset::ChinookMysql => &["chinook/Chinook_MySql.sql"],
            Dataset::ChinookPostgres => &["chinook/Chinook_PostgreSql.sql"],
        }
    }

    /// The dataset's SQL, rewritten to load into `database` (which must exist) instead
    /// of dropping and creating the database its scripts name.
    pub fn sql_for(self, database: &str) -> Result<Vec<u8>> {
        let mut sql = String::new();
        for file in self.files() {
            let path = datasets_dir().join(file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::new(format!(
                    "could not read the dataset file {}: {e}; set DBSYNC_DATASETS to the datasets directory",
                    path.display()
                ))
            })?;
            for line in text.lines() {
                if !selects_database(line) {
                    sql.push_str(&requalify(line, self.original_name(), database));
                    sql.push('\n');
                }
            }
        }
        Ok(sql.into_bytes())
    }
}

/// `DBSYNC_DATASETS`, or the repository's `datasets/` directory.
pub fn datasets_dir() -> PathBuf {
    std::env::var_os("DBSYNC_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets")))
}

/// Whether a line drops, creates or switches to the script's own database.
fn selects_database(line: &str) -> bool {
    let line = line.trim_start().to_ascii_lowercase();
    [
        "drop schema",
        "create schema",
        "drop database",
        "create database",
        "use ",
        "\\c ",
    ]
    .iter()
    .any(|prefix| line.starts_with(prefix))
}

/// Replaces qualified references `original.` (Sakila's views say `sakila.film`) with
/// the target database, leaving data rows alone.
fn requalify(line: &str, original: &str, database: &str) -> String {
    if line.starts_with("INSERT") || !line.contains(original) {
        return line.to_owned();
    }
    let qualifier = format!("{original}.");
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find(&qualifier) {
        let starts_word = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '@'));
        out.push_str(&rest[..at]);
        out.push_str(if starts_word { database } else { original });
        out.push('.');
        rest = &rest[at + qualifier.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requalifies_only_whole_schema_names() {
        assert_eq!(
            requalify("FROM sakila.film f JOIN mysakila.x", "sakila", "t_1"),
            "FROM t_1.film f JOIN mysakila.x"
        );
        assert_eq!(
            requalify("INSERT INTO a VALUES ('sakila.x')", "sakila", "t_1"),
            "INSERT INTO a VALUES ('sakila.x')"
        );
    }

    #[test]
    fn drops_the_scripts_own_database_statements() {
        for line in [
            "DROP SCHEMA IF EXISTS sakila;",
            "CREATE DATABASE `Chinook`;",
            "USE sakila;",
            "\\c chinook;",
        ] {
            assert!(selects_database(line), "{line}");
        }
        assert!(!selects_database("CREATE TABLE actor ("));
        assert!(!selects_database("  username VARCHAR(16) NOT NULL,"));
    }
}
