//! The pieces shared by the inventory and event attributes: data model type, action, the
//! Software Identifier record (§5.7) and the Software Inventory Evidence Record (§5.9).

use bytes::{BufMut, Bytes};
use nea_wire::{DecodeError, DecodeErrorKind, Reader, Text, VendorId, put_u24};
use pa_tnc::AttributeType;

use crate::Error;

/// Software Data Model Type (RFC 8412 §3.4.2, §10.5): a PEN plus an 8-bit type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct DataModelType {
    /// Data Model Type PEN.
    pub pen: VendorId,
    /// Data Model Type.
    pub kind: u8,
}

impl DataModelType {
    /// ISO/IEC 19770-2:2015 SWID tags in XML (PEN 0, type 0).
    pub const SWID_2015: Self = Self {
        pen: VendorId::IETF,
        kind: 0,
    };
    /// ISO/IEC 19770-2:2009 SWID tags in XML (PEN 0, type 1).
    pub const SWID_2009: Self = Self {
        pen: VendorId::IETF,
        kind: 1,
    };

    /// Whether the type is in the local enterprise-use range 192–255 of the IETF namespace.
    pub fn is_local_use(self) -> bool {
        self.pen == VendorId::IETF && self.kind >= 192
    }
}

/// Action of an event record (RFC 8412 §5.8): an open set so unknown values pass through
/// (a SWIMA-PV ignores such events, §5.8).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Action(pub u8);

impl Action {
    /// The record was added (1).
    pub const CREATION: Self = Self(1);
    /// The record was removed (2).
    pub const DELETION: Self = Self(2);
    /// The record was altered (3).
    pub const ALTERATION: Self = Self(3);

    /// The RFC name of a defined action.
    pub const fn name(self) -> Option<&'static str> {
        match self.0 {
            1 => Some("CREATION"),
            2 => Some("DELETION"),
            3 => Some("ALTERATION"),
            _ => None,
        }
    }

    /// Whether the value is one of the three the RFC defines.
    pub const fn is_known(self) -> bool {
        self.name().is_some()
    }
}

impl core::fmt::Debug for Action {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.name() {
            Some(n) => write!(f, "Action({n})"),
            None => write!(f, "Action({})", self.0),
        }
    }
}

/// The identifying part of a record, as sent in Software Identifier Inventory/Events
/// (RFC 8412 §5.7, §5.8):
///
/// ```text
/// | Record Identifier (4)                                        |
/// | Data Model Type PEN (3)                    | Data Model Type |
/// | Source Id Num | Reserved/Action | SW Identifier Length (2)   |
/// | Software Identifier (variable) ...                           |
/// | SW Locator Length (2)          | Software Locator (variable) |
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SoftwareId {
    /// Record Identifier (§3.4.3): unique per record on the SWIMA-PC.
    pub record_id: u32,
    /// Data Model Type (PEN + type).
    pub data_model: DataModelType,
    /// Source Identification Number (§3.4.5).
    pub source_id: u8,
    /// Software Identifier (§3.4.1), e.g. `regid__tagId` for SWID tags.
    pub software_identifier: Text,
    /// Software Locator (§3.4.4): a URI, empty when unknown.
    pub locator: Text,
}

/// A Software Inventory Evidence Record (RFC 8412 §5.9): the identifying fields plus the
/// record itself (`Record Length (4) | Record`), e.g. a SWID tag's XML.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SoftwareRecord {
    /// Record Identifier, Data Model Type, Source, Software Identifier, Locator.
    pub id: SoftwareId,
    /// The record bytes (a slice of the received attribute: never copied on decode).
    pub record: Bytes,
}

/// Minimum encoded size of a [`SoftwareId`] (both strings empty).
pub(crate) const SOFTWARE_ID_MIN: usize = 4 + 3 + 1 + 1 + 1 + 2 + 2;

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::SoftwareId {}
    impl Sealed for super::SoftwareRecord {}
}

/// The two record shapes SWIMA responses carry: [`SoftwareId`] (attributes 14, 15) and
/// [`SoftwareRecord`] (16, 17). Sealed.
pub trait Item: sealed::Sealed + Clone + PartialEq + core::fmt::Debug {
    /// The inventory attribute type carrying this shape.
    const INVENTORY_TYPE: u32;
    /// The event attribute type carrying this shape.
    const EVENTS_TYPE: u32;
    /// Smallest encoding (for count checks before allocating).
    #[doc(hidden)]
    const MIN_LEN: usize;
    /// The identifying fields.
    fn id(&self) -> &SoftwareId;
    /// The record bytes, if this shape carries them.
    fn record(&self) -> Option<&Bytes>;
    /// Decodes one item; the byte after Source Id Num (Reserved or Action) is returned.
    #[doc(hidden)]
    fn read(r: &mut Reader) -> Result<(Self, u8), DecodeError>;
    /// Encodes one item with `byte` in the Reserved/Action position.
    #[doc(hidden)]
    fn write<B: BufMut>(&self, byte: u8, out: &mut B);
    /// Exact encoded size.
    fn encoded_len(&self) -> usize;
    /// Checks that the item fits its length fields.
    #[doc(hidden)]
    fn check(&self) -> Result<(), Error>;
}

pub(crate) fn read_text16(r: &mut Reader) -> Result<Text, DecodeError> {
    let len = r.u16()?;
    r.text(usize::from(len))
}

pub(crate) fn write_text16<B: BufMut>(t: &Text, out: &mut B) {
    // Constructors checked the length fits 16 bits.
    out.put_u16(u16::try_from(t.len()).unwrap_or(u16::MAX));
    out.put_slice(t.as_bytes());
}

pub(crate) fn check_text16(field: &'static str, t: &Text) -> Result<(), Error> {
    if t.len() > usize::from(u16::MAX) {
        return Err(Error::TooLong {
            field,
            len: t.len(),
            max: usize::from(u16::MAX),
        });
    }
    Ok(())
}

/// Checks a 24-bit count against the bytes left (each item needs at least `min` bytes) so no
/// allocation follows a lying count; returns the count as `usize`.
pub(crate) fn checked_count(
    r: &Reader,
    count: u32,
    min: usize,
    at: usize,
) -> Result<usize, DecodeError> {
    let need = u64::from(count).saturating_mul(min as u64);
    if need > r.remaining() as u64 {
        return Err(DecodeError::new(
            DecodeErrorKind::CountMismatch {
                count: u64::from(count),
            },
            at,
        ));
    }
    usize::try_from(count)
        .map_err(|_| DecodeError::new(DecodeErrorKind::CountMismatch { count: 0 }, at))
}

/// Reads `count` items with `read` after [`checked_count`] (each item needs at least `min`
/// bytes; `at` is the count field's offset), so no allocation follows a lying count.
pub(crate) fn read_counted<T>(
    r: &mut Reader,
    count: u32,
    min: usize,
    at: usize,
    mut read: impl FnMut(&mut Reader) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let count = checked_count(r, count, min, at)?;
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        items.push(read(r)?);
    }
    Ok(items)
}

/// Checks that `n` items fit a 24-bit count field.
pub(crate) fn check_count24(field: &'static str, n: usize) -> Result<(), Error> {
    // RFC 8412 §5.6: counts are 3-byte fields.
    if n > 0xff_ffff {
        return Err(Error::TooMany {
            field,
            count: n,
            max: 0xff_ffff,
        });
    }
    Ok(())
}

pub(crate) fn count24(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX) & 0xff_ffff
}

impl SoftwareId {
    /// A record identity (checked when placed in an attribute).
    pub fn new(
        record_id: u32,
        data_model: DataModelType,
        source_id: u8,
        software_identifier: impl Into<Text>,
        locator: impl Into<Text>,
    ) -> Self {
        Self {
            record_id,
            data_model,
            source_id,
            software_identifier: software_identifier.into(),
            locator: locator.into(),
        }
    }
}

impl Item for SoftwareId {
    const INVENTORY_TYPE: u32 = AttributeType::SOFTWARE_IDENTIFIER_INVENTORY.0;
    const EVENTS_TYPE: u32 = AttributeType::SOFTWARE_IDENTIFIER_EVENTS.0;
    const MIN_LEN: usize = SOFTWARE_ID_MIN;

    fn id(&self) -> &SoftwareId {
        self
    }

    fn record(&self) -> Option<&Bytes> {
        None
    }

    fn read(r: &mut Reader) -> Result<(Self, u8), DecodeError> {
        let record_id = r.u32()?;
        let pen = VendorId::from_u24(r.u24()?);
        let kind = r.u8()?;
        let source_id = r.u8()?;
        let byte = r.u8()?;
        let software_identifier = read_text16(r)?;
        let locator = read_text16(r)?;
        Ok((
            Self {
                record_id,
                data_model: DataModelType { pen, kind },
                source_id,
                software_identifier,
                locator,
            },
            byte,
        ))
    }

    fn write<B: BufMut>(&self, byte: u8, out: &mut B) {
        out.put_u32(self.record_id);
        put_u24(out, self.data_model.pen.get());
        out.put_u8(self.data_model.kind);
        out.put_u8(self.source_id);
        out.put_u8(byte);
        write_text16(&self.software_identifier, out);
        write_text16(&self.locator, out);
    }

    fn encoded_len(&self) -> usize {
        SOFTWARE_ID_MIN + self.software_identifier.len() + self.locator.len()
    }

    fn check(&self) -> Result<(), Error> {
        check_text16("Software Identifier", &self.software_identifier)?;
        check_text16("Software Locator", &self.locator)
    }
}

impl Item for SoftwareRecord {
    const INVENTORY_TYPE: u32 = AttributeType::SOFTWARE_INVENTORY.0;
    const EVENTS_TYPE: u32 = AttributeType::SOFTWARE_EVENTS.0;
    const MIN_LEN: usize = SOFTWARE_ID_MIN + 4;

    fn id(&self) -> &SoftwareId {
        &self.id
    }

    fn record(&self) -> Option<&Bytes> {
        Some(&self.record)
    }

    fn read(r: &mut Reader) -> Result<(Self, u8), DecodeError> {
        let (id, byte) = SoftwareId::read(r)?;
        let len = r.u32()?;
        let at = r.offset();
        let len = usize::try_from(len).map_err(|_| {
            DecodeError::new(
                DecodeErrorKind::LengthOverrun {
                    length: u64::from(len),
                    available: r.remaining() as u64,
                },
                at,
            )
        })?;
        let record = r.take(len)?;
        Ok((Self { id, record }, byte))
    }

    fn write<B: BufMut>(&self, byte: u8, out: &mut B) {
        self.id.write(byte, out);
        out.put_u32(u32::try_from(self.record.len()).unwrap_or(u32::MAX));
        out.put_slice(&self.record);
    }

    fn encoded_len(&self) -> usize {
        self.id.encoded_len() + 4 + self.record.len()
    }

    fn check(&self) -> Result<(), Error> {
        self.id.check()?;
        if u32::try_from(self.record.len()).is_err() {
            return Err(Error::TooLong {
                field: "Record",
                len: self.record.len(),
                max: u32::MAX as usize,
            });
        }
        Ok(())
    }
}
