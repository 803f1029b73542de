//! A blocking wrapper around the async [`crate::tokio::Client`] for simple tools:
//! it owns a current-thread tokio runtime.

use crate::tokio::{Client, ClientError};
use crate::wire::operation::{Datastore, Filter, Operation};
use crate::wire::reply::{Data, RpcReply};
use crate::xml::XmlEvent;

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

/// Runs `connect` (an async connect of [`crate::ssh`] or [`crate::tls`]) on a new
/// current-thread runtime and wraps the client.
#[cfg(any(feature = "ssh", feature = "tls"))]
pub(crate) fn connect<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    connect: impl Future<Output = Result<Client<S>, ClientError>>,
) -> Result<BlockingClient<S>, ClientError> {
    let rt = runtime()?;
    let client = rt.block_on(connect)?;
    Ok(BlockingClient::new(rt, client))
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

    /// `<get>` whose `<data>` is walked while it arrives, without holding the reply whole
    /// (see [`Client::get_streaming`]); returns the most bytes the walk held at once.
    pub fn get_streaming<F>(
        &mut self,
        filter: Option<Filter>,
        on_event: F,
    ) -> Result<usize, ClientError>
    where
        F: FnMut(XmlEvent<'_>, usize),
    {
        self.rt.block_on(self.inner.get_streaming(filter, on_event))
    }

    /// Sends `op` and walks the `<data>` of its reply while it arrives (see
    /// [`Client::rpc_streaming`]).
    pub fn rpc_streaming<F>(&mut self, op: &Operation, on_event: F) -> Result<usize, ClientError>
    where
        F: FnMut(XmlEvent<'_>, usize),
    {
        self.rt.block_on(self.inner.rpc_streaming(op, on_event))
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
