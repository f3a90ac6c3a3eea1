//! Character data as rows events carry it: in the column's own character set.
//!
//! A query result arrives converted to the connection's character set; the binlog
//! does not convert, so the decoder does, for the character sets dbsync reads.

/// A character set that the decoder converts to UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    /// `utf8mb4`, `utf8mb3` and `ascii`, whose bytes are already UTF-8.
    Utf8,
    /// MySQL's `latin1`, which is Windows-1252 with its five unassigned bytes mapped
    /// to the C1 controls of the same value.
    Latin1,
    /// `ucs2` and `utf16`: big-endian UTF-16.
    Utf16Be,
    Utf16Le,
    /// `utf32`: big-endian UTF-32.
    Utf32Be,
}

impl Charset {
    /// The character set named `name` (as `information_schema` spells it), if the
    /// decoder can read it.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "utf8mb4" | "utf8mb3" | "utf8" | "ascii" => Charset::Utf8,
            "latin1" => Charset::Latin1,
            "ucs2" | "utf16" => Charset::Utf16Be,
            "utf16le" => Charset::Utf16Le,
            "utf32" => Charset::Utf32Be,
            _ => return None,
        })
    }

    /// The text of `bytes`; `None` when they are not valid in this character set.
    pub(crate) fn decode(self, bytes: &[u8]) -> Option<String> {
        match self {
            Charset::Utf8 => std::str::from_utf8(bytes).ok().map(str::to_owned),
            Charset::Latin1 if bytes.is_ascii() => {
                std::str::from_utf8(bytes).ok().map(str::to_owned)
            }
            Charset::Latin1 => Some(bytes.iter().map(|&byte| latin1_char(byte)).collect()),
            Charset::Utf16Be => utf16(bytes, u16::from_be_bytes),
            Charset::Utf16Le => utf16(bytes, u16::from_le_bytes),
            Charset::Utf32Be => bytes
                .chunks(4)
                .map(|unit| {
                    let unit: [u8; 4] = unit.try_into().ok()?;
                    char::from_u32(u32::from_be_bytes(unit))
                })
                .collect(),
        }
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// Windows-1252's 0x80..=0x9F; the rest of latin1 is Unicode's first 256 code points.
const CP1252_HIGH: [char; 32] = [
    '\u{20ac}', '\u{81}', '\u{201a}', '\u{192}', '\u{201e}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2c6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8d}', '\u{17d}', '\u{8f}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2dc}', '\u{2122}', '\u{161}', '\u{203a}', '\u{153}', '\u{9d}', '\u{17e}', '\u{178}',
];

fn latin1_char(byte: u8) -> char {
    match byte {
        0x80..=0x9f => CP1252_HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_is_windows_1252() {
        let latin1 = [b'c', b'a', b'f', 0xe9, b' ', 0x80, 0x81, 0x9f];
        assert_eq!(Charset::Latin1.decode(&latin1).unwrap(), "café €\u{81}Ÿ");
    }

    #[test]
    fn utf8_is_validated() {
        assert_eq!(Charset::Utf8.decode("a😀b".as_bytes()).unwrap(), "a😀b");
        assert_eq!(Charset::Utf8.decode(&[0xff, 0xfe]), None);
    }

    #[test]
    fn wide_character_sets() {
        let text = "é😀";
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let utf32: Vec<u8> = text
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect();
        assert_eq!(Charset::Utf16Be.decode(&be).unwrap(), text);
        assert_eq!(Charset::Utf16Le.decode(&le).unwrap(), text);
        assert_eq!(Charset::Utf32Be.decode(&utf32).unwrap(), text);
        assert_eq!(Charset::Utf16Be.decode(&be[..3]), None);
    }

    #[test]
    fn names_as_information_schema_spells_them() {
        assert_eq!(Charset::from_name("utf8mb3"), Some(Charset::Utf8));
        assert_eq!(Charset::from_name("LATIN1"), Some(Charset::Latin1));
        assert_eq!(Charset::from_name("big5"), None);
    }
}
