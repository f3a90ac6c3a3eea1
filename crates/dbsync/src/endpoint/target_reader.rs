//! A pair's target read back as the source's values, for `verify`.

use std::sync::Arc;

use dbsync_config::{ConnectionUrl, Engine, Pair};
use dbsync_core::verify::{DatabaseHash, Key, KeyRange, RangeSummary, VerifySide, VerifyTable};
use dbsync_core::{Error, ErrorKind, Result, Row, TableSchema};

use crate::connection::{mysql_options, postgres_config};

/// Each engine's reader of target tables; they differ much in size, and there is one
/// per verify, so the large ones are boxed at no cost.
#[derive(Debug)]
pub(crate) enum AnyTargetReader {
    Postgres(Box<dbsync_postgres::reader::TargetReader>),
    Mysql(Box<dbsync_mysql::reader::TargetReader>),
    Sqlite(dbsync_sqlite::reader::TargetReader),
}

impl AnyTargetReader {
    /// Reads, on the target at `url` of `pair`, the target table of each source table
    /// of `tables`, given with its target name: planned as the pair's writer plans it,
    /// and read through the inverse of its mapping. Writes nothing.
    pub(crate) async fn open(
        url: &ConnectionUrl,
        pair: &Pair,
        tables: &[(Arc<TableSchema>, String)],
    ) -> Result<AnyTargetReader> {
        match url.engine() {
            Engine::PostgreSql => {
                let case = pair.effective_identifier_case(Engine::PostgreSql);
                let options = dbsync_postgres::target_type::MappingOptions {
                    zero_date: pair.zero_date,
                    enum_mapping: pair.enum_mapping,
                    set_mapping: pair.set_mapping,
                };
                let schema = case.apply(&pair.target_schema);
                let mut planned = Vec::new();
                for (table, name) in tables {
                    let target = dbsync_postgres::target_table::TargetTable::plan(
                        table,
                        &schema,
                        name,
                        &table.primary_key,
                        case,
                        options,
                    )?;
                    planned.push((table.name.clone(), target));
                }
                let client =
                    dbsync_postgres::session::connect(&postgres_config(url), "the target").await?;
                Ok(AnyTargetReader::Postgres(Box::new(
                    dbsync_postgres::reader::TargetReader::new(client, planned),
                )))
            }
            Engine::MySql => {
                let mut conn =
                    dbsync_mysql::session::connect(mysql_options(url), "the target").await?;
                let flavor = dbsync_mysql::Flavor::of(&mut conn).await?;
                let database = url.database().unwrap_or_default();
                let mut planned = Vec::new();
                for (table, name) in tables {
                    let target = dbsync_mysql::target_table::TargetTable::plan(
                        table, database, name, flavor,
                    )?;
                    planned.push((table.name.clone(), target));
                }
                Ok(AnyTargetReader::Mysql(Box::new(
                    dbsync_mysql::reader::TargetReader::new(conn, planned),
                )))
            }
            Engine::Sqlite => {
                let options = dbsync_sqlite::target_type::MappingOptions::new(
                    pair.zero_date,
                    pair.enum_mapping,
                    pair.set_mapping,
                )?;
                let path = url.sqlite_path().ok_or_else(|| {
                    Error::new(
                        ErrorKind::Config,
                        format!("{url} names no file; write sqlite://PATH"),
                    )
                })?;
                let mut planned = Vec::new();
                for (table, name) in tables {
                    let target =
                        dbsync_sqlite::target_table::TargetTable::plan(table, name, options)?;
                    planned.push((table.name.clone(), target));
                }
                Ok(AnyTargetReader::Sqlite(
                    dbsync_sqlite::reader::TargetReader::new(path, options, planned),
                ))
            }
        }
    }
}

impl VerifySide for AnyTargetReader {
    async fn read_range(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
        limit: usize,
    ) -> Result<Vec<Row>> {
        match self {
            AnyTargetReader::Postgres(reader) => reader.read_range(table, range, limit).await,
            AnyTargetReader::Mysql(reader) => reader.read_range(table, range, limit).await,
            AnyTargetReader::Sqlite(reader) => reader.read_range(table, range, limit).await,
        }
    }

    async fn database_hash(&mut self, table: &VerifyTable) -> Result<Option<DatabaseHash>> {
        match self {
            AnyTargetReader::Postgres(reader) => reader.database_hash(table).await,
            AnyTargetReader::Mysql(reader) => reader.database_hash(table).await,
            AnyTargetReader::Sqlite(reader) => reader.database_hash(table).await,
        }
    }

    async fn summarize_in_database(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
    ) -> Result<RangeSummary> {
        match self {
            AnyTargetReader::Postgres(reader) => reader.summarize_in_database(table, range).await,
            AnyTargetReader::Mysql(reader) => reader.summarize_in_database(table, range).await,
            AnyTargetReader::Sqlite(reader) => reader.summarize_in_database(table, range).await,
        }
    }

    async fn key_at(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
        offset: usize,
    ) -> Result<Option<Key>> {
        match self {
            AnyTargetReader::Postgres(reader) => reader.key_at(table, range, offset).await,
            AnyTargetReader::Mysql(reader) => reader.key_at(table, range, offset).await,
            AnyTargetReader::Sqlite(reader) => reader.key_at(table, range, offset).await,
        }
    }
}
