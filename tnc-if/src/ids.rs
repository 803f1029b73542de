//! IMC, IMV and connection identifiers, and the allocator that keeps IMC/IMV IDs inside the
//! 16-bit range PB-PA carries.

use core::fmt;

macro_rules! plugin_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        ///
        /// The TNC interface passes it as `unsigned long`, but PB-PA (RFC 5793 §4.5) carries
        /// 16 bits and reserves `0xffff` for "any / unknown", so valid IDs are 0..=0xfffe;
        /// [`TryFrom<u64>`] refuses the rest.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u16);

        impl $name {
            #[doc = concat!("`TNC_", $what, "ID_ANY` (0xffff): no particular ", $what, "; never a plugin's own ID.")]
            pub const ANY: Self = Self(0xffff);

            #[doc = concat!("The ", $what, " ID `id` (0xffff is [`", stringify!($name), "::ANY`]).")]
            pub const fn new(id: u16) -> Self {
                Self(id)
            }

            /// The value on the wire (PB-PA).
            pub const fn get(self) -> u16 {
                self.0
            }

            /// Whether this is the wildcard.
            pub const fn is_any(self) -> bool {
                self.0 == 0xffff
            }
        }

        impl TryFrom<u64> for $name {
            type Error = crate::TncError;

            fn try_from(v: u64) -> Result<Self, Self::Error> {
                u16::try_from(v)
                    .map(Self)
                    .map_err(|_| crate::TncError::InvalidParameter(concat!($what, " ID beyond the 16 bits PB-PA carries")))
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> u64 {
                u64::from(id.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if self.is_any() {
                    write!(f, concat!(stringify!($name), "(ANY)"))
                } else {
                    write!(f, concat!(stringify!($name), "({})"), self.0)
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    };
}

plugin_id!(
    /// An IMC (posture collector) ID: PB-PA's Posture Collector Identifier.
    ImcId,
    "IMC"
);
plugin_id!(
    /// An IMV (posture validator) ID: PB-PA's Posture Validator Identifier.
    ImvId,
    "IMV"
);

/// A connection (one PB-TNC session) as the broker names it to its plugins.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ConnectionId(pub u32);

impl ConnectionId {
    /// `TNC_CONNECTIONID_ANY` (0xffffffff): every connection (retry requests only).
    pub const ANY: Self = Self(0xffff_ffff);
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connection {}", self.0)
    }
}

/// Hands out IMC/IMV IDs from 1 upwards (strongSwan's numbering), never 0xffff, and refuses
/// with a clear error once the 16-bit range is used up; freed IDs are not reused, so a late
/// message for an unloaded plugin never reaches its successor.
#[derive(Debug, Clone)]
pub struct IdAllocator {
    next: u32,
    limit: u32,
}

impl Default for IdAllocator {
    fn default() -> Self {
        Self::new()
    }
}

impl IdAllocator {
    /// An allocator over 1..=0xfffe.
    pub const fn new() -> Self {
        Self {
            next: 1,
            limit: 0xfffe,
        }
    }

    /// An allocator handing out at most `count` IDs (for tests of exhaustion).
    pub const fn with_capacity(count: u16) -> Self {
        Self {
            next: 1,
            limit: count as u32,
        }
    }

    /// The next free ID value, or `TncError::Other` when the range is exhausted.
    pub fn allocate(&mut self) -> Result<u16, crate::TncError> {
        if self.next > self.limit {
            return Err(crate::TncError::Other(
                "no IMC/IMV ID left in the 16-bit PB-PA range",
            ));
        }
        let id = u16::try_from(self.next)
            .map_err(|_| crate::TncError::Other("no IMC/IMV ID left in the 16-bit PB-PA range"))?;
        self.next += 1;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fit_pb_pa() {
        assert_eq!(ImcId::try_from(5u64).unwrap().get(), 5);
        assert!(ImcId::try_from(0x1_0000u64).is_err());
        assert!(ImvId::try_from(u64::MAX).is_err());
        assert!(ImvId::ANY.is_any());
        assert_eq!(format!("{:?}", ImcId::ANY), "ImcId(ANY)");
        let mut a = IdAllocator::new();
        assert_eq!(a.allocate().unwrap(), 1);
        let mut a = IdAllocator::with_capacity(2);
        assert_eq!((a.allocate().unwrap(), a.allocate().unwrap()), (1, 2));
        assert!(a.allocate().is_err());
        let mut full = IdAllocator::new();
        for i in 1..=0xfffe {
            assert_eq!(full.allocate().unwrap(), i);
        }
        assert!(full.allocate().is_err(), "0xffff is never handed out");
    }
}
