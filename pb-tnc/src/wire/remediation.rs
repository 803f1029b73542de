//! PB-Remediation-Parameters (RFC 5793 §4.8, §4.8.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Reserved   |       Remediation Parameters Vendor ID        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                  Remediation Parameters Type                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Remediation Parameters (Variable Length)            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Remediation-URI (IETF type 1): the parameters are a URI (RFC 3986), no length field.
//! Remediation-String (IETF type 2): `String Length(4) | UTF-8 string | Lang Code Len(1) |
//! Lang Code`.

use bytes::{BufMut, Bytes, BytesMut};
use nea_wire::{DecodeError, DecodeErrorKind, Reader, Text, VendorId};

use super::result::{decode_text_lang, encode_text_lang, text_lang_len, validate_text_lang};
use crate::Error;
use crate::registry::RemediationType;

/// PB-Remediation-Parameters (RFC 5793 §4.8): how the endpoint can become compliant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RemediationParameters {
    /// Remediation-URI (IETF type 1).
    Uri(Text),
    /// Remediation-String (IETF type 2).
    String {
        /// Remediation String: UTF-8, no NUL.
        text: Text,
        /// Remediation String Language Code (BCP 47, empty = unknown).
        language: Text,
    },
    /// Any other vendor/type, kept raw.
    Other {
        /// Remediation Parameters Vendor ID.
        vendor: VendorId,
        /// Remediation Parameters Type.
        kind: RemediationType,
        /// Remediation Parameters, as received.
        value: Bytes,
    },
}

impl RemediationParameters {
    /// The vendor ID field.
    pub fn vendor(&self) -> VendorId {
        match self {
            Self::Other { vendor, .. } => *vendor,
            _ => VendorId::IETF,
        }
    }

    /// The type field.
    pub fn kind(&self) -> RemediationType {
        match self {
            Self::Uri(_) => RemediationType::URI,
            Self::String { .. } => RemediationType::STRING,
            Self::Other { kind, .. } => *kind,
        }
    }

    pub(crate) fn value_len(&self) -> usize {
        8usize.saturating_add(match self {
            Self::Uri(u) => u.len(),
            Self::String { text, language } => text_lang_len(text, language),
            Self::Other { value, .. } => value.len(),
        })
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        match self {
            Self::Uri(u) if u.is_empty() || u.contains_nul() => Err(Error::InvalidValue {
                field: "Remediation-URI",
            }),
            Self::Uri(_) => Ok(()),
            Self::String { text, language } => {
                validate_text_lang(text, language, "Remediation String")
            }
            Self::Other { vendor, kind, .. } => {
                if vendor.is_reserved()
                    || (*vendor == VendorId::IETF && matches!(kind.get(), 1 | 2))
                {
                    Err(Error::InvalidValue {
                        field: "Remediation Parameters Vendor ID",
                    })
                } else {
                    Ok(())
                }
            }
        }
    }

    pub(crate) fn encode_value(&self, out: &mut BytesMut) {
        out.put_u8(0);
        nea_wire::put_u24(out, self.vendor().get());
        out.put_u32(self.kind().get());
        match self {
            Self::Uri(u) => out.put_slice(u.as_bytes()),
            Self::String { text, language } => encode_text_lang(text, language, out),
            Self::Other { value, .. } => out.put_slice(value),
        }
    }

    pub(crate) fn decode_value(mut r: Reader, at: usize) -> Result<Self, DecodeError> {
        // RFC 5793 §4.8: Length below 20 is a fatal Invalid Parameter.
        super::min_len(r.remaining() + super::MESSAGE_HEADER_LEN, at, 20)?;
        let _reserved = r.u8()?;
        let vendor = VendorId::from_u24(r.u24()?);
        let kind = RemediationType(r.u32()?);
        Ok(match (vendor, kind) {
            (VendorId::IETF, RemediationType::URI) => {
                // RFC 5793 §4.8.1: the parameters MUST be a URI (so not empty).
                if r.is_empty() {
                    return Err(r.error(DecodeErrorKind::InvalidValue {
                        field: "Remediation-URI",
                    }));
                }
                let len = r.remaining();
                Self::Uri(r.text_no_nul(len)?)
            }
            (VendorId::IETF, RemediationType::STRING) => {
                // RFC 5793 §4.8.1: a NUL in the string is a fatal Invalid Parameter.
                let (text, language) = decode_text_lang(&mut r)?;
                r.finish()?;
                Self::String { text, language }
            }
            _ => Self::Other {
                vendor,
                kind,
                value: r.rest(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Batch, Message};

    fn one(msg: &[u8]) -> Result<Batch, DecodeError> {
        let mut v = vec![2, 0x80, 0, 2, 0, 0, 0, 0];
        v.extend_from_slice(msg);
        let len = u32::try_from(v.len()).unwrap();
        v[4..8].copy_from_slice(&len.to_be_bytes());
        Batch::decode(Bytes::from(v))
    }

    #[test]
    fn uri_string_vendor_roundtrip() {
        let uri = [
            0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 28, 0, 0, 0, 0, 0, 0, 0, 1, b'h', b't', b't', b'p',
            b':', b'/', b'/', b'x',
        ];
        let b = one(&uri).unwrap();
        assert_eq!(
            b.messages(),
            &[Message::RemediationParameters(RemediationParameters::Uri(
                Text::from("http://x")
            ))]
        );
        assert_eq!(&b.to_bytes()[8..], &uri);

        let s = [
            0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 29, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3, b'f', b'i',
            b'x', 1, b'd',
        ];
        let b = one(&s).unwrap();
        assert_eq!(
            b.messages(),
            &[Message::RemediationParameters(
                RemediationParameters::String {
                    text: Text::from("fix"),
                    language: Text::from("d"),
                }
            )]
        );
        assert_eq!(&b.to_bytes()[8..], &s);

        let v = [
            0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 22, 0, 0, 0x90, 0x2a, 0, 0, 0, 7, 0xde, 0xad,
        ];
        let b = one(&v).unwrap();
        let Message::RemediationParameters(r) = &b.messages()[0] else {
            panic!()
        };
        assert_eq!(r.vendor(), VendorId::ITA);
        assert_eq!(r.kind(), RemediationType(7));
        assert_eq!(&b.to_bytes()[8..], &v);
    }

    #[test]
    fn negative() {
        // RFC 5793 §4.8.1: an empty Remediation-URI, at the end of the fixed part
        let e = one(&[0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap_err();
        assert_eq!(
            e,
            DecodeError::new(
                DecodeErrorKind::InvalidValue {
                    field: "Remediation-URI"
                },
                28
            )
        );
        // RFC 5793 §4.8: Length < 20
        let e = one(&[0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 19, 0, 0, 0, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(e.offset, 16);
        // RFC 5793 §4.8.1: NUL in the Remediation-String
        let e = one(&[
            0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 26, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0,
        ])
        .unwrap_err();
        assert_eq!(e, DecodeError::new(DecodeErrorKind::ContainsNul, 32));
        // NOSKIP set
        let e = one(&[
            0x80, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 9,
        ])
        .unwrap_err();
        assert_eq!(e.offset, 8);
        // trailing bytes after a Remediation-String
        let e = one(&[
            0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 26, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 7,
        ])
        .unwrap_err();
        assert!(matches!(
            e.kind,
            DecodeErrorKind::TrailingBytes { count: 1 }
        ));
        let other = RemediationParameters::Other {
            vendor: VendorId::IETF,
            kind: RemediationType::URI,
            value: Bytes::new(),
        };
        assert!(other.validate().is_err());
        assert!(
            RemediationParameters::Uri(Text::from(""))
                .validate()
                .is_err()
        );
    }
}
