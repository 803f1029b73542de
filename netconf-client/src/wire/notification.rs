//! `<notification>` (RFC 5277 §4): an event time and the event content.
//!
//! ```text
//! <notification xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0">
//!   <eventTime>2007-07-08T00:01:00Z</eventTime>
//!   <event xmlns="…">…</event>
//! </notification>
//! ```

use bytes::Bytes;

use crate::error::{DecodeError, DecodeErrorKind};
use crate::xml::{DataReader, NS_NOTIFICATION, XmlEvent, slice, trimmed};

/// A decoded `<notification>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// `<eventTime>` (RFC 3339 date-time, verbatim).
    pub event_time: String,
    /// Namespace of the first content element (the event).
    pub event_namespace: String,
    /// Local name of the first content element (e.g. `netconf-config-change`).
    pub event_name: String,
    /// Raw XML of everything but `<eventTime>`.
    pub content: Bytes,
}

impl Notification {
    /// A streaming reader over the content.
    pub fn reader(&self) -> Result<DataReader<'_>, DecodeError> {
        DataReader::new(&self.content, 256)
    }
}

pub(crate) fn parse(
    r: &mut DataReader<'_>,
    body: &Bytes,
    lead: usize,
) -> Result<Notification, DecodeError> {
    let mut event_time = None;
    let mut event: Option<(String, String)> = None;
    let mut start = None;
    let mut end = r.pos();
    loop {
        let before = r.pos();
        let (ns, name) = match r.next_event()? {
            Some(XmlEvent::Start { namespace, name }) => (namespace.to_owned(), name.to_owned()),
            Some(XmlEvent::Text(_)) => continue,
            Some(XmlEvent::End) => break,
            None => return Err(DecodeError::new(DecodeErrorKind::Xml, r.offset())),
        };
        if name == "eventTime" && ns == NS_NOTIFICATION && event_time.is_none() {
            event_time = Some(trimmed(r.read_text()?));
            continue;
        }
        start.get_or_insert(before);
        if event.is_none() {
            event = Some((ns, name));
        }
        r.skip_element()?;
        end = r.pos();
    }
    // RFC 5277 §4: eventTime is mandatory
    let event_time = event_time.ok_or(DecodeError::new(DecodeErrorKind::Missing, r.offset()))?;
    let (event_namespace, event_name) = event.unwrap_or_default();
    let start = start.unwrap_or(end);
    Ok(Notification {
        event_time,
        event_namespace,
        event_name,
        content: slice(body, start + lead..end + lead),
    })
}
