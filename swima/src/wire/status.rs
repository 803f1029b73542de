//! Subscription Status Request/Response (RFC 8412 §5.11, §5.12) and Source Metadata
//! Request/Response (§5.13, §5.14).

use bytes::{BufMut, Bytes};
use nea_wire::{DecodeError, DecodeErrorKind, Reader, Text, VendorId, put_u24};
use pa_tnc::{AttributeType, PaAttribute};

use super::SwimaRequest;
use super::record::{check_count24, count24, read_counted};
use crate::Error;

fn empty_value(value: &Bytes, base: usize) -> Result<(), DecodeError> {
    if value.is_empty() {
        Ok(())
    } else {
        // Reported at the attribute's Length field, 4 bytes before the value.
        Err(DecodeError::new(
            DecodeErrorKind::LengthMismatch {
                length: (value.len() + nea_wire::TLV_HEADER_LEN) as u64,
                expected: nea_wire::TLV_HEADER_LEN as u64,
            },
            base.saturating_sub(4),
        ))
    }
}

/// Subscription Status Request (RFC 8412 §5.11), type 18: no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubscriptionStatusRequest;

impl PaAttribute for SubscriptionStatusRequest {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::SUBSCRIPTION_STATUS_REQUEST.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        // RFC 8412 §5.11: the attribute has no value (Length 12).
        empty_value(&value, base)?;
        Ok(Self)
    }

    fn value_len(&self) -> usize {
        0
    }

    fn encode_value<B: BufMut>(&self, _out: &mut B) {}
}

/// Source Metadata Request (RFC 8412 §5.13), type 20: no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SourceMetadataRequest;

impl PaAttribute for SourceMetadataRequest {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::SOURCE_METADATA_REQUEST.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        // RFC 8412 §5.13: the attribute has no value (Length 12).
        empty_value(&value, base)?;
        Ok(Self)
    }

    fn value_len(&self) -> usize {
        0
    }

    fn encode_value<B: BufMut>(&self, _out: &mut B) {}
}

/// Subscription Status Response (RFC 8412 §5.12), type 19.
///
/// ```text
/// | Status Flags  |            Subscription Record Count              |
/// | records: each an exact copy of the establishing SWIMA Request's   |
/// |   Flags | SW Identifier Count | Request ID | Earliest EID | ids   |
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubscriptionStatusResponse {
    /// Status Flags as received (all reserved).
    pub flags: u8,
    subscriptions: Vec<SwimaRequest>,
}

impl SubscriptionStatusResponse {
    /// A response listing `subscriptions` (their establishing requests, §5.12).
    pub fn new(subscriptions: Vec<SwimaRequest>) -> Result<Self, Error> {
        check_count24("Subscription Record Count", subscriptions.len())?;
        Ok(Self {
            flags: 0,
            subscriptions,
        })
    }

    /// The active subscriptions (the Request ID of each is the Subscription ID).
    pub fn subscriptions(&self) -> &[SwimaRequest] {
        &self.subscriptions
    }
}

impl PaAttribute for SubscriptionStatusResponse {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::SUBSCRIPTION_STATUS_RESPONSE.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value, base);
        let flags = r.u8()?;
        let count_at = r.offset();
        let count = r.u24()?;
        let subscriptions = read_counted(&mut r, count, 12, count_at, SwimaRequest::read)?;
        r.finish()?;
        Ok(Self {
            flags,
            subscriptions,
        })
    }

    fn value_len(&self) -> usize {
        4 + self
            .subscriptions
            .iter()
            .map(SwimaRequest::len)
            .sum::<usize>()
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        out.put_u8(self.flags);
        put_u24(out, count24(self.subscriptions.len()));
        for s in &self.subscriptions {
            s.write(out);
        }
    }
}

/// One source described by a Source Metadata Response (RFC 8412 §5.14).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceMetadata {
    /// Source Identification Number.
    pub source_id: u8,
    /// Free-form description (SHOULD be human-readable; never NUL-terminated).
    pub metadata: Text,
}

/// Source Metadata Response (RFC 8412 §5.14), type 21.
///
/// ```text
/// |           Reserved            | Source Count  | Source Id Num |
/// | Metadata Length (2)            | Metadata ... (Count times)   |
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceMetadataResponse {
    /// Reserved (2 bytes) as received.
    pub reserved: u16,
    sources: Vec<SourceMetadata>,
}

impl SourceMetadataResponse {
    /// A response describing `sources`: at most 255 (the count is one byte), metadata at most
    /// 65,535 bytes each.
    pub fn new(sources: Vec<SourceMetadata>) -> Result<Self, Error> {
        if sources.len() > 255 {
            return Err(Error::TooMany {
                field: "Source Count",
                count: sources.len(),
                max: 255,
            });
        }
        for s in &sources {
            super::record::check_text16("Metadata", &s.metadata)?;
            // RFC 8412 §5.14: the Metadata MUST NOT be null terminated.
            if s.metadata.as_bytes().last() == Some(&0) {
                return Err(Error::InvalidValue("Metadata is NUL-terminated"));
            }
        }
        Ok(Self {
            reserved: 0,
            sources,
        })
    }

    /// The described sources.
    pub fn sources(&self) -> &[SourceMetadata] {
        &self.sources
    }
}

impl PaAttribute for SourceMetadataResponse {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::SOURCE_METADATA_RESPONSE.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value, base);
        let reserved = r.u16()?;
        let count_at = r.offset();
        let count = r.u8()?;
        let sources = read_counted(&mut r, u32::from(count), 3, count_at, |r| {
            let source_id = r.u8()?;
            let len = r.u16()?;
            let metadata = r.text(usize::from(len))?;
            Ok(SourceMetadata {
                source_id,
                metadata,
            })
        })?;
        r.finish()?;
        Ok(Self { reserved, sources })
    }

    fn value_len(&self) -> usize {
        3 + self
            .sources
            .iter()
            .map(|s| 3 + s.metadata.len())
            .sum::<usize>()
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        out.put_u16(self.reserved);
        out.put_u8(u8::try_from(self.sources.len()).unwrap_or(u8::MAX));
        for s in &self.sources {
            out.put_u8(s.source_id);
            super::record::write_text16(&s.metadata, out);
        }
    }
}
