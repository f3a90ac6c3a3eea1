//! A serde `Deserializer` over the located tree of [`crate::document`].
//!
//! Reading the model through our own deserializer, rather than the YAML crate's, keeps each
//! serde error structured (the unknown key and the allowed ones, the unknown value and the
//! allowed ones, the missing key) and lets it be tagged with the key path and line of the
//! value it is about, so that every message is one sentence with the fix.

use std::fmt;
use std::str::FromStr;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    Visitor,
};

use crate::document::{Entry, Node, Value, is_null_text};
use crate::error::ConfigError;
use crate::key_path::KeyPath;

/// Reads a `T` from `node`, which sits at `path` of the file.
pub(crate) fn from_node<T: DeserializeOwned>(node: &Node, path: KeyPath) -> Result<T, ConfigError> {
    let line = node.line;
    T::deserialize(NodeDeserializer {
        node,
        path: path.clone(),
    })
    .map_err(|error| error.locate(&path, line).into_config_error())
}

/// A serde error that learns where it happened on its way out of the tree.
#[derive(Debug)]
pub(crate) struct DeError {
    path: Option<KeyPath>,
    line: Option<usize>,
    reason: Reason,
}

#[derive(Debug)]
enum Reason {
    UnknownKey {
        key: String,
        allowed: &'static [&'static str],
    },
    UnknownValue {
        value: String,
        allowed: &'static [&'static str],
    },
    MissingKey(&'static str),
    Mismatch {
        expected: String,
        found: String,
    },
    /// A sentence's predicate from a type's own check, such as
    /// "has the unknown scheme `ftp`; use mysql://, ...", to follow the key path.
    Predicate(String),
}

impl DeError {
    fn new(reason: Reason) -> Self {
        DeError {
            path: None,
            line: None,
            reason,
        }
    }

    /// Tags the error with the innermost place it passes; outer places leave it alone.
    fn locate(mut self, path: &KeyPath, line: usize) -> Self {
        if self.path.is_none() {
            self.path = Some(path.clone());
            // Line 0 is a value that came from no file (an environment override).
            self.line = (line > 0).then_some(line);
        }
        self
    }

    fn sentence(&self) -> String {
        let path = self.path.clone().unwrap_or_default();
        match &self.reason {
            Reason::UnknownKey { key, allowed } => format!(
                "{} has the unknown key `{key}`; the keys allowed there are {}; remove it or fix its spelling.",
                path.parent(),
                list(allowed)
            ),
            Reason::UnknownValue { value, allowed } => format!(
                "{path} is `{value}`, which is not one of {}; use one of those.",
                list(allowed)
            ),
            Reason::MissingKey(key) => {
                format!("{path} has no `{key}` key, which is required; add it.")
            }
            Reason::Mismatch { expected, found } => {
                format!("{path} must be {expected}, not {found}.")
            }
            Reason::Predicate(predicate) => format!("{path} {predicate}."),
        }
    }

    fn into_config_error(self) -> ConfigError {
        let mut error = ConfigError::new(self.sentence());
        if let Some(path) = self.path {
            error = error.at_path(path);
        }
        if let Some(line) = self.line {
            error = error.at_line(line);
        }
        error
    }
}

/// `a`, `b` and `c` -> "`a`, `b`, `c`".
fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sentence())
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        DeError::new(Reason::Predicate(message.to_string()))
    }

    fn invalid_type(found: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        DeError::new(Reason::Mismatch {
            expected: expected.to_string(),
            found: describe(found),
        })
    }

    fn invalid_value(found: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self::invalid_type(found, expected)
    }

    fn unknown_variant(value: &str, allowed: &'static [&'static str]) -> Self {
        DeError::new(Reason::UnknownValue {
            value: value.to_owned(),
            allowed,
        })
    }

    fn unknown_field(key: &str, allowed: &'static [&'static str]) -> Self {
        DeError::new(Reason::UnknownKey {
            key: key.to_owned(),
            allowed,
        })
    }

    fn missing_field(key: &'static str) -> Self {
        DeError::new(Reason::MissingKey(key))
    }
}

/// What a value is, in the words of a YAML user.
fn describe(found: Unexpected<'_>) -> String {
    match found {
        Unexpected::Bool(value) => format!("`{value}`"),
        Unexpected::Unsigned(value) => format!("`{value}`"),
        Unexpected::Signed(value) => format!("`{value}`"),
        Unexpected::Float(value) => format!("`{value}`"),
        Unexpected::Char(value) => format!("`{value}`"),
        Unexpected::Str(value) => format!("`{value}`"),
        Unexpected::Unit | Unexpected::Option => "empty".to_owned(),
        Unexpected::Seq => "a list".to_owned(),
        Unexpected::Map => "a mapping".to_owned(),
        other => other.to_string(),
    }
}

/// Reads one node. Whoever creates one (the top level, a list, a mapping) tags the errors
/// that come out of it with its path and line: that covers both the node's own errors and
/// those of a type's check after reading it (a URL, a glob).
struct NodeDeserializer<'n> {
    node: &'n Node,
    path: KeyPath,
}

impl<'n> NodeDeserializer<'n> {
    fn mismatch(&self, expected: impl Into<String>) -> DeError {
        let found = match &self.node.value {
            Value::Scalar(scalar) if scalar.text.is_empty() => "empty".to_owned(),
            Value::Scalar(scalar) => format!("`{}`", scalar.text),
            Value::List(_) => "a list".to_owned(),
            Value::Map(_) => "a mapping".to_owned(),
        };
        DeError::new(Reason::Mismatch {
            expected: expected.into(),
            found,
        })
    }

    /// The text of a scalar written without quotes: numbers and booleans are only those.
    fn plain_text(&self, expected: &str) -> Result<&'n str, DeError> {
        match &self.node.value {
            Value::Scalar(scalar) if scalar.plain => Ok(&scalar.text),
            _ => Err(self.mismatch(expected)),
        }
    }

    fn number<T: FromStr>(&self, expected: &str) -> Result<T, DeError> {
        let text = self.plain_text(expected)?;
        text.strip_prefix('+')
            .unwrap_or(text)
            .parse()
            .map_err(|_| self.mismatch(expected))
    }

    fn boolean(&self) -> Result<bool, DeError> {
        const EXPECTED: &str = "`true` or `false`";
        match self.plain_text(EXPECTED)? {
            "true" | "True" | "TRUE" => Ok(true),
            "false" | "False" | "FALSE" => Ok(false),
            _ => Err(self.mismatch(EXPECTED)),
        }
    }

    fn entries(&self) -> Option<&'n [Entry]> {
        match &self.node.value {
            Value::Map(entries) => Some(entries),
            _ if self.node.is_null() => Some(&[]),
            _ => None,
        }
    }

    fn items(&self) -> Option<&'n [Node]> {
        match &self.node.value {
            Value::List(items) => Some(items),
            _ if self.node.is_null() => Some(&[]),
            _ => None,
        }
    }
}

macro_rules! integer {
    ($($method:ident => $visit:ident: $type:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let expected = format!("a whole number from {} to {}", <$type>::MIN, <$type>::MAX);
            visitor.$visit(self.number::<$type>(&expected)?)
        }
    )*};
}

impl<'de, 'n> de::Deserializer<'de> for NodeDeserializer<'n> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Scalar(scalar) if !scalar.plain => visitor.visit_str(&scalar.text),
            Value::Scalar(scalar) => {
                let text = scalar.text.as_str();
                if is_null_text(text) {
                    visitor.visit_unit()
                } else if let Ok(value) = self.boolean() {
                    visitor.visit_bool(value)
                } else if let Ok(value) = text.parse::<u64>() {
                    visitor.visit_u64(value)
                } else if let Ok(value) = text.parse::<i64>() {
                    visitor.visit_i64(value)
                } else {
                    visitor.visit_str(text)
                }
            }
            Value::List(items) => visitor.visit_seq(Items::new(items, &self.path)),
            Value::Map(entries) => visitor.visit_map(Entries::new(entries, &self.path)),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_bool(self.boolean()?)
    }

    integer! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_f32(self.number("a number")?)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_f64(self.number("a number")?)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Scalar(scalar) if scalar.text.chars().count() == 1 => {
                visitor.visit_str(&scalar.text)
            }
            _ => Err(self.mismatch("one character")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Scalar(scalar) => visitor.visit_str(&scalar.text),
            Value::List(_) | Value::Map(_) => Err(self.mismatch("text")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor.visit_unit()
        } else {
            Err(self.mismatch("empty"))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.items() {
            Some(items) => visitor.visit_seq(Items::new(items, &self.path)),
            None => Err(self.mismatch("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.entries() {
            Some(entries) => visitor.visit_map(Entries::new(entries, &self.path)),
            None => Err(self.mismatch("a mapping of keys")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    /// Only unit variants: every choice in the file is one word, such as `capture: binlog`.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Scalar(scalar) => visitor.visit_enum(scalar.text.as_str().into_deserializer()),
            Value::List(_) | Value::Map(_) => {
                Err(self.mismatch(format!("one of {}", list(variants))))
            }
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct Items<'n> {
    items: std::iter::Enumerate<std::slice::Iter<'n, Node>>,
    path: KeyPath,
}

impl<'n> Items<'n> {
    fn new(items: &'n [Node], path: &KeyPath) -> Self {
        Items {
            items: items.iter().enumerate(),
            path: path.clone(),
        }
    }
}

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some((index, node)) = self.items.next() else {
            return Ok(None);
        };
        let path = self.path.index(index);
        let line = node.line;
        seed.deserialize(NodeDeserializer {
            node,
            path: path.clone(),
        })
        .map(Some)
        .map_err(|error| error.locate(&path, line))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Entries<'n> {
    entries: std::slice::Iter<'n, Entry>,
    path: KeyPath,
    /// The entry whose key was just read and whose value is next.
    current: Option<&'n Entry>,
}

impl<'n> Entries<'n> {
    fn new(entries: &'n [Entry], path: &KeyPath) -> Self {
        Entries {
            entries: entries.iter(),
            path: path.clone(),
            current: None,
        }
    }
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.current = Some(entry);
        let key: de::value::StrDeserializer<'_, DeError> = entry.key.as_str().into_deserializer();
        seed.deserialize(key)
            .map(Some)
            .map_err(|error| error.locate(&self.path.key(entry.key.as_str()), entry.key_line))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let entry = self
            .current
            .take()
            .ok_or_else(|| DeError::new(Reason::Predicate("was read out of order".to_owned())))?;
        let path = self.path.key(entry.key.as_str());
        seed.deserialize(NodeDeserializer {
            node: &entry.value,
            path: path.clone(),
        })
        .map_err(|error| error.locate(&path, entry.key_line))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}
