//! Running the servers' own command-line programs (install, clients) and collecting
//! what they print, so that a failure reports what the program said.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Runs `command` to completion, feeding it `input`, and returns its standard output.
/// `what` names the step in the error, such as "creating database t_1".
pub(crate) fn run(command: &mut Command, input: Option<Vec<u8>>, what: &str) -> Result<String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::new(format!("{what}: could not run {program}: {e}")))?;
    // Written from another thread: a client that prints while it reads would otherwise
    // block on a full stdout pipe while we block on its full stdin pipe.
    let writer = input.map(|input| {
        let mut stdin = child.stdin.take().expect("stdin was piped");
        thread::spawn(move || stdin.write_all(&input))
    });
    let output = child
        .wait_with_output()
        .map_err(|e| Error::new(format!("{what}: {program} did not finish: {e}")))?;
    let written = writer.map(|writer| writer.join().expect("the stdin writer does not panic"));
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::new(format!(
            "{what} failed ({program}, {}): {}",
            output.status,
            stderr.trim()
        )));
    }
    if let Some(Err(e)) = written {
        return Err(Error::new(format!(
            "{what}: could not send input to {program}: {e}"
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A TCP port on 127.0.0.1 that nothing listens on at the moment of the call.
pub(crate) fn free_port() -> Result<u16> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| Error::new(format!("could not find a free TCP port on 127.0.0.1: {e}")))
}

/// Polls `ready` every 50 ms until it returns true, `failed` returns an error, or
/// `timeout` passes.
pub(crate) fn wait_until(
    timeout: Duration,
    what: &str,
    mut ready: impl FnMut() -> bool,
    mut failed: impl FnMut() -> Result<()>,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        failed()?;
        if ready() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::new(format!(
                "{what} was not ready after {} s",
                timeout.as_secs()
            )));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The last lines of a server's log, for an error message.
pub(crate) fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// Whether a process exists and has not exited; an exited child that its parent has not
/// yet reaped (a zombie) counts as gone.
pub fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            != Some("Z")
    })
}
