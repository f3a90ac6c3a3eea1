//! Poll capture through the `dbsync` binary: a PostgreSQL source (seed 004's case)
//! polled by timestamp into a SQLite edge replica.

use std::time::Duration;

use dbsync_testkit::Dataset;

use crate::support::{Daemon, Deadline, Replica, Sandbox, assert_success, run};

/// The Chinook tables polled, each given an `updated_at` that writers keep.
const POLLED: [&str; 3] = ["album", "track", "playlist_track"];

#[tokio::test]
async fn chinook_from_postgres_into_sqlite_by_polling_converges() {
    let postgres = dbsync_testkit::postgres();
    let source = postgres.create_database("chinookpoll").unwrap();
    postgres.load(&source, Dataset::ChinookPostgres).unwrap();
    for table in POLLED {
        postgres
            .execute(
                &source,
                &format!(
                    "ALTER TABLE {table} ADD COLUMN updated_at timestamptz(3) NOT NULL DEFAULT clock_timestamp()"
                ),
            )
            .unwrap();
    }
    let sandbox = Sandbox::new("chinookpoll");
    let replica = Replica::sqlite(sandbox.dir(), "edge");
    let config = sandbox.write_config(
        "poll.yaml",
        &postgres.url(&source),
        &replica.url(),
        &[
            "capture: poll",
            "poll_interval: 100ms",
            "table_prefix: tmp_",
            &format!("tables: [{}]", POLLED.join(", ")),
        ],
        "",
    );
    let mut daemon = Daemon::start(&config, &sandbox.dir().join("poll.log"));
    let write = |sql: &str| postgres.execute(&source, sql).unwrap();
    // During the copy or just after it: updates and inserts.
    write(
        "UPDATE album SET title = title || ' (remastered)', updated_at = clock_timestamp() WHERE album_id % 5 = 0",
    );
    write(
        "INSERT INTO album (album_id, title, artist_id) VALUES (9001, 'Ünïcode 😀', 1), (9002, 'Another', 2)",
    );
    // Many rows sharing one timestamp, written in several transactions, the last
    // ones after the poller has already read some rows of that timestamp. Writers
    // stamp rows with their clock, so the shared timestamp is this moment's.
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let now = format!("to_timestamp({millis} / 1000.0)");
    for range in ["track_id <= 1000", "track_id BETWEEN 1001 AND 2000"] {
        write(&format!(
            "UPDATE track SET unit_price = unit_price + 1, updated_at = {now} WHERE {range}"
        ));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    write(&format!(
        "UPDATE track SET name = name || '!', updated_at = {now} WHERE track_id > 3400"
    ));
    write(
        "INSERT INTO playlist_track (playlist_id, track_id) SELECT 1, track_id FROM track WHERE track_id > 3400 ON CONFLICT DO NOTHING",
    );
    let deadline = Deadline::new(90, "the replica to equal the source");
    while replica
        .compare_postgres(&source, &POLLED, "tmp_")
        .await
        .is_err()
    {
        deadline.tick(&mut daemon).await;
    }
    assert!(daemon.terminate(Duration::from_secs(20)).await.success());

    // Later changes, then `run --once`: it catches up with what was there when it
    // started, and ends.
    write(
        "UPDATE track SET composer = 'Someone Else', updated_at = clock_timestamp() WHERE track_id % 7 = 0",
    );
    write("INSERT INTO album (album_id, title, artist_id) VALUES (9003, 'Third', 3)");
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_success(&run(&config, &["run", "--once"]));
    replica
        .compare_postgres(&source, &POLLED, "tmp_")
        .await
        .unwrap();
}

#[tokio::test]
async fn chinook_from_postgres_into_mysql_by_polling_converges() {
    let postgres = dbsync_testkit::postgres();
    let source = postgres.create_database("chinookmy").unwrap();
    postgres.load(&source, Dataset::ChinookPostgres).unwrap();
    for table in POLLED {
        postgres
            .execute(
                &source,
                &format!(
                    "ALTER TABLE {table} ADD COLUMN updated_at timestamptz(6) NOT NULL DEFAULT clock_timestamp()"
                ),
            )
            .unwrap();
    }
    let sandbox = Sandbox::new("chinookmy");
    let replica = Replica::mysql("chinookmy");
    let config = sandbox.write_config(
        "poll.yaml",
        &postgres.url(&source),
        &replica.url(),
        &[
            "capture: poll",
            "poll_interval: 100ms",
            &format!("tables: [{}]", POLLED.join(", ")),
        ],
        "",
    );
    assert_success(&run(&config, &["run", "--once"]));
    postgres
        .execute(
            &source,
            "UPDATE track SET name = name || ' ✓', updated_at = clock_timestamp() WHERE track_id % 3 = 0;
             INSERT INTO album (album_id, title, artist_id) VALUES (9001, 'Ünïcode 😀', 1);",
        )
        .unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_success(&run(&config, &["run", "--once"]));
    replica
        .compare_postgres(&source, &POLLED, "")
        .await
        .unwrap();
}
