//! `${VAR}` interpolation from the environment, inside scalar values.
//!
//! It runs on the parsed tree rather than on the text, so that a value can hold any
//! character (a password with `"`, `#` or `: `) without changing the structure of the
//! file, and so that an error names the key path. Keys are never interpolated: they are
//! names the rest of the file refers to. `$${` stands for a literal `${`.

use crate::document::{Node, Value};
use crate::environment::Environment;
use crate::error::ConfigError;
use crate::key_path::KeyPath;

/// Replaces `${VAR}` in every scalar value under `node`, keeping the text as written in
/// `raw` where it changed.
pub(crate) fn interpolate_tree(
    node: &mut Node,
    path: &KeyPath,
    environment: &Environment,
) -> Result<(), ConfigError> {
    match &mut node.value {
        Value::Scalar(scalar) => {
            if scalar.text.contains('$') {
                let text = interpolate(&scalar.text, environment).map_err(|problem| {
                    ConfigError::new(problem.sentence(path))
                        .at_path(path.clone())
                        .at_line(node.line)
                })?;
                if text != scalar.text {
                    scalar.raw = Some(std::mem::replace(&mut scalar.text, text));
                }
            }
        }
        Value::List(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                interpolate_tree(item, &path.index(index), environment)?;
            }
        }
        Value::Map(entries) => {
            for entry in entries {
                interpolate_tree(&mut entry.value, &path.key(entry.key.as_str()), environment)?;
            }
        }
    }
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
enum Problem {
    Unset(String),
    BadName(String),
    Unclosed,
}

impl Problem {
    fn sentence(&self, path: &KeyPath) -> String {
        const ESCAPE: &str = "or write `$${` for a literal `${`";
        match self {
            Problem::Unset(name) => format!(
                "{path} uses `${{{name}}}`, but the environment variable {name} is not set; set it, {ESCAPE}."
            ),
            Problem::BadName(name) => format!(
                "{path} uses `${{{name}}}`, which is not a variable name (letters, digits and `_`, not starting with a digit); fix it, {ESCAPE}."
            ),
            Problem::Unclosed => {
                format!("{path} has a `${{` without its closing `}}`; close it, {ESCAPE}.")
            }
        }
    }
}

fn interpolate(text: &str, environment: &Environment) -> Result<String, Problem> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar..];
        if let Some(escaped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = escaped;
        } else if let Some(reference) = after.strip_prefix("${") {
            let end = reference.find('}').ok_or(Problem::Unclosed)?;
            let name = &reference[..end];
            if !is_variable_name(name) {
                return Err(Problem::BadName(name.to_owned()));
            }
            let value = environment
                .get(name)
                .ok_or_else(|| Problem::Unset(name.to_owned()))?;
            out.push_str(value);
            rest = &reference[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document;

    fn environment() -> Environment {
        Environment::empty()
            .with("SHOP_PASSWORD", "p\"a#s: s")
            .with("EMPTY", "")
    }

    #[test]
    fn replaces_references_and_keeps_escapes() {
        let environment = environment();
        assert_eq!(
            interpolate("a${SHOP_PASSWORD}b", &environment).unwrap(),
            "ap\"a#s: sb"
        );
        assert_eq!(
            interpolate("$${SHOP_PASSWORD}", &environment).unwrap(),
            "${SHOP_PASSWORD}"
        );
        assert_eq!(interpolate("x${EMPTY}y", &environment).unwrap(), "xy");
        assert_eq!(
            interpolate("cost $5 $$ $", &environment).unwrap(),
            "cost $5 $$ $"
        );
        assert_eq!(
            interpolate("${MISSING}", &environment),
            Err(Problem::Unset("MISSING".to_owned()))
        );
        assert_eq!(
            interpolate("${1X}", &environment),
            Err(Problem::BadName("1X".to_owned()))
        );
        assert_eq!(interpolate("${OPEN", &environment), Err(Problem::Unclosed));
    }

    #[test]
    fn a_value_cannot_change_the_structure() {
        let mut root = document::parse("a: \"${SHOP_PASSWORD}\"\nb: ${SHOP_PASSWORD}\n").unwrap();
        interpolate_tree(&mut root, &KeyPath::root(), &environment()).unwrap();
        let Value::Map(entries) = &root.value else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 2);
        for entry in entries {
            let Value::Scalar(scalar) = &entry.value.value else {
                panic!("not a scalar")
            };
            assert_eq!(scalar.text, "p\"a#s: s");
            assert_eq!(scalar.raw.as_deref(), Some("${SHOP_PASSWORD}"));
        }
    }

    #[test]
    fn errors_name_the_variable_path_and_line() {
        let mut root =
            document::parse("connections:\n  shop: { url: \"mysql://u:${NOPE}@h/db\" }\n").unwrap();
        let error = interpolate_tree(&mut root, &KeyPath::root(), &environment()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 2: connections.shop.url uses `${NOPE}`, but the environment variable NOPE is not set; set it, or write `$${` for a literal `${`."
        );
    }
}
