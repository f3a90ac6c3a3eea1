//! A target path that cannot be written: one sentence naming it and the fix, a
//! configuration error, and nothing created.

use std::path::Path;
use std::process::Command;

use dbsync_core::ErrorKind;
use dbsync_sqlite::target_type::MappingOptions;
use dbsync_sqlite::writer::Writer;

use crate::support::Scratch;

async fn refused(path: &Path) -> String {
    let error = Writer::open(path, "edge", MappingOptions::default())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config, "{error}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert_eq!(message.matches("; ").count(), 1, "one sentence: {message}");
    message
}

/// Makes `path` read-only for this process, even when it runs as root, whom file
/// modes do not stop: the immutable attribute does. Undone on drop.
struct ReadOnly<'p>(&'p Path);

impl<'p> ReadOnly<'p> {
    fn new(path: &'p Path) -> ReadOnly<'p> {
        set_mode(path, 0o555);
        if is_root() {
            let status = Command::new("chattr").arg("+i").arg(path).status().unwrap();
            assert!(status.success(), "chattr +i {}", path.display());
        }
        ReadOnly(path)
    }
}

impl Drop for ReadOnly<'_> {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(self.0).status();
        set_mode(self.0, 0o755);
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[tokio::test]
async fn a_missing_directory_is_named() {
    let scratch = Scratch::new("missing");
    let path = scratch.path().join("no/such/dir/edge.db");
    let message = refused(&path).await;
    assert!(
        message.contains("does not exist; create the directory"),
        "{message}"
    );
    assert!(scratch.entries().is_empty());
}

#[tokio::test]
async fn a_read_only_directory_is_refused_and_left_empty() {
    let scratch = Scratch::new("rodir");
    let dir = scratch.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    let _read_only = ReadOnly::new(&dir);
    let message = refused(&dir.join("edge.db")).await;
    assert!(
        message.contains("make the file and its directory writable"),
        "{message}"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[tokio::test]
async fn a_read_only_file_is_refused_and_left_as_it_was() {
    let scratch = Scratch::new("rofile");
    let path = scratch.path().join("edge.db");
    std::fs::write(&path, b"").unwrap();
    let read_only = ReadOnly::new(&path);
    let message = refused(&path).await;
    assert!(message.contains("writable"), "{message}");
    drop(read_only);
    assert_eq!(std::fs::read(&path).unwrap(), b"");
    assert_eq!(scratch.entries(), ["edge.db"]);
}
