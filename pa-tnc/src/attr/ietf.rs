//! The IETF standard attributes of RFC 5792 §4.2 (PA-TNC Error is in [`super::error`]).

use bytes::{BufMut, Bytes};
use nea_wire::{DecodeError, DecodeErrorKind, Reader, Text, VendorId, put_u24};

use super::{PaAttribute, exact_len};
use crate::{Attribute, AttributeType, PaTncError, RemediationType};

fn ietf(t: AttributeType) -> u32 {
    t.0
}

fn text_u8(t: &Text) -> u8 {
    u8::try_from(t.len()).unwrap_or(u8::MAX)
}

/// Text for a one-byte length field: refuses text over 255 bytes or containing NUL.
fn short_text(s: &str) -> Option<Text> {
    (s.len() <= 255 && !s.contains('\0')).then(|| Text::from(s))
}

/// Attribute Request (RFC 5792 §4.2.1): the attribute types a validator asks for.
///
/// ```text
/// |   Reserved    |       PA-TNC Attribute Vendor ID              |  \ one or
/// |                     PA-TNC Attribute Type                     |  / more
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeRequest {
    entries: Vec<(VendorId, u32)>,
}

impl AttributeRequest {
    /// A request for at least one attribute type; `None` for an empty list.
    pub fn new(entries: Vec<(VendorId, u32)>) -> Option<Self> {
        (!entries.is_empty()).then_some(Self { entries })
    }

    /// The requested (vendor, type) pairs.
    pub fn entries(&self) -> &[(VendorId, u32)] {
        &self.entries
    }
}

impl PaAttribute for AttributeRequest {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::ATTRIBUTE_REQUEST.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        // RFC 5792 §4.2.1: Length = 12 + 8N with N >= 1.
        if value.is_empty() || !value.len().is_multiple_of(8) {
            return Err(super::length_mismatch(
                value.len(),
                (value.len() / 8 + 1) * 8,
                base,
            ));
        }
        let mut r = Reader::new(value, base);
        let mut entries = Vec::new();
        while !r.is_empty() {
            let _reserved = r.u8()?;
            let vendor = VendorId::from_u24(r.u24()?);
            let kind = r.u32()?;
            entries.push((vendor, kind));
        }
        Ok(Self { entries })
    }

    fn value_len(&self) -> usize {
        self.entries.len() * 8
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        for (v, t) in &self.entries {
            out.put_u8(0);
            put_u24(out, v.get());
            out.put_u32(*t);
        }
    }
}

/// Product Information (RFC 5792 §4.2.2).
///
/// ```text
/// |               Product Vendor ID               |  Product ID   |
/// |  Product ID   |         Product Name (Variable Length)        |
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInformation {
    /// SMI PEN of the product's creator (0 when it has none; then `product_id` is 0).
    pub vendor: VendorId,
    /// Vendor-assigned product identifier, 0 when unknown.
    pub product_id: u16,
    /// Product name, UTF-8 without NUL.
    pub name: Text,
}

impl PaAttribute for ProductInformation {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::PRODUCT_INFORMATION.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value, base);
        let vendor = VendorId::from_u24(r.u24()?);
        let product_id = r.u16()?;
        let n = r.remaining();
        let name = r.text(n)?;
        Ok(Self {
            vendor,
            product_id,
            name,
        })
    }

    fn value_len(&self) -> usize {
        5 + self.name.len()
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        put_u24(out, self.vendor.get());
        out.put_u16(self.product_id);
        out.put_slice(self.name.as_bytes());
    }
}

/// Numeric Version (RFC 5792 §4.2.3); 0 in a field means unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NumericVersion {
    /// Major Version Number.
    pub major: u32,
    /// Minor Version Number.
    pub minor: u32,
    /// Build Number.
    pub build: u32,
    /// Service Pack Major.
    pub service_pack_major: u16,
    /// Service Pack Minor.
    pub service_pack_minor: u16,
}

impl PaAttribute for NumericVersion {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::NUMERIC_VERSION.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        // RFC 5792 §4.2.3: Length MUST be 28.
        exact_len(&value, 16, base)?;
        let mut r = Reader::new(value, base);
        Ok(Self {
            major: r.u32()?,
            minor: r.u32()?,
            build: r.u32()?,
            service_pack_major: r.u16()?,
            service_pack_minor: r.u16()?,
        })
    }

    fn value_len(&self) -> usize {
        16
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.major);
        out.put_u32(self.minor);
        out.put_u32(self.build);
        out.put_u16(self.service_pack_major);
        out.put_u16(self.service_pack_minor);
    }
}

/// String Version (RFC 5792 §4.2.4): three length-prefixed UTF-8 strings, empty = unknown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StringVersion {
    /// Product Version Number.
    pub product_version: Text,
    /// Internal Build Number.
    pub internal_build: Text,
    /// Configuration Version Number.
    pub configuration_version: Text,
}

impl StringVersion {
    /// Builds the attribute; `None` if a string is over 255 bytes or holds a NUL.
    pub fn new(
        product_version: &str,
        internal_build: &str,
        configuration_version: &str,
    ) -> Option<Self> {
        Some(Self {
            product_version: short_text(product_version)?,
            internal_build: short_text(internal_build)?,
            configuration_version: short_text(configuration_version)?,
        })
    }
}

impl PaAttribute for StringVersion {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::STRING_VERSION.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value, base);
        let field = |r: &mut Reader| -> Result<Text, DecodeError> {
            let n = r.u8()?;
            r.text_no_nul(usize::from(n))
        };
        let product_version = field(&mut r)?;
        let internal_build = field(&mut r)?;
        let configuration_version = field(&mut r)?;
        r.finish()?;
        Ok(Self {
            product_version,
            internal_build,
            configuration_version,
        })
    }

    fn value_len(&self) -> usize {
        3 + self.product_version.len()
            + self.internal_build.len()
            + self.configuration_version.len()
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        for t in [
            &self.product_version,
            &self.internal_build,
            &self.configuration_version,
        ] {
            out.put_u8(text_u8(t));
            out.put_slice(t.as_bytes());
        }
    }
}

/// The 20-byte RFC 3339 time used by Operational Status (and SWIMA events):
/// `YYYY-MM-DDThh:mm:ssZ`, or `0000-00-00T00:00:00Z` for unknown.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DateTime20([u8; 20]);

impl DateTime20 {
    /// The "unknown / not applicable" value (RFC 5792 §4.2.5).
    pub const UNKNOWN: Self = Self(*b"0000-00-00T00:00:00Z");

    /// Parses and checks the shape `DDDD-DD-DDTDD:DD:DDZ` (digits where digits go).
    pub fn new(s: &str) -> Option<Self> {
        let b: [u8; 20] = s.as_bytes().try_into().ok()?;
        Self::check(&b).then_some(Self(b))
    }

    fn check(b: &[u8; 20]) -> bool {
        b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
    }

    /// The time `secs` seconds after 1970-01-01T00:00:00Z (UTC, proleptic Gregorian), for
    /// the caller that read a clock; `None` outside the years 0000–9999.
    ///
    /// ```
    /// # use pa_tnc::DateTime20;
    /// assert_eq!(DateTime20::from_unix_seconds(951_782_400).unwrap().as_str(), "2000-02-29T00:00:00Z");
    /// assert_eq!(DateTime20::from_unix_seconds(0).unwrap().as_str(), "1970-01-01T00:00:00Z");
    /// assert_eq!(DateTime20::from_unix_seconds(1_796_396_399).unwrap().as_str(), "2026-12-04T14:59:59Z");
    /// assert_eq!(DateTime20::from_unix_seconds(-1).unwrap().as_str(), "1969-12-31T23:59:59Z");
    /// assert!(DateTime20::from_unix_seconds(i64::MAX).is_none());
    /// assert!(DateTime20::from_unix_seconds(i64::MIN).is_none());
    /// ```
    pub fn from_unix_seconds(secs: i64) -> Option<Self> {
        // Days to civil date: H. Hinnant's algorithm (public domain arithmetic).
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let z = days.checked_add(719_468)?;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        if !(0..=9999).contains(&y) {
            return None;
        }
        Self::new(&format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        ))
    }

    /// Reads the 20 bytes, rejecting a malformed time at its offset.
    pub fn read(r: &mut Reader) -> Result<Self, DecodeError> {
        let at = r.offset();
        let b = r.bytes::<20>()?;
        if Self::check(&b) {
            Ok(Self(b))
        } else {
            Err(DecodeError::new(
                DecodeErrorKind::InvalidValue {
                    field: "RFC 3339 time",
                },
                at,
            ))
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The 20 wire bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Whether this is the "unknown" value.
    pub fn is_unknown(&self) -> bool {
        *self == Self::UNKNOWN
    }
}

impl core::fmt::Debug for DateTime20 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Operational Status (RFC 5792 §4.2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationalStatus {
    /// 0 unknown, 1 not installed, 2 installed but not operational, 3 operational.
    pub status: u8,
    /// 0 unknown or other, 1 successful use with no errors, 2 with errors, 3 unsuccessful.
    pub result: u8,
    /// Last Use time.
    pub last_use: DateTime20,
}

impl OperationalStatus {
    /// Status: unknown or other.
    pub const STATUS_UNKNOWN: u8 = 0;
    /// Status: not installed.
    pub const STATUS_NOT_INSTALLED: u8 = 1;
    /// Status: installed but not operational.
    pub const STATUS_INSTALLED_NOT_OPERATIONAL: u8 = 2;
    /// Status: operational.
    pub const STATUS_OPERATIONAL: u8 = 3;
}

impl PaAttribute for OperationalStatus {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::OPERATIONAL_STATUS.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        // RFC 5792 §4.2.5: Length MUST be 36.
        exact_len(&value, 24, base)?;
        let mut r = Reader::new(value, base);
        let status = r.u8()?;
        let result = r.u8()?;
        let _reserved = r.u16()?;
        let last_use = DateTime20::read(&mut r)?;
        Ok(Self {
            status,
            result,
            last_use,
        })
    }

    fn value_len(&self) -> usize {
        24
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        out.put_u8(self.status);
        out.put_u8(self.result);
        out.put_u16(0);
        out.put_slice(self.last_use.as_bytes());
    }
}

/// One Port Filter entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortFilterEntry {
    /// B flag: the port is blocked (else allowed).
    pub blocked: bool,
    /// IP protocol number.
    pub protocol: u8,
    /// Port number.
    pub port: u16,
}

/// Port Filter (RFC 5792 §4.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortFilter {
    entries: Vec<PortFilterEntry>,
}

impl PortFilter {
    /// At least one entry, no protocol/port pair twice and no protocol with both blocked and
    /// allowed entries (the collector MUSTs of §4.2.6); `None` otherwise.
    pub fn new(entries: Vec<PortFilterEntry>) -> Option<Self> {
        if entries.is_empty() {
            return None;
        }
        for (i, a) in entries.iter().enumerate() {
            for b in entries.iter().skip(i + 1) {
                if a.protocol == b.protocol && (a.port == b.port || a.blocked != b.blocked) {
                    return None;
                }
            }
        }
        Some(Self { entries })
    }

    /// The entries.
    pub fn entries(&self) -> &[PortFilterEntry] {
        &self.entries
    }
}

impl PaAttribute for PortFilter {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::PORT_FILTER.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        // RFC 5792 §4.2.6: Length = 12 + 4N, N >= 1. Receivers accept what senders must not
        // produce (duplicates), so only the layout is checked here.
        if value.is_empty() || !value.len().is_multiple_of(4) {
            return Err(super::length_mismatch(
                value.len(),
                (value.len() / 4 + 1) * 4,
                base,
            ));
        }
        let mut r = Reader::new(value, base);
        let mut entries = Vec::new();
        while !r.is_empty() {
            let flags = r.u8()?;
            entries.push(PortFilterEntry {
                blocked: flags & 0x01 != 0,
                protocol: r.u8()?,
                port: r.u16()?,
            });
        }
        Ok(Self { entries })
    }

    fn value_len(&self) -> usize {
        self.entries.len() * 4
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        for e in &self.entries {
            out.put_u8(u8::from(e.blocked));
            out.put_u8(e.protocol);
            out.put_u16(e.port);
        }
    }
}

/// Installed Packages (RFC 5792 §4.2.7): (name, version) pairs, duplicates allowed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstalledPackages {
    packages: Vec<(Text, Text)>,
}

impl InstalledPackages {
    /// At most 65,535 packages, names and versions of at most 255 bytes; `None` otherwise.
    pub fn new<'a>(packages: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Self> {
        let mut out = Vec::new();
        for (n, v) in packages {
            out.push((short_text(n)?, short_text(v)?));
        }
        (out.len() <= usize::from(u16::MAX)).then_some(Self { packages: out })
    }

    /// The packages.
    pub fn packages(&self) -> &[(Text, Text)] {
        &self.packages
    }
}

impl PaAttribute for InstalledPackages {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::INSTALLED_PACKAGES.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value, base);
        let _reserved = r.u16()?;
        let count_at = r.offset();
        let count = r.u16()?;
        // Each package needs at least 2 bytes: refuse a count the value cannot hold before
        // reserving anything.
        if usize::from(count) * 2 > r.remaining() {
            return Err(DecodeError::new(
                DecodeErrorKind::CountMismatch {
                    count: count.into(),
                },
                count_at,
            ));
        }
        let mut packages = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let n = r.u8()?;
            let name = r.text(usize::from(n))?;
            let n = r.u8()?;
            let version = r.text(usize::from(n))?;
            packages.push((name, version));
        }
        r.finish()?;
        Ok(Self { packages })
    }

    fn value_len(&self) -> usize {
        4 + self
            .packages
            .iter()
            .map(|(n, v)| 2 + n.len() + v.len())
            .sum::<usize>()
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        out.put_u16(0);
        out.put_u16(u16::try_from(self.packages.len()).unwrap_or(u16::MAX));
        for (n, v) in &self.packages {
            out.put_u8(text_u8(n));
            out.put_slice(n.as_bytes());
            out.put_u8(text_u8(v));
            out.put_slice(v.as_bytes());
        }
    }
}

macro_rules! u32_attribute {
    ($(#[$m:meta])* $name:ident, $t:expr, [$($(#[$cm:meta])* $c:ident = $v:expr => $n:literal),*]) => {
        nea_wire::registry! {
            $(#[$m])*
            $name(u32) {
                $($(#[$cm])* $c = $v => $n,)*
            }
        }

        impl PaAttribute for $name {
            const VENDOR: VendorId = VendorId::IETF;
            const TYPE: u32 = $t.0;

            fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
                exact_len(&value, 4, base)?;
                Ok(Self(Reader::new(value, base).u32()?))
            }

            fn value_len(&self) -> usize {
                4
            }

            fn encode_value<B: BufMut>(&self, out: &mut B) {
                out.put_u32(self.0);
            }
        }
    };
}

u32_attribute!(
    /// Assessment Result (RFC 5792 §4.2.9). Debug and Display print the same names as
    /// `pb_tnc::PbAssessmentResult` (RFC 5793 §4.6 uses the same five values):
    /// `PaAssessmentResult(non-compliant minor)`, `don't know`; unknown values print the number.
    PaAssessmentResult, AttributeType::ASSESSMENT_RESULT, [
    /// Compliant.
    COMPLIANT = 0 => "compliant",
    /// Minor non-compliance.
    MINOR_NON_COMPLIANCE = 1 => "non-compliant minor",
    /// Major non-compliance.
    MAJOR_NON_COMPLIANCE = 2 => "non-compliant major",
    /// Error.
    ERROR = 3 => "error",
    /// Unable to determine.
    UNABLE_TO_DETERMINE = 4 => "don't know"
]);

u32_attribute!(
    /// Forwarding Enabled (RFC 5792 §4.2.11).
    ForwardingEnabled, AttributeType::FORWARDING_ENABLED, [
    /// Disabled.
    DISABLED = 0 => "disabled",
    /// Enabled.
    ENABLED = 1 => "enabled",
    /// Unknown.
    UNKNOWN = 2 => "unknown"
]);

u32_attribute!(
    /// Factory Default Password Enabled (RFC 5792 §4.2.12).
    FactoryDefaultPasswordEnabled, AttributeType::FACTORY_DEFAULT_PASSWORD_ENABLED, [
    /// No factory default password is enabled.
    NO = 0 => "no",
    /// At least one factory default password is enabled.
    YES = 1 => "yes"
]);

/// The parameters of a Remediation Instructions attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemediationParameters {
    /// Remediation URI (§4.2.10.1): an RFC 3986 URI filling the rest.
    Uri(Text),
    /// Remediation String (§4.2.10.2).
    String {
        /// Human-readable instructions, UTF-8 without NUL.
        text: Text,
        /// RFC 4646 language tag, may be empty.
        lang: Text,
    },
    /// Any other vendor/type, kept raw.
    Other {
        /// Remediation Parameters Vendor ID.
        vendor: VendorId,
        /// Remediation Parameters Type.
        kind: u32,
        /// The raw parameters.
        data: Bytes,
    },
}

/// Remediation Instructions (RFC 5792 §4.2.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemediationInstructions(pub RemediationParameters);

impl PaAttribute for RemediationInstructions {
    const VENDOR: VendorId = VendorId::IETF;
    const TYPE: u32 = AttributeType::REMEDIATION_INSTRUCTIONS.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value, base);
        let _reserved = r.u8()?;
        let vendor = VendorId::from_u24(r.u24()?);
        let kind = r.u32()?;
        let p = match (vendor, RemediationType(kind)) {
            (VendorId::IETF, RemediationType::URI) => {
                let n = r.remaining();
                RemediationParameters::Uri(r.text_no_nul(n)?)
            }
            (VendorId::IETF, RemediationType::STRING) => {
                let len = r.u32()?;
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                // RFC 5792 §4.2.10.2: a NUL in the string SHOULD be answered with Invalid
                // Parameter.
                let text = r.text_no_nul(len)?;
                let n = r.u8()?;
                let lang = r.text_no_nul(usize::from(n))?;
                r.finish()?;
                RemediationParameters::String { text, lang }
            }
            _ => RemediationParameters::Other {
                vendor,
                kind,
                data: r.rest(),
            },
        };
        Ok(Self(p))
    }

    fn value_len(&self) -> usize {
        8 + match &self.0 {
            RemediationParameters::Uri(u) => u.len(),
            RemediationParameters::String { text, lang } => 5 + text.len() + lang.len(),
            RemediationParameters::Other { data, .. } => data.len(),
        }
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        out.put_u8(0);
        match &self.0 {
            RemediationParameters::Uri(u) => {
                put_u24(out, 0);
                out.put_u32(RemediationType::URI.0);
                out.put_slice(u.as_bytes());
            }
            RemediationParameters::String { text, lang } => {
                put_u24(out, 0);
                out.put_u32(RemediationType::STRING.0);
                out.put_u32(u32::try_from(text.len()).unwrap_or(u32::MAX));
                out.put_slice(text.as_bytes());
                out.put_u8(text_u8(lang));
                out.put_slice(lang.as_bytes());
            }
            RemediationParameters::Other { vendor, kind, data } => {
                put_u24(out, vendor.get());
                out.put_u32(*kind);
                out.put_slice(data);
            }
        }
    }
}

/// Any IETF standard attribute of RFC 5792, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IetfAttribute {
    /// Testing (type 0): value kept raw.
    Testing(Bytes),
    /// Attribute Request.
    AttributeRequest(AttributeRequest),
    /// Product Information.
    ProductInformation(ProductInformation),
    /// Numeric Version.
    NumericVersion(NumericVersion),
    /// String Version.
    StringVersion(StringVersion),
    /// Operational Status.
    OperationalStatus(OperationalStatus),
    /// Port Filter.
    PortFilter(PortFilter),
    /// Installed Packages.
    InstalledPackages(InstalledPackages),
    /// PA-TNC Error.
    PaTncError(PaTncError),
    /// Assessment Result.
    AssessmentResult(PaAssessmentResult),
    /// Remediation Instructions.
    RemediationInstructions(RemediationInstructions),
    /// Forwarding Enabled.
    ForwardingEnabled(ForwardingEnabled),
    /// Factory Default Password Enabled.
    FactoryDefaultPasswordEnabled(FactoryDefaultPasswordEnabled),
}

impl IetfAttribute {
    /// Decodes `a` if it is one of the RFC 5792 attributes (IETF types 0–12); `None` for any
    /// other vendor or type (SWIMA's 13–21 live in the `swima` crate).
    pub fn decode(a: &Attribute) -> Option<Result<Self, DecodeError>> {
        if a.vendor != VendorId::IETF {
            return None;
        }
        fn map<T: PaAttribute>(
            a: &Attribute,
            f: fn(T) -> IetfAttribute,
        ) -> Option<Result<IetfAttribute, DecodeError>> {
            Some(T::from_attribute(a).map(f))
        }
        match AttributeType(a.kind) {
            AttributeType::TESTING => Some(Ok(Self::Testing(a.value.clone()))),
            AttributeType::ATTRIBUTE_REQUEST => map(a, Self::AttributeRequest),
            AttributeType::PRODUCT_INFORMATION => map(a, Self::ProductInformation),
            AttributeType::NUMERIC_VERSION => map(a, Self::NumericVersion),
            AttributeType::STRING_VERSION => map(a, Self::StringVersion),
            AttributeType::OPERATIONAL_STATUS => map(a, Self::OperationalStatus),
            AttributeType::PORT_FILTER => map(a, Self::PortFilter),
            AttributeType::INSTALLED_PACKAGES => map(a, Self::InstalledPackages),
            AttributeType::PA_TNC_ERROR => map(a, Self::PaTncError),
            AttributeType::ASSESSMENT_RESULT => map(a, Self::AssessmentResult),
            AttributeType::REMEDIATION_INSTRUCTIONS => map(a, Self::RemediationInstructions),
            AttributeType::FORWARDING_ENABLED => map(a, Self::ForwardingEnabled),
            AttributeType::FACTORY_DEFAULT_PASSWORD_ENABLED => {
                map(a, Self::FactoryDefaultPasswordEnabled)
            }
            _ => None,
        }
    }

    /// The attribute ready to send (NOSKIP clear; set [`Attribute::flags`] to change it).
    pub fn to_attribute(&self) -> Attribute {
        match self {
            Self::Testing(v) => Attribute::new(
                VendorId::IETF,
                ietf(AttributeType::TESTING),
                false,
                v.clone(),
            ),
            Self::AttributeRequest(x) => x.to_attribute(),
            Self::ProductInformation(x) => x.to_attribute(),
            Self::NumericVersion(x) => x.to_attribute(),
            Self::StringVersion(x) => x.to_attribute(),
            Self::OperationalStatus(x) => x.to_attribute(),
            Self::PortFilter(x) => x.to_attribute(),
            Self::InstalledPackages(x) => x.to_attribute(),
            Self::PaTncError(x) => x.to_attribute(),
            Self::AssessmentResult(x) => x.to_attribute(),
            Self::RemediationInstructions(x) => x.to_attribute(),
            Self::ForwardingEnabled(x) => x.to_attribute(),
            Self::FactoryDefaultPasswordEnabled(x) => x.to_attribute(),
        }
    }
}
