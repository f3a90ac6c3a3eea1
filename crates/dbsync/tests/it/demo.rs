//! `dbsync demo` runs on a fresh machine and leaves nothing behind.

use crate::{dbsync, stderr, stdout};

#[test]
fn demo_introspects_sakila_and_cleans_up() {
    let output = dbsync(&["demo"]);
    let text = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{text}\nstderr:\n{}",
        stderr(&output)
    );
    assert!(text.contains("dbsync reads 16 tables"), "{text}");
    let film = text
        .lines()
        .find(|line| line.trim_start().starts_with("film "))
        .unwrap();
    let fields: Vec<&str> = film.split_whitespace().collect();
    assert_eq!(&fields[..4], ["film", "1000", "13", "film_id"], "{film}");
    assert!(
        text.contains("Not built yet"),
        "the demo says what it does not do yet"
    );

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
