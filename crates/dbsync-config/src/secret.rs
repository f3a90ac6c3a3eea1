//! Secrets (passwords, tokens) that never show in logs, messages or API answers.

use std::cell::Cell;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a secret prints and serializes as.
pub const MASK: &str = "***";

thread_local! {
    /// Whether serialization on this thread writes secrets; see [`expose_secrets`].
    static EXPOSED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `serialize` with secrets written as they are, for the few places that must store
/// them (the configuration file, the state store). Everywhere else a serialized [`Secret`]
/// is [`MASK`], so that an API answer or a log line cannot leak one by accident.
///
/// A flag for the current thread rather than a parameter, because serde's `Serialize` takes
/// none; serialization does not cross threads, and the flag is restored even on panic.
pub fn expose_secrets<R>(serialize: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            EXPOSED.with(|exposed| exposed.set(self.0));
        }
    }
    let _restore = Restore(EXPOSED.with(|exposed| exposed.replace(true)));
    serialize()
}

pub(crate) fn secrets_exposed() -> bool {
    EXPOSED.with(Cell::get)
}

/// A password or token. `Debug`, `Display` and `Serialize` show [`MASK`]; only
/// [`Secret::expose`] (and serialization inside [`expose_secrets`]) gives the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret {
    value: String,
    /// The text as written in the file when it used `${VAR}`, so that writing the file
    /// back keeps the reference instead of the value it stood for.
    written: Option<String>,
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret {
            value: value.into(),
            written: None,
        }
    }

    /// The secret itself, for the one place that needs it (a driver's connect call).
    pub fn expose(&self) -> &str {
        &self.value
    }

    pub(crate) fn with_written(mut self, written: Option<String>) -> Self {
        self.written = written;
        self
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if secrets_exposed() {
            serializer.serialize_str(self.written.as_deref().unwrap_or(&self.value))
        } else {
            serializer.serialize_str(MASK)
        }
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_the_value_unless_exposed() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"***\"");
        assert_eq!(
            expose_secrets(|| serde_json::to_string(&secret).unwrap()),
            "\"hunter2\""
        );
        // The exposure ends with the closure.
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"***\"");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn exposure_writes_the_reference_it_was_read_from() {
        let secret = Secret::new("hunter2").with_written(Some("${TOKEN}".to_owned()));
        assert_eq!(
            expose_secrets(|| serde_json::to_string(&secret).unwrap()),
            "\"${TOKEN}\""
        );
    }

    #[test]
    fn exposure_ends_even_on_panic() {
        let result = std::panic::catch_unwind(|| expose_secrets(|| panic!("boom")));
        assert!(result.is_err());
        assert!(!secrets_exposed());
    }
}
