//! `<hello>` (RFC 6241 §8.1): capabilities and, from the server, the session-id.

use std::fmt::Write as _;

use crate::capability::{BASE_1_0, BASE_1_1, Capabilities, Capability};
use crate::config::{Config, Limits};
use crate::error::{DecodeError, DecodeErrorKind};
use crate::xml::{DataReader, XmlEvent, escape, is_base, trimmed};

/// A decoded `<hello>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// The announced capabilities.
    pub capabilities: Capabilities,
    /// `<session-id>` (only in the server's hello).
    pub session_id: Option<u32>,
}

pub(crate) fn parse(r: &mut DataReader<'_>, limits: &Limits) -> Result<Hello, DecodeError> {
    let mut caps = Capabilities::default();
    let mut session_id = None;
    let mut saw_caps = false;
    loop {
        let (ns_ok, name) = match r.next_event()? {
            Some(XmlEvent::Start { namespace, name }) => (is_base(namespace), name.to_owned()),
            Some(XmlEvent::Text(_)) => continue,
            Some(XmlEvent::End) | None => break,
        };
        match name.as_str() {
            "capabilities" if ns_ok => {
                saw_caps = true;
                loop {
                    match r.next_event()? {
                        Some(XmlEvent::Start {
                            name: "capability", ..
                        }) => {
                            if caps.len() >= limits.max_capabilities {
                                return Err(DecodeError::new(DecodeErrorKind::TooMany, r.offset()));
                            }
                            let uri = r.read_text()?;
                            caps.push(Capability::parse(&uri));
                        }
                        Some(XmlEvent::Start { .. }) => {
                            r.skip_element()?;
                        }
                        Some(XmlEvent::Text(_)) => {}
                        Some(XmlEvent::End) | None => break,
                    }
                }
            }
            "session-id" if ns_ok => {
                let at = r.offset();
                let v = trimmed(r.read_text()?);
                // RFC 6241 §8.1: session-id is a uint32, 1 or more
                let id = v
                    .parse::<u32>()
                    .ok()
                    .filter(|&v| v != 0)
                    .ok_or(DecodeError::new(DecodeErrorKind::InvalidValue, at))?;
                session_id = Some(id);
            }
            _ => {
                r.skip_element()?;
            }
        }
    }
    if !saw_caps {
        return Err(DecodeError::new(DecodeErrorKind::Missing, r.offset()));
    }
    Ok(Hello {
        capabilities: caps,
        session_id,
    })
}

/// The client `<hello>` for `config` (never carries a session-id, RFC 6241 §8.1).
#[must_use]
pub fn client_hello(config: &Config) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities>",
    );
    let mut cap = |c: &str| {
        let _ = write!(s, "<capability>{}</capability>", escape(c));
    };
    cap(BASE_1_0);
    if config.base11 {
        cap(BASE_1_1);
    }
    for c in &config.extra_capabilities {
        cap(c);
    }
    s.push_str("</capabilities></hello>");
    s
}
