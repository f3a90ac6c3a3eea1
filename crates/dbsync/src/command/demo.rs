//! `dbsync demo`: the whole story on a private sandbox, in one command.
//!
//! The sandbox is the testkit's: a MariaDB source (binlog ROW, GTID) and a PostgreSQL
//! target on free ports in a scratch directory, removed when the command ends. The
//! demo loads Sakila, runs a pair that copies it and follows the binlog, makes live
//! changes on the source while the pair runs, and ends by comparing every table value
//! by value.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dbsync_config::{Config, Environment, IdentifierCase, LogLevel, Logging};
use dbsync_core::{Checkpoint, Position, TableSchema};
use dbsync_postgres::target_table::TargetTable;
use dbsync_postgres::target_type::MappingOptions;
use dbsync_postgres::writer::CHECKPOINT_TABLE;
use dbsync_testkit::{Dataset, MariaDb, Postgres, REPLICATION_PASSWORD, REPLICATION_USER};
use tokio::sync::watch;

use crate::compare::compare_table;
use crate::failure::Failure;
use crate::pair_sync::{PairSync, Until};

/// Changes made on the source while the pair streams, each with what it shows.
const LIVE_CHANGES: [(&str, &str, &str); 5] = [
    (
        "insert an actor with a name outside Latin-1",
        "actor",
        "INSERT INTO actor (first_name, last_name) VALUES ('ÅSA', 'NÖRDSTRÖM 😀')",
    ),
    (
        "raise the rental rate of every PG film",
        "film",
        "UPDATE film SET rental_rate = rental_rate + 0.50 WHERE rating = 'PG'",
    ),
    (
        "delete an actor's film credits",
        "film_actor",
        "DELETE FROM film_actor WHERE actor_id = 1",
    ),
    (
        "update 16,044 payments in one transaction",
        "payment",
        "UPDATE payment SET amount = amount + 1.00",
    ),
    (
        "change a primary key",
        "film_text",
        "UPDATE film_text SET film_id = 5000 WHERE film_id = 1",
    ),
];

pub(crate) async fn run() -> Result<(), Failure> {
    let started = Instant::now();
    crate::logging::init(&Logging {
        level: LogLevel::Warn,
        ..Logging::default()
    });
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

    let source = mariadb.create_database("sakila")?;
    let target = postgres.create_database("analytics")?;
    let loading = Instant::now();
    let load = {
        let source = source.clone();
        tokio::task::spawn_blocking(move || mariadb.load(&source, Dataset::Sakila))
    };
    blocking(load, "loading Sakila").await?;
    println!(
        "Loaded Sakila into MariaDB database `{source}` in {:.1} s",
        loading.elapsed().as_secs_f64()
    );

    // The password goes through `${SHOP_PASSWORD}` as a user would write it, so the
    // file shown holds no secret.
    let yaml = format!(
        "connections:\n  shop: {{ url: \"mysql://{REPLICATION_USER}:${{SHOP_PASSWORD}}@127.0.0.1:{}/{source}\" }}\n  analytics: {{ url: \"{}\" }}\npairs:\n  shop-analytics: {{ source: shop, target: analytics }}\n",
        mariadb.port(),
        postgres.url(&target)
    );
    println!("\nThe pair, as dbsync.yaml holds it:\n{}", indent(&yaml));
    let environment = Environment::empty().with("SHOP_PASSWORD", REPLICATION_PASSWORD);
    let config = Config::from_yaml_str_with(&yaml, "the demo's configuration", &environment)
        .map_err(|e| Failure::runtime(e.to_string()))?;
    let pair = &config.pairs["shop-analytics"];
    let sync = PairSync::new("shop-analytics", pair, &config)?;

    // The pair runs as `dbsync run` does, until told to stop; its progress goes to the
    // log on stderr.
    let (stop_tx, stop) = watch::channel(false);
    let copying = Instant::now();
    let running = tokio::spawn(async move { sync.run(Until::Stopped, stop).await });

    let mut source_conn = connect_source(mariadb, &source).await?;
    let tables = dbsync_mysql::schema::read_tables(&mut source_conn, &source).await?;
    let tables: Vec<Arc<TableSchema>> = tables.into_iter().map(Arc::new).collect();
    let (client, connection) =
        tokio_postgres::connect(&postgres.url(&target), tokio_postgres::NoTls)
            .await
            .map_err(|e| {
                Failure::runtime(format!("connecting to the sandbox PostgreSQL failed: {e}."))
            })?;
    tokio::spawn(connection);
    let targets = tables
        .iter()
        .map(|table| {
            TargetTable::plan(
                table,
                "public",
                &table.name.name,
                &table.primary_key,
                IdentifierCase::Lower,
                MappingOptions::default(),
            )
        })
        .collect::<dbsync_core::Result<Vec<_>>>()?;

    println!(
        "Copying {} tables and following the binlog ...",
        tables.len()
    );
    wait_until_equal(&mut source_conn, &client, &tables, &targets, &running).await?;
    println!(
        "Copied: every table equal after {:.1} s.\n",
        copying.elapsed().as_secs_f64()
    );

    println!("Live changes on the source while the pair streams:");
    for (what, table, sql) in LIVE_CHANGES {
        let changed = Instant::now();
        mariadb.execute(Some(&source), sql)?;
        let committed_at = dbsync_mysql::binlog::current_position(&mut source_conn).await?;
        wait_for_checkpoint(&client, table, &Position::Binlog(committed_at), &running).await?;
        println!("  {what}: applied in {} ms", changed.elapsed().as_millis());
    }

    println!("\nSource and target compared value by value:");
    println!("  {:<14} {:>8} {:>8}  result", "table", "source", "target");
    let mut all_equal = true;
    for (table, target_table) in tables.iter().zip(&targets) {
        let comparison = compare_table(&mut source_conn, &client, table, target_table).await?;
        all_equal &= comparison.equal();
        let result = if comparison.equal() {
            "equal".to_owned()
        } else {
            format!("{} differences", comparison.differences)
        };
        println!(
            "  {:<14} {:>8} {:>8}  {result}",
            table.name.name, comparison.source_rows, comparison.target_rows
        );
    }

    let _ = stop_tx.send(true);
    match running.await {
        Ok(result) => result?,
        Err(e) => return Err(Failure::runtime(format!("the pair's task failed: {e}."))),
    }
    if !all_equal {
        return Err(Failure::runtime(
            "source and target differ after the demo; this is a bug in dbsync, please report it.",
        ));
    }
    println!(
        "\nEverything equal. The sandbox stops now; the demo took {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Polls until every table is equal on both sides, or fails when the pair stopped
/// or a minute passed.
async fn wait_until_equal(
    source: &mut mysql_async::Conn,
    target: &tokio_postgres::Client,
    tables: &[Arc<TableSchema>],
    targets: &[TargetTable],
    running: &tokio::task::JoinHandle<dbsync_core::Result<()>>,
) -> Result<(), Failure> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if running.is_finished() {
            return Err(Failure::runtime(
                "the pair stopped unexpectedly; its error is in the log above.",
            ));
        }
        let mut equal = true;
        for (table, target_table) in tables.iter().zip(targets) {
            // A table the pair has not created yet is simply not equal yet.
            match compare_table(source, target, table, target_table).await {
                Ok(comparison) if comparison.equal() => {}
                _ => {
                    equal = false;
                    break;
                }
            }
        }
        if equal {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Failure::runtime(
                "the target did not catch up within a minute.",
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls the target until `table`'s checkpoint, written in the same transaction as
/// its rows, has reached `position`.
async fn wait_for_checkpoint(
    target: &tokio_postgres::Client,
    table: &str,
    position: &Position,
    running: &tokio::task::JoinHandle<dbsync_core::Result<()>>,
) -> Result<(), Failure> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if running.is_finished() {
            return Err(Failure::runtime(
                "the pair stopped unexpectedly; its error is in the log above.",
            ));
        }
        let row = target
            .query_opt(
                &format!(
                    "SELECT checkpoint::text FROM public.{CHECKPOINT_TABLE} WHERE source_table = $1"
                ),
                &[&table],
            )
            .await
            .map_err(|e| {
                Failure::runtime(format!("reading the checkpoint of {table} failed: {e}."))
            })?;
        let checkpoint: Option<Checkpoint> =
            row.and_then(|row| serde_json::from_str(row.get(0)).ok());
        if checkpoint.is_some_and(|checkpoint| &checkpoint.position >= position) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Failure::runtime(format!(
                "the change to {table} did not reach the target within a minute."
            )));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn connect_source(mariadb: &MariaDb, database: &str) -> Result<mysql_async::Conn, Failure> {
    let opts = dbsync_mysql::session::options_from_url(&mariadb.url(database))?;
    Ok(dbsync_mysql::session::connect(opts, "the sandbox MariaDB").await?)
}

async fn blocking<T>(
    task: tokio::task::JoinHandle<dbsync_testkit::Result<T>>,
    doing: &str,
) -> Result<T, Failure> {
    task.await
        .map_err(|e| Failure::runtime(format!("{doing} failed: {e}.")))?
        .map_err(Failure::from)
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}\n")).collect()
}
