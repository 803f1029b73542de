//! Open numeric registries as newtypes: [`registry!`](crate::registry) declares one, and
//! [`PaSubtype`] (shared by PB-TNC's PB-PA header and the PA-TNC layer) is declared here.

/// Declares an open registry: a `Copy` newtype over an integer with one constant per
/// assigned value, `name()` giving the RFC name, `get()`, a `Debug` that prints
/// `Type(RFC name)` (or the number when unassigned), a `Display` that prints the name, and
/// `From<int>`. Unknown values pass through untouched.
///
/// ```
/// nea_wire::registry! {
///     /// Colours of the example registry.
///     Colour(u8) {
///         /// Red.
///         RED = 1 => "red",
///     }
/// }
/// assert_eq!(format!("{:?}", Colour::RED), "Colour(red)");
/// assert_eq!(format!("{:?}", Colour(9)), "Colour(9)");
/// assert_eq!(Colour::from(1).name(), Some("red"));
/// ```
#[macro_export]
macro_rules! registry {
    (
        $(#[$meta:meta])*
        $name:ident($repr:ty) {
            $( $(#[$cmeta:meta])* $konst:ident = $value:expr => $rfc:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $repr);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: Self = Self($value); )*

            /// The RFC name of a known value.
            pub const fn name(self) -> ::core::option::Option<&'static str> {
                match self.0 {
                    $( $value => ::core::option::Option::Some($rfc), )*
                    _ => ::core::option::Option::None,
                }
            }

            /// The number as on the wire.
            pub const fn get(self) -> $repr {
                self.0
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self.name() {
                    ::core::option::Option::Some(n) => write!(f, "{}({})", stringify!($name), n),
                    ::core::option::Option::None => write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self.name() {
                    ::core::option::Option::Some(n) => f.write_str(n),
                    ::core::option::Option::None => write!(f, "{}", self.0),
                }
            }
        }

        impl ::core::convert::From<$repr> for $name {
            fn from(v: $repr) -> Self {
                Self(v)
            }
        }
    };
}

use crate::VendorId;

registry! {
    /// PA Subtype, the component type a PB-PA message carries (RFC 5793 §4.5, §6.3;
    /// RFC 5792 §7.2; RFC 8412 §10.2), qualified by the PA message vendor ID. `name()`, `Debug`
    /// and `Display` use the IETF namespace (vendor 0); [`PaSubtype::name_for`] and
    /// [`PaType`] name it within its vendor's namespace.
    PaSubtype(u32) {
        /// Testing.
        TESTING = 0 => "Testing",
        /// Operating System.
        OPERATING_SYSTEM = 1 => "Operating System",
        /// Anti-Virus.
        ANTI_VIRUS = 2 => "Anti-Virus",
        /// Anti-Spyware.
        ANTI_SPYWARE = 3 => "Anti-Spyware",
        /// Anti-Malware.
        ANTI_MALWARE = 4 => "Anti-Malware",
        /// Firewall.
        FIREWALL = 5 => "Firewall",
        /// IDPS.
        IDPS = 6 => "IDPS",
        /// VPN.
        VPN = 7 => "VPN",
        /// NEA Client.
        NEA_CLIENT = 8 => "NEA Client",
        /// SWIMA Attributes (RFC 8412).
        SWIMA = 9 => "SWIMA Attributes",
        /// Reserved, never sent (RFC 5793 §4.5).
        RESERVED = 0xffff_ffff => "reserved",
    }
}

impl PaSubtype {
    /// The name of this subtype in the namespace of `vendor`: IETF (RFC 5792 §7.2, RFC 8412),
    /// TCG (1 PTS, 2 SCAP, 3 SWID) and ITA (strongSwan: 1 Test, 2 Echo); `None` elsewhere.
    ///
    /// ```
    /// use nea_wire::{PaSubtype, VendorId};
    /// assert_eq!(PaSubtype(1).name_for(VendorId::IETF), Some("Operating System"));
    /// assert_eq!(PaSubtype(1).name_for(VendorId::ITA), Some("Test"));
    /// assert_eq!(PaSubtype(1).name_for(VendorId::of::<9586>()), None);
    /// ```
    pub const fn name_for(self, vendor: VendorId) -> Option<&'static str> {
        match (vendor.get(), self.0) {
            (0, _) => self.name(),
            (0x005597, 1) => Some("PTS"),
            (0x005597, 2) => Some("SCAP"),
            (0x005597, 3) => Some("SWID"),
            (0x00902a, 1) => Some("Test"),
            (0x00902a, 2) => Some("Echo"),
            _ => None,
        }
    }
}

/// A PA message type: the (PA Message Vendor ID, PA Subtype) pair of a PB-PA message
/// (RFC 5793 §4.5), which together name the component. Displays as `vendor/subtype`.
///
/// ```
/// use nea_wire::{PaSubtype, PaType, VendorId};
/// assert_eq!(PaType::new(VendorId::ITA, PaSubtype(1)).to_string(), "ITA/Test");
/// assert_eq!(PaType::new(VendorId::IETF, PaSubtype::SWIMA).to_string(), "IETF/SWIMA Attributes");
/// assert_eq!(PaType::new(VendorId::of::<9586>(), PaSubtype(7)).to_string(), "0x002572/7");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PaType {
    /// PA Message Vendor ID.
    pub vendor: VendorId,
    /// PA Subtype in that vendor's namespace.
    pub subtype: PaSubtype,
}

impl PaType {
    /// The pair.
    pub const fn new(vendor: VendorId, subtype: PaSubtype) -> Self {
        Self { vendor, subtype }
    }
    /// The subtype's name in the vendor's namespace ([`PaSubtype::name_for`]).
    pub const fn name(self) -> Option<&'static str> {
        self.subtype.name_for(self.vendor)
    }
}

impl core::fmt::Display for PaType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{}/{n}", self.vendor),
            None => write!(f, "{}/{}", self.vendor, self.subtype.0),
        }
    }
}

impl core::fmt::Debug for PaType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PaType({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pa_subtype() {
        assert_eq!(
            format!("{:?}", PaSubtype::SWIMA),
            "PaSubtype(SWIMA Attributes)"
        );
        assert_eq!(PaSubtype::from(1), PaSubtype::OPERATING_SYSTEM);
        assert_eq!(PaSubtype(77).to_string(), "77");
        assert_eq!(PaSubtype::RESERVED.get(), u32::MAX);
    }

    #[test]
    fn names_come_from_the_vendor_and_subtype_pair() {
        let ita = |s| PaType::new(VendorId::ITA, PaSubtype(s));
        assert_eq!(format!("{:?}", ita(1)), "PaType(ITA/Test)");
        assert_eq!(ita(2).name(), Some("Echo"));
        assert_eq!(ita(9).name(), None);
        assert_eq!(ita(9).to_string(), "ITA/9");
        let tcg = PaType::new(VendorId::TCG, PaSubtype(3));
        assert_eq!(tcg.to_string(), "TCG/SWID");
        let ietf = PaType::new(VendorId::IETF, PaSubtype::OPERATING_SYSTEM);
        assert_eq!(ietf.to_string(), "IETF/Operating System");
        assert_eq!(PaSubtype(3).name_for(VendorId::PWG), None);
    }
}
