//! The 24-bit SMI Private Enterprise Number used as a vendor ID.

use core::fmt;

/// An SMI Private Enterprise Number as the NEA protocols carry it: 24 bits, 0 = IETF.
///
/// Constructors refuse values above `0xffffff`, so encoding never truncates.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct VendorId(u32);

impl VendorId {
    /// The IETF namespace (RFC 5793 §2.2).
    pub const IETF: Self = Self(0);
    /// Trusted Computing Group.
    pub const TCG: Self = Self(0x005597);
    /// ITA (strongSwan's own vendor ID).
    pub const ITA: Self = Self(0x00902a);
    /// Printer Working Group.
    pub const PWG: Self = Self(0x000a8b);
    /// Reserved, never sent (RFC 5793 §4.2, RFC 5792 §4.1, RFC 6876 §3.5).
    pub const RESERVED: Self = Self(0xffffff);
    /// Largest value a 24-bit field can hold.
    pub const MAX: u32 = 0xffffff;

    /// A vendor ID from its number; `None` above 24 bits.
    pub const fn new(pen: u32) -> Option<Self> {
        if pen <= Self::MAX {
            Some(Self(pen))
        } else {
            None
        }
    }

    /// A vendor ID from a number known when compiling: a value above 24 bits does not compile,
    /// so no `Option` to unwrap.
    ///
    /// ```
    /// use nea_wire::VendorId;
    /// const DEBIAN: VendorId = VendorId::of::<9586>();
    /// assert_eq!(DEBIAN.get(), 9586);
    /// assert_eq!(VendorId::of::<0x00902a>(), VendorId::ITA);
    /// ```
    ///
    /// ```compile_fail
    /// let _ = nea_wire::VendorId::of::<0x0100_0000>();
    /// ```
    pub const fn of<const PEN: u32>() -> Self {
        const { assert!(PEN <= Self::MAX, "a vendor ID has 24 bits") };
        Self(PEN)
    }

    /// A vendor ID from the low 24 bits of `v` (used on values read from a 24-bit field).
    pub const fn from_u24(v: u32) -> Self {
        Self(v & Self::MAX)
    }

    /// The enterprise number.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Whether this is the reserved value `0xffffff`.
    pub const fn is_reserved(self) -> bool {
        self.0 == Self::MAX
    }

    /// The registry name where known.
    pub const fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("IETF"),
            0x005597 => Some("TCG"),
            0x00902a => Some("ITA"),
            0x000a8b => Some("PWG"),
            0xffffff => Some("reserved"),
            _ => None,
        }
    }
}

impl fmt::Debug for VendorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "VendorId({n})"),
            None => write!(f, "VendorId({:#08x})", self.0),
        }
    }
}

impl fmt::Display for VendorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{:#08x}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range() {
        assert_eq!(VendorId::new(0x1000000), None);
        assert_eq!(VendorId::new(0xffffff), Some(VendorId::RESERVED));
        assert!(VendorId::RESERVED.is_reserved());
        assert_eq!(VendorId::from_u24(0x01005597), VendorId::TCG);
        assert_eq!(format!("{:?}", VendorId::TCG), "VendorId(TCG)");
        assert_eq!(format!("{}", VendorId::new(0x1234).unwrap()), "0x001234");
        const PWG: VendorId = VendorId::of::<0x000a8b>();
        assert_eq!(PWG, VendorId::PWG);
        assert_eq!(VendorId::of::<0xffffff>(), VendorId::RESERVED);
    }
}
