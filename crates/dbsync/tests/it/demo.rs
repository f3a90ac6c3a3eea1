//! `dbsync demo` runs on a fresh machine, shows the pair converge, and leaves nothing
//! behind.

use crate::{dbsync, stderr, stdout};

#[test]
fn demo_copies_streams_and_ends_equal() {
    let output = dbsync(&["demo"]);
    let text = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{text}\nstderr:\n{}",
        stderr(&output)
    );
    assert!(text.contains("Copied: every table equal"), "{text}");
    assert_eq!(
        text.lines()
            .filter(|line| line.contains(": applied in "))
            .count(),
        5,
        "{text}"
    );
    let compared: Vec<&str> = text
        .lines()
        .skip_while(|line| !line.starts_with("Source and target compared"))
        .skip(2)
        .take_while(|line| !line.is_empty())
        .collect();
    assert_eq!(
        compared.len(),
        16,
        "every Sakila table is compared:\n{text}"
    );
    assert!(
        compared.iter().all(|line| line.ends_with(" equal")),
        "{text}"
    );
    let payment: Vec<&str> = compared
        .iter()
        .find(|l| l.trim_start().starts_with("payment "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(payment, ["payment", "16044", "16044", "equal"]);
    // The testkit's password equals its user name: look for it where a password goes.
    let password = format!(":{}@", dbsync_testkit::REPLICATION_PASSWORD);
    assert!(!text.contains(&password), "no secret is printed:\n{text}");

    // The sandbox lived in a scratch directory named in the output; it must be gone,
    // which the testkit's guardian does only after stopping the servers.
    let dir = text
        .lines()
        .find_map(|line| {
            line.split(" in ")
                .nth(1)
                .filter(|_| line.starts_with("Started a private MariaDB"))
        })
        .unwrap();
    let scratch = std::path::Path::new(dir).parent().unwrap();
    assert!(!scratch.exists(), "{} was left behind", scratch.display());
}

#[test]
fn demo_on_given_databases() {
    let (mariadb, postgres) = (dbsync_testkit::mariadb(), dbsync_testkit::postgres());
    let source = mariadb.create_database("demo_given").unwrap();
    let target = postgres.create_database("demo_given").unwrap();
    let (source_url, target_url) = (mariadb.url(&source), postgres.url(&target));
    let output = dbsync(&["demo", "--source", &source_url, "--target", &target_url]);
    let text = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{text}\nstderr:\n{}",
        stderr(&output)
    );
    assert!(!text.contains("Started a private"), "no sandbox: {text}");
    assert!(text.contains("Everything equal"), "{text}");

    // Sakila is there now: a second demo on the same source is refused.
    let again = dbsync(&["demo", "--source", &source_url, "--target", &target_url]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        stderr(&again).trim(),
        format!(
            "error: the demo loads Sakila into `{source}`, which already has tables; give an empty database."
        )
    );
}
