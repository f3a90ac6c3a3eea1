//! A private MariaDB server configured the way dbsync needs a binlog source to be.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::dataset::{Dataset, Dialect};
use crate::error::{Error, Result};
use crate::program::{free_port, log_tail, process_alive, run, wait_until};
use crate::{guardian, is_root, unique_name};

/// The account with every privilege, reachable over TCP without a password.
pub const ADMIN_USER: &str = "root";
/// The account dbsync is told to replicate with: REPLICATION SLAVE, REPLICATION CLIENT
/// and SELECT, nothing more.
pub const REPLICATION_USER: &str = "dbsync_repl";
pub const REPLICATION_PASSWORD: &str = "dbsync_repl";

/// A running private MariaDB: binlog in ROW format with FULL row image and FULL
/// metadata, GTID strict mode, local-infile on, listening on 127.0.0.1 on a free port
/// and on a socket in its own directory. It is stopped and its directory removed when
/// the process that started it ends, however it ends.
#[derive(Debug)]
pub struct MariaDb {
    port: u16,
    pid: u32,
    dir: PathBuf,
    socket: PathBuf,
    client: PathBuf,
}

/// Which of the per-process servers: a source, and a second server that serves as a
/// MySQL/MariaDB target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Source,
    Target,
    /// A server with binary logging off, as many production servers run: what dbsync
    /// must refuse as a binlog source, with the fix.
    NoBinlog,
}

impl Role {
    fn server_id(self) -> u32 {
        match self {
            Role::Source => 1,
            Role::Target => 2,
            Role::NoBinlog => 3,
        }
    }

    fn dir_name(self) -> &'static str {
        match self {
            Role::Source => "mariadb",
            Role::Target => "mariadb-target",
            Role::NoBinlog => "mariadb-no-binlog",
        }
    }
}

static SOURCE: OnceLock<Result<MariaDb>> = OnceLock::new();
static TARGET: OnceLock<Result<MariaDb>> = OnceLock::new();
static NO_BINLOG: OnceLock<Result<MariaDb>> = OnceLock::new();

impl MariaDb {
    /// The source server of this process, started on first use and shared by every
    /// caller. A failure to start is remembered, so every test that needs the server
    /// fails with the same sentence.
    pub fn shared() -> Result<&'static MariaDb> {
        SOURCE
            .get_or_init(|| MariaDb::start(Role::Source))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A second server of this process, to serve as a MySQL/MariaDB target.
    pub fn shared_target() -> Result<&'static MariaDb> {
        TARGET
            .get_or_init(|| MariaDb::start(Role::Target))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A server of this process with binary logging off.
    pub fn shared_without_binlog() -> Result<&'static MariaDb> {
        NO_BINLOG
            .get_or_init(|| MariaDb::start(Role::NoBinlog))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn start(role: Role) -> Result<MariaDb> {
        let server = crate::binaries::find(&["mariadbd", "mysqld"], "mariadb-server")?;
        let install = crate::binaries::find(
            &["mariadb-install-db", "mysql_install_db"],
            "mariadb-server",
        )?;
        let client = crate::binaries::find(&["mariadb", "mysql"], "mariadb-client")?;
        let dir = guardian::scratch_dir()?.join(role.dir_name());
        let data = dir.join("data");
        std::fs::create_dir_all(&data)
            .map_err(|e| Error::new(format!("could not create {}: {e}", data.display())))?;

        let mut install = Command::new(install);
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db");
        if is_root() {
            install.arg("--user=root");
        }
        run(
            &mut install,
            None,
            "initializing the MariaDB data directory",
        )?;

        // A free port can be taken between choosing it and binding it; try another.
        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port()?;
            match MariaDb::launch(role, &server, &dir, port, &client) {
                Ok(mariadb) => return mariadb.configure(),
                Err(e) if e.to_string().contains("Address already in use") => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.expect("three attempts were made"))
    }

    fn launch(role: Role, server: &Path, dir: &Path, port: u16, client: &Path) -> Result<MariaDb> {
        let socket = dir.join("mariadb.sock");
        let log = dir.join("error.log");
        let mut command = Command::new(server);
        command
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--pid-file={}", dir.join("mariadb.pid").display()))
            .arg(format!("--log-error={}", log.display()))
            .arg(format!("--tmpdir={}", dir.display()))
            .arg(format!("--server-id={}", role.server_id()))
            .args([
                "--binlog-format=ROW",
                "--binlog-row-image=FULL",
                "--binlog-row-metadata=FULL",
                "--gtid-strict-mode=1",
                "--local-infile=1",
                "--secure-file-priv=",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
                "--skip-name-resolve",
                "--max-connections=500",
                "--max-allowed-packet=256M",
                "--innodb-buffer-pool-size=256M",
                // The data is thrown away at the end: durability only costs time here.
                "--innodb-flush-log-at-trx-commit=2",
                "--sync-binlog=0",
                "--innodb-doublewrite=0",
                "--performance-schema=OFF",
            ]);
        if role != Role::NoBinlog {
            command.arg(format!(
                "--log-bin={}",
                dir.join("data").join("binlog").display()
            ));
        }
        if is_root() {
            command.arg("--user=root");
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| Error::new(format!("could not start {}: {e}", server.display())))?;
        let pid = guardian::guard(child, "KILL")?;
        let mariadb = MariaDb {
            port,
            pid,
            dir: dir.to_owned(),
            socket,
            client: client.to_owned(),
        };

        let failed = || match process_alive(pid) {
            true => Ok(()),
            false => Err(Error::new(format!(
                "MariaDB exited while starting; its log ends with:\n{}",
                log_tail(&log)
            ))),
        };
        let ready = || mariadb.socket.exists() && mariadb.execute(None, "SELECT 1").is_ok();
        wait_until(Duration::from_secs(30), "MariaDB", ready, failed)?;
        Ok(mariadb)
    }

    fn configure(self) -> Result<MariaDb> {
        self.execute(
            None,
            &format!(
                "CREATE USER IF NOT EXISTS '{ADMIN_USER}'@'127.0.0.1';
                 GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'127.0.0.1' WITH GRANT OPTION;
                 CREATE USER '{REPLICATION_USER}'@'127.0.0.1' IDENTIFIED BY '{REPLICATION_PASSWORD}';
                 GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '{REPLICATION_USER}'@'127.0.0.1';"
            ),
        )?;
        Ok(self)
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

    /// A URL of the administrator account for `database`.
    pub fn url(&self, database: &str) -> String {
        self.url_on_port(self.port, database)
    }

    /// The administrator URL for `database` through another port, such as a proxy's.
    pub fn url_on_port(&self, port: u16, database: &str) -> String {
        format!("mysql://{ADMIN_USER}@127.0.0.1:{port}/{database}")
    }

    /// A URL of the replication account for `database`.
    pub fn replication_url(&self, database: &str) -> String {
        format!(
            "mysql://{REPLICATION_USER}:{REPLICATION_PASSWORD}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// Creates a new, empty utf8mb4 database whose name starts with `hint` and is unique
    /// within this process, and returns its name.
    pub fn create_database(&self, hint: &str) -> Result<String> {
        let name = unique_name(hint);
        self.execute(
            None,
            &format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
        )?;
        Ok(name)
    }

    /// Runs SQL statements (`;`-separated, as the `mariadb` client reads them).
    pub fn execute(&self, database: Option<&str>, sql: &str) -> Result<()> {
        let mut client = self.client(database);
        run(
            &mut client,
            Some(sql.as_bytes().to_vec()),
            "running SQL on the private MariaDB",
        )
        .map(drop)
    }

    /// Loads a MySQL dataset into `database`.
    pub fn load(&self, database: &str, dataset: Dataset) -> Result<()> {
        if dataset.dialect() != Dialect::Mysql {
            return Err(Error::new(format!(
                "{dataset:?} is written for PostgreSQL, not MariaDB"
            )));
        }
        let sql = dataset.sql_for(database)?;
        run(
            &mut self.client(Some(database)),
            Some(sql),
            &format!("loading {dataset:?} into {database}"),
        )
        .map(drop)
    }

    fn client(&self, database: Option<&str>) -> Command {
        let mut client = Command::new(&self.client);
        client
            .arg("--no-defaults")
            .arg(format!("--socket={}", self.socket.display()))
            .arg(format!("--user={ADMIN_USER}"))
            .arg("--default-character-set=utf8mb4")
            .arg("--batch");
        if let Some(database) = database {
            client.arg(format!("--database={database}"));
        }
        client
    }
}
