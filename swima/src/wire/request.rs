//! SWIMA Request (RFC 8412 §5.6), also the layout of each record of a Subscription Status
//! Response (§5.12).

use bytes::{BufMut, Bytes};
use nea_wire::{DecodeError, Reader, Text, VendorId, put_u24};
use pa_tnc::{AttributeType, PaAttribute};

use super::record::{
    check_count24, check_text16, count24, read_counted, read_text16, write_text16,
};
use crate::Error;

/// SWIMA Request (RFC 8412 §5.6), attribute type 13, sent by a SWIMA-PV.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |C|S|R|Reserved |          Software Identifier Count            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          Request ID                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Earliest EID                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Software Identifier Length   | Software Identifier (var) ... |  (Count times)
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// | R | Earliest EID | answer |
/// |---|---|---|
/// | 1 | 0 | Software Identifier Inventory (14) |
/// | 1 | ≠ 0 | Software Identifier Events (15) |
/// | 0 | 0 | Software Inventory (16) |
/// | 0 | ≠ 0 | Software Events (17) |
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SwimaRequest {
    /// The flags byte as received (`C` = `0x80`, `S` = `0x40`, `R` = `0x20`; reserved bits are
    /// kept so a Subscription Status Response can copy the request exactly, §5.12).
    pub flags: u8,
    /// Request ID (§5.5); the Subscription ID when `S` is set.
    pub request_id: u32,
    /// Earliest EID: 0 asks for an inventory, otherwise for events with EID ≥ this (§3.7.4).
    pub earliest_eid: u32,
    targets: Vec<Text>,
}

impl SwimaRequest {
    /// Clear Subscriptions flag.
    pub const FLAG_CLEAR: u8 = 0x80;
    /// Subscribe flag.
    pub const FLAG_SUBSCRIBE: u8 = 0x40;
    /// Result Type flag: Software Identifiers only.
    pub const FLAG_IDENTIFIERS_ONLY: u8 = 0x20;

    /// A request; `targets` empty means "not targeted". Fails if there are more than 2^24 − 1
    /// targets or one is longer than 65,535 bytes.
    pub fn new(
        flags: u8,
        request_id: u32,
        earliest_eid: u32,
        targets: Vec<Text>,
    ) -> Result<Self, Error> {
        check_count24("Software Identifier Count", targets.len())?;
        for t in &targets {
            check_text16("Software Identifier", t)?;
        }
        Ok(Self {
            flags,
            request_id,
            earliest_eid,
            targets,
        })
    }

    /// A request for the full inventory (records, not targeted).
    pub fn inventory(request_id: u32) -> Self {
        Self {
            flags: 0,
            request_id,
            earliest_eid: 0,
            targets: Vec::new(),
        }
    }

    /// A request for all events with EID ≥ `earliest_eid` (records, not targeted).
    pub fn events(request_id: u32, earliest_eid: u32) -> Self {
        Self {
            flags: 0,
            request_id,
            earliest_eid,
            targets: Vec::new(),
        }
    }

    /// The same request with `flag` set.
    #[must_use]
    pub fn with_flag(mut self, flag: u8) -> Self {
        self.flags |= flag;
        self
    }

    /// `C`: clear this validator's subscriptions first.
    pub fn clear_subscriptions(&self) -> bool {
        self.flags & Self::FLAG_CLEAR != 0
    }

    /// `S`: establish a subscription with these parameters.
    pub fn subscribe(&self) -> bool {
        self.flags & Self::FLAG_SUBSCRIBE != 0
    }

    /// `R`: Software Identifiers only (attributes 14/15 instead of 16/17).
    pub fn identifiers_only(&self) -> bool {
        self.flags & Self::FLAG_IDENTIFIERS_ONLY != 0
    }

    /// Whether this asks for events (Earliest EID ≠ 0) rather than an inventory.
    pub fn wants_events(&self) -> bool {
        self.earliest_eid != 0
    }

    /// The attribute type the one allowed answer has (§5.6 table).
    pub fn response_type(&self) -> AttributeType {
        match (self.identifiers_only(), self.wants_events()) {
            (true, false) => AttributeType::SOFTWARE_IDENTIFIER_INVENTORY,
            (true, true) => AttributeType::SOFTWARE_IDENTIFIER_EVENTS,
            (false, false) => AttributeType::SOFTWARE_INVENTORY,
            (false, true) => AttributeType::SOFTWARE_EVENTS,
        }
    }

    /// The targeted Software Identifiers (empty: not targeted).
    pub fn targets(&self) -> &[Text] {
        &self.targets
    }

    /// Whether the request is targeted (§3.5).
    pub fn is_targeted(&self) -> bool {
        !self.targets.is_empty()
    }

    /// Whether `identifier` is selected by this request (exact match, §3.5).
    pub fn selects(&self, identifier: &Text) -> bool {
        self.targets.is_empty() || self.targets.iter().any(|t| t == identifier)
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        let flags = r.u8()?;
        let count_at = r.offset();
        let count = r.u24()?;
        let request_id = r.u32()?;
        let earliest_eid = r.u32()?;
        let targets = read_counted(r, count, 2, count_at, read_text16)?;
        Ok(Self {
            flags,
            request_id,
            earliest_eid,
            targets,
        })
    }

    pub(crate) fn write<B: BufMut>(&self, out: &mut B) {
        out.put_u8(self.flags);
        put_u24(out, count24(self.targets.len()));
        out.put_u32(self.request_id);
        out.put_u32(self.earliest_eid);
        for t in &self.targets {
            write_text16(t, out);
        }
    }

    pub(crate) fn len(&self) -> usize {
        12 + self.targets.iter().map(|t| 2 + t.len()).sum::<usize>()
    }
}

impl PaAttribute for SwimaRequest {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::SWIMA_REQUEST.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value, base);
        let v = Self::read(&mut r)?;
        r.finish()?;
        Ok(v)
    }

    fn value_len(&self) -> usize {
        self.len()
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        self.write(out);
    }
}
