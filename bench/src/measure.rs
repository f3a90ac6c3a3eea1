//! Timing a child process and sampling its peak memory.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a process ran and the most memory it held.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Measured {
    pub(crate) seconds: f64,
    /// The kernel's high-water mark of resident memory (`VmHWM`), sampled every 5 ms
    /// until exit; growth in the last few milliseconds can be missed.
    pub(crate) peak_rss_mb: f64,
    /// User and system CPU seconds, sampled like the memory.
    pub(crate) cpu_seconds: f64,
}

/// Runs a shell pipeline to completion; fails with its stderr.
pub(crate) fn shell(script: &str) -> Measured {
    let child = Command::new("bash")
        .args(["-o", "pipefail", "-c", script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run bash: {e}"));
    wait(child, script)
}

/// Runs `command` to completion, sampling its memory.
pub(crate) fn run(mut command: Command, what: &str) -> Measured {
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    wait(child, what)
}

fn wait(mut child: Child, what: &str) -> Measured {
    let started = Instant::now();
    let mut peak = 0.0f64;
    let mut cpu = 0.0f64;
    loop {
        peak = peak.max(peak_rss_mb(child.id()).unwrap_or(0.0));
        cpu = cpu.max(cpu_seconds(child.id()).unwrap_or(0.0));
        if let Some(status) = child.try_wait().expect("waiting for a child") {
            let seconds = started.elapsed().as_secs_f64();
            if !status.success() {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    std::io::Read::read_to_string(&mut pipe, &mut stderr).ok();
                }
                panic!("{what} failed ({status}):\n{stderr}");
            }
            return Measured {
                seconds,
                peak_rss_mb: peak,
                cpu_seconds: cpu,
            };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `VmHWM` of a live process, in MiB.
pub(crate) fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// User plus system CPU time of a live process, from `/proc/<pid>/stat` (fields 14
/// and 15, in clock ticks of 1/100 s on Linux).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are plain.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}
