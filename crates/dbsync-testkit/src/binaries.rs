//! Finding the server and client programs, and saying which package provides a missing one.

use std::env;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Directories searched after `PATH`: Debian puts `mariadbd` in /usr/sbin, which is not
/// on every user's `PATH`.
const SYSTEM_DIRS: [&str; 4] = ["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"];

/// The first of `names` found on `PATH` or in the system directories.
pub(crate) fn find(names: &[&str], package: &str) -> Result<PathBuf> {
    let path_dirs = env::var_os("PATH").map(|path| env::split_paths(&path).collect::<Vec<_>>());
    let dirs = path_dirs
        .into_iter()
        .flatten()
        .chain(SYSTEM_DIRS.iter().map(PathBuf::from));
    let dirs: Vec<PathBuf> = dirs.collect();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| missing(names[0], package))
}

/// The `bin` directory of the PostgreSQL server: `DBSYNC_PG_BINDIR` if set, else
/// Debian's /usr/lib/postgresql/<version>/bin, preferring 15, the version dbsync
/// tests against, then the newest.
pub(crate) fn postgres_bin_dir() -> Result<PathBuf> {
    if let Some(dir) = env::var_os("DBSYNC_PG_BINDIR") {
        let dir = PathBuf::from(dir);
        return if is_executable(&dir.join("postgres")) {
            Ok(dir)
        } else {
            Err(Error::new(format!(
                "DBSYNC_PG_BINDIR is {} but it holds no postgres program; point it at the bin directory of a PostgreSQL server",
                dir.display()
            )))
        };
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            is_executable(&bin.join("postgres")).then_some((version, bin))
        })
        .collect();
    versions.sort_by_key(|(version, _)| (*version == 15, *version));
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| missing("postgres", "postgresql-15"))
}

fn missing(program: &str, package: &str) -> Error {
    Error::new(format!(
        "{program} was not found; install the Debian package {package} (apt-get install -y {package})"
    ))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_names_the_package_that_provides_it() {
        let error = find(&["dbsync-no-such-server"], "mariadb-server").unwrap_err();
        assert_eq!(
            error.to_string(),
            "dbsync-no-such-server was not found; install the Debian package mariadb-server (apt-get install -y mariadb-server)"
        );
    }

    #[test]
    fn finds_programs_outside_path_in_the_system_directories() {
        // Debian's mariadbd lives in /usr/sbin, which a non-root PATH often lacks;
        // `sh` stands in for it here because every machine has one.
        assert!(find(&["sh"], "dash").unwrap().ends_with("sh"));
    }
}
