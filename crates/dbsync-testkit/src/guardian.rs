//! Making sure no server outlives the process that started it.
//!
//! A process that started servers ends in one of two ways, and each needs its own
//! mechanism:
//!
//! - It exits. Tests that pass or panic both end this way (libtest catches panics),
//!   and so does `dbsync demo`. An `atexit` hook stops every server and returns only
//!   when they are gone and their directory is removed, so nothing of ours is left
//!   the moment the process is gone.
//! - It is killed (SIGKILL, abort, Ctrl-C). No code of ours runs then, so a small
//!   guardian shell started in its own process group (out of reach of a Ctrl-C sent to
//!   ours) reads a pipe from this process; when the kernel closes the pipe, the guardian
//!   stops the servers and removes the directory.
//!
//! The exit hook works through the guardian too: it closes the pipe and waits, so one
//! piece of code does the stopping either way.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError, TryLockError};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// Reads `kill SIGNAL:PID` and `remove PATH` lines until end of input, then signals each
/// process, waits for it (escalating to SIGKILL after 10 s, giving up after 15 s or when
/// only a zombie is left), and removes each path.
const GUARDIAN_SCRIPT: &str = r#"
kills=""
dirs=""
while read -r verb rest; do
  case "$verb" in
    kill) kills="$kills $rest" ;;
    remove) dirs="$dirs$rest
" ;;
  esac
done
for entry in $kills; do kill -s "${entry%%:*}" "${entry#*:}" 2>/dev/null; done
for entry in $kills; do
  pid=${entry#*:}
  n=0
  while kill -0 "$pid" 2>/dev/null; do
    [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
    n=$((n + 1))
    [ "$n" -eq 100 ] && kill -s KILL "$pid" 2>/dev/null
    [ "$n" -ge 150 ] && break
    sleep 0.1
  done
done
printf '%s' "$dirs" | while IFS= read -r dir; do
  [ -n "$dir" ] && rm -rf -- "$dir"
done
"#;

struct Guardian {
    process: Child,
    pipe: ChildStdin,
    /// Kept so that the exit hook can reap them: a killed child stays a zombie, and so
    /// "still running" to the guardian, until its parent waits for it.
    servers: Vec<Child>,
}

static GUARDIAN: Mutex<Option<Guardian>> = Mutex::new(None);
static SCRATCH: OnceLock<Result<PathBuf>> = OnceLock::new();

/// This process's scratch directory, `dbsync-testkit-<pid>-<nanos>` under the system
/// temporary directory, created on first use and removed when the process ends.
pub(crate) fn scratch_dir() -> Result<&'static Path> {
    let dir = SCRATCH.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("dbsync-testkit-{}-{nanos}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir(&dir).map_err(|e| {
            Error::new(format!(
                "could not create the scratch directory {}: {e}",
                dir.display()
            ))
        })?;
        send(&format!("remove {}", dir.display()))?;
        Ok(dir)
    });
    dir.as_deref().map_err(Clone::clone)
}

/// Hands a started server to the guardian, which stops it with `signal` when this
/// process ends. On failure the server is killed at once rather than left unguarded.
pub(crate) fn guard(mut server: Child, signal: &str) -> Result<u32> {
    let pid = server.id();
    let registered = send(&format!("kill {signal}:{pid}"));
    let mut guardian = GUARDIAN.lock().unwrap_or_else(PoisonError::into_inner);
    match (registered, guardian.as_mut()) {
        (Ok(()), Some(guardian)) => {
            guardian.servers.push(server);
            Ok(pid)
        }
        (registered, _) => {
            let _ = server.kill();
            let _ = server.wait();
            Err(registered
                .err()
                .unwrap_or_else(|| Error::new("the guardian process is gone")))
        }
    }
}

fn send(line: &str) -> Result<()> {
    let mut guardian = GUARDIAN.lock().unwrap_or_else(PoisonError::into_inner);
    if guardian.is_none() {
        *guardian = Some(spawn_guardian()?);
    }
    let guardian = guardian.as_mut().expect("the guardian was just started");
    writeln!(guardian.pipe, "{line}")
        .and_then(|()| guardian.pipe.flush())
        .map_err(|e| Error::new(format!("could not talk to the guardian process: {e}")))
}

fn spawn_guardian() -> Result<Guardian> {
    let mut process = Command::new("sh")
        .arg("-c")
        .arg(GUARDIAN_SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| Error::new(format!("could not start the guardian shell (sh): {e}")))?;
    let pipe = process.stdin.take().expect("stdin was piped");
    register_exit_hook();
    Ok(Guardian {
        process,
        pipe,
        servers: Vec::new(),
    })
}

#[allow(unsafe_code)]
fn register_exit_hook() {
    // SAFETY: `atexit` stores a function pointer that libc calls once, on the exiting
    // thread, after `main` returns or `std::process::exit` is called. The function is a
    // plain `extern "C" fn()` that takes no arguments and captures nothing, and it
    // cannot unwind into libc because its whole body runs inside `catch_unwind`. A
    // failed registration (non-zero return) leaves the guardian's pipe as the fallback.
    unsafe {
        libc::atexit(stop_servers_at_exit);
    }
}

extern "C" fn stop_servers_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        // A lock held elsewhere at exit means some thread is mid-start; do not wait on
        // it. The pipe still closes when the process ends, and the guardian cleans up.
        let mut guardian = match GUARDIAN.try_lock() {
            Ok(guardian) => guardian,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        if let Some(Guardian {
            mut process,
            pipe,
            mut servers,
        }) = guardian.take()
        {
            drop(pipe);
            for server in &mut servers {
                let _ = server.wait();
            }
            let _ = process.wait();
        }
    });
}
