//! Errors: CBOR decode errors, lenient-mode deviations, validation failures, XML and COSE errors.

use core::fmt;

/// Why a CoSWID could not be decoded (see [`DecodeError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended inside a data item.
    EndOfInput,
    /// The bytes are not well-formed CBOR.
    Malformed,
    /// Bytes follow the single data item.
    TrailingBytes,
    /// A field has a CBOR type the CDDL does not allow there.
    WrongType {
        /// What the CDDL expects, in CDDL words.
        expected: &'static str,
    },
    /// A required field is absent.
    MissingField,
    /// A map key appears twice.
    DuplicateKey,
    /// An integer does not fit the model (`i64`, or `u64` for sizes).
    IntegerOutOfRange,
    /// A byte-string tag-id or generator is not 16 bytes long.
    BadUuidLength,
    /// The top-level CBOR tag is neither 1398229316 nor, for signed tags, 18.
    WrongCborTag(u64),
    /// Maps nest deeper than the decoder's limit.
    TooDeep,
    /// A map key is neither an integer nor a text string.
    BadKey,
    /// A real-world deviation from the CDDL, rejected by the strict decoder.
    Deviation(DeviationKind),
    /// The tag decodes but breaks an RFC 9393 rule (strict decoding validates).
    Invalid(ValidationKind),
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EndOfInput => f.write_str("input ends inside a data item"),
            Self::Malformed => f.write_str("malformed cbor"),
            Self::TrailingBytes => f.write_str("trailing bytes after the tag"),
            Self::WrongType { expected } => write!(f, "wrong type, expected {expected}"),
            Self::MissingField => f.write_str("required field missing"),
            Self::DuplicateKey => f.write_str("duplicate map key"),
            Self::IntegerOutOfRange => f.write_str("integer out of range"),
            Self::BadUuidLength => f.write_str("byte string is not 16 bytes"),
            Self::WrongCborTag(t) => write!(f, "unexpected cbor tag {t}"),
            Self::TooDeep => f.write_str("nesting too deep"),
            Self::BadKey => f.write_str("map key is neither int nor text"),
            Self::Deviation(d) => write!(f, "{d} (rejected in strict mode)"),
            Self::Invalid(v) => write!(f, "{v}"),
        }
    }
}

/// A CoSWID decode failure: what, in which field, at which byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} in {field} at offset {offset}")]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// The CDDL name of the field (`"tag-id"`, `"entity/role"`, …) or the map being read.
    pub field: &'static str,
    /// Byte offset in the input where the offending item starts.
    pub offset: usize,
}

/// A deviation from the CDDL that the lenient decoder accepted (and the strict one rejects).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviationKind {
    /// A URI (`href`, `reg-id`) as plain text instead of `#6.32(tstr)`.
    UntaggedUri,
    /// A one-element array where one-or-more wants the bare value.
    SingleElementArray,
    /// An empty array where one-or-more wants at least one value.
    EmptyArray,
    /// A date as a float instead of `#6.1(int)` (truncated to whole seconds).
    FloatDate,
    /// A date as an untagged integer instead of `#6.1(int)`.
    UntaggedDate,
    /// tag-version as text instead of an integer.
    TextTagVersion,
    /// An integer written as a bignum (tag 2/3).
    BignumInteger,
    /// tag-version absent (taken as 0).
    MissingTagVersion,
    /// A required field is absent (entity-name, role).
    MissingField,
    /// A map key repeated (the last value is kept).
    DuplicateKey,
    /// A registered key with a wrong-typed value, kept as an unknown attribute.
    MistypedKeptAsAttribute,
    /// The CoSWID tag 1398229316 wraps a byte string holding the map.
    WrappedInByteString,
}

impl fmt::Display for DeviationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UntaggedUri => "uri without tag 32",
            Self::SingleElementArray => "one-element array for one-or-more",
            Self::EmptyArray => "empty array for one-or-more",
            Self::FloatDate => "float date",
            Self::UntaggedDate => "date without tag 1",
            Self::TextTagVersion => "text tag-version",
            Self::BignumInteger => "bignum integer",
            Self::MissingTagVersion => "tag-version missing",
            Self::MissingField => "required field missing",
            Self::DuplicateKey => "duplicate map key",
            Self::MistypedKeptAsAttribute => "registered key with wrong type kept as attribute",
            Self::WrappedInByteString => "coswid map wrapped in a byte string",
        })
    }
}

/// One deviation reported by the lenient decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deviation {
    /// What deviated.
    pub kind: DeviationKind,
    /// The CDDL name of the field.
    pub field: &'static str,
    /// Byte offset of the item in the input.
    pub offset: usize,
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} in {} at offset {}",
            self.kind, self.field, self.offset
        )
    }
}

/// Which RFC 9393 rule a tag breaks (see [`ValidationError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidationKind {
    /// A required field is absent or empty.
    Missing,
    /// No entity has the tag-creator role.
    NoTagCreator,
    /// More than one entity has the tag-creator role.
    MultipleTagCreators,
    /// payload and evidence are both present.
    PayloadAndEvidence,
    /// corpus and patch are both true.
    CorpusAndPatch,
    /// A one-or-more field is present but empty.
    EmptyOneOrMore,
    /// A byte string does not have the required size.
    BadLength,
    /// A rel value is outside -256..64436.
    RelOutOfRange,
}

impl fmt::Display for ValidationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "required field missing or empty",
            Self::NoTagCreator => "no entity with the tag-creator role",
            Self::MultipleTagCreators => "more than one entity with the tag-creator role",
            Self::PayloadAndEvidence => "payload and evidence are mutually exclusive",
            Self::CorpusAndPatch => "corpus and patch are both true",
            Self::EmptyOneOrMore => "one-or-more field is empty",
            Self::BadLength => "wrong byte string length",
            Self::RelOutOfRange => "rel outside -256..64436",
        })
    }
}

/// A broken RFC 9393 rule, naming the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {field}")]
pub struct ValidationError {
    /// Which rule.
    pub kind: ValidationKind,
    /// The CDDL path of the field, e.g. `"entity/entity-name"`.
    pub field: &'static str,
}

/// A SWID XML parse failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// The XML is not well-formed (quick-xml's message).
    #[error("malformed xml at offset {offset}: {message}")]
    Malformed {
        /// Byte offset.
        offset: u64,
        /// The parser's message.
        message: String,
    },
    /// There is no SoftwareIdentity root element.
    #[error("no SoftwareIdentity root element")]
    NoSoftwareIdentity,
    /// A required attribute is absent.
    #[error("required attribute {attribute} missing on {element}")]
    MissingAttribute {
        /// Element name.
        element: &'static str,
        /// Attribute name.
        attribute: &'static str,
    },
    /// An attribute value cannot be read as its XSD type.
    #[error("bad value for attribute {attribute} on {element}")]
    BadAttribute {
        /// Element name.
        element: &'static str,
        /// Attribute name.
        attribute: &'static str,
    },
    /// Elements nest deeper than the parser's limit.
    #[error("elements nest too deep")]
    TooDeep,
    /// A character XML 1.0 cannot carry (§2.2 `Char`: U+0000, most C0 controls, U+FFFE,
    /// U+FFFF), written literally or as a character reference.
    #[error("character U+{code:04X} not allowed in XML 1.0 at offset {offset}")]
    BadCharacter {
        /// Byte offset of the character (or of its `&#` reference).
        offset: u64,
        /// The code point.
        code: u32,
    },
    /// The document is not UTF-8.
    #[error("invalid UTF-8 at offset {offset}")]
    NotUtf8 {
        /// Byte offset of the first invalid byte.
        offset: u64,
    },
}

/// Converting between SWID XML and CoSWID failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// A required value is missing or unusable for the target form.
    #[error("cannot convert {field}: {reason}")]
    Unmappable {
        /// Field name.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// COSE_Sign1 signing or verification failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoseError {
    /// The COSE structure is malformed.
    #[error("malformed COSE_Sign1: {0}")]
    Malformed(&'static str),
    /// The protected header's algorithm is not supported or does not match the key.
    #[error("unsupported or mismatched algorithm")]
    Algorithm,
    /// The protected header lacks content type `application/swid+cbor`.
    #[error("protected header lacks content type application/swid+cbor")]
    ContentType,
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// The key could not be parsed or used.
    #[error("bad key")]
    Key,
    /// The payload is not a valid CoSWID.
    #[error("payload: {0}")]
    Payload(DecodeError),
}
