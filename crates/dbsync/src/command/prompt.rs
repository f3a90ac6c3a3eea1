//! Asking for the fields a command line left out: on a terminal only, so that a script
//! never hangs on a question nobody sees.

use std::io::{BufRead, IsTerminal, Write};

use crate::failure::{Exit, Failure};

/// `given`, or else the answer to `question` typed at the terminal. Without a terminal,
/// a usage error naming `flag` (`--url`, or `NAME` for a positional argument) of
/// `command`.
pub(crate) fn or_ask(
    given: Option<String>,
    command: &str,
    flag: &str,
    question: &str,
) -> Result<String, Failure> {
    if let Some(value) = given {
        return Ok(value);
    }
    let needed = || {
        Failure::new(
            Exit::Usage,
            format!(
                "`dbsync {command}` needs {flag} when it does not run at a terminal; give {flag}."
            ),
        )
    };
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(needed());
    }
    let mut stderr = std::io::stderr();
    // Questions go to stderr, so that stdout stays the command's answer.
    write!(stderr, "{question}: ")
        .and_then(|()| stderr.flush())
        .map_err(|e| {
            Failure::runtime(format!("the question for {flag} could not be shown: {e}."))
        })?;
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::runtime(format!("the answer for {flag} could not be read: {e}.")))?;
    let answer = answer.trim();
    if answer.is_empty() {
        return Err(needed());
    }
    Ok(answer.to_owned())
}
