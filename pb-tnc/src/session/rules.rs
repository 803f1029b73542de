//! The RFC 5793 §3.2 transition tables, per side, for sending and for receiving.

use super::State;
use crate::registry::BatchType;
use crate::wire::Side;

/// The state after this side sends `bt` in `state`; `None` when the RFC does not allow it.
pub(crate) fn on_send(side: Side, state: State, bt: BatchType) -> Option<State> {
    use BatchType::*;
    use State::*;
    match (side, state, bt) {
        (_, End, _) => None,
        // RFC 5793 §3.2: either side may CLOSE at any time.
        (_, _, Close) => Some(End),
        // RFC 5793 §3.2: the client sends data only in Init or Client Working, and
        // CRETRY only from Decided.
        (Side::Client, Init | ClientWorking, Cdata) => Some(ServerWorking),
        (Side::Client, Decided, Cretry) => Some(ServerWorking),
        // RFC 5793 §3.2: the server sends data only in Init or Server Working, RESULT only
        // in Server Working, SRETRY only from Decided.
        (Side::Server, Init | ServerWorking, Sdata) => Some(ClientWorking),
        (Side::Server, ServerWorking, Result) => Some(Decided),
        (Side::Server, Decided, Sretry) => Some(ServerWorking),
        _ => None,
    }
}

/// The state after this side receives `bt` in `state`; `None` when the RFC says Unexpected
/// Batch Type. A crossing retry ("Receive CRETRY or SRETRY") keeps the state.
pub(crate) fn on_receive(side: Side, state: State, bt: BatchType) -> Option<State> {
    use BatchType::*;
    use State::*;
    match (side, state, bt) {
        (_, End, _) => None,
        (_, _, Close) => Some(End),
        (Side::Server, Init | ClientWorking, Cdata) => Some(ServerWorking),
        // RFC 5793 §3.2: a redundant CRETRY in Server/Client Working is ignored.
        (Side::Server, ServerWorking | ClientWorking, Cretry) => Some(state),
        (Side::Server, Decided, Cretry) => Some(ServerWorking),
        (Side::Client, Init | ServerWorking, Sdata) => Some(ClientWorking),
        (Side::Client, ServerWorking, Result) => Some(Decided),
        // RFC 5793 §3.2: a redundant SRETRY in Server Working is ignored.
        (Side::Client, ServerWorking, Sretry) => Some(ServerWorking),
        (Side::Client, Decided, Sretry) => Some(ServerWorking),
        _ => None,
    }
}
