//! A bounds-checked cursor over the bytes of one event.
//!
//! Every read either returns the bytes asked for or [`Truncated`], never panics: an
//! event whose lengths disagree with its size is malformed, and the caller names it.

/// A read ran past the end of the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Truncated;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], Truncated> {
        let (head, tail) = self.bytes.split_at_checked(len).ok_or(Truncated)?;
        self.bytes = tail;
        Ok(head)
    }

    pub(crate) fn take_array<const N: usize>(&mut self) -> Result<[u8; N], Truncated> {
        let (head, tail) = self.bytes.split_first_chunk::<N>().ok_or(Truncated)?;
        self.bytes = tail;
        Ok(*head)
    }

    pub(crate) fn skip(&mut self, len: usize) -> Result<(), Truncated> {
        self.take(len).map(drop)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Truncated> {
        let [byte] = self.take_array()?;
        Ok(byte)
    }

    pub(crate) fn u16_le(&mut self) -> Result<u16, Truncated> {
        self.take_array().map(u16::from_le_bytes)
    }

    pub(crate) fn u32_le(&mut self) -> Result<u32, Truncated> {
        self.take_array().map(u32::from_le_bytes)
    }

    pub(crate) fn u64_le(&mut self) -> Result<u64, Truncated> {
        self.take_array().map(u64::from_le_bytes)
    }

    /// An unsigned little-endian integer of `len` bytes (at most 8).
    pub(crate) fn uint_le(&mut self, len: usize) -> Result<u64, Truncated> {
        let bytes = self.take(len)?;
        Ok(bytes
            .iter()
            .rev()
            .fold(0, |value, &byte| value << 8 | u64::from(byte)))
    }

    /// An unsigned big-endian integer of `len` bytes (at most 8).
    pub(crate) fn uint_be(&mut self, len: usize) -> Result<u64, Truncated> {
        let bytes = self.take(len)?;
        Ok(bytes
            .iter()
            .fold(0, |value, &byte| value << 8 | u64::from(byte)))
    }

    /// The protocol's length-encoded integer: one byte below 251, else a marker byte
    /// and 2, 3 or 8 bytes.
    pub(crate) fn lenenc(&mut self) -> Result<u64, Truncated> {
        match self.u8()? {
            0xfc => self.uint_le(2),
            0xfd => self.uint_le(3),
            0xfe => self.uint_le(8),
            // 0xfb (NULL) and 0xff (error) never start a length in an event.
            0xfb | 0xff => Err(Truncated),
            byte => Ok(u64::from(byte)),
        }
    }

    /// A length-encoded string: its length, then its bytes.
    pub(crate) fn lenenc_bytes(&mut self) -> Result<&'a [u8], Truncated> {
        let len = self.lenenc()?;
        self.take(usize::try_from(len).map_err(|_| Truncated)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_integers_in_both_byte_orders() {
        let mut reader = Reader::new(&[0x01, 0x02, 0x03, 0x01, 0x02, 0x03]);
        assert_eq!(reader.uint_le(3), Ok(0x03_02_01));
        assert_eq!(reader.uint_be(3), Ok(0x01_02_03));
        assert!(reader.is_empty());
        assert_eq!(reader.u8(), Err(Truncated));
    }

    #[test]
    fn reads_length_encoded_integers() {
        let mut reader = Reader::new(&[0xfa, 0xfc, 0x34, 0x12, 0xfd, 1, 2, 3]);
        assert_eq!(reader.lenenc(), Ok(250));
        assert_eq!(reader.lenenc(), Ok(0x1234));
        assert_eq!(reader.lenenc(), Ok(0x03_02_01));
        assert_eq!(Reader::new(&[0xfc, 0x01]).lenenc(), Err(Truncated));
    }
}
