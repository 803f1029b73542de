//! What the plugins share: packing attributes into PA-TNC messages that fit the broker's
//! limit, sending them (exclusively to one peer or to any), and the verdict a policy gives.

use bytes::{Bytes, BytesMut};
use if_imc::{ImcConnection, ImcId, ImcSendOptions, ImvId, MessageType, TncError};
use if_imv::{ActionRecommendation, EvaluationResult, ImvConnection, ImvSendOptions};
use nea_wire::VendorId;
use pa_tnc::{Attribute, Disposition, Limits, MESSAGE_HEADER_LEN, PaAttribute, PaTncMessage};

/// A received PA-TNC message after RFC 5792's receiver rules.
pub(crate) enum Received {
    /// Process these attributes (the unsupported ones without NOSKIP are already removed).
    Process(PaTncMessage),
    /// Do not process; send this PA-TNC Error back.
    Reject(Attribute),
    /// Do not process, do not answer (it carried a PA-TNC Error).
    Drop,
}

/// Applies [`pa_tnc::receive`] to `body`.
pub(crate) fn receive(
    body: Bytes,
    limits: &Limits,
    supported: impl Fn(VendorId, u32) -> bool,
) -> Received {
    match pa_tnc::receive(body, 0, limits, supported) {
        Disposition::Process {
            mut message,
            skipped,
        } => {
            let mut i = 0;
            message.attributes.retain(|_| {
                i += 1;
                !skipped.contains(&(i - 1))
            });
            Received::Process(message)
        }
        Disposition::Reject { error, cause } => {
            tracing::debug!(?cause, "PA-TNC message rejected");
            Received::Reject(error.to_attribute())
        }
        Disposition::Drop(e) => {
            tracing::debug!(error = %e, "PA-TNC error message dropped");
            Received::Drop
        }
    }
}

/// The identifier of the endpoint behind `conn`: its first AR identity, or `connection N`.
pub(crate) fn endpoint_id(conn: &ImvConnection<'_>) -> String {
    conn.ar_identities()
        .first()
        .and_then(|i| i.value_str())
        .map_or_else(|| conn.id().to_string(), str::to_owned)
}

/// What a policy concludes for one endpoint: the IF-IMV recommendation and evaluation, and an
/// English reason for the endpoint's user (sent as a PB-Reason-String).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Access recommendation.
    pub recommendation: ActionRecommendation,
    /// Evaluation result.
    pub evaluation: EvaluationResult,
    /// Why (English), if the endpoint's user should be told.
    pub reason: Option<String>,
}

impl Verdict {
    /// Allow, compliant, no reason.
    pub fn allow() -> Self {
        Self {
            recommendation: ActionRecommendation::Allow,
            evaluation: EvaluationResult::Compliant,
            reason: None,
        }
    }

    /// A verdict with a reason.
    pub fn with(
        recommendation: ActionRecommendation,
        evaluation: EvaluationResult,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            recommendation,
            evaluation,
            reason: Some(reason.into()),
        }
    }

    /// Hands the verdict to the broker, with the reason in the client's language.
    pub(crate) fn provide(&self, conn: &mut ImvConnection<'_>) {
        conn.provide_recommendation(self.recommendation, self.evaluation);
        if let Some(reason) = &self.reason {
            let lang = reason_language(conn.preferred_language());
            if let Err(e) = conn.set_reason(reason, lang) {
                tracing::debug!(error = %e, "reason string refused");
            }
        }
    }
}

/// The language of the reason strings: the plugins carry English texts only, so the answer is
/// `en` whatever the client prefers (RFC 5793 §4.10 lets the server fall back).
pub(crate) fn reason_language(preferred: Option<&str>) -> &'static str {
    // "Accept-Language: de, en;q=0.5": English is what we have either way.
    let _ = preferred;
    "en"
}

/// Either side's connection, as far as sending PA-TNC messages goes.
pub(crate) trait PaSend {
    /// Largest PB-PA body.
    fn max_body(&self) -> usize;
    /// A fresh PA-TNC message identifier.
    fn message_id(&mut self) -> u32;
    /// Sends `body` to plugin `to` (exclusively) or to any plugin of type `t`.
    fn send_to(&mut self, to: Option<u16>, t: MessageType, body: Bytes) -> Result<(), TncError>;
}

impl PaSend for ImcConnection<'_> {
    fn max_body(&self) -> usize {
        self.max_message_size()
    }

    fn message_id(&mut self) -> u32 {
        self.next_message_id()
    }

    fn send_to(&mut self, to: Option<u16>, t: MessageType, body: Bytes) -> Result<(), TncError> {
        match to {
            Some(id) => self.send_long(
                ImcSendOptions {
                    exclusive: true,
                    source: None,
                    destination: ImvId::new(id),
                },
                t,
                body,
            ),
            None => self.send(t, body),
        }
    }
}

impl PaSend for ImvConnection<'_> {
    fn max_body(&self) -> usize {
        self.max_message_size()
    }

    fn message_id(&mut self) -> u32 {
        self.next_message_id()
    }

    fn send_to(&mut self, to: Option<u16>, t: MessageType, body: Bytes) -> Result<(), TncError> {
        match to {
            Some(id) => self.send_long(
                ImvSendOptions {
                    exclusive: true,
                    source: None,
                    destination: ImcId::new(id),
                },
                t,
                body,
            ),
            None => self.send(t, body),
        }
    }
}

/// Sends `attributes` in as few PA-TNC messages as fit the broker's message limit. An
/// attribute too large for any message is dropped and reported as the error (the others are
/// still sent).
pub(crate) fn send_attributes(
    conn: &mut impl PaSend,
    to: Option<u16>,
    t: MessageType,
    attributes: Vec<Attribute>,
) -> Result<(), TncError> {
    let max = conn.max_body();
    let mut result = Ok(());
    let mut batch: Vec<Attribute> = Vec::new();
    let mut size = MESSAGE_HEADER_LEN;
    for a in attributes {
        let len = a.encoded_len();
        if MESSAGE_HEADER_LEN.saturating_add(len) > max {
            tracing::warn!(
                size = len,
                max,
                "attribute larger than a PA-TNC message may be; dropped"
            );
            result = Err(TncError::ExceededMaxMessageSize {
                size: len + MESSAGE_HEADER_LEN,
                max,
            });
            continue;
        }
        if size.saturating_add(len) > max {
            flush(conn, to, t, &mut batch)?;
            size = MESSAGE_HEADER_LEN;
        }
        size += len;
        batch.push(a);
    }
    flush(conn, to, t, &mut batch)?;
    result
}

fn flush(
    conn: &mut impl PaSend,
    to: Option<u16>,
    t: MessageType,
    batch: &mut Vec<Attribute>,
) -> Result<(), TncError> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut m = PaTncMessage::new(conn.message_id());
    m.attributes = core::mem::take(batch);
    let mut out = BytesMut::with_capacity(m.encoded_len());
    m.encode(&mut out);
    conn.send_to(to, t, out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nea_wire::VendorId;

    struct Fake {
        max: usize,
        sent: Vec<(Option<u16>, Bytes)>,
        id: u32,
    }

    impl PaSend for Fake {
        fn max_body(&self) -> usize {
            self.max
        }
        fn message_id(&mut self) -> u32 {
            self.id += 1;
            self.id
        }
        fn send_to(
            &mut self,
            to: Option<u16>,
            _: MessageType,
            body: Bytes,
        ) -> Result<(), TncError> {
            assert!(body.len() <= self.max);
            self.sent.push((to, body));
            Ok(())
        }
    }

    fn attr(n: usize) -> Attribute {
        Attribute::new(VendorId::IETF, 0, false, Bytes::from(vec![1u8; n]))
    }

    #[test]
    fn packs_within_the_limit_and_drops_what_never_fits() {
        let mut f = Fake {
            max: 100,
            sent: Vec::new(),
            id: 0,
        };
        // 8 + 2 × 42 = 92 fits; the third starts a second message; 200 never fits.
        let r = send_attributes(
            &mut f,
            Some(3),
            MessageType::SWIMA,
            vec![attr(30), attr(30), attr(200), attr(30)],
        );
        assert!(matches!(r, Err(TncError::ExceededMaxMessageSize { .. })));
        assert_eq!(f.sent.len(), 2);
        let first = PaTncMessage::decode(f.sent[0].1.clone()).unwrap();
        let second = PaTncMessage::decode(f.sent[1].1.clone()).unwrap();
        assert_eq!((first.attributes.len(), second.attributes.len()), (2, 1));
        assert_eq!((first.message_id, second.message_id), (1, 2));
        assert_eq!(f.sent[0].0, Some(3));
        let mut g = Fake {
            max: 100,
            sent: Vec::new(),
            id: 0,
        };
        send_attributes(&mut g, None, MessageType::SWIMA, Vec::new()).unwrap();
        assert!(g.sent.is_empty());
    }

    #[test]
    fn reasons_are_english() {
        assert_eq!(reason_language(Some("Accept-Language: en")), "en");
        assert_eq!(reason_language(Some("Accept-Language: de")), "en");
        assert_eq!(reason_language(None), "en");
    }
}
