//! Decode errors with the absolute offset of the offending field.

/// `n` bytes in words: "1 byte", "2 bytes".
fn bytes(n: u64) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

/// What went wrong while decoding; see [`DecodeError`] for where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended inside a field that needs `needed` more bytes.
    #[error("input ends {} short", bytes(*needed as u64))]
    UnexpectedEnd {
        /// Bytes missing.
        needed: usize,
    },
    /// A length field is smaller than the fixed part it must cover.
    #[error("length {length} shorter than its {min}-byte minimum")]
    LengthTooShort {
        /// The length read from the wire.
        length: u64,
        /// The smallest legal value.
        min: u64,
    },
    /// A length field points beyond the enclosing buffer.
    #[error("length {length} runs past the {} available", bytes(*available))]
    LengthOverrun {
        /// The length read from the wire.
        length: u64,
        /// Bytes available from the start of the item.
        available: u64,
    },
    /// A fixed-size item carries another length.
    #[error("length {length} where exactly {expected} is required")]
    LengthMismatch {
        /// The length read from the wire.
        length: u64,
        /// The required length.
        expected: u64,
    },
    /// A length exceeds a configured limit (checked before any allocation).
    #[error("length {length} over the configured limit of {limit}")]
    TooLarge {
        /// The length read from the wire.
        length: u64,
        /// The configured limit.
        limit: u64,
    },
    /// Bytes remain after a complete item.
    #[error("{} trailing", bytes(*count as u64))]
    TrailingBytes {
        /// How many bytes were left over.
        count: usize,
    },
    /// The reserved vendor ID `0xffffff` was used.
    #[error("reserved vendor id 0xffffff")]
    ReservedVendor,
    /// The reserved type `0xffffffff` was used.
    #[error("reserved type 0xffffffff")]
    ReservedType,
    /// A version this implementation does not speak.
    #[error("unsupported version {version}")]
    UnsupportedVersion {
        /// The version read from the wire.
        version: u8,
    },
    /// A text field is not valid UTF-8.
    #[error("text is not valid utf-8")]
    InvalidUtf8,
    /// A text field holds a NUL byte where the RFC forbids one.
    #[error("text contains a nul byte")]
    ContainsNul,
    /// A count field disagrees with the items present.
    #[error("count {count} disagrees with the items present")]
    CountMismatch {
        /// The count read from the wire.
        count: u64,
    },
    /// A field holds a value the specification does not allow.
    #[error("invalid value of {field}")]
    InvalidValue {
        /// The RFC name of the field.
        field: &'static str,
    },
}

/// A decode failure: what ([`DecodeErrorKind`]) and where (absolute byte offset).
///
/// Small and `Clone + PartialEq` so it can be stored, compared in tests and mapped to the
/// protocol's own error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at offset {offset}")]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// Absolute offset of the offending field in the outermost buffer.
    pub offset: usize,
}

impl DecodeError {
    /// Builds an error of `kind` at `offset`.
    pub const fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// The same error moved `by` bytes further (for a nested buffer decoded on its own).
    #[must_use]
    pub const fn rebase(self, by: usize) -> Self {
        Self {
            kind: self.kind,
            offset: self.offset.saturating_add(by),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_well() {
        let e = |kind| DecodeError::new(kind, 7).to_string();
        assert_eq!(
            e(DecodeErrorKind::UnexpectedEnd { needed: 1 }),
            "input ends 1 byte short at offset 7"
        );
        assert_eq!(
            e(DecodeErrorKind::TrailingBytes { count: 2 }),
            "2 bytes trailing at offset 7"
        );
        assert_eq!(
            e(DecodeErrorKind::LengthOverrun {
                length: 9,
                available: 1
            }),
            "length 9 runs past the 1 byte available at offset 7"
        );
    }
}
