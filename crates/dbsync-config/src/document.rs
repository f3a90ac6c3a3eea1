//! The YAML text as a tree of nodes that remember their line.
//!
//! dbsync reads YAML into this tree first, rather than straight into the model, for three
//! reasons: `${VAR}` interpolation happens inside scalar values (so a password holding `"`,
//! `#` or a line break cannot change the structure of the file), every error and every
//! validation message can name the line of the key it is about, and the text as written
//! (with its `${VAR}` references) is kept for writing the file back without its secrets.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, Span, Tag};

use crate::error::ConfigError;
use crate::key_path::{KeyPath, Segment};

/// A bound on nodes after aliases are expanded: a configuration has hundreds, while a
/// "billion laughs" file of nested aliases would otherwise take all memory.
const MAX_NODES: usize = 100_000;

/// A bound on nesting, so that `[[[[...` cannot overflow the stack.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// Where the node starts, from 1.
    pub(crate) line: usize,
    pub(crate) value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Scalar(Scalar),
    List(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar {
    /// The value, after YAML escapes and `${VAR}` interpolation.
    pub(crate) text: String,
    /// Written without quotes or tag, so that `true`, `12` or `null` mean a boolean, a number
    /// or nothing; quoted text is always text.
    pub(crate) plain: bool,
    /// The text as written, when interpolation changed it.
    pub(crate) raw: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) key_line: usize,
    pub(crate) value: Node,
}

impl Node {
    /// A plain scalar that came from no file, such as an environment override's value.
    pub(crate) fn plain(text: &str) -> Node {
        Node {
            line: 0,
            value: Value::Scalar(Scalar {
                text: text.to_owned(),
                plain: true,
                raw: None,
            }),
        }
    }

    /// Whether the node means "nothing": `null`, `~` or no value at all.
    pub(crate) fn is_null(&self) -> bool {
        match &self.value {
            Value::Scalar(scalar) => scalar.plain && is_null_text(&scalar.text),
            Value::List(_) | Value::Map(_) => false,
        }
    }

    /// The line of the value at `path` (for a mapping value, the line of its key), or of the
    /// nearest enclosing value that is written, for a path the file leaves to its default.
    pub(crate) fn line_of(&self, path: &KeyPath) -> usize {
        let mut node = self;
        let mut line = self.line;
        for segment in path.segments() {
            let child = match (segment, &node.value) {
                (Segment::Key(key), Value::Map(entries)) => entries
                    .iter()
                    .find(|entry| entry.key == *key)
                    .map(|entry| (entry.key_line, &entry.value)),
                (Segment::Index(index), Value::List(items)) => {
                    items.get(*index).map(|item| (item.line, item))
                }
                _ => None,
            };
            match child {
                Some((child_line, child)) => {
                    line = child_line;
                    node = child;
                }
                None => break,
            }
        }
        line
    }

    /// The text as written of the scalar at `path`, when interpolation changed it.
    pub(crate) fn raw_text_at(&self, path: &KeyPath) -> Option<&str> {
        let mut node = self;
        for segment in path.segments() {
            node = match (segment, &node.value) {
                (Segment::Key(key), Value::Map(entries)) => {
                    &entries.iter().find(|entry| entry.key == *key)?.value
                }
                (Segment::Index(index), Value::List(items)) => items.get(*index)?,
                _ => return None,
            };
        }
        match &node.value {
            Value::Scalar(scalar) => scalar.raw.as_deref(),
            Value::List(_) | Value::Map(_) => None,
        }
    }

    fn count(&self) -> usize {
        1 + match &self.value {
            Value::Scalar(_) => 0,
            Value::List(items) => items.iter().map(Node::count).sum(),
            Value::Map(entries) => entries.iter().map(|entry| entry.value.count()).sum(),
        }
    }
}

/// YAML 1.2's core schema: what a plain scalar that means "no value" looks like.
pub(crate) fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Parses one YAML document; an empty text is an empty mapping.
pub(crate) fn parse(text: &str) -> Result<Node, ConfigError> {
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        nodes: 0,
    };
    builder.document()
}

struct Builder<'t> {
    parser: Parser<'t, granit_parser::StrInput<'t>>,
    /// The nodes anchored so far (`&name`), by the parser's anchor id, for aliases (`*name`).
    anchors: HashMap<usize, Node>,
    nodes: usize,
}

impl<'t> Builder<'t> {
    fn document(&mut self) -> Result<Node, ConfigError> {
        let mut root = None;
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd => {}
                Event::StreamEnd => break,
                Event::DocumentStart(..) if root.is_some() => {
                    return Err(ConfigError::new(
                        "the file holds a second YAML document (after `---`); keep only one.",
                    )
                    .at_line(line(&span)));
                }
                Event::DocumentStart(..) => {
                    let (event, span) = self.next()?;
                    root = Some(self.node(event, span, &KeyPath::root(), 0)?);
                }
                _ => {
                    return Err(ConfigError::new(
                        "the YAML parser returned an event out of place; check the file's syntax.",
                    )
                    .at_line(line(&span)));
                }
            }
        }
        Ok(root.unwrap_or(Node {
            line: 1,
            value: Value::Map(Vec::new()),
        }))
    }

    fn next(&mut self) -> Result<(Event<'t>, Span), ConfigError> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => {
                let info = error.info();
                // A glob such as *_audit or !audit_* without quotes reads as an alias or a tag.
                let hint = if info.contains("alias") || info.contains("anchor") {
                    "a value that starts with `*`, `&` or `!` must be in quotes, like \"*\""
                } else {
                    "check the indentation and quoting there"
                };
                Err(
                    ConfigError::new(format!("malformed YAML ({info}); {hint}."))
                        .at_line(error.marker().line())
                        .at_column(error.marker().col() + 1),
                )
            }
            None => Err(ConfigError::new(
                "the YAML ends in the middle of a value; check that every bracket and quote is closed.",
            )),
        }
    }

    fn node(
        &mut self,
        event: Event<'t>,
        span: Span,
        path: &KeyPath,
        depth: usize,
    ) -> Result<Node, ConfigError> {
        if depth > MAX_DEPTH {
            return Err(ConfigError::new(format!(
                "{path} nests more than {MAX_DEPTH} levels deep; flatten it."
            ))
            .at_path(path.clone())
            .at_line(line(&span)));
        }
        self.nodes += 1;
        let line = line(&span);
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let quoted = tag_means_text(tag.as_deref(), path, line)?;
                let plain = style == ScalarStyle::Plain && !quoted;
                let scalar = Scalar {
                    text: text.into_owned(),
                    plain,
                    raw: None,
                };
                (
                    Node {
                        line,
                        value: Value::Scalar(scalar),
                    },
                    anchor,
                )
            }
            Event::SequenceStart(_, anchor, tag) => {
                tag_means_text(tag.as_deref(), path, line)?;
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    let item_path = path.index(items.len());
                    items.push(self.node(event, span, &item_path, depth + 1)?);
                }
                let value = Value::List(items);
                (Node { line, value }, anchor)
            }
            Event::MappingStart(_, anchor, tag) => {
                tag_means_text(tag.as_deref(), path, line)?;
                let entries = self.entries(path, depth)?;
                let value = Value::Map(entries);
                (Node { line, value }, anchor)
            }
            Event::Alias(anchor) => {
                let node = self.anchors.get(&anchor).cloned().ok_or_else(|| {
                    ConfigError::new(format!("{path} refers to an anchor that is not defined before it; define it with `&name` first."))
                        .at_path(path.clone())
                        .at_line(line)
                })?;
                self.nodes += node.count();
                (Node { line, ..node }, 0)
            }
            _ => {
                return Err(ConfigError::new(format!(
                    "{path} is not a value the YAML parser understands; check the file's syntax."
                ))
                .at_path(path.clone())
                .at_line(line));
            }
        };
        if self.nodes > MAX_NODES {
            return Err(ConfigError::new(format!(
                "the file expands to more than {MAX_NODES} values through its aliases; write it without nested aliases."
            ))
            .at_line(line));
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn entries(&mut self, path: &KeyPath, depth: usize) -> Result<Vec<Entry>, ConfigError> {
        let mut entries: Vec<Entry> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                return Ok(entries);
            }
            let key_line = line(&span);
            let key = match self.node(event, span, path, depth + 1)?.value {
                Value::Scalar(scalar) => scalar.text,
                Value::List(_) | Value::Map(_) => {
                    return Err(ConfigError::new(format!(
                        "{path} has a key that is a list or a mapping; keys must be plain names."
                    ))
                    .at_path(path.clone())
                    .at_line(key_line));
                }
            };
            if let Some(first) = entries.iter().find(|entry| entry.key == key) {
                return Err(ConfigError::new(format!(
                    "{path} has the key `{key}` twice, here and on line {}; keep one.",
                    first.key_line
                ))
                .at_path(path.clone())
                .at_line(key_line));
            }
            let (event, span) = self.next()?;
            let value = self.node(event, span, &path.key(key.as_str()), depth + 1)?;
            entries.push(Entry {
                key,
                key_line,
                value,
            });
        }
    }
}

/// Accepts the tags YAML itself defines (`!!str` makes a scalar text; `!!int`, `!!map` ...
/// change nothing here) and refuses others: in a dbsync file an unknown tag is nearly always
/// a value such as `!audit_*` that was meant as text but written without quotes.
fn tag_means_text(tag: Option<&Tag>, path: &KeyPath, line: usize) -> Result<bool, ConfigError> {
    let Some(tag) = tag else {
        return Ok(false);
    };
    if let Some(core) = tag.core_suffix() {
        return Ok(core == "str");
    }
    // The non-specific tag `!` marks a value as text.
    if tag.handle().is_empty() && tag.suffix() == "!" {
        return Ok(true);
    }
    Err(ConfigError::new(format!(
        "{path} has the YAML tag `{tag}`; if it is text, put it in quotes, like \"{tag}\"."
    ))
    .at_path(path.clone())
    .at_line(line))
}

fn line(span: &Span) -> usize {
    span.start.line()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_at<'n>(node: &'n Node, key: &str) -> &'n str {
        match &node.value {
            Value::Map(entries) => match &entries
                .iter()
                .find(|entry| entry.key == key)
                .map(|entry| &entry.value.value)
            {
                Some(Value::Scalar(scalar)) => &scalar.text,
                other => panic!("{key} is {other:?}"),
            },
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn remembers_lines_of_keys_and_items() {
        let root = parse("a: 1\nb:\n  c: [x, y]\n  d:\n    - e\n    - f: g\n").unwrap();
        assert_eq!(root.line_of(&KeyPath::from(["a"])), 1);
        assert_eq!(root.line_of(&KeyPath::from(["b", "c"])), 3);
        assert_eq!(root.line_of(&KeyPath::from(["b", "d"]).index(1)), 6);
        // A path the file does not write falls back to its nearest written parent.
        assert_eq!(root.line_of(&KeyPath::from(["b", "d", "zzz"])), 4);
        assert_eq!(root.line_of(&KeyPath::from(["nothing"])), 1);
    }

    #[test]
    fn quoted_and_tagged_scalars_are_text() {
        let root = parse("a: 'true'\nb: true\nc: !!str 12\nd: ! 13\n").unwrap();
        let plain = |key: &str| match &root.value {
            Value::Map(entries) => {
                match &entries.iter().find(|e| e.key == key).unwrap().value.value {
                    Value::Scalar(scalar) => scalar.plain,
                    _ => unreachable!(),
                }
            }
            _ => unreachable!(),
        };
        assert!(!plain("a"));
        assert!(plain("b"));
        assert!(!plain("c"));
        assert!(!plain("d"));
    }

    #[test]
    fn expands_aliases() {
        let root = parse("base: &b x\nother: *b\n").unwrap();
        assert_eq!(text_at(&root, "other"), "x");
    }

    #[test]
    fn empty_text_is_an_empty_mapping() {
        assert_eq!(parse("").unwrap().value, Value::Map(Vec::new()));
        assert_eq!(
            parse("# only a comment\n").unwrap().value,
            Value::Map(Vec::new())
        );
        assert!(parse("---\n").unwrap().is_null());
        assert!(parse("--- # c\n...\n").unwrap().is_null());
    }

    #[test]
    fn refuses_duplicate_keys() {
        let error = parse("pairs:\n  a: 1\n  a: 2\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 3: pairs has the key `a` twice, here and on line 2; keep one."
        );
    }

    #[test]
    fn refuses_a_second_document() {
        let error = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 2: the file holds a second YAML document (after `---`); keep only one."
        );
    }

    #[test]
    fn refuses_unknown_tags_with_the_quoting_fix() {
        let error = parse("tables:\n  - \"*\"\n  - !audit_*\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 3: tables[1] has the YAML tag `!audit_*`; if it is text, put it in quotes, like \"!audit_*\"."
        );
    }

    #[test]
    fn bounds_alias_expansion() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..8 {
            let previous = level - 1;
            let items = vec![format!("*a{previous}"); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        let error = parse(&text).unwrap_err();
        assert!(
            error.message().contains("more than 100000 values"),
            "{error}"
        );
    }
}
