//! Software Identifier Inventory (RFC 8412 §5.7, type 14) and Software Inventory (§5.9,
//! type 16).

use bytes::{BufMut, Bytes};
use nea_wire::{DecodeError, Reader, VendorId, put_u24};
use pa_tnc::PaAttribute;

use super::record::{Item, SoftwareId, SoftwareRecord, check_count24, count24, read_counted};
use crate::Error;

/// Flag bit of inventory and event attributes: sent in fulfilment of a subscription (S_F).
pub const FLAG_SUBSCRIPTION_FULFILLMENT: u8 = 0x80;

/// The 16 bytes every inventory and event response starts with (RFC 8412 §5.7–§5.10): Flags,
/// Count (24 bits), Request ID Copy / Subscription ID, EID Epoch, Last EID.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResponseHeader {
    pub(crate) flags: u8,
    /// The Count field, and its offset (for errors about it).
    pub(crate) count: u32,
    pub(crate) count_at: usize,
    pub(crate) request_id: u32,
    pub(crate) eid_epoch: u32,
    pub(crate) last_eid: u32,
}

impl ResponseHeader {
    pub(crate) const LEN: usize = 16;

    pub(crate) fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        let flags = r.u8()?;
        let count_at = r.offset();
        Ok(Self {
            flags,
            count: r.u24()?,
            count_at,
            request_id: r.u32()?,
            eid_epoch: r.u32()?,
            last_eid: r.u32()?,
        })
    }

    /// Writes the header of a response with `count` items (checked by the constructors).
    pub(crate) fn write<B: BufMut>(
        out: &mut B,
        flags: u8,
        count: usize,
        request_id: u32,
        eid_epoch: u32,
        last_eid: u32,
    ) {
        out.put_u8(flags);
        put_u24(out, count24(count));
        out.put_u32(request_id);
        out.put_u32(eid_epoch);
        out.put_u32(last_eid);
    }
}

/// An inventory response (RFC 8412 §5.7, §5.9): `R` is [`SoftwareId`] for the Software
/// Identifier Inventory (type 14) or [`SoftwareRecord`] for the Software Inventory (type 16).
///
/// ```text
/// |S_F| Reserved  |     Software Identifier Count / Record Count      |
/// |            Request ID Copy / Subscription ID                      |
/// |                           EID Epoch                               |
/// |                           Last EID                                |
/// |     records (Count times; §5.7 / §5.9 record layout) ...          |
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory<R> {
    /// The flags byte as received (`0x80` = S_F, [`FLAG_SUBSCRIPTION_FULFILLMENT`]).
    pub flags: u8,
    /// Request ID Copy, or the Subscription ID when S_F is set.
    pub request_id: u32,
    /// EID Epoch of the SWIMA-PC.
    pub eid_epoch: u32,
    /// Last EID recorded when the inventory was taken (0: no events yet).
    pub last_eid: u32,
    records: Vec<R>,
}

/// Software Identifier Inventory (type 14).
pub type SoftwareIdentifierInventory = Inventory<SoftwareId>;
/// Software Inventory (type 16).
pub type SoftwareInventory = Inventory<SoftwareRecord>;

impl<R: Item> Inventory<R> {
    /// An inventory attribute; fails if a record does not fit its length fields or there are
    /// 2^24 records or more.
    pub fn new(
        flags: u8,
        request_id: u32,
        eid_epoch: u32,
        last_eid: u32,
        records: Vec<R>,
    ) -> Result<Self, Error> {
        check_count24("Record Count", records.len())?;
        for r in &records {
            r.check()?;
        }
        Ok(Self {
            flags,
            request_id,
            eid_epoch,
            last_eid,
            records,
        })
    }

    /// The records.
    pub fn records(&self) -> &[R] {
        &self.records
    }

    /// The records, by value.
    pub fn into_records(self) -> Vec<R> {
        self.records
    }

    /// S_F: sent in fulfilment of a subscription.
    pub fn subscription_fulfillment(&self) -> bool {
        self.flags & FLAG_SUBSCRIPTION_FULFILLMENT != 0
    }

    /// Value size of the fixed header.
    pub const HEADER_LEN: usize = ResponseHeader::LEN;
}

impl<R: Item> PaAttribute for Inventory<R> {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = R::INVENTORY_TYPE;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value, base);
        let h = ResponseHeader::read(&mut r)?;
        // Reserved byte: ignored on receipt (RFC 8412 §5.7).
        let records = read_counted(&mut r, h.count, R::MIN_LEN, h.count_at, |r| {
            R::read(r).map(|(item, _reserved)| item)
        })?;
        r.finish()?;
        Ok(Self {
            flags: h.flags,
            request_id: h.request_id,
            eid_epoch: h.eid_epoch,
            last_eid: h.last_eid,
            records,
        })
    }

    fn value_len(&self) -> usize {
        Self::HEADER_LEN + self.records.iter().map(Item::encoded_len).sum::<usize>()
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        ResponseHeader::write(
            out,
            self.flags,
            self.records.len(),
            self.request_id,
            self.eid_epoch,
            self.last_eid,
        );
        for rec in &self.records {
            rec.write(0, out);
        }
    }
}
