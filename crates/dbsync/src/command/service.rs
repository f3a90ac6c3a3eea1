//! `dbsync service start [--daemon]|stop|restart|status`: `dbsync serve` as a service,
//! found through a pid file beside the state store.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rustix::process::{Pid, Signal};
use serde::{Deserialize, Serialize};
use tokio::signal::unix::{SignalKind, signal};

use super::listing::print_json;
use super::state::load_config_or_empty;
use crate::failure::{Exit, Failure};

/// How long a daemon may take to listen before `start` gives up on it.
const START_WAIT: Duration = Duration::from_secs(30);
/// How long `stop` waits for the batches in flight to commit.
const STOP_WAIT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(100);

pub(crate) async fn start(config_path: &Path, daemon: bool) -> Result<(), Failure> {
    let service = Service::of(config_path)?;
    service.refuse_running()?;
    if daemon {
        return service.start_daemon().await;
    }
    service.run_foreground().await
}

pub(crate) async fn stop(config_path: &Path) -> Result<(), Failure> {
    let service = Service::of(config_path)?;
    let running = service.running()?.map_err(|why| why.nothing_to("stop"))?;
    service.stop(&running).await
}

pub(crate) async fn restart(config_path: &Path) -> Result<(), Failure> {
    let service = Service::of(config_path)?;
    if let Ok(running) = service.running()? {
        service.stop(&running).await?;
    }
    service.start_daemon().await
}

pub(crate) async fn status(config_path: &Path, json: bool) -> Result<(), Failure> {
    let service = Service::of(config_path)?;
    let running = service.running()?;
    if json {
        print_json(&StatusView::of(running.as_ref().ok()))?;
    }
    let running = running.map_err(|why| why.nothing_to("report"))?;
    if !json {
        println!(
            "the dbsync service is running: pid {}, up {}, API on {}, log in {}",
            running.pid,
            uptime_text(running.uptime()),
            running.listen,
            service.log_file.display()
        );
    }
    Ok(())
}

/// Where the service of one configuration keeps its pid file and log.
#[derive(Debug)]
struct Service {
    /// Absolute, so that the daemon reads the same file whatever its directory.
    config_path: PathBuf,
    pid_file: PathBuf,
    log_file: PathBuf,
    listen: String,
}

/// What the pid file holds: the process, and what `status` tells of it.
#[derive(Debug, Serialize, Deserialize)]
struct Running {
    pid: u32,
    started_at: DateTime<Utc>,
    listen: String,
}

impl Running {
    fn uptime(&self) -> Duration {
        (Utc::now() - self.started_at).to_std().unwrap_or_default()
    }
}

/// Why no service runs.
#[derive(Debug)]
enum NotRunning {
    NoPidFile(PathBuf),
    /// The pid file named a process that is gone (or is no dbsync), or named none
    /// readably; it was removed.
    Stale {
        pid_file: PathBuf,
        pid: Option<u32>,
    },
}

impl NotRunning {
    fn nothing_to(self, what: &str) -> Failure {
        let why = match self {
            NotRunning::NoPidFile(pid_file) => {
                format!("there is no pid file {}", pid_file.display())
            }
            NotRunning::Stale { pid_file, pid } => format!(
                "its pid file {} named {}, which is gone; the stale file is removed",
                pid_file.display(),
                pid.map_or_else(|| "no process".to_owned(), |pid| format!("process {pid}"))
            ),
        };
        Failure::runtime(format!(
            "the dbsync service is not running ({why}), so there is nothing to {what}; `dbsync service start --daemon` starts it."
        ))
    }
}

impl Service {
    fn of(config_path: &Path) -> Result<Service, Failure> {
        let config = load_config_or_empty(config_path)?;
        // Beside the state file, which belongs to one service; else in the log
        // directory, else in `.dbsync`.
        let directory = config
            .state
            .sqlite_path()
            .and_then(Path::parent)
            .filter(|parent| !parent.as_os_str().is_empty())
            .map(Path::to_owned)
            .or_else(|| config.logging.dir.clone())
            .unwrap_or_else(|| PathBuf::from(".dbsync"));
        let log_directory = config.logging.dir.clone().unwrap_or(directory.clone());
        let config_path = std::path::absolute(config_path).map_err(|e| {
            Failure::runtime(format!(
                "the path of {} could not be made absolute: {e}.",
                config_path.display()
            ))
        })?;
        Ok(Service {
            config_path,
            pid_file: directory.join("dbsync.pid"),
            log_file: log_directory.join("service.log"),
            listen: config.server.listen,
        })
    }

    /// The service running, or why none does; a stale pid file is removed on the way.
    fn running(&self) -> Result<Result<Running, NotRunning>, Failure> {
        let text = match std::fs::read_to_string(&self.pid_file) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Ok(Err(NotRunning::NoPidFile(self.pid_file.clone())));
            }
            Err(e) => {
                return Err(Failure::runtime(format!(
                    "the pid file {} cannot be read: {e}; check its permissions.",
                    self.pid_file.display()
                )));
            }
        };
        let running: Option<Running> = serde_json::from_str(&text).ok();
        match running {
            Some(running) if is_dbsync(running.pid) => Ok(Ok(running)),
            _ => {
                self.remove_pid_file_anyway();
                Ok(Err(NotRunning::Stale {
                    pid_file: self.pid_file.clone(),
                    pid: running.map(|r| r.pid),
                }))
            }
        }
    }

    fn refuse_running(&self) -> Result<(), Failure> {
        match self.running()? {
            Ok(running) => Err(Failure::runtime(format!(
                "the dbsync service is already running (pid {}, API on {}); `dbsync service stop` stops it.",
                running.pid, running.listen
            ))),
            Err(_) => Ok(()),
        }
    }

    /// Starts `dbsync serve` detached: in a process group of its own (so that the
    /// terminal's Ctrl-C does not reach it), output appended to the log, and waits until
    /// it listens.
    async fn start_daemon(&self) -> Result<(), Failure> {
        let log = self.open_log()?;
        let log_too = log.try_clone().map_err(|e| self.log_failure(&e))?;
        let mut serve = self.serve_command()?;
        // A file, not a terminal: no colour codes in the log.
        serve
            .env("NO_COLOR", "1")
            .stdout(log)
            .stderr(log_too)
            .process_group(0);
        let mut child = spawn(serve)?;
        self.wait_listening(&mut child, Some(&self.log_file))
            .await?;
        self.write_pid_file(child.id())?;
        println!(
            "started the dbsync service: pid {}, API on {}, log in {}",
            child.id(),
            self.listen,
            self.log_file.display()
        );
        Ok(())
    }

    /// Runs `dbsync serve` attached to the terminal until it ends. The terminal's Ctrl-C
    /// reaches it directly (one process group); a SIGTERM sent to this process rather
    /// than to the server (whose pid `service stop` uses) is passed on. The pid file
    /// names the server once it listens, when it handles SIGTERM gracefully.
    async fn run_foreground(&self) -> Result<(), Failure> {
        let (Ok(mut term), Ok(_interrupt)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return Err(Failure::runtime(
                "dbsync could not set up its signal handling to run the service.",
            ));
        };
        let mut child = spawn(self.serve_command()?)?;
        self.wait_listening(&mut child, None).await?;
        let pid = child.id();
        self.write_pid_file(pid)?;
        let mut ended = tokio::task::spawn_blocking(move || child.wait());
        let ended = loop {
            tokio::select! {
                ended = &mut ended => break ended,
                _ = term.recv() => {
                    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
                        let _ = rustix::process::kill_process(pid, Signal::TERM);
                    }
                }
            }
        };
        self.remove_pid_file(pid);
        match ended {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(Failure::new(
                exit_of(status),
                format!("the dbsync service ended with {status}."),
            )),
            Ok(Err(e)) => Err(Failure::runtime(format!(
                "the end of the dbsync service (pid {pid}) could not be awaited: {e}."
            ))),
            Err(e) => Err(Failure::runtime(format!(
                "waiting for the dbsync service (pid {pid}) stopped: {e}."
            ))),
        }
    }

    /// `dbsync serve` of this configuration, from this very program.
    fn serve_command(&self) -> Result<std::process::Command, Failure> {
        let program = std::env::current_exe().map_err(|e| {
            Failure::runtime(format!("dbsync cannot find its own program to start: {e}."))
        })?;
        let mut command = std::process::Command::new(program);
        command
            .arg("serve")
            .arg("--config")
            .arg(&self.config_path)
            .stdin(Stdio::null());
        Ok(command)
    }

    /// Waits until `child` accepts connections on the listen address; fails with the
    /// end of its `log` (or, without one, pointing at what it printed) when it exits
    /// first.
    async fn wait_listening(&self, child: &mut Child, log: Option<&Path>) -> Result<(), Failure> {
        let address = listen_address(&self.listen);
        let deadline = Instant::now() + START_WAIT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(Failure::new(
                    exit_of(status),
                    format!(
                        "the dbsync service stopped as it started ({status}): {}",
                        log.map_or_else(|| "see its message above".to_owned(), last_line)
                    ),
                ));
            }
            let listening = address.is_some_and(|address| {
                TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
            });
            if listening {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Failure::runtime(format!(
                    "the dbsync service (pid {}) does not listen on {} after {} s; see {}.",
                    child.id(),
                    self.listen,
                    START_WAIT.as_secs(),
                    self.log_file.display()
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Sends SIGTERM and waits for the graceful stop.
    async fn stop(&self, running: &Running) -> Result<(), Failure> {
        let pid = Pid::from_raw(i32::try_from(running.pid).unwrap_or_default())
            .ok_or_else(|| Failure::runtime("the pid file names no process; remove it."))?;
        rustix::process::kill_process(pid, Signal::TERM).map_err(|e| {
            Failure::runtime(format!(
                "the dbsync service (pid {}) could not be signalled: {e}; stop it as the user that started it.",
                running.pid
            ))
        })?;
        let deadline = Instant::now() + STOP_WAIT;
        while is_dbsync(running.pid) {
            if Instant::now() > deadline {
                return Err(Failure::runtime(format!(
                    "the dbsync service (pid {}) has not stopped {} s after SIGTERM; see {}, or `kill -9 {}` ends it at once.",
                    running.pid,
                    STOP_WAIT.as_secs(),
                    self.log_file.display(),
                    running.pid
                )));
            }
            tokio::time::sleep(POLL).await;
        }
        self.remove_pid_file(running.pid);
        println!("stopped the dbsync service (pid {})", running.pid);
        Ok(())
    }

    fn write_pid_file(&self, pid: u32) -> Result<(), Failure> {
        let running = Running {
            pid,
            started_at: Utc::now(),
            listen: self.listen.clone(),
        };
        let written = self
            .pid_file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                std::fs::write(
                    &self.pid_file,
                    serde_json::to_string(&running).unwrap_or_default(),
                )
            });
        written.map_err(|e| {
            Failure::runtime(format!(
                "the pid file {} could not be written: {e}; check the directory's permissions.",
                self.pid_file.display()
            ))
        })
    }

    /// Removes the pid file if it still names `pid`: a service started since keeps its own.
    fn remove_pid_file(&self, pid: u32) {
        let names_pid = std::fs::read_to_string(&self.pid_file)
            .ok()
            .and_then(|text| serde_json::from_str::<Running>(&text).ok())
            .is_some_and(|running| running.pid == pid);
        if names_pid {
            self.remove_pid_file_anyway();
        }
    }

    fn remove_pid_file_anyway(&self) {
        if let Err(e) = std::fs::remove_file(&self.pid_file)
            && e.kind() != ErrorKind::NotFound
        {
            eprintln!(
                "warning: the pid file {} could not be removed: {e}.",
                self.pid_file.display()
            );
        }
    }

    fn open_log(&self) -> Result<File, Failure> {
        self.log_file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.log_file)
            })
            .map_err(|e| self.log_failure(&e))
    }

    fn log_failure(&self, error: &std::io::Error) -> Failure {
        Failure::runtime(format!(
            "the service log {} could not be opened: {error}; check the directory's permissions or set logging.dir.",
            self.log_file.display()
        ))
    }
}

/// `status --json`.
#[derive(Debug, Serialize)]
struct StatusView<'a> {
    running: bool,
    #[serde(flatten)]
    service: Option<&'a Running>,
    uptime_seconds: Option<u64>,
}

impl<'a> StatusView<'a> {
    fn of(running: Option<&'a Running>) -> Self {
        StatusView {
            running: running.is_some(),
            uptime_seconds: running.map(|running| running.uptime().as_secs()),
            service: running,
        }
    }
}

/// Whether process `pid` runs dbsync: alive, not a zombie waiting for its parent, and
/// (where /proc tells) running the dbsync program rather than one that reused its pid.
fn is_dbsync(pid: u32) -> bool {
    let Some(process) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return false;
    };
    if rustix::process::test_kill_process(process).is_err() {
        return false;
    }
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
            Some(state == 'Z')
        })
        .unwrap_or(false);
    let program_is_dbsync = std::fs::read(format!("/proc/{pid}/cmdline")).map_or(true, |line| {
        let program = line.split(|byte| *byte == 0).next().unwrap_or_default();
        Path::new(&*String::from_utf8_lossy(program))
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("dbsync"))
    });
    !zombie && program_is_dbsync
}

fn spawn(mut command: std::process::Command) -> Result<Child, Failure> {
    command
        .spawn()
        .map_err(|e| Failure::runtime(format!("`dbsync serve` could not be started: {e}.")))
}

/// The exit code a server's own: a configuration error stays one.
fn exit_of(status: ExitStatus) -> Exit {
    if status.code() == Some(Exit::Usage as i32) {
        Exit::Usage
    } else {
        Exit::Runtime
    }
}

/// Where to reach `listen` from this machine: a wildcard address through loopback.
fn listen_address(listen: &str) -> Option<SocketAddr> {
    let mut address: SocketAddr = listen.parse().ok()?;
    if address.ip().is_unspecified() {
        address.set_ip(match address {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    Some(address)
}

/// The last line of `log`, where a server that failed to start says why.
fn last_line(log: &Path) -> String {
    std::fs::read_to_string(log)
        .ok()
        .and_then(|text| text.lines().last().map(str::to_owned))
        .unwrap_or_else(|| format!("see {}", log.display()))
}

fn uptime_text(uptime: Duration) -> String {
    let seconds = uptime.as_secs();
    match (seconds / 3600, seconds / 60 % 60, seconds % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}
