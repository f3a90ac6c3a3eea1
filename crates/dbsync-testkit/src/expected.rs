//! Expected-output files ("golden files") for tests whose result is best read whole.

use std::path::Path;

/// Asserts that `actual` equals the file at `path`, line by line, naming the first line
/// that differs. With `DBSYNC_BLESS=1` in the environment it rewrites the file instead,
/// for a change that is meant; review its diff before committing.
pub fn assert_expected(path: &Path, actual: &str) {
    if std::env::var_os("DBSYNC_BLESS").is_some() {
        std::fs::write(path, actual)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; run with DBSYNC_BLESS=1 to create it",
            path.display()
        )
    });
    for (line, (want, got)) in expected.lines().zip(actual.lines()).enumerate() {
        assert_eq!(want, got, "{} line {} differs", path.display(), line + 1);
    }
    assert_eq!(
        expected.lines().count(),
        actual.lines().count(),
        "{} differs in length",
        path.display()
    );
}
