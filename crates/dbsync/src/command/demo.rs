//! `dbsync demo`: the story on a private sandbox.
//!
//! The sandbox is the testkit's: a MariaDB source and a PostgreSQL target on free
//! ports in a scratch directory, removed when the command ends. So far the demo loads
//! Sakila and shows what dbsync reads of it; copying and streaming come with the
//! engine, and the demo says so rather than pretend.

use std::time::Instant;

use dbsync_core::TableSchema;
use dbsync_testkit::{Dataset, MariaDb, Postgres};
use mysql_async::prelude::Queryable;

use crate::failure::Failure;

pub(crate) async fn run() -> Result<(), Failure> {
    let started = Instant::now();
    // The servers start in parallel; each takes about a second.
    let mariadb = tokio::task::spawn_blocking(MariaDb::shared);
    let postgres = tokio::task::spawn_blocking(Postgres::shared);
    let mariadb = blocking(mariadb, "starting the sandbox MariaDB").await?;
    let postgres = blocking(postgres, "starting the sandbox PostgreSQL").await?;
    println!(
        "Started a private MariaDB on port {} (binlog ROW, GTID) in {}",
        mariadb.port(),
        mariadb.dir().display()
    );
    println!(
        "Started a private PostgreSQL on port {} (wal_level=logical) in {}",
        postgres.port(),
        postgres.dir().display()
    );

    let database = mariadb.create_database("sakila")?;
    let loading = Instant::now();
    let load = {
        let database = database.clone();
        tokio::task::spawn_blocking(move || mariadb.load(&database, Dataset::Sakila))
    };
    blocking(load, "loading Sakila").await?;
    println!(
        "Loaded Sakila into MariaDB database `{database}` in {:.1} s",
        loading.elapsed().as_secs_f64()
    );

    describe(mariadb, &database).await?;

    println!();
    println!(
        "Not built yet: copying these tables to PostgreSQL and following the binlog (the engine)."
    );
    println!(
        "The sandbox stops now; it ran for {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn blocking<T>(
    task: tokio::task::JoinHandle<dbsync_testkit::Result<T>>,
    doing: &str,
) -> Result<T, Failure> {
    task.await
        .map_err(|e| Failure::runtime(format!("{doing} failed: {e}.")))?
        .map_err(Failure::from)
}

/// Introspects the loaded database and prints one line per table.
async fn describe(mariadb: &MariaDb, database: &str) -> Result<(), Failure> {
    let mut conn = mysql_async::Conn::from_url(mariadb.url(database))
        .await
        .map_err(|e| Failure::runtime(format!("connecting to the sandbox MariaDB failed: {e}.")))?;
    let tables = dbsync_mysql::schema::read_tables(&mut conn, database).await?;
    println!();
    println!("dbsync reads {} tables from `{database}`:", tables.len());
    println!(
        "  {:<14} {:>6} {:>7}  {:<26} types",
        "table", "rows", "columns", "primary key"
    );
    for table in &tables {
        let count = format!(
            "SELECT COUNT(*) FROM `{}`",
            table.name.name.replace('`', "``")
        );
        let rows: Option<u64> = conn.query_first(count).await.map_err(|e| {
            Failure::runtime(format!("counting the rows of {} failed: {e}.", table.name))
        })?;
        println!(
            "  {:<14} {:>6} {:>7}  {:<26} {}",
            table.name.name,
            rows.unwrap_or(0),
            table.columns.len(),
            table.primary_key.join(", "),
            type_families(table)
        );
    }
    conn.disconnect().await.ok();
    Ok(())
}

/// The distinct engine-neutral type families of a table's columns, in column order.
fn type_families(table: &TableSchema) -> String {
    let mut families: Vec<String> = Vec::new();
    for column in &table.columns {
        let name = column.data_type.to_string();
        let family = name.split('(').next().unwrap_or(&name).to_owned();
        if !families.contains(&family) {
            families.push(family);
        }
    }
    families.join(" ")
}
