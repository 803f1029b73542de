//! Software Identifier Events (RFC 8412 §5.8, type 15) and Software Events (§5.10, type 17).

use bytes::{BufMut, Bytes};
use nea_wire::{DecodeError, Reader, VendorId};
use pa_tnc::{DateTime20, PaAttribute};

use super::inventory::{FLAG_SUBSCRIPTION_FULFILLMENT, ResponseHeader};
use super::record::{Action, Item, SoftwareId, SoftwareRecord, check_count24, read_counted};
use crate::Error;

/// One event record (RFC 8412 §5.8, §5.10):
///
/// ```text
/// |                               EID                             |
/// |                    Timestamp (20 bytes, RFC 3339)             |
/// |                        Record Identifier                      |
/// |          Data Model Type PEN                  |Data Model Type|
/// | Source Id Num |    Action     |  Software Identifier Length  |
/// | Software Identifier ... | SW Locator Length | Locator ...      |
/// | (type 17 only) Record Length (4) | Record ...                 |
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<R> {
    /// Event Identifier (§3.7.1).
    pub eid: u32,
    /// When the change happened (the SWIMA-PC's best estimate); strongSwan sends
    /// `0000-00-00T00:00:00Z` for its initial event, which is accepted.
    pub timestamp: DateTime20,
    /// CREATION, DELETION or ALTERATION (unknown values are kept; a SWIMA-PV ignores them).
    pub action: Action,
    /// The affected record.
    pub item: R,
}

/// Size of an event's EID + Timestamp prefix.
pub(crate) const EVENT_PREFIX: usize = 4 + 20;

impl<R: Item> Event<R> {
    /// Exact encoded size.
    pub fn encoded_len(&self) -> usize {
        EVENT_PREFIX + self.item.encoded_len()
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        let eid = r.u32()?;
        let timestamp = DateTime20::read(r)?;
        let (item, action) = R::read(r)?;
        Ok(Self {
            eid,
            timestamp,
            action: Action(action),
            item,
        })
    }

    pub(crate) fn write<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.eid);
        out.put_slice(self.timestamp.as_bytes());
        self.item.write(self.action.0, out);
    }
}

/// An event response (RFC 8412 §5.8, §5.10): `R` is [`SoftwareId`] for Software Identifier
/// Events (type 15) or [`SoftwareRecord`] for Software Events (type 17).
///
/// ```text
/// |S_F| Reserved  |                 Event Count                       |
/// |            Request ID Copy / Subscription ID                      |
/// |                           EID Epoch                               |
/// |                           Last EID                                |
/// |                      Last Consulted EID                           |
/// |     events (Event Count times) ...                                |
/// ```
///
/// Last Consulted EID equal to Last EID means the list is complete; smaller means partial
/// (§3.7.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Events<R> {
    /// The flags byte as received (`0x80` = S_F).
    pub flags: u8,
    /// Request ID Copy, or the Subscription ID when S_F is set.
    pub request_id: u32,
    /// EID Epoch of the SWIMA-PC.
    pub eid_epoch: u32,
    /// EID of the last event the SWIMA-PC recorded.
    pub last_eid: u32,
    /// Upper end of the consulted range (§3.7.5).
    pub last_consulted_eid: u32,
    events: Vec<Event<R>>,
}

/// Software Identifier Events (type 15).
pub type SoftwareIdentifierEvents = Events<SoftwareId>;
/// Software Events (type 17).
pub type SoftwareEvents = Events<SoftwareRecord>;

impl<R: Item> Events<R> {
    /// Value size of the fixed header.
    pub const HEADER_LEN: usize = ResponseHeader::LEN + 4;

    /// An event attribute; fails if an event does not fit its length fields, there are 2^24
    /// events or more, or Last Consulted EID exceeds Last EID.
    pub fn new(
        flags: u8,
        request_id: u32,
        eid_epoch: u32,
        last_eid: u32,
        last_consulted_eid: u32,
        events: Vec<Event<R>>,
    ) -> Result<Self, Error> {
        check_count24("Event Count", events.len())?;
        // RFC 8412 §3.7.5: the Last Consulted EID MUST NOT exceed the Last EID.
        if last_consulted_eid > last_eid {
            return Err(Error::InvalidValue("Last Consulted EID above Last EID"));
        }
        for e in &events {
            e.item.check()?;
        }
        Ok(Self {
            flags,
            request_id,
            eid_epoch,
            last_eid,
            last_consulted_eid,
            events,
        })
    }

    /// The events.
    pub fn events(&self) -> &[Event<R>] {
        &self.events
    }

    /// The events, by value.
    pub fn into_events(self) -> Vec<Event<R>> {
        self.events
    }

    /// S_F: sent in fulfilment of a subscription.
    pub fn subscription_fulfillment(&self) -> bool {
        self.flags & FLAG_SUBSCRIPTION_FULFILLMENT != 0
    }

    /// Whether this is a partial list (Last Consulted EID < Last EID, §3.7.5).
    pub fn is_partial(&self) -> bool {
        self.last_consulted_eid < self.last_eid
    }
}

impl<R: Item> PaAttribute for Events<R> {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = R::EVENTS_TYPE;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value, base);
        let h = ResponseHeader::read(&mut r)?;
        let last_consulted_eid = r.u32()?;
        let events = read_counted(
            &mut r,
            h.count,
            EVENT_PREFIX + R::MIN_LEN,
            h.count_at,
            Event::read,
        )?;
        r.finish()?;
        Ok(Self {
            flags: h.flags,
            request_id: h.request_id,
            eid_epoch: h.eid_epoch,
            last_eid: h.last_eid,
            last_consulted_eid,
            events,
        })
    }

    fn value_len(&self) -> usize {
        Self::HEADER_LEN + self.events.iter().map(Event::encoded_len).sum::<usize>()
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        ResponseHeader::write(
            out,
            self.flags,
            self.events.len(),
            self.request_id,
            self.eid_epoch,
            self.last_eid,
        );
        out.put_u32(self.last_consulted_eid);
        for e in &self.events {
            e.write(out);
        }
    }
}
