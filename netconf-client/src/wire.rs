//! NETCONF messages: decode what the server sends, encode what the client sends.
//!
//! ```text
//! server → client   <hello> | <rpc-reply message-id=…> | <notification>
//! client → server   <hello> | <rpc message-id=…>
//! ```

pub mod hello;
pub mod notification;
pub mod operation;
pub mod reply;

use bytes::Bytes;

use crate::config::Limits;
use crate::error::{DecodeError, DecodeErrorKind};
use crate::xml::{DataReader, NS_NOTIFICATION, XmlEvent, is_base, skip_ws};

pub use hello::Hello;
pub use notification::Notification;
pub use reply::RpcReply;

/// One message from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// `<hello>` (RFC 6241 §8.1).
    Hello(Hello),
    /// `<rpc-reply>` (RFC 6241 §4.2).
    Reply(RpcReply),
    /// `<notification>` (RFC 5277 §4).
    Notification(Notification),
}

impl Message {
    /// Decodes one framed message body.
    pub fn decode(body: Bytes, limits: &Limits) -> Result<Self, DecodeError> {
        let text = std::str::from_utf8(&body)
            .map_err(|e| DecodeError::new(DecodeErrorKind::NotUtf8, e.valid_up_to()))?;
        let lead = skip_ws(body.as_ref());
        let text = text.get(lead..).unwrap_or_default();
        let base = u64::try_from(lead).unwrap_or(u64::MAX);
        let mut r = DataReader::from_str_at(text, limits.max_depth, base);
        let (ns, name) = loop {
            match r.next_event()? {
                Some(XmlEvent::Start { namespace, name }) => {
                    break (namespace.to_owned(), name.to_owned());
                }
                Some(XmlEvent::Text(t)) if t.trim().is_empty() => {}
                _ => return Err(DecodeError::new(DecodeErrorKind::UnexpectedRoot, base)),
            }
        };
        let msg = match name.as_str() {
            "hello" if is_base(&ns) => Self::Hello(hello::parse(&mut r, limits)?),
            "rpc-reply" if is_base(&ns) => Self::Reply(reply::parse(&mut r, &body, lead, limits)?),
            "notification" if ns == NS_NOTIFICATION => {
                Self::Notification(notification::parse(&mut r, &body, lead)?)
            }
            _ => return Err(DecodeError::new(DecodeErrorKind::UnexpectedRoot, base)),
        };
        // nothing but whitespace/comments may follow the root element
        match r.next_event()? {
            None => Ok(msg),
            Some(XmlEvent::Text(t)) if t.trim().is_empty() => match r.next_event()? {
                None => Ok(msg),
                Some(_) => Err(DecodeError::new(DecodeErrorKind::Xml, r.offset())),
            },
            Some(_) => Err(DecodeError::new(DecodeErrorKind::Xml, r.offset())),
        }
    }
}
