//! PT-TLS targets.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use pt_tls::{
    Config, CredentialCheck, Framer, Message, PlainClient, PlainServer, Session, Side, TlsRole,
};

/// `pt_tls_framer`: the first byte picks a chunk size, the rest is a PT-TLS stream fed to the
/// framer in chunks of that size. Every framed message has an exact `encoded_len`, re-encodes
/// to the same length (reserved fields are sent as 0, RFC 6876 §3.5) and the re-encoding
/// decodes to the same value and re-encodes to itself. `Message::decode` on the whole input
/// must not panic either.
pub fn pt_tls_framer(data: &[u8]) {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let _ = Message::decode(Bytes::copy_from_slice(stream));
    let chunk = usize::from(chunk).max(1);
    let mut framer = Framer::new(1 << 16);
    let mut buf = BytesMut::new();
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match framer.decode(&mut buf) {
                Ok(Some(m)) => {
                    let len = before - buf.len();
                    assert_eq!(m.encoded_len(), len);
                    let again = m.to_bytes();
                    assert_eq!(again.len(), len);
                    let m2 = Message::decode(again.clone());
                    assert_eq!(m2.as_ref().ok(), Some(&m));
                    if let Ok(m2) = m2 {
                        assert_eq!(m2.to_bytes(), again);
                    }
                }
                Ok(None) => break,
                // A bad value was consumed: go on with the next message.
                Err(_) if buf.len() < before => {}
                // A bad header: the stream cannot go on.
                Err(_) => return,
            }
        }
    }
}

struct Alice;

impl CredentialCheck for Alice {
    fn check_plain(&self, authzid: &str, authcid: &str, password: &str) -> bool {
        authzid.is_empty() && authcid == "alice" && password == "s3cret"
    }
}

/// `pt_tls_session`: a NEA client (TLS initiator) and a NEA server with PLAIN, driven by
/// opcodes: feed a chunk of the input to one side, pump the pair's own transmits, send a
/// batch, close, or report the transport closed (which sends nothing). Nothing may panic, every transmitted message decodes, and a closed session
/// stays closed and silent.
pub fn pt_tls_session(data: &[u8]) {
    let client_cfg = Arc::new(Config::default().with_client_mechanism(Arc::new(
        PlainClient::new("alice", "s3cret").unwrap_or_else(|| unreachable!()),
    )));
    let server_cfg = Arc::new(
        Config::default().with_server_mechanism(Arc::new(PlainServer::new(Arc::new(Alice)))),
    );
    let mut sessions = [
        Session::new(client_cfg, Side::Client, TlsRole::Initiator, None),
        Session::new(server_cfg, Side::Server, TlsRole::Responder, None),
    ];
    let mut rest = data;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let idx = usize::from(op >> 7);
        match op & 0x0f {
            0 => {
                let Some((&n, tail)) = rest.split_first() else {
                    break;
                };
                let n = usize::from(n).min(tail.len());
                let (chunk, tail) = tail.split_at(n);
                rest = tail;
                if let Some(s) = sessions.get_mut(idx) {
                    s.handle_bytes(chunk);
                }
            }
            1 => {
                if let Some(s) = sessions.get_mut(idx) {
                    let _ = s.send_batch(Bytes::from_static(b"batch"));
                }
            }
            2 => {
                if let Some(s) = sessions.get_mut(idx) {
                    s.close();
                }
            }
            3 => {
                if let Some(s) = sessions.get_mut(idx) {
                    // What was queued is lost with the transport; nothing new is queued.
                    while s.poll_transmit().is_some() {}
                    s.handle_transport_closed();
                    assert!(s.is_closed());
                    assert!(s.poll_transmit().is_none());
                }
            }
            _ => pump(&mut sessions),
        }
        for s in &mut sessions {
            let closed = s.is_closed();
            while let Some(t) = s.poll_transmit() {
                assert!(Message::decode(t).is_ok());
            }
            while s.poll_event().is_some() {}
            if closed {
                s.handle_bytes(&[0; 20]);
                assert!(s.is_closed());
                assert!(s.poll_transmit().is_none());
            }
        }
    }
    pump(&mut sessions);
}

/// Moves each side's transmits to the other, at most 64 rounds.
fn pump(sessions: &mut [Session; 2]) {
    for _ in 0..64 {
        let [a, b] = sessions;
        let mut moved = false;
        while let Some(t) = a.poll_transmit() {
            assert!(Message::decode(t.clone()).is_ok());
            b.handle_bytes(&t);
            moved = true;
        }
        while let Some(t) = b.poll_transmit() {
            assert!(Message::decode(t.clone()).is_ok());
            a.handle_bytes(&t);
            moved = true;
        }
        while a.poll_event().is_some() {}
        while b.poll_event().is_some() {}
        if !moved {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replay_framer_seeds() {
        assert!(crate::replay("pt_tls_framer", super::pt_tls_framer) >= 3);
    }

    #[test]
    fn replay_session_seeds() {
        assert!(crate::replay("pt_tls_session", super::pt_tls_session) >= 3);
    }

    #[test]
    fn canonical_seeds_reencode_exactly() {
        // The strongSwan seeds are canonical: each message re-encodes byte for byte.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/pt_tls_framer");
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if !p.to_string_lossy().contains("strongswan") {
                continue;
            }
            let data = std::fs::read(&p).unwrap();
            let mut buf = bytes::BytesMut::from(&data[1..]);
            let mut f = pt_tls::Framer::new(1 << 16);
            let mut out = Vec::new();
            while let Some(m) = f.decode(&mut buf).unwrap() {
                out.extend_from_slice(&m.to_bytes());
            }
            assert_eq!(out, &data[1..], "{}", p.display());
        }
    }
}
