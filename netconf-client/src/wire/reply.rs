//! `<rpc-reply>` (RFC 6241 §4.2–§4.4): `<ok/>`, `<data>`, other content, and `<rpc-error>`s.
//!
//! ```text
//! <rpc-reply message-id="101" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
//!   <rpc-error>                      0..n, each field typed in RpcError
//!     <error-type/> <error-tag/> <error-severity/> <error-app-tag/>?
//!     <error-path/>? <error-message xml:lang=""/>? <error-info/>?
//!   </rpc-error>
//!   <ok/> | <data>…</data> | other elements (e.g. an RFC 8639 <id>)
//! </rpc-reply>
//! ```

use std::fmt;
use std::ops::Range;

use bytes::Bytes;

use crate::config::Limits;
use crate::error::{DecodeError, DecodeErrorKind};
use crate::xml::{DataReader, XmlEvent, is_base, slice, trimmed};

/// A decoded `<rpc-reply>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcReply {
    /// The `message-id` attribute, verbatim (RFC 6241 §4.2 requires the server to echo it).
    pub message_id: Option<String>,
    /// The `<rpc-error>` elements (errors and warnings), in order.
    pub errors: Vec<RpcError>,
    /// What else the reply carries.
    pub content: ReplyContent,
    /// The whole message body.
    pub raw: Bytes,
}

/// The non-error content of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyContent {
    /// `<ok/>`.
    Ok,
    /// `<data>` (in any namespace: base, RFC 6022 monitoring, RFC 8526 NMDA).
    Data(Data),
    /// Other elements (raw XML between `<rpc-reply>` and `</rpc-reply>`), e.g. RFC 8639 `<id>`.
    Other(Bytes),
    /// Nothing besides errors.
    None,
}

/// The content of a `<data>` element: raw XML bytes (a zero-copy slice of the message) plus
/// a streaming reader.
#[derive(Clone, PartialEq, Eq)]
pub struct Data {
    xml: Bytes,
    max_depth: usize,
}

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Data")
            .field("len", &self.xml.len())
            .finish()
    }
}

impl Data {
    /// Wraps raw XML (the content of a `<data>` element).
    #[must_use]
    pub fn new(xml: Bytes) -> Self {
        Self {
            xml,
            max_depth: Limits::default().max_depth,
        }
    }

    /// The raw XML between `<data>` and `</data>`.
    #[must_use]
    pub fn as_bytes(&self) -> &Bytes {
        &self.xml
    }

    /// The raw XML as text (the message was checked to be UTF-8).
    #[must_use]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.xml).unwrap_or_default()
    }

    /// A streaming reader over the content: memory bounded by depth and the largest text,
    /// not by the size of the reply.
    pub fn reader(&self) -> Result<DataReader<'_>, DecodeError> {
        DataReader::new(&self.xml, self.max_depth)
    }
}

/// RFC 6241 §4.3 error-type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorType {
    /// `transport` (RFC 6241 says layer 4 secure transport).
    Transport,
    /// `rpc`.
    Rpc,
    /// `protocol`.
    Protocol,
    /// `application`.
    Application,
}

impl ErrorType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "transport" => Self::Transport,
            "rpc" => Self::Rpc,
            "protocol" => Self::Protocol,
            "application" => Self::Application,
            _ => return None,
        })
    }

    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transport => "transport",
            Self::Rpc => "rpc",
            Self::Protocol => "protocol",
            Self::Application => "application",
        }
    }
}

macro_rules! error_tags {
    ($($v:ident => $s:literal),* $(,)?) => {
        /// RFC 6241 Appendix A error-tag. Unknown tags pass through as `Other`.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum ErrorTag {
            $(#[doc = concat!("`", $s, "`")] $v,)*
            /// A tag this crate does not know.
            Other(String),
        }
        impl ErrorTag {
            /// Parses a wire tag.
            #[must_use]
            pub fn parse(s: &str) -> Self {
                match s { $($s => Self::$v,)* other => Self::Other(other.to_owned()) }
            }
            /// The wire name.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self { $(Self::$v => $s,)* Self::Other(s) => s }
            }
        }
    };
}

error_tags! {
    InUse => "in-use",
    InvalidValue => "invalid-value",
    TooBig => "too-big",
    MissingAttribute => "missing-attribute",
    BadAttribute => "bad-attribute",
    UnknownAttribute => "unknown-attribute",
    MissingElement => "missing-element",
    BadElement => "bad-element",
    UnknownElement => "unknown-element",
    UnknownNamespace => "unknown-namespace",
    AccessDenied => "access-denied",
    LockDenied => "lock-denied",
    ResourceDenied => "resource-denied",
    RollbackFailed => "rollback-failed",
    DataExists => "data-exists",
    DataMissing => "data-missing",
    OperationNotSupported => "operation-not-supported",
    OperationFailed => "operation-failed",
    PartialOperation => "partial-operation",
    MalformedMessage => "malformed-message",
}

/// RFC 6241 §4.3 error-severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSeverity {
    /// `error`.
    Error,
    /// `warning`.
    Warning,
}

/// The `<error-info>` element: the RFC 6241 Appendix A fields plus the raw XML (vendor
/// elements included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorInfo {
    /// `<bad-attribute>`.
    pub bad_attribute: Option<String>,
    /// `<bad-element>`.
    pub bad_element: Option<String>,
    /// `<bad-namespace>`.
    pub bad_namespace: Option<String>,
    /// `<session-id>` (the lock holder for `lock-denied`, 0 if not a NETCONF session).
    pub session_id: Option<u32>,
    /// Raw XML content of `<error-info>`.
    pub raw: Bytes,
}

/// One `<rpc-error>` (RFC 6241 §4.3), every field typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {}{}", error_type.map_or("unknown", ErrorType::as_str), tag.as_str(), fmt_msg(message.as_deref(), path.as_deref()))]
pub struct RpcError {
    /// `<error-type>` (`None` if missing or unknown).
    pub error_type: Option<ErrorType>,
    /// `<error-tag>`.
    pub tag: ErrorTag,
    /// `<error-severity>` (`Error` if missing or unknown).
    pub severity: ErrorSeverity,
    /// `<error-app-tag>`.
    pub app_tag: Option<String>,
    /// `<error-path>` (an XPath expression).
    pub path: Option<String>,
    /// `<error-message>`.
    pub message: Option<String>,
    /// The `xml:lang` of `<error-message>`.
    pub message_lang: Option<String>,
    /// `<error-info>`.
    pub info: Option<ErrorInfo>,
}

fn fmt_msg(msg: Option<&str>, path: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(m) = msg {
        s.push_str(": ");
        s.push_str(m.trim());
    }
    if let Some(p) = path {
        s.push_str(" (at ");
        s.push_str(p.trim());
        s.push(')');
    }
    s
}

impl RpcReply {
    /// Whether the reply has no error of severity `error`.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        !self
            .errors
            .iter()
            .any(|e| e.severity == ErrorSeverity::Error)
    }

    /// The first error of severity `error`, if any.
    #[must_use]
    pub fn first_error(&self) -> Option<&RpcError> {
        self.errors
            .iter()
            .find(|e| e.severity == ErrorSeverity::Error)
    }

    /// The RFC 8639 subscription `<id>` of an establish-subscription reply (§2.4.2).
    #[must_use]
    pub fn subscription_id(&self) -> Option<u32> {
        let ReplyContent::Other(x) = &self.content else {
            return None;
        };
        let mut r = DataReader::new(x, 16).ok()?;
        loop {
            match r.next_event().ok()?? {
                XmlEvent::Start {
                    namespace: crate::wire::operation::NS_SUBSCRIBED,
                    name: "id",
                } => return r.read_text().ok()?.trim().parse().ok(),
                XmlEvent::Start { .. } => {
                    r.skip_element().ok()?;
                }
                _ => {}
            }
        }
    }

    /// The `<data>`, if the reply carries one.
    #[must_use]
    pub fn data(&self) -> Option<&Data> {
        match &self.content {
            ReplyContent::Data(d) => Some(d),
            _ => None,
        }
    }
}

pub(crate) fn parse(
    r: &mut DataReader<'_>,
    body: &Bytes,
    lead: usize,
    limits: &Limits,
) -> Result<RpcReply, DecodeError> {
    let message_id = r.attribute("message-id").map(str::to_owned);
    let rebase = |range: Range<usize>| slice(body, range.start + lead..range.end + lead);
    let mut errors = Vec::new();
    let mut content = ReplyContent::None;
    let content_start = r.pos();
    let mut other = false;
    loop {
        let before = r.pos();
        let (ns_ok, name) = match r.next_event()? {
            Some(XmlEvent::Start { namespace, name }) => (is_base(namespace), name.to_owned()),
            Some(XmlEvent::Text(_)) => continue,
            Some(XmlEvent::End) => {
                if other {
                    content = ReplyContent::Other(rebase(content_start..before));
                }
                break;
            }
            None => return Err(DecodeError::new(DecodeErrorKind::Xml, r.offset())),
        };
        match name.as_str() {
            "rpc-error" if ns_ok => {
                if errors.len() >= limits.max_errors {
                    return Err(DecodeError::new(DecodeErrorKind::TooMany, r.offset()));
                }
                errors.push(parse_error(r, &rebase)?);
            }
            "ok" if ns_ok => {
                r.skip_element()?;
                content = ReplyContent::Ok;
            }
            "data" if !other => {
                let range = r.skip_element()?;
                content = ReplyContent::Data(Data {
                    xml: rebase(range),
                    max_depth: limits.max_depth,
                });
            }
            _ => {
                r.skip_element()?;
                other = true;
            }
        }
    }
    Ok(RpcReply {
        message_id,
        errors,
        content,
        raw: body.clone(),
    })
}

fn parse_error(
    r: &mut DataReader<'_>,
    rebase: &dyn Fn(Range<usize>) -> Bytes,
) -> Result<RpcError, DecodeError> {
    let mut e = RpcError {
        error_type: None,
        tag: ErrorTag::Other(String::new()),
        severity: ErrorSeverity::Error,
        app_tag: None,
        path: None,
        message: None,
        message_lang: None,
        info: None,
    };
    loop {
        let name = match r.next_event()? {
            Some(XmlEvent::Start { name, .. }) => name.to_owned(),
            Some(XmlEvent::Text(_)) => continue,
            Some(XmlEvent::End) => break,
            None => return Err(DecodeError::new(DecodeErrorKind::Xml, r.offset())),
        };
        match name.as_str() {
            "error-type" => e.error_type = ErrorType::parse(r.read_text()?.trim()),
            "error-tag" => e.tag = ErrorTag::parse(r.read_text()?.trim()),
            "error-severity" => {
                if r.read_text()?.trim() == "warning" {
                    e.severity = ErrorSeverity::Warning;
                }
            }
            "error-app-tag" => e.app_tag = Some(trimmed(r.read_text()?)),
            "error-path" => e.path = Some(trimmed(r.read_text()?)),
            "error-message" => {
                e.message_lang = r.attribute("xml:lang").map(str::to_owned);
                e.message = Some(r.read_text()?);
            }
            "error-info" => e.info = Some(parse_info(r, rebase)?),
            _ => {
                r.skip_element()?;
            }
        }
    }
    Ok(e)
}

fn parse_info(
    r: &mut DataReader<'_>,
    rebase: &dyn Fn(Range<usize>) -> Bytes,
) -> Result<ErrorInfo, DecodeError> {
    let start = r.pos();
    let mut info = ErrorInfo::default();
    loop {
        let before = r.pos();
        let name = match r.next_event()? {
            Some(XmlEvent::Start { name, .. }) => name.to_owned(),
            Some(XmlEvent::Text(_)) => continue,
            Some(XmlEvent::End) => {
                info.raw = rebase(start..before);
                return Ok(info);
            }
            None => return Err(DecodeError::new(DecodeErrorKind::Xml, r.offset())),
        };
        match name.as_str() {
            "bad-attribute" => info.bad_attribute = Some(trimmed(r.read_text()?)),
            "bad-element" => info.bad_element = Some(trimmed(r.read_text()?)),
            "bad-namespace" => info.bad_namespace = Some(trimmed(r.read_text()?)),
            "session-id" => info.session_id = r.read_text()?.trim().parse().ok(),
            _ => {
                r.skip_element()?;
            }
        }
    }
}
