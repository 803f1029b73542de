//! IF-IMV broker target.

use bytes::Bytes;
use if_imv::{
    ActionRecommendation, EvaluationResult, Imv, ImvConnection, ImvInit, ImvMessage, MessageType,
    RetryReason, TncError,
};

/// A verifier that answers every message (exclusively, to the sender) and recommends on the
/// second one, exercising the send and recommendation paths.
struct Echo {
    types: Vec<MessageType>,
    seen: u32,
}

impl Imv for Echo {
    fn initialize(&mut self, init: &mut ImvInit<'_>) -> Result<(), TncError> {
        init.report_message_types(&self.types);
        Ok(())
    }

    fn receive_message(
        &mut self,
        conn: &mut ImvConnection<'_>,
        m: &ImvMessage,
    ) -> Result<(), TncError> {
        self.seen = self.seen.wrapping_add(1);
        let _ = conn.send_long(
            if_imv::ImvSendOptions {
                exclusive: !m.source.is_any(),
                source: None,
                destination: m.source,
            },
            m.message_type,
            m.body.slice(..m.body.len().min(64)),
        );
        if self.seen.is_multiple_of(2) {
            conn.provide_recommendation(
                ActionRecommendation::Isolate,
                EvaluationResult::NonCompliantMinor,
            );
        }
        Ok(())
    }

    fn solicit_recommendation(&mut self, conn: &mut ImvConnection<'_>) -> Result<(), TncError> {
        conn.provide_recommendation(ActionRecommendation::Allow, EvaluationResult::Compliant);
        Ok(())
    }
}

/// `tncs_broker`: the input is a sequence of PB-TNC batches from a client, each prefixed by a
/// 2-byte big-endian length (a length of 0 asks for a manager re-assessment instead). A TNC
/// server with two verifiers (one for IETF SWIMA, one for everything) takes them: no panic,
/// every batch it sends is a well-formed server batch, and nothing is sent after the session
/// closed except the CLOSE itself.
#[allow(clippy::expect_used)]
pub fn tncs_broker(data: &[u8]) {
    let mut broker = if_imv::Broker::new(if_imv::BrokerConfig::default());
    for types in [vec![MessageType::SWIMA], vec![MessageType::ANY]] {
        let _ = broker.add_imv("echo", Box::new(Echo { types, seen: 0 }));
    }
    let mut conn = broker.accept(if_imv::ConnectionConfig::default());
    let mut rest = data;
    let mut closed_seen = false;
    while let [a, b, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*a, *b]));
        let (batch, next) = tail.split_at(len.min(tail.len()));
        rest = next;
        if len == 0 {
            let _ = broker.request_retry(&mut conn, RetryReason::ImvMinorPolicyChange);
        } else {
            broker.handle_batch(&mut conn, Bytes::copy_from_slice(batch));
        }
        while let Some(out) = conn.poll_transmit() {
            assert!(!closed_seen, "a batch after CLOSE");
            let b = pb_tnc::Batch::decode(out).expect("the server sends well-formed batches");
            assert_eq!(b.sender(), pb_tnc::Side::Server);
            closed_seen = b.batch_type() == pb_tnc::BatchType::Close;
        }
        while conn.poll_event().is_some() {}
    }
    broker.close(&mut conn);
    while conn.poll_transmit().is_some() {}
    while conn.poll_event().is_some() {}
}

#[cfg(test)]
mod tests {
    #[test]
    fn seeds() {
        assert!(crate::replay("tncs_broker", super::tncs_broker) >= 3);
    }
}
