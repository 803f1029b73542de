//! Errors: [`DecodeError`] for bytes the peer sent, [`Error`] for local API misuse.

/// What was wrong with the bytes the peer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// A chunk header is not `\n#<chunk-size>\n` (RFC 6242 §4.2).
    #[error("bad chunk header")]
    BadChunkHeader,
    /// A chunk size is zero, has a leading zero, or exceeds 4294967295 (RFC 6242 §4.2).
    #[error("chunk size out of range")]
    BadChunkSize,
    /// A chunk is larger than the configured limit.
    #[error("chunk larger than the configured limit")]
    ChunkTooLarge,
    /// An end-of-chunks marker (`\n##\n`) arrived before any chunk (RFC 6242 §4.2).
    #[error("end of chunks without any chunk")]
    EmptyMessage,
    /// A message is larger than the configured limit.
    #[error("message larger than the configured limit")]
    MessageTooLarge,
    /// A message is not UTF-8 (RFC 6241 §3: NETCONF messages are UTF-8 XML).
    #[error("message is not utf-8")]
    NotUtf8,
    /// The XML is not well-formed.
    #[error("xml not well-formed")]
    Xml,
    /// The root element is not one this client expects (`hello`, `rpc-reply`, `notification`).
    #[error("unexpected root element")]
    UnexpectedRoot,
    /// A required element or attribute is missing.
    #[error("required element or attribute missing")]
    Missing,
    /// A value does not match its type (number, enumeration, URI).
    #[error("invalid value")]
    InvalidValue,
    /// More items (capabilities, errors, nesting levels) than the configured limit.
    #[error("more items than the configured limit")]
    TooMany,
}

/// A decoding failure with the byte offset where it was detected.
///
/// The offset counts from the start of the unit being decoded: the read buffer for the
/// framer, the message body for the XML parsers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at offset {offset}")]
pub struct DecodeError {
    /// What was wrong.
    pub kind: DecodeErrorKind,
    /// Where (bytes from the start of the decoded unit).
    pub offset: u64,
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind, offset: impl TryInto<u64>) -> Self {
        Self {
            kind,
            offset: offset.try_into().unwrap_or(u64::MAX),
        }
    }
}

/// Local misuse of the API (never caused by the peer's bytes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server's `<hello>` has not arrived yet.
    #[error("hello exchange not finished")]
    NotReady,
    /// The session is closed (or closing); no further RPC can be sent.
    #[error("session closed")]
    Closed,
    /// Too many RPCs in flight for the configured limit.
    #[error("too many rpcs in flight")]
    TooManyInFlight,
    /// A caller-supplied value cannot be carried in XML (e.g. a raw RPC body that is not a
    /// single well-formed element).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// The server does not announce a capability this operation needs.
    #[error("server lacks capability {0}")]
    MissingCapability(&'static str),
}
