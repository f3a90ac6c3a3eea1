//! `dbsync demo`: the whole story on a private sandbox, in one command.
//!
//! The sandbox is the testkit's: a MariaDB source (binlog ROW, GTID) and a PostgreSQL
//! target on free ports in a scratch directory, removed when the command ends. The
//! demo loads Sakila, runs a pair that copies it and follows the binlog, makes live
//! changes on the source while the pair runs, and ends by comparing every table value
//! by value.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dbsync_config::{
    Config, ConnectionUrl, Engine, Environment, IdentifierCase, LogLevel, Logging,
};
use dbsync_core::{Checkpoint, Position, TableSchema};
use dbsync_postgres::target_table::TargetTable;
use dbsync_postgres::target_type::MappingOptions;
use dbsync_postgres::writer::CHECKPOINT_TABLE;
use dbsync_testkit::{Dataset, MariaDb, Postgres};
use mysql_async::prelude::Queryable;
use tokio::sync::watch;

use crate::compare::compare_table;
use crate::connection::{mysql_options, postgres_config};
use crate::failure::{Exit, Failure};
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

/// Where the demo runs: the source and target URLs, passwords included.
struct Endpoints {
    source: ConnectionUrl,
    target: ConnectionUrl,
    /// The account that makes the live changes: the pair's own (the sandbox's
    /// replication account) may only read.
    writer: ConnectionUrl,
}

/// Runs the demo on the sandbox, or on the databases of `source` and `target` when
/// both are given (the source database must be empty: Sakila is loaded into it).
pub(crate) async fn run(source: Option<String>, target: Option<String>) -> Result<(), Failure> {
    let started = Instant::now();
    crate::logging::init(&Logging {
        level: LogLevel::Warn,
        ..Logging::default()
    })?;
    let endpoints = match (source, target) {
        (None, None) => sandbox().await?,
        (Some(source), Some(target)) => given(&source, &target).await?,
        _ => {
            return Err(Failure::new(
                Exit::Usage,
                "give both --source and --target, or neither for the sandbox.",
            ));
        }
    };
    story(&endpoints).await?;
    println!(
        "\nEverything equal; the demo took {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Starts the testkit's servers and loads Sakila; they stop when the command ends.
async fn sandbox() -> Result<Endpoints, Failure> {
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
    Ok(Endpoints {
        source: parse_url(&mariadb.replication_url(&source))?,
        target: parse_url(&postgres.url(&target))?,
        writer: parse_url(&mariadb.url(&source))?,
    })
}

/// The user's databases: a MySQL/MariaDB source whose database is empty, and a
/// PostgreSQL target. Sakila is loaded into the source with the `mariadb` client.
async fn given(source: &str, target: &str) -> Result<Endpoints, Failure> {
    let (source, target) = (parse_url(source)?, parse_url(target)?);
    if source.engine() != Engine::MySql || target.engine() != Engine::PostgreSql {
        return Err(Failure::new(
            Exit::Usage,
            "the demo syncs MySQL/MariaDB into PostgreSQL: give --source mysql://... and --target postgres://....",
        ));
    }
    let database = source.database().unwrap_or_default().to_owned();
    let mut conn = dbsync_mysql::session::connect(mysql_options(&source), "the source").await?;
    let tables: Option<u64> = conn
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
            (&database,),
        )
        .await
        .map_err(|e| {
            Failure::runtime(format!("reading the tables of `{database}` failed: {e}."))
        })?;
    if tables.unwrap_or(0) > 0 {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "the demo loads Sakila into `{database}`, which already has tables; give an empty database."
            ),
        ));
    }
    let sql = Dataset::Sakila.sql_for(&database)?;
    let mut client = std::process::Command::new("mariadb");
    client
        .arg(format!("--host={}", source.host().unwrap_or("localhost")))
        .arg(format!(
            "--port={}",
            source.port_or_default().unwrap_or(3306)
        ))
        .arg(format!("--user={}", source.user().unwrap_or_default()))
        .args([
            "--protocol=tcp",
            "--default-character-set=utf8mb4",
            &database,
        ])
        .env(
            "MYSQL_PWD",
            source.password().map(|p| p.expose()).unwrap_or_default(),
        )
        .stdin(std::process::Stdio::piped());
    let loading = Instant::now();
    let load = tokio::task::spawn_blocking(move || -> std::io::Result<std::process::Output> {
        let mut child = client
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            std::io::Write::write_all(&mut stdin, &sql)?;
        }
        child.wait_with_output()
    });
    let output = load
        .await
        .map_err(|e| Failure::runtime(format!("loading Sakila failed: {e}.")))?
        .map_err(|e| {
            Failure::runtime(format!(
                "running the mariadb client failed: {e}; install the Debian package mariadb-client."
            ))
        })?;
    if !output.status.success() {
        return Err(Failure::runtime(format!(
            "loading Sakila into `{database}` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    println!(
        "Loaded Sakila into `{database}` in {:.1} s",
        loading.elapsed().as_secs_f64()
    );
    Ok(Endpoints {
        writer: source.clone(),
        source,
        target,
    })
}

fn parse_url(url: &str) -> Result<ConnectionUrl, Failure> {
    ConnectionUrl::parse(url).map_err(|e| {
        Failure::new(
            Exit::Usage,
            format!("`{url}` is not a connection URL: {e}."),
        )
    })
}

/// The pair copies and streams while the demo makes live changes, then every table is
/// compared value by value.
async fn story(endpoints: &Endpoints) -> Result<(), Failure> {
    // The password goes through `${SHOP_PASSWORD}` as a user would write it, so the
    // file shown holds no secret.
    let yaml = format!(
        "connections:\n  shop: {{ url: \"{}\" }}\n  analytics: {{ url: \"{}\" }}\npairs:\n  shop-analytics: {{ source: shop, target: analytics }}\n",
        with_password_variable(&endpoints.source, "SHOP_PASSWORD"),
        with_password_variable(&endpoints.target, "ANALYTICS_PASSWORD"),
    );
    println!("\nThe pair, as dbsync.yaml holds it:\n{}", indent(&yaml));
    let password = |url: &ConnectionUrl| {
        url.password()
            .map(|p| p.expose().to_owned())
            .unwrap_or_default()
    };
    let environment = Environment::empty()
        .with("SHOP_PASSWORD", password(&endpoints.source))
        .with("ANALYTICS_PASSWORD", password(&endpoints.target));
    let config = Config::from_yaml_str_with(&yaml, "the demo's configuration", &environment)
        .map_err(|e| Failure::runtime(e.to_string()))?;
    let pair = &config.pairs["shop-analytics"];
    let sync = PairSync::new("shop-analytics", pair, &config)?;
    let source = endpoints.source.database().unwrap_or_default();

    // The pair runs as `dbsync run` does, until told to stop; its progress goes to the
    // log on stderr.
    let (stop_tx, stop) = watch::channel(false);
    let copying = Instant::now();
    let running = tokio::spawn(async move { sync.run(Until::Stopped, stop).await });

    let mut source_conn =
        dbsync_mysql::session::connect(mysql_options(&endpoints.writer), "the source").await?;
    let tables = dbsync_mysql::schema::read_tables(&mut source_conn, source).await?;
    let tables: Vec<Arc<TableSchema>> = tables.into_iter().map(Arc::new).collect();
    let (client, connection) = postgres_config(&endpoints.target)
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| Failure::runtime(format!("connecting to the target failed: {e}.")))?;
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
        source_conn
            .query_drop(sql)
            .await
            .map_err(|e| Failure::runtime(format!("changing the source failed: {e}.")))?;
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
    Ok(())
}

/// Polls until every table is equal on both sides.
async fn wait_until_equal(
    source: &mut mysql_async::Conn,
    target: &tokio_postgres::Client,
    tables: &[Arc<TableSchema>],
    targets: &[TargetTable],
    running: &tokio::task::JoinHandle<dbsync_core::Result<()>>,
) -> Result<(), Failure> {
    let all_equal = async || {
        for (table, target_table) in tables.iter().zip(targets) {
            // A table the pair has not created yet is simply not equal yet.
            match compare_table(source, target, table, target_table).await {
                Ok(comparison) if comparison.equal() => {}
                _ => return Ok(false),
            }
        }
        Ok(true)
    };
    poll(
        running,
        Duration::from_millis(20),
        "the target did not catch up",
        all_equal,
    )
    .await
}

/// Polls the target until `table`'s checkpoint, written in the same transaction as
/// its rows, has reached `position`.
async fn wait_for_checkpoint(
    target: &tokio_postgres::Client,
    table: &str,
    position: &Position,
    running: &tokio::task::JoinHandle<dbsync_core::Result<()>>,
) -> Result<(), Failure> {
    let reached = async || {
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
        Ok(checkpoint.is_some_and(|checkpoint| &checkpoint.position >= position))
    };
    let late = format!("the change to {table} did not reach the target");
    poll(running, Duration::from_millis(2), &late, reached).await
}

/// Calls `check` every `every` until it holds; fails when the pair stopped, or with
/// `late` after a minute.
async fn poll(
    running: &tokio::task::JoinHandle<dbsync_core::Result<()>>,
    every: Duration,
    late: &str,
    mut check: impl AsyncFnMut() -> Result<bool, Failure>,
) -> Result<(), Failure> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if running.is_finished() {
            return Err(Failure::runtime(
                "the pair stopped unexpectedly; its error is in the log above.",
            ));
        }
        if check().await? {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Failure::runtime(format!("{late} within a minute.")));
        }
        tokio::time::sleep(every).await;
    }
}

async fn blocking<T>(
    task: tokio::task::JoinHandle<dbsync_testkit::Result<T>>,
    doing: &str,
) -> Result<T, Failure> {
    task.await
        .map_err(|e| Failure::runtime(format!("{doing} failed: {e}.")))?
        .map_err(Failure::from)
}

/// `url` with its password, if any, written as `${variable}`.
fn with_password_variable(url: &ConnectionUrl, variable: &str) -> String {
    let shown = url.to_string();
    match url.password() {
        Some(_) => shown.replacen(dbsync_config::MASK, &format!("${{{variable}}}"), 1),
        None => shown,
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}\n")).collect()
}
