//! PB-Language-Preference (RFC 5793 §4.10).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |            Language Preference (Variable Length)              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use bytes::{BufMut, BytesMut};
use nea_wire::{DecodeError, DecodeErrorKind, Reader, Text};

use crate::Error;

/// PB-Language-Preference (RFC 5793 §4.10): an RFC 3282 `Accept-Language` header line
/// (US-ASCII, no control characters), e.g. `Accept-Language: fr, en`. Empty = no preference.
///
/// strongSwan requires the exact prefix `Accept-Language: ` and rejects an empty value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguagePreference(pub Text);

impl LanguagePreference {
    /// `Accept-Language: <tags>` for the given language range list (e.g. `"fr, en"`).
    pub fn accept_language(tags: &str) -> Self {
        Self(Text::from(format!("Accept-Language: {tags}")))
    }

    pub(crate) fn value_len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if first_bad(self.0.as_bytes()).is_some() {
            return Err(Error::InvalidValue {
                field: "Language Preference",
            });
        }
        Ok(())
    }

    pub(crate) fn encode_value(&self, out: &mut BytesMut) {
        out.put_slice(self.0.as_bytes());
    }

    pub(crate) fn decode_value(mut r: Reader) -> Result<Self, DecodeError> {
        let at = r.offset();
        let raw = r.rest();
        // RFC 5793 §4.10: US-ASCII, no control characters (so no NUL).
        if let Some(i) = first_bad(&raw) {
            return Err(DecodeError::new(
                DecodeErrorKind::InvalidValue {
                    field: "Language Preference",
                },
                at + i,
            ));
        }
        let text = Text::from_bytes(raw)
            .map_err(|_| DecodeError::new(DecodeErrorKind::InvalidUtf8, at))?;
        Ok(Self(text))
    }
}

/// Index of the first byte that is not printable US-ASCII (space allowed).
fn first_bad(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| !(0x20..0x7f).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Batch, Message};
    use bytes::Bytes;

    #[test]
    fn exact_bytes_and_negative() {
        let wire = Bytes::from_static(b"\x02\x00\x00\x01\x00\x00\x00\x27\x00\x00\x00\x00\x00\x00\x00\x06\x00\x00\x00\x1fAccept-Language: en");
        let batch = Batch::decode(wire.clone()).unwrap();
        assert_eq!(
            batch.messages(),
            &[Message::LanguagePreference(
                LanguagePreference::accept_language("en")
            )]
        );
        assert_eq!(batch.to_bytes(), wire);
        let mut bad = wire.to_vec();
        bad[30] = b'\t';
        let e = Batch::decode(Bytes::from(bad)).unwrap_err();
        assert_eq!(e.offset, 30);
        assert!(LanguagePreference(Text::from("é")).validate().is_err());
        assert!(LanguagePreference(Text::from("")).validate().is_ok());
    }
}
