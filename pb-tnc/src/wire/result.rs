//! PB-Reason-String (RFC 5793 §4.11) and the `Length(4) | UTF-8 text | Lang Code Len(1) |
//! Lang Code` shape it shares with the Remediation-String (§4.8.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Reason String Length                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                Reason String (Variable Length)                |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Lang Code Len |  Reason String Language Code (Variable Length) |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use bytes::{BufMut, BytesMut};
use nea_wire::{DecodeError, DecodeErrorKind, Reader, Text};

use crate::Error;

/// PB-Reason-String (RFC 5793 §4.11): a human-readable reason for the assessment decision.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReasonString {
    /// Reason String: UTF-8, at least one byte, no NUL.
    pub reason: Text,
    /// Reason String Language Code: a BCP 47 tag, empty = unknown; at most 255 bytes.
    pub language: Text,
}

impl ReasonString {
    /// A reason in `language` (`""` when unknown).
    pub fn new(reason: impl Into<Text>, language: impl Into<Text>) -> Self {
        Self {
            reason: reason.into(),
            language: language.into(),
        }
    }

    pub(crate) fn value_len(&self) -> usize {
        text_lang_len(&self.reason, &self.language)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        // RFC 5793 §4.11: a zero-length reason string MUST NOT be sent.
        if self.reason.is_empty() {
            return Err(Error::InvalidValue {
                field: "Reason String",
            });
        }
        validate_text_lang(&self.reason, &self.language, "Reason String")
    }

    pub(crate) fn encode_value(&self, out: &mut BytesMut) {
        encode_text_lang(&self.reason, &self.language, out);
    }

    pub(crate) fn decode_value(mut r: Reader) -> Result<Self, DecodeError> {
        let len_at = r.offset();
        let (reason, language) = decode_text_lang(&mut r)?;
        // RFC 5793 §4.11: a zero-length reason string is invalid.
        if reason.is_empty() {
            return Err(DecodeError::new(
                DecodeErrorKind::InvalidValue {
                    field: "Reason String Length",
                },
                len_at,
            ));
        }
        // RFC 5793 §4.11: Length MUST be exactly 17 + both lengths.
        r.finish()?;
        Ok(Self { reason, language })
    }
}

pub(crate) fn text_lang_len(text: &Text, lang: &Text) -> usize {
    5usize.saturating_add(text.len()).saturating_add(lang.len())
}

pub(crate) fn validate_text_lang(
    text: &Text,
    lang: &Text,
    field: &'static str,
) -> Result<(), Error> {
    if text.contains_nul() || u32::try_from(text.len()).is_err() {
        return Err(Error::InvalidValue { field });
    }
    if lang.contains_nul() || lang.len() > 255 {
        return Err(Error::InvalidValue {
            field: "Language Code",
        });
    }
    Ok(())
}

pub(crate) fn encode_text_lang(text: &Text, lang: &Text, out: &mut BytesMut) {
    out.put_u32(u32::try_from(text.len()).unwrap_or(u32::MAX));
    out.put_slice(text.as_bytes());
    out.put_u8(u8::try_from(lang.len()).unwrap_or(u8::MAX));
    out.put_slice(lang.as_bytes());
}

/// Reads `Length(4) | text (UTF-8, no NUL) | Lang Len(1) | Lang (no NUL)`.
pub(crate) fn decode_text_lang(r: &mut Reader) -> Result<(Text, Text), DecodeError> {
    let len_at = r.offset();
    let len = r.u32()?;
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > r.remaining() {
        return Err(DecodeError::new(
            DecodeErrorKind::LengthOverrun {
                length: len as u64,
                available: r.remaining() as u64,
            },
            len_at,
        ));
    }
    // RFC 5793 §4.8.1, §4.11: UTF-8 without NUL termination.
    let text = r.text_no_nul(len)?;
    let lang_len = usize::from(r.u8()?);
    let lang = r.text_no_nul(lang_len)?;
    Ok((text, lang))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Batch, Message};
    use bytes::Bytes;

    fn one(msg: &[u8]) -> Result<Batch, DecodeError> {
        let mut v = vec![2, 0x80, 0, 3, 0, 0, 0, 0];
        v.extend_from_slice(msg);
        let len = u32::try_from(v.len()).unwrap();
        v[4..8].copy_from_slice(&len.to_be_bytes());
        Batch::decode(Bytes::from(v))
    }

    #[test]
    fn exact_bytes() {
        let msg = [
            0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 21, 0, 0, 0, 2, b'o', b'k', 2, b'e', b'n',
        ];
        let batch = one(&msg).unwrap();
        assert_eq!(
            batch.messages(),
            &[Message::ReasonString(ReasonString::new("ok", "en"))]
        );
        assert_eq!(&batch.to_bytes()[8..], &msg);
    }

    #[test]
    fn negative() {
        // trailing byte -> Length != 17 + lengths
        let e = one(&[
            0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 20, 0, 0, 0, 2, b'o', b'k', 0, 9,
        ])
        .unwrap_err();
        assert_eq!(
            e,
            DecodeError::new(DecodeErrorKind::TrailingBytes { count: 1 }, 27)
        );
        // zero-length reason
        let e = one(&[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 17, 0, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(e.offset, 20);
        // NUL in the reason
        let e = one(&[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 19, 0, 0, 0, 2, b'o', 0, 0]).unwrap_err();
        assert_eq!(e, DecodeError::new(DecodeErrorKind::ContainsNul, 24));
        // reason length beyond the message
        let e = one(&[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 18, 0, 0, 0, 9, b'o', 0]).unwrap_err();
        assert_eq!(e.offset, 20);
        // lang code beyond the message
        let e = one(&[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 18, 0, 0, 0, 1, b'o', 3]).unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::UnexpectedEnd { .. }));
        // NOSKIP set
        let e = one(&[0x80, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 18, 0, 0, 0, 1, b'o', 0]).unwrap_err();
        assert_eq!(e.offset, 8);
        assert!(ReasonString::new("", "").validate().is_err());
        assert!(ReasonString::new("a\0", "").validate().is_err());
        assert!(ReasonString::new("a", "x".repeat(256)).validate().is_err());
    }
}
