//! SASL Mechanisms, SASL Mechanism Selection and SASL Result (RFC 6876 §3.8.7–§3.8.10).

use core::fmt;

use bytes::{BufMut, Bytes, BytesMut};
use nea_wire::{DecodeError, DecodeErrorKind, Reader, Text};

use crate::registry::SaslResultCode;

/// A SASL mechanism name: 1–20 characters of `A-Z`, `0-9`, `-`, `_` (RFC 4422 §3.1, RFC 6876
/// §3.8.7).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MechanismName(Text);

impl MechanismName {
    /// PLAIN (RFC 4616).
    pub const PLAIN: Self = Self(Text::from_static("PLAIN"));
    /// EXTERNAL (RFC 4422 Appendix A).
    pub const EXTERNAL: Self = Self(Text::from_static("EXTERNAL"));

    /// Checks `name` against the RFC 4422 syntax.
    pub fn new(name: &str) -> Option<Self> {
        Self::valid(name.as_bytes()).then(|| Self(Text::from(name)))
    }

    fn valid(b: &[u8]) -> bool {
        (1..=20).contains(&b.len())
            && b.iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'-' || *c == b'_')
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    fn len_u8(&self) -> u8 {
        // The constructor keeps names at 1..=20 bytes.
        u8::try_from(self.0.len()).unwrap_or(0)
    }

    fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        let at = r.offset();
        // Rsvd (3 bits) | Mech Len (5 bits); Rsvd ignored on receipt.
        let len = r.u8()? & 0x1f;
        if len == 0 {
            return Err(DecodeError::new(
                DecodeErrorKind::InvalidValue { field: "Mech Len" },
                at,
            ));
        }
        let name_at = r.offset();
        let raw = r.take(usize::from(len))?;
        if !Self::valid(&raw) {
            return Err(DecodeError::new(
                DecodeErrorKind::InvalidValue {
                    field: "Mechanism Name",
                },
                name_at,
            ));
        }
        Text::from_bytes(raw)
            .map(Self)
            .map_err(|_| DecodeError::new(DecodeErrorKind::InvalidUtf8, name_at))
    }

    fn write(&self, out: &mut BytesMut) {
        out.put_u8(self.len_u8());
        out.put_slice(self.0.as_bytes());
    }
}

impl fmt::Debug for MechanismName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for MechanismName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SASL Mechanisms (RFC 6876 §3.8.7): the mechanisms the NEA Server is willing to use. The
/// empty list ends the Negotiation phase (§3.8.3).
///
/// ```text
/// +-----+---------+-------------------------------------------+
/// | Rsvd| Mech Len|        Mechanism Name (1-20 bytes)        |  repeated
/// +-----+---------+-------------------------------------------+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SaslMechanisms {
    /// The offered mechanisms, in the server's order.
    pub mechanisms: Vec<MechanismName>,
}

impl SaslMechanisms {
    /// A list of mechanisms.
    pub fn new(mechanisms: Vec<MechanismName>) -> Self {
        Self { mechanisms }
    }

    /// The empty list: "no (further) authentication, go to Data Transport".
    pub fn empty() -> Self {
        Self::default()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.mechanisms.is_empty()
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.mechanisms.iter().map(|m| 1 + m.0.len()).sum()
    }

    /// Most mechanisms a received list may name. Each costs only two wire bytes but a
    /// `MechanismName` in memory, so an unbounded list would let an 8 MiB message expand to
    /// about 128 MiB; the IANA SASL registry holds well under this many.
    pub const MAX_MECHANISMS: usize = 256;

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let mut mechanisms = Vec::new();
        while !r.is_empty() {
            if mechanisms.len() == Self::MAX_MECHANISMS {
                return Err(r.error(DecodeErrorKind::TooLarge {
                    length: Self::MAX_MECHANISMS as u64 + 1,
                    limit: Self::MAX_MECHANISMS as u64,
                }));
            }
            mechanisms.push(MechanismName::read(r)?);
        }
        Ok(Self { mechanisms })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        for m in &self.mechanisms {
            m.write(out);
        }
    }
}

/// SASL Mechanism Selection (RFC 6876 §3.8.8), the NEA Client's choice.
///
/// ```text
/// +-----+---------+-------------------------------------------+
/// | Rsvd| Mech Len|        Mechanism Name (1-20 bytes)        |
/// +-----+---------+-------------------------------------------+
/// |            Optional Initial Mechanism Response            |
/// +-----------------------------------------------------------+
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslMechanismSelection {
    /// The selected mechanism.
    pub mechanism: MechanismName,
    /// Optional Initial Mechanism Response (empty when absent).
    pub initial_response: Bytes,
}

impl SaslMechanismSelection {
    pub(crate) fn encoded_len(&self) -> usize {
        1 + self.mechanism.0.len() + self.initial_response.len()
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let mechanism = MechanismName::read(r)?;
        Ok(Self {
            mechanism,
            initial_response: r.rest(),
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.mechanism.write(out);
        out.put_slice(&self.initial_response);
    }
}

/// How a SASL Result code was (or is to be) encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ResultForm {
    /// RFC 6876 §3.8.10: a 16-bit Result Code.
    #[default]
    Rfc,
    /// strongSwan's 1-byte Result Code (a message of Length 17). Decoded so that captures
    /// round-trip; this crate never sends it.
    OneByte,
}

/// SASL Result (RFC 6876 §3.8.10).
///
/// ```text
/// +-------------------------------+-------------------------------+
/// |           Result Code         |    Optional Result Data       |
/// +-------------------------------+-------------------------------+
/// ```
///
/// A 1-byte value is read as strongSwan's 1-byte code ([`ResultForm::OneByte`]); two or more
/// bytes as the RFC form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslResult {
    /// Result Code.
    pub code: SaslResultCode,
    /// Optional Result Data (only with Success, RFC 4422 additional data).
    pub data: Bytes,
    /// Wire form; [`ResultForm::Rfc`] unless decoded from strongSwan's 1-byte form.
    pub form: ResultForm,
}

impl SaslResult {
    /// A result without data, in the RFC form.
    pub fn new(code: SaslResultCode) -> Self {
        Self {
            code,
            data: Bytes::new(),
            form: ResultForm::Rfc,
        }
    }

    /// Success with RFC 4422 additional data.
    pub fn success_with(data: Bytes) -> Self {
        Self {
            code: SaslResultCode::SUCCESS,
            data,
            form: ResultForm::Rfc,
        }
    }

    fn one_byte_code(&self) -> Option<u8> {
        match self.form {
            ResultForm::OneByte if self.data.is_empty() => u8::try_from(self.code.0).ok(),
            _ => None,
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        match self.one_byte_code() {
            Some(_) => 1,
            None => 2 + self.data.len(),
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        if r.remaining() == 1 {
            // strongSwan deviates: 1-byte Result Code (NEA-WIRE-FACTS §1.3).
            return Ok(Self {
                code: SaslResultCode(u16::from(r.u8()?)),
                data: Bytes::new(),
                form: ResultForm::OneByte,
            });
        }
        let code = SaslResultCode(r.u16()?);
        Ok(Self {
            code,
            data: r.rest(),
            form: ResultForm::Rfc,
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        match self.one_byte_code() {
            Some(c) => out.put_u8(c),
            None => {
                out.put_u16(self.code.0);
                out.put_slice(&self.data);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mechanism_names() {
        assert!(MechanismName::new("PLAIN").is_some());
        assert!(MechanismName::new("SCRAM-SHA-256").is_some());
        assert!(MechanismName::new("GS2-KRB5_X").is_some());
        assert!(MechanismName::new("").is_none());
        assert!(MechanismName::new("plain").is_none());
        assert!(MechanismName::new("A23456789012345678901").is_none());
        assert_eq!(format!("{:?}", MechanismName::EXTERNAL), "EXTERNAL");
    }

    #[test]
    fn mechanism_list_is_capped() {
        let one = [0x01, b'A'];
        let at_cap: Vec<u8> = one.repeat(SaslMechanisms::MAX_MECHANISMS);
        let mut r = Reader::new(Bytes::from(at_cap.clone()), 16);
        assert_eq!(
            SaslMechanisms::decode(&mut r).unwrap().mechanisms.len(),
            SaslMechanisms::MAX_MECHANISMS
        );
        let mut over = at_cap;
        over.extend_from_slice(&one);
        let mut r = Reader::new(Bytes::from(over), 16);
        let e = SaslMechanisms::decode(&mut r).unwrap_err();
        assert_eq!(e.offset, 16 + 2 * SaslMechanisms::MAX_MECHANISMS);
        assert!(matches!(
            e.kind,
            DecodeErrorKind::TooLarge { limit: 256, .. }
        ));
    }

    #[test]
    fn bad_mechanism_list() {
        // Mech Len 0 at value offset 0.
        let mut r = Reader::new(Bytes::from_static(&[0x00]), 16);
        assert_eq!(
            SaslMechanisms::decode(&mut r).unwrap_err(),
            DecodeError::new(DecodeErrorKind::InvalidValue { field: "Mech Len" }, 16)
        );
        // Lower-case name.
        let mut r = Reader::new(Bytes::from_static(&[0x02, b'a', b'b']), 16);
        assert_eq!(SaslMechanisms::decode(&mut r).unwrap_err().offset, 17);
        // Name runs past the end.
        let mut r = Reader::new(Bytes::from_static(&[0x05, b'P', b'L']), 16);
        assert!(matches!(
            SaslMechanisms::decode(&mut r).unwrap_err().kind,
            DecodeErrorKind::UnexpectedEnd { needed: 3 }
        ));
        // Reserved bits are ignored.
        let mut r = Reader::new(Bytes::from_static(&[0xe2, b'A', b'B']), 16);
        assert_eq!(
            SaslMechanisms::decode(&mut r).unwrap().mechanisms[0].as_str(),
            "AB"
        );
    }

    #[test]
    fn result_forms() {
        let mut out = BytesMut::new();
        SaslResult::success_with(Bytes::from_static(b"hi")).encode(&mut out);
        assert_eq!(&out[..], b"\0\0hi");
        // A OneByte result that cannot be one byte falls back to the RFC form.
        let r = SaslResult {
            code: SaslResultCode(300),
            data: Bytes::new(),
            form: ResultForm::OneByte,
        };
        assert_eq!(r.encoded_len(), 2);
    }
}
