//! CoSWID CBOR codec (RFC 9393 §2): strict and lenient decoding with minicbor, strict encoding,
//! canonical (RFC 8949 §4.2.1) re-encoding.

pub(crate) mod canonical;
pub(crate) mod decode;
pub(crate) mod enc;
pub(crate) mod encode;

/// CBOR tag of a tagged CoSWID (RFC 9393 §8).
pub const COSWID_TAG: u64 = 1_398_229_316;

use crate::error::{DecodeError, DecodeErrorKind, Deviation, ValidationError};
use crate::model::ConciseSwidTag;
use encode::Enc;

/// Decoding mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Reject every deviation from the CDDL and every RFC 9393 rule violation.
    #[default]
    Strict,
    /// Accept the known real-world deviations, reporting each one; no validation.
    Lenient,
}

/// The result of [`ConciseSwidTag::decode_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// The tag.
    pub tag: ConciseSwidTag<'a>,
    /// Whether it was wrapped in CBOR tag 1398229316.
    pub tagged: bool,
    /// Deviations accepted (always empty in strict mode).
    pub deviations: Vec<Deviation>,
}

impl<'a> ConciseSwidTag<'a> {
    /// Strict decode of one CoSWID (tagged or untagged), borrowing text and bytes from `input`,
    /// then [`validate`](Self::validate). Trailing bytes are an error.
    pub fn decode(input: &'a [u8]) -> Result<Self, DecodeError> {
        Self::decode_with(input, Mode::Strict).map(|d| d.tag)
    }

    /// Lenient decode: accepts the deviations listed in [`crate::DeviationKind`] and reports them.
    pub fn decode_lenient(input: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
        Self::decode_with(input, Mode::Lenient)
    }

    /// Decode in the given mode.
    pub fn decode_with(input: &'a [u8], mode: Mode) -> Result<Decoded<'a>, DecodeError> {
        let strict = mode == Mode::Strict;
        let mut cx = decode::Ctx::new(strict, 0);
        let (tag, tagged) = decode::top(input, &mut cx)?;
        if strict {
            tag.validate().map_err(|v| DecodeError {
                kind: DecodeErrorKind::Invalid(v.kind),
                field: v.field,
                offset: 0,
            })?;
        }
        Ok(Decoded {
            tag,
            tagged,
            deviations: cx.deviations,
        })
    }

    /// Decode an RFC 8742 CBOR sequence of CoSWIDs (e.g. the payload of a uSWID container).
    pub fn decode_sequence(input: &'a [u8], mode: Mode) -> Result<Vec<Decoded<'a>>, DecodeError> {
        let mut out = Vec::new();
        let mut start = 0usize;
        while start < input.len() {
            let rest = input.get(start..).unwrap_or_default();
            let mut d = minicbor::Decoder::new(rest);
            d.skip().map_err(|e| DecodeError {
                kind: if e.is_end_of_input() {
                    DecodeErrorKind::EndOfInput
                } else {
                    DecodeErrorKind::Malformed
                },
                field: "coswid",
                offset: start,
            })?;
            let item = rest.get(..d.position()).unwrap_or_default();
            let mut one = Self::decode_with(item, mode).map_err(|mut e| {
                e.offset = e.offset.saturating_add(start);
                e
            })?;
            for dev in &mut one.deviations {
                dev.offset = dev.offset.saturating_add(start);
            }
            out.push(one);
            start = start.saturating_add(item.len().max(1));
        }
        Ok(out)
    }

    /// Append the strict encoding (untagged) without validating: what the model holds is
    /// written, so a lenient-decoded tag that breaks a rule is written as it is.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.enc(out);
    }

    /// Append the encoding wrapped in CBOR tag 1398229316.
    pub fn encode_tagged(&self, out: &mut Vec<u8>) {
        enc::tag(out, COSWID_TAG);
        self.enc(out);
    }

    /// Validate, then encode (untagged).
    pub fn to_cbor(&self) -> Result<Vec<u8>, ValidationError> {
        self.validate()?;
        let mut out = Vec::with_capacity(256);
        self.enc(&mut out);
        Ok(out)
    }

    /// The encoded length of [`encode`](Self::encode).
    pub fn encoded_len(&self) -> usize {
        let mut out = Vec::new();
        self.enc(&mut out);
        out.len()
    }

    /// RFC 8949 §4.2.1 deterministic encoding (untagged): also sorts unknown keys and
    /// canonicalises unknown values.
    pub fn to_cbor_canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.enc(&mut out);
        // our own output is always well-formed; fall back to it if that ever fails
        canonical::canonicalize(&out).unwrap_or(out)
    }
}

/// Re-encode any single CBOR item in RFC 8949 §4.2.1 deterministic form.
pub fn canonicalize(input: &[u8]) -> Result<Vec<u8>, DecodeError> {
    canonical::canonicalize(input)
}

macro_rules! fragment {
    ($t:ident, $reader:path, $name:literal) => {
        impl<'a> crate::model::$t<'a> {
            #[doc = concat!("Decode one `", $name, "` map on its own (a fragment, as other libraries' unit tests")]
            /// hold them), borrowing from `input`; returns the deviations accepted in lenient mode.
            pub fn decode_fragment(
                input: &'a [u8],
                mode: Mode,
            ) -> Result<(Self, Vec<Deviation>), DecodeError> {
                let mut cx = decode::Ctx::new(mode == Mode::Strict, 0);
                let mut d = minicbor::Decoder::new(input);
                let v = $reader(&mut d, &mut cx, $name)?.ok_or(DecodeError {
                    kind: DecodeErrorKind::WrongType { expected: "map" },
                    field: $name,
                    offset: 0,
                })?;
                if d.position() != input.len() {
                    return Err(DecodeError {
                        kind: DecodeErrorKind::TrailingBytes,
                        field: $name,
                        offset: d.position(),
                    });
                }
                Ok((v, cx.deviations))
            }

            /// Append the strict encoding of this map on its own.
            pub fn encode_fragment(&self, out: &mut Vec<u8>) {
                self.enc(out);
            }
        }
    };
}

fragment!(Entity, decode::entity_entry, "entity");
fragment!(Link, decode::link_entry, "link");
fragment!(SoftwareMeta, decode::software_meta, "software-meta");
fragment!(Payload, decode::payload_entry, "payload");
fragment!(Evidence, decode::evidence_entry, "evidence");
fragment!(Directory, decode::directory_entry, "directory");
fragment!(File, decode::file_entry, "file");
fragment!(Process, decode::process_entry, "process");
fragment!(Resource, decode::resource_entry, "resource");
