//! Where a value sits in the file, such as `pairs.shop-analytics.tables[1].name`.

use std::fmt;

/// The path of keys and list positions from the top of the file to one value.
///
/// Every error names the value it is about by its key path, so that a user can find it
/// even where no line is known (a value set by an environment override or built in code).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyPath(Vec<Segment>);

/// One step of a [`KeyPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// A key of a mapping.
    Key(String),
    /// A position in a list, from 0.
    Index(usize),
}

impl KeyPath {
    /// The path of the top level of the file.
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// This path followed by the key `key`.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.into()));
        KeyPath(segments)
    }

    /// This path followed by the list position `index`.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        KeyPath(segments)
    }

    /// The path of the mapping or list that holds this value; the top level for the top level.
    pub fn parent(&self) -> KeyPath {
        let mut segments = self.0.clone();
        segments.pop();
        KeyPath(segments)
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &KeyPath) -> bool {
        self.0.starts_with(&other.0)
    }
}

impl fmt::Display for KeyPath {
    /// Keys joined by `.`, list positions in brackets; the top level is `the top level`,
    /// so that the path can start a sentence.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("the top level");
        }
        for (position, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if position == 0 => f.write_str(key)?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Builds a path from string keys, for code that names a fixed place:
/// `KeyPath::from(["server", "listen"])`.
impl<const N: usize> From<[&str; N]> for KeyPath {
    fn from(keys: [&str; N]) -> Self {
        KeyPath(
            keys.iter()
                .map(|key| Segment::Key((*key).to_owned()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_keys_and_positions() {
        let path = KeyPath::from(["pairs", "shop-analytics", "tables"])
            .index(1)
            .key("name");
        assert_eq!(path.to_string(), "pairs.shop-analytics.tables[1].name");
        assert_eq!(KeyPath::root().to_string(), "the top level");
        assert!(path.starts_with(&KeyPath::from(["pairs", "shop-analytics"])));
        assert!(!KeyPath::from(["pairs"]).starts_with(&path));
    }
}
