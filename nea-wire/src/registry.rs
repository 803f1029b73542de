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

registry! {
    /// PA Subtype, the component type a PB-PA message carries (RFC 5793 §4.5, §6.3;
    /// RFC 5792 §7.2; RFC 8412 §10.2), qualified by the PA message vendor ID; the names are
    /// those of the IETF namespace (vendor 0).
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
}
