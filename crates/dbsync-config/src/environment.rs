//! The environment variables a configuration is read with.

use std::collections::BTreeMap;
use std::fmt;

/// A snapshot of environment variables: the source of `${VAR}` interpolation and of
/// `DBSYNC_*` overrides.
///
/// Loading takes it as a value, rather than reading the process environment deep inside,
/// so that tests and the control plane can load a configuration with variables of their
/// choosing. Its `Debug` lists names only: values are often secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Environment {
    variables: BTreeMap<String, String>,
}

impl Environment {
    /// The variables of this process; names or values that are not UTF-8 are left out.
    pub fn from_process() -> Self {
        std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect()
    }

    /// No variables at all.
    pub fn empty() -> Self {
        Environment::default()
    }

    /// This environment with `name` set to `value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.variables.insert(name.into(), value.into());
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.variables.get(name).map(String::as_str)
    }

    /// Every variable, ordered by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.variables
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Environment {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(variables: I) -> Self {
        Environment {
            variables: variables
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        }
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.variables.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_names_not_values() {
        let environment = Environment::empty().with("SHOP_PASSWORD", "hunter2");
        assert_eq!(environment.get("SHOP_PASSWORD"), Some("hunter2"));
        assert_eq!(format!("{environment:?}"), "{\"SHOP_PASSWORD\"}");
    }
}
