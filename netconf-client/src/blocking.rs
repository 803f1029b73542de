//! A blocking wrapper around the async [`crate::tokio::Client`] for simple tools:
//! it owns a current-thread tokio runtime.

use crate::tokio::{Client, ClientError};
use crate::wire::operation::{Datastore, Filter, Operation};
use crate::wire::reply::{Data, RpcReply};

/// A blocking NETCONF client.
#[derive(Debug)]
pub struct BlockingClient<S> {
    rt: tokio::runtime::Runtime,
    inner: Client<S>,
}

/// A current-thread runtime for the blocking wrapper.
pub fn runtime() -> Result<tokio::runtime::Runtime, ClientError> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> BlockingClient<S> {
    /// Wraps a connected client and the runtime it was created on.
    pub fn new(rt: tokio::runtime::Runtime, inner: Client<S>) -> Self {
        Self { rt, inner }
    }

    /// The async client inside.
    pub fn inner(&mut self) -> &mut Client<S> {
        &mut self.inner
    }

    /// Sends `op` and waits for its reply.
    pub fn rpc(&mut self, op: &Operation) -> Result<RpcReply, ClientError> {
        self.rt.block_on(self.inner.rpc(op))
    }

    /// `<get>`.
    pub fn get(&mut self, filter: Option<Filter>) -> Result<Data, ClientError> {
        self.rt.block_on(self.inner.get(filter))
    }

    /// `<get-config>`.
    pub fn get_config(
        &mut self,
        source: Datastore,
        filter: Option<Filter>,
    ) -> Result<Data, ClientError> {
        self.rt.block_on(self.inner.get_config(source, filter))
    }

    /// `<close-session>`.
    pub fn close(self) -> Result<(), ClientError> {
        let Self { rt, inner } = self;
        rt.block_on(inner.close())
    }
}
