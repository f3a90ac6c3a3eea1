use std::fmt;

/// A string of bits of a declared length (MySQL `BIT(n)`, PostgreSQL `bit(n)`).
///
/// Bits are stored most significant first, packed into bytes; the unused low bits of
/// the last byte are always zero, so two equal bit strings compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct BitString {
    len: usize,
    bytes: Box<[u8]>,
}

impl BitString {
    /// The low `len` bits of `value` (`len` at most 64), as MySQL stores `BIT(len)`.
    pub fn from_u64(value: u64, len: usize) -> Self {
        assert!(len <= 64, "a u64 holds at most 64 bits, not {len}");
        let mut bits = BitString {
            len,
            bytes: vec![0; len.div_ceil(8)].into_boxed_slice(),
        };
        for i in 0..len {
            let bit = (value >> (len - 1 - i)) & 1 == 1;
            bits.set(i, bit);
        }
        bits
    }

    /// Bits packed most significant first; bits beyond `len` are cleared.
    pub fn from_bytes(mut bytes: Vec<u8>, len: usize) -> Self {
        bytes.resize(len.div_ceil(8), 0);
        if !len.is_multiple_of(8) {
            let last = bytes.len() - 1;
            bytes[last] &= 0xffu8 << (8 - len % 8);
        }
        BitString {
            len,
            bytes: bytes.into_boxed_slice(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn get(&self, index: usize) -> bool {
        self.bytes[index / 8] & (0x80 >> (index % 8)) != 0
    }

    fn set(&mut self, index: usize, bit: bool) {
        let mask = 0x80 >> (index % 8);
        if bit {
            self.bytes[index / 8] |= mask;
        } else {
            self.bytes[index / 8] &= !mask;
        }
    }

    /// The bits as an unsigned integer, when they fit in 64.
    pub fn to_u64(&self) -> Option<u64> {
        (self.len <= 64).then(|| (0..self.len).fold(0, |acc, i| acc << 1 | u64::from(self.get(i))))
    }
}

impl fmt::Display for BitString {
    /// The bits as `0` and `1` characters, most significant first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in 0..self.len {
            f.write_str(if self.get(i) { "1" } else { "0" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_64_bits() {
        for value in [0, 1, u64::MAX, 0x8000_0000_0000_0001] {
            let bits = BitString::from_u64(value, 64);
            assert_eq!(bits.to_u64(), Some(value));
            assert_eq!(bits.as_bytes(), value.to_be_bytes());
        }
    }

    #[test]
    fn short_strings_are_packed_high() {
        let bits = BitString::from_u64(0b101, 3);
        assert_eq!(bits.to_string(), "101");
        assert_eq!(bits.as_bytes(), [0b1010_0000]);
        assert_eq!(BitString::from_bytes(vec![0b1011_1111], 3), bits);
    }
}
