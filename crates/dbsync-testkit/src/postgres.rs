//! A private PostgreSQL server with logical replication enabled.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::dataset::{Dataset, Dialect};
use crate::error::{Error, Result};
use crate::program::{free_port, log_tail, process_alive, run, wait_until};
use crate::{guardian, is_root, unique_name};

/// The superuser, reachable over TCP without a password (trust authentication).
pub const SUPERUSER: &str = "postgres";

/// A running private PostgreSQL: `wal_level=logical` with room for replication slots and
/// WAL senders, trust authentication, listening on 127.0.0.1 on a free port. It runs as
/// the `postgres` user when this process is root, because PostgreSQL refuses root. It
/// is stopped and its directory removed when the process that started it ends.
#[derive(Debug)]
pub struct Postgres {
    port: u16,
    pid: u32,
    dir: PathBuf,
    bin_dir: PathBuf,
}

static SHARED: OnceLock<Result<Postgres>> = OnceLock::new();

impl Postgres {
    /// The server of this process, started on first use and shared by every caller.
    pub fn shared() -> Result<&'static Postgres> {
        SHARED
            .get_or_init(Postgres::start)
            .as_ref()
            .map_err(Clone::clone)
    }

    fn start() -> Result<Postgres> {
        let bin_dir = crate::binaries::postgres_bin_dir()?;
        let dir = guardian::scratch_dir()?.join("postgres");
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::new(format!("could not create {}: {e}", dir.display())))?;
        let owner = ServerUser::for_this_process()?;
        owner.take(&dir)?;

        let mut initdb = owner.command(&bin_dir.join("initdb"));
        initdb
            .arg("--pgdata")
            .arg(dir.join("data"))
            .args([
                "--username",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ])
            .args(["--no-sync", "--no-instructions"])
            .current_dir(&dir);
        run(
            &mut initdb,
            None,
            "initializing the PostgreSQL data directory",
        )?;

        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port()?;
            match Postgres::launch(&owner, &bin_dir, &dir, port) {
                Err(e) if e.to_string().contains("Address already in use") => last_error = Some(e),
                result => return result,
            }
        }
        Err(last_error.expect("three attempts were made"))
    }

    fn launch(owner: &ServerUser, bin_dir: &Path, dir: &Path, port: u16) -> Result<Postgres> {
        let log_path = dir.join("postgres.log");
        let log = std::fs::File::create(&log_path)
            .map_err(|e| Error::new(format!("could not create {}: {e}", log_path.display())))?;
        let mut command = owner.command(&bin_dir.join("postgres"));
        command
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-p")
            .arg(port.to_string())
            .arg("-k")
            .arg(dir)
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "wal_level=logical"])
            .args(["-c", "max_wal_senders=32"])
            .args(["-c", "max_replication_slots=32"])
            .args(["-c", "max_connections=300"])
            .args(["-c", "shared_buffers=128MB"])
            // The data is thrown away at the end: durability only costs time here.
            .args(["-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0);
        let child = command
            .spawn()
            .map_err(|e| Error::new(format!("could not start PostgreSQL: {e}")))?;
        // SIGQUIT is PostgreSQL's immediate shutdown: quick, and unlike SIGKILL it
        // removes the server's shared memory segment on the way out.
        let pid = guardian::guard(child, "QUIT")?;
        let postgres = Postgres {
            port,
            pid,
            dir: dir.to_owned(),
            bin_dir: bin_dir.to_owned(),
        };

        let failed = || match process_alive(pid) {
            true => Ok(()),
            false => Err(Error::new(format!(
                "PostgreSQL exited while starting; its log ends with:\n{}",
                log_tail(&log_path)
            ))),
        };
        let ready = || postgres.execute("postgres", "SELECT 1").is_ok();
        wait_until(Duration::from_secs(30), "PostgreSQL", ready, failed)?;
        Ok(postgres)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A URL of the superuser for `database`.
    pub fn url(&self, database: &str) -> String {
        self.url_on_port(self.port, database)
    }

    /// The superuser URL for `database` through another port, such as a proxy's.
    pub fn url_on_port(&self, port: u16, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{port}/{database}")
    }

    /// Creates a new, empty database whose name starts with `hint` and is unique within
    /// this process, and returns its name.
    pub fn create_database(&self, hint: &str) -> Result<String> {
        let name = unique_name(hint);
        self.execute("postgres", &format!("CREATE DATABASE \"{name}\""))?;
        Ok(name)
    }

    /// Runs an SQL script in `database` with psql, stopping at the first error.
    pub fn execute(&self, database: &str, sql: &str) -> Result<()> {
        run(
            &mut self.psql(database),
            Some(sql.as_bytes().to_vec()),
            "running SQL on the private PostgreSQL",
        )
        .map(drop)
    }

    /// Loads a PostgreSQL dataset into `database`.
    pub fn load(&self, database: &str, dataset: Dataset) -> Result<()> {
        if dataset.dialect() != Dialect::Postgres {
            return Err(Error::new(format!(
                "{dataset:?} is written for MySQL, not PostgreSQL"
            )));
        }
        let sql = dataset.sql_for(database)?;
        run(
            &mut self.psql(database),
            Some(sql),
            &format!("loading {dataset:?} into {database}"),
        )
        .map(drop)
    }

    fn psql(&self, database: &str) -> Command {
        let mut psql = Command::new(self.bin_dir.join("psql"));
        psql.args([
            "--no-psqlrc",
            "--quiet",
            "--set",
            "ON_ERROR_STOP=1",
            "--host",
            "127.0.0.1",
        ])
        .args([
            "--port",
            &self.port.to_string(),
            "--username",
            SUPERUSER,
            "--dbname",
            database,
        ])
        .args(["--file", "-"]);
        psql
    }
}

/// The account the server's programs run as: this process's own, or `postgres` when
/// this process is root.
enum ServerUser {
    Current,
    Postgres {
        uid: u32,
        gid: u32,
        setpriv: PathBuf,
    },
}

impl ServerUser {
    fn for_this_process() -> Result<ServerUser> {
        if !is_root() {
            return Ok(ServerUser::Current);
        }
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let (uid, gid) = passwd
            .lines()
            .map(|line| line.split(':').collect::<Vec<_>>())
            .find(|fields| fields.first() == Some(&"postgres"))
            .and_then(|fields| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))
            .ok_or_else(|| {
                Error::new(
                    "PostgreSQL refuses to run as root and there is no postgres user; install the Debian package postgresql-15, which creates it",
                )
            })?;
        let setpriv = crate::binaries::find(&["setpriv"], "util-linux")?;
        Ok(ServerUser::Postgres { uid, gid, setpriv })
    }

    /// Gives `dir` to this user.
    fn take(&self, dir: &Path) -> Result<()> {
        match self {
            ServerUser::Current => Ok(()),
            ServerUser::Postgres { uid, gid, .. } => {
                std::os::unix::fs::chown(dir, Some(*uid), Some(*gid)).map_err(|e| {
                    Error::new(format!(
                        "could not give {} to the postgres user: {e}",
                        dir.display()
                    ))
                })
            }
        }
    }

    /// A command that runs `program` as this user. `setpriv` changes user and then
    /// executes the program in the same process, so the server's pid is the child's.
    fn command(&self, program: &Path) -> Command {
        match self {
            ServerUser::Current => Command::new(program),
            ServerUser::Postgres { setpriv, .. } => {
                let mut command = Command::new(setpriv);
                command
                    .args([
                        "--reuid=postgres",
                        "--regid=postgres",
                        "--init-groups",
                        "--",
                    ])
                    .arg(program);
                command
            }
        }
    }
}
