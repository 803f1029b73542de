//! Software Identifier Inventory (RFC 8412 §5.7, type 14) and Software Inventory (§5.9,
//! type 16).

use bytes::{BufMut, Bytes};
use nea_wire::{DecodeError, Reader, VendorId, put_u24};
use pa_tnc::PaAttribute;

use super::record::{Item, SoftwareId, SoftwareRecord, check_count24, count24, read_counted};
use crate::Error;

/// Flag bit of inventory and event attributes: sent in fulfilment of a subscription (S_F).
pub const FLAG_SUBSCRIPTION_FULFILLMENT: u8 = 0x80;

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
    pub const HEADER_LEN: usize = 16;
}

impl<R: Item> PaAttribute for Inventory<R> {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = R::INVENTORY_TYPE;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value, base);
        let flags = r.u8()?;
        let count_at = r.offset();
        let count = r.u24()?;
        let request_id = r.u32()?;
        let eid_epoch = r.u32()?;
        let last_eid = r.u32()?;
        // Reserved byte: ignored on receipt (RFC 8412 §5.7).
        let records = read_counted(&mut r, count, R::MIN_LEN, count_at, |r| {
            R::read(r).map(|(item, _reserved)| item)
        })?;
        r.finish()?;
        Ok(Self {
            flags,
            request_id,
            eid_epoch,
            last_eid,
            records,
        })
    }

    fn value_len(&self) -> usize {
        Self::HEADER_LEN + self.records.iter().map(Item::encoded_len).sum::<usize>()
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        out.put_u8(self.flags);
        put_u24(out, count24(self.records.len()));
        out.put_u32(self.request_id);
        out.put_u32(self.eid_epoch);
        out.put_u32(self.last_eid);
        for rec in &self.records {
            rec.write(0, out);
        }
    }
}
