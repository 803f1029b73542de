//! A Server-Sent Events client for the manager's `/events` stream (tests only).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Longest wait for the next event (a bound, never a timing assertion).
const PATIENCE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sse {
    pub(crate) id: i64,
    pub(crate) event: String,
    pub(crate) data: Value,
}

/// A Server-Sent Events client: the response head, then the chunked body as events.
pub(crate) struct Subscriber {
    r: BufReader<TcpStream>,
    pub(crate) text: String,
}

impl Subscriber {
    /// `GET path` with a token and maybe `Last-Event-ID`; the status, and the stream when 200.
    pub(crate) async fn open(
        api: SocketAddr,
        path: &str,
        token: Option<&str>,
        last: Option<i64>,
    ) -> (u16, Option<Self>) {
        let mut s = TcpStream::connect(api).await.unwrap();
        let mut req =
            format!("GET {path} HTTP/1.1\r\nHost: {api}\r\nAccept: text/event-stream\r\n");
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if let Some(id) = last {
            req.push_str(&format!("Last-Event-ID: {id}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut r = BufReader::new(s);
        let mut status = String::new();
        r.read_line(&mut status).await.unwrap();
        let code: u16 = status.split(' ').nth(1).unwrap().parse().unwrap();
        let mut chunked = false;
        loop {
            let mut h = String::new();
            r.read_line(&mut h).await.unwrap();
            if h == "\r\n" {
                break;
            }
            chunked |= h
                .to_ascii_lowercase()
                .starts_with("transfer-encoding: chunked");
        }
        if code != 200 {
            return (code, None);
        }
        assert!(chunked, "an SSE stream is chunked");
        (
            code,
            Some(Self {
                r,
                text: String::new(),
            }),
        )
    }

    /// The next chunk's text appended (`false`: the stream ended).
    pub(crate) async fn chunk(&mut self) -> bool {
        let mut size = String::new();
        if self.r.read_line(&mut size).await.unwrap() == 0 {
            return false;
        }
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            return false;
        }
        let mut buf = vec![0; n + 2];
        self.r.read_exact(&mut buf).await.unwrap();
        self.text.push_str(std::str::from_utf8(&buf[..n]).unwrap());
        true
    }

    /// The next event (comments skipped); `None` if the stream ended.
    pub(crate) async fn next(&mut self) -> Option<Sse> {
        let fut = async {
            loop {
                while let Some(end) = self.text.find("\n\n") {
                    let block: String = self.text.drain(..end + 2).collect();
                    let (mut id, mut event, mut data) = (None, None, None);
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("id:") {
                            id = Some(v.trim().parse().unwrap());
                        } else if let Some(v) = line.strip_prefix("event:") {
                            event = Some(v.trim().to_owned());
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data = Some(serde_json::from_str(v.trim()).unwrap());
                        }
                    }
                    if let (Some(event), Some(data)) = (event, data) {
                        return Some(Sse {
                            id: id.unwrap_or(0),
                            event,
                            data,
                        });
                    }
                }
                if !self.chunk().await {
                    return None;
                }
            }
        };
        tokio::time::timeout(PATIENCE, fut)
            .await
            .expect("no event in time")
    }

    /// Events up to and including the first that `stop` accepts.
    pub(crate) async fn until(&mut self, stop: impl Fn(&Sse) -> bool) -> Vec<Sse> {
        let mut out = Vec::new();
        loop {
            let e = self.next().await.expect("the stream ended");
            let done = stop(&e);
            out.push(e);
            if done {
                return out;
            }
        }
    }
}
