//! MySQL/MariaDB -> SQLite: dbsync's copy rate beside a plain rusqlite bulk insert of
//! the same rows.

use std::time::Instant;

use mysql_async::prelude::Queryable;

use crate::measure::Measured;
use crate::scenario::Bench;

impl Bench {
    /// `dbsync run --once` into a new SQLite file.
    pub(crate) fn copy_to_sqlite_with_dbsync(&self, run: usize) -> Measured {
        let path = self.dir.join(format!("dbsync-{run}.sqlite"));
        let _ = std::fs::remove_file(&path);
        let config = self.pair_config(
            &format!("sqlite-{run}"),
            &format!("sqlite://{}", path.display()),
            "",
        );
        self.run_once(&config)
    }

    /// The ceiling: the rows, read into memory first (not timed), inserted by rusqlite
    /// with one prepared statement in one transaction into a new WAL-mode file.
    pub(crate) async fn rusqlite_bulk_insert(&self, run: usize) -> f64 {
        let mut source = self.source_conn().await;
        let rows: Vec<(i64, i64, String, String)> = source
            .query("SELECT id, k, c, pad FROM sbtest1")
            .await
            .expect("reading sbtest1");
        let path = self.dir.join(format!("rusqlite-{run}.sqlite"));
        let _ = std::fs::remove_file(&path);
        let started = Instant::now();
        let mut db = rusqlite::Connection::open(&path).expect("a SQLite file");
        db.pragma_update(None, "journal_mode", "WAL")
            .expect("WAL mode");
        db.execute_batch(
            "CREATE TABLE sbtest1 (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, c TEXT NOT NULL, pad TEXT NOT NULL)",
        )
        .expect("the table");
        let transaction = db.transaction().expect("a transaction");
        {
            let mut insert = transaction
                .prepare("INSERT INTO sbtest1 VALUES (?1, ?2, ?3, ?4)")
                .expect("the insert");
            for row in &rows {
                insert
                    .execute(rusqlite::params![row.0, row.1, row.2, row.3])
                    .expect("a row");
            }
        }
        transaction.commit().expect("the commit");
        started.elapsed().as_secs_f64()
    }
}
