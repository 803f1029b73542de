//! netconf-client targets.

use bytes::{Bytes, BytesMut};
use netconf_client::framing::{self, Framer, Framing};
use netconf_client::ietf_system::SystemPosture;
use netconf_client::{Limits, Message};

fn decode_all(input: &[u8], chunked: bool, step: usize) -> (Vec<Bytes>, bool) {
    let mut f = Framer::new(1 << 16, 1 << 16);
    if chunked {
        f.set_framing(Framing::Chunked);
    }
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for part in input.chunks(step.max(1)) {
        buf.extend_from_slice(part);
        loop {
            match f.decode(&mut buf) {
                Ok(Some(m)) => out.push(m),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

/// `netconf_framer`: the first byte picks the framing and a read size; decoding on those
/// reads yields the same messages as one read, never panics, and each message re-encodes to
/// bytes that decode back to it.
pub fn netconf_framer(data: &[u8]) {
    let Some((&ctl, input)) = data.split_first() else {
        return;
    };
    let chunked = ctl & 1 == 1;
    let step = usize::from(ctl >> 1) + 1;
    let (whole, whole_err) = decode_all(input, chunked, input.len());
    let (split, split_err) = decode_all(input, chunked, step);
    assert_eq!(whole, split, "messages differ with read size {step}");
    assert_eq!(whole_err, split_err);
    for m in whole {
        let mut enc = BytesMut::new();
        if chunked {
            framing::encode_chunked(&m, 4096, &mut enc);
        } else {
            framing::encode_eom(&m, &mut enc);
        }
        let (again, err) = decode_all(&enc, chunked, enc.len());
        if m.is_empty() && chunked {
            assert!(again.is_empty());
            continue;
        }
        // an EOM body containing the marker cannot be re-framed; the decoder never yields one
        assert!(!err);
        assert_eq!(again, vec![m]);
    }
}

/// `netconf_reply`: decode one message body (hello, rpc-reply, notification) under the
/// default limits; walk any `<data>` with the streaming reader and the ietf-system view.
pub fn netconf_reply(data: &[u8]) {
    let Ok(msg) = Message::decode(Bytes::copy_from_slice(data), &Limits::default()) else {
        return;
    };
    match msg {
        Message::Reply(r) => {
            if let Some(d) = r.data() {
                if let Ok(mut rd) = d.reader() {
                    while let Ok(Some(_)) = rd.next_event() {}
                }
                let _ = SystemPosture::from_data(d);
            }
            for e in &r.errors {
                let _ = e.to_string();
            }
        }
        Message::Notification(n) => {
            if let Ok(mut rd) = n.reader() {
                while let Ok(Some(_)) = rd.next_event() {}
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replay_netconf_framer() {
        assert!(crate::replay("netconf_framer", super::netconf_framer) > 0);
    }

    #[test]
    fn replay_netconf_reply() {
        assert!(crate::replay("netconf_reply", super::netconf_reply) > 0);
    }
}
