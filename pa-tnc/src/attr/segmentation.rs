//! TCG IF-M Segmentation (vendor TCG `0x005597`): the contract, envelope and next-segment
//! attributes, a [`Segmenter`] that cuts a large attribute into envelopes, and a
//! [`Reassembler`] that puts them back together under a size limit.
//!
//! The exchange (as strongSwan runs it, capture `03-swima-sw-inventory-segmented`):
//!
//! ```text
//! PC                                           PV
//!  | -- Segmentation Contract Request ----------> |   max message, max segment
//!  | <- Segmentation Contract Response ---------- |   may lower the segment size
//!  | -- Segmentation Envelope (S|M, id 1) ------> |   first segment starts with the
//!  | <- Next Segment (id 1) --------------------- |   base attribute's 12-byte header
//!  | -- Segmentation Envelope (M, id 1) --------> |
//!  |                     ...                      |
//!  | -- Segmentation Envelope (last, id 1) -----> |   reassembled attribute delivered
//! ```
//!
//! Cancel Segment Exchange (0x25), Oversized Attribute (0x26) and Contract Exemption (0x27)
//! are known by number only ([`crate::TcgAttributeType`]); their layouts are not public, so
//! they travel as raw [`crate::Attribute`]s.

use std::collections::HashMap;

use bytes::{BufMut, Bytes, BytesMut};
use nea_wire::{
    DecodeError, DecodeErrorKind, Reader, TLV_HEADER_LEN, TlvHeader, VendorId, put_u24,
};

use super::{PaAttribute, exact_len};
use crate::{Attribute, TcgAttributeType};

/// "No limit" / "no segmentation" in a contract field.
pub const NO_LIMIT: u32 = u32::MAX;

/// Envelope flag: more segments follow.
pub const FLAG_MORE: u8 = 0x80;
/// Envelope flag: first segment.
pub const FLAG_START: u8 = 0x40;

/// Size of the envelope's own fields before the segment bytes.
pub const ENVELOPE_OVERHEAD: usize = 4;

fn contract(value: Bytes, base: usize) -> Result<(u32, u32), DecodeError> {
    exact_len(&value, 8, base)?;
    let mut r = Reader::new(value, base);
    Ok((r.u32()?, r.u32()?))
}

macro_rules! contract_attribute {
    ($(#[$m:meta])* $name:ident, $t:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name {
            /// Largest PA-TNC message (or attribute) the sender accepts; [`NO_LIMIT`] for none.
            pub max_message_size: u32,
            /// Largest segment the sender accepts; [`NO_LIMIT`] for no segmentation limit.
            pub max_segment_size: u32,
        }

        impl PaAttribute for $name {
            const VENDOR: VendorId = VendorId::TCG;
            const TYPE: u32 = $t.0;

            fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
                let (max_message_size, max_segment_size) = contract(value, base)?;
                Ok(Self { max_message_size, max_segment_size })
            }

            fn value_len(&self) -> usize {
                8
            }

            fn encode_value<B: BufMut>(&self, out: &mut B) {
                out.put_u32(self.max_message_size);
                out.put_u32(self.max_segment_size);
            }
        }
    };
}

contract_attribute!(
    /// Segmentation Contract Request: the sender's limits.
    ContractRequest,
    TcgAttributeType::SEGMENTATION_CONTRACT_REQUEST
);
contract_attribute!(
    /// Segmentation Contract Response: the limits the responder will honour.
    ContractResponse,
    TcgAttributeType::SEGMENTATION_CONTRACT_RESPONSE
);

impl ContractRequest {
    /// The response a receiver with its own limits gives: the smaller of each pair.
    pub fn respond(&self, own_max_message: u32, own_max_segment: u32) -> ContractResponse {
        ContractResponse {
            max_message_size: self.max_message_size.min(own_max_message),
            max_segment_size: self.max_segment_size.min(own_max_segment),
        }
    }
}

/// Segmentation Envelope: one segment of a base attribute.
///
/// ```text
/// |     Flags     |               Base Message ID                 |
/// |                Segment Value (variable length)                |
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentationEnvelope {
    /// Flags byte: [`FLAG_MORE`], [`FLAG_START`].
    pub flags: u8,
    /// Base Message ID (24 bits) naming the segmented attribute.
    pub base_message_id: u32,
    /// The segment bytes (a slice of the received message).
    pub segment: Bytes,
}

impl SegmentationEnvelope {
    /// Whether more segments follow.
    pub fn more(&self) -> bool {
        self.flags & FLAG_MORE != 0
    }

    /// Whether this is the first segment.
    pub fn start(&self) -> bool {
        self.flags & FLAG_START != 0
    }
}

impl PaAttribute for SegmentationEnvelope {
    const VENDOR: VendorId = VendorId::TCG;
    const TYPE: u32 = TcgAttributeType::SEGMENTATION_ENVELOPE.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value, base);
        let flags = r.u8()?;
        let base_message_id = r.u24()?;
        Ok(Self {
            flags,
            base_message_id,
            segment: r.rest(),
        })
    }

    fn value_len(&self) -> usize {
        ENVELOPE_OVERHEAD + self.segment.len()
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        out.put_u8(self.flags);
        put_u24(out, self.base_message_id);
        out.put_slice(&self.segment);
    }
}

/// Next Segment: asks for the next segment of a base attribute, or cancels the exchange.
///
/// The cancel bit's position is ambiguous in public sources (`0x80` in strongSwan's layout
/// comment, `0x01` in its code); any set bit is read as cancel and `0x80` is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NextSegment {
    /// The flags byte as received.
    pub flags: u8,
    /// Base Message ID.
    pub base_message_id: u32,
}

impl NextSegment {
    /// A request for the next segment of `base_message_id`.
    pub fn request(base_message_id: u32) -> Self {
        Self {
            flags: 0,
            base_message_id: base_message_id & VendorId::MAX,
        }
    }

    /// A cancellation of `base_message_id`.
    pub fn cancel(base_message_id: u32) -> Self {
        Self {
            flags: 0x80,
            base_message_id: base_message_id & VendorId::MAX,
        }
    }

    /// Whether the exchange is cancelled.
    pub fn is_cancel(&self) -> bool {
        self.flags != 0
    }
}

impl PaAttribute for NextSegment {
    const VENDOR: VendorId = VendorId::TCG;
    const TYPE: u32 = TcgAttributeType::NEXT_SEGMENT.0;

    fn decode_value(value: Bytes, base: usize) -> Result<Self, DecodeError> {
        exact_len(&value, 4, base)?;
        let mut r = Reader::new(value, base);
        Ok(Self {
            flags: r.u8()?,
            base_message_id: r.u24()?,
        })
    }

    fn value_len(&self) -> usize {
        4
    }

    fn encode_value<B: BufMut>(&self, out: &mut B) {
        out.put_u8(self.flags);
        put_u24(out, self.base_message_id);
    }
}

/// Cuts one encoded attribute into envelopes of at most `max_segment_size` segment bytes.
#[derive(Debug, Clone)]
pub struct Segmenter {
    data: Bytes,
    pos: usize,
    max_segment: usize,
    base_message_id: u32,
}

impl Segmenter {
    /// Whether `attribute` must be segmented to fit envelopes' `max_segment_size`: true when
    /// the whole attribute (header included) is larger than one segment.
    pub fn needed(attribute: &Attribute, max_segment_size: u32) -> bool {
        max_segment_size != NO_LIMIT
            && attribute.encoded_len() > usize::try_from(max_segment_size).unwrap_or(usize::MAX)
    }

    /// A segmenter for `attribute` under `base_message_id` (24 bits; strongSwan counts from
    /// 1 per contract). The first segment must carry the base attribute's whole 12-byte
    /// header, so a `max_segment_size` below 12 is raised to 12.
    pub fn new(attribute: &Attribute, base_message_id: u32, max_segment_size: u32) -> Self {
        let mut data = BytesMut::with_capacity(attribute.encoded_len());
        attribute.encode(&mut data);
        Self {
            data: data.freeze(),
            pos: 0,
            max_segment: usize::try_from(max_segment_size)
                .unwrap_or(usize::MAX)
                .max(TLV_HEADER_LEN),
            base_message_id: base_message_id & VendorId::MAX,
        }
    }

    /// The Base Message ID.
    pub fn base_message_id(&self) -> u32 {
        self.base_message_id
    }

    /// Whether every segment has been produced.
    pub fn is_done(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The next envelope (the first call gives the first one), or `None` when all are out.
    pub fn next_envelope(&mut self) -> Option<SegmentationEnvelope> {
        if self.is_done() {
            return None;
        }
        let start = self.pos == 0;
        let end = self
            .pos
            .saturating_add(self.max_segment)
            .min(self.data.len());
        let segment = self.data.slice(self.pos..end);
        self.pos = end;
        let mut flags = 0;
        if start {
            flags |= FLAG_START;
        }
        if !self.is_done() {
            flags |= FLAG_MORE;
        }
        Some(SegmentationEnvelope {
            flags,
            base_message_id: self.base_message_id,
            segment,
        })
    }
}

/// Why a segment could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SegmentationError {
    /// A continuation segment for an exchange that was never started (or already ended).
    #[error("segment for unknown base message id {0}")]
    UnknownBaseMessageId(u32),
    /// A first segment for an exchange already in progress.
    #[error("second start segment for base message id {0}")]
    DuplicateStart(u32),
    /// The first segment is shorter than the base attribute's 12-byte header.
    #[error("first segment of base message id {0} shorter than an attribute header")]
    ShortFirstSegment(u32),
    /// The base attribute is larger than the configured limit.
    #[error("base attribute of {length} bytes over the {limit}-byte limit")]
    Oversized {
        /// Announced length.
        length: u64,
        /// Configured limit.
        limit: u64,
    },
    /// Too many exchanges at once.
    #[error("more than {0} segmented attributes in progress")]
    TooManyExchanges(usize),
    /// The segments add up to more or fewer bytes than the base attribute announced.
    #[error("segments of base message id {id} total {got} bytes, attribute header says {expected}")]
    LengthMismatch {
        /// Base Message ID.
        id: u32,
        /// Bytes received.
        got: u64,
        /// Announced length.
        expected: u64,
    },
    /// The reassembled attribute does not decode.
    #[error("reassembled attribute: {0}")]
    Decode(DecodeError),
}

/// The result of feeding one envelope to the [`Reassembler`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reassembly {
    /// More segments are needed: send this Next Segment.
    NeedMore(NextSegment),
    /// The base attribute is complete.
    Complete(Attribute),
}

#[derive(Debug)]
struct Partial {
    buf: BytesMut,
    expected: usize,
}

/// Reassembles segmented attributes, several at once, within [`crate::Limits`].
#[derive(Debug)]
pub struct Reassembler {
    partial: HashMap<u32, Partial>,
    max_size: usize,
    max_exchanges: usize,
}

impl Reassembler {
    /// A reassembler bounded by `limits.max_reassembled_size` (per attribute and for all
    /// exchanges in progress together) and `limits.max_reassemblies`.
    pub fn new(limits: &crate::Limits) -> Self {
        Self {
            partial: HashMap::new(),
            max_size: limits.max_reassembled_size,
            max_exchanges: limits.max_reassemblies,
        }
    }

    /// Exchanges in progress.
    pub fn in_progress(&self) -> usize {
        self.partial.len()
    }

    /// Drops an exchange (after a received or sent cancel).
    pub fn cancel(&mut self, base_message_id: u32) {
        self.partial.remove(&base_message_id);
    }

    /// Feeds one envelope. On error the exchange is dropped.
    pub fn handle(&mut self, env: &SegmentationEnvelope) -> Result<Reassembly, SegmentationError> {
        let id = env.base_message_id;
        let r = self.handle_inner(env);
        if r.is_err() {
            self.partial.remove(&id);
        }
        r
    }

    fn handle_inner(
        &mut self,
        env: &SegmentationEnvelope,
    ) -> Result<Reassembly, SegmentationError> {
        let id = env.base_message_id;
        if env.start() {
            if self.partial.contains_key(&id) {
                return Err(SegmentationError::DuplicateStart(id));
            }
            if self.partial.len() >= self.max_exchanges {
                return Err(SegmentationError::TooManyExchanges(self.max_exchanges));
            }
            let mut r = Reader::new(env.segment.clone(), 0);
            let header =
                TlvHeader::read(&mut r).map_err(|_| SegmentationError::ShortFirstSegment(id))?;
            let expected = u64::from(header.length);
            if expected > self.max_size as u64 {
                return Err(SegmentationError::Oversized {
                    length: expected,
                    limit: self.max_size as u64,
                });
            }
            if expected < TLV_HEADER_LEN as u64 {
                return Err(SegmentationError::Decode(DecodeError::new(
                    DecodeErrorKind::LengthTooShort {
                        length: expected,
                        min: TLV_HEADER_LEN as u64,
                    },
                    8,
                )));
            }
            // expected <= max_size, a usize.
            let expected = usize::try_from(expected).unwrap_or(usize::MAX);
            self.partial.insert(
                id,
                Partial {
                    // Grow with the data actually received, never from the announced length.
                    buf: BytesMut::with_capacity(env.segment.len()),
                    expected,
                },
            );
        }
        let p = self
            .partial
            .get_mut(&id)
            .ok_or(SegmentationError::UnknownBaseMessageId(id))?;
        let got = p.buf.len().saturating_add(env.segment.len());
        if got > p.expected || (!env.more() && got != p.expected) {
            return Err(SegmentationError::LengthMismatch {
                id,
                got: got as u64,
                expected: p.expected as u64,
            });
        }
        // All exchanges together stay within the limit too, so a peer cannot hold
        // `max_reassemblies` times the limit in memory.
        let held: usize = self.partial.values().map(|p| p.buf.len()).sum();
        let total = held.saturating_add(env.segment.len());
        if total > self.max_size {
            return Err(SegmentationError::Oversized {
                length: total as u64,
                limit: self.max_size as u64,
            });
        }
        let Some(p) = self.partial.get_mut(&id) else {
            return Err(SegmentationError::UnknownBaseMessageId(id));
        };
        p.buf.extend_from_slice(&env.segment);
        if env.more() {
            return Ok(Reassembly::NeedMore(NextSegment::request(id)));
        }
        let done = self
            .partial
            .remove(&id)
            .map(|p| p.buf.freeze())
            .unwrap_or_default();
        Attribute::decode(done, 0)
            .map(Reassembly::Complete)
            .map_err(SegmentationError::Decode)
    }
}

/// What [`SegmentationEndpoint::handle`] asks the caller to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SegmentationEvent {
    /// Send this attribute back to the peer (a contract response, a next-segment request or
    /// the next envelope).
    Reply(Attribute),
    /// A segmented attribute is complete: process it as if it had arrived whole.
    Delivered(Attribute),
    /// The peer answered our contract request: its limits now apply to what we send.
    ContractAgreed(ContractResponse),
    /// An outgoing exchange was cancelled by the peer.
    Cancelled(u32),
    /// A segment was refused; the exchange is dropped. Reply with a PA-TNC Error (Invalid
    /// Parameter) if the application wants to.
    Failed(SegmentationError),
}

/// One side of IF-M segmentation between a collector and a validator: the contract, the
/// outgoing segmenters (one per base message ID) and the reassembler.
///
/// ```
/// use bytes::Bytes;
/// use nea_wire::VendorId;
/// use pa_tnc::segmentation::{SegmentationEndpoint, SegmentationEvent};
/// use pa_tnc::{Attribute, Limits};
///
/// let mut pc = SegmentationEndpoint::new(&Limits::default(), u32::MAX, 65_512);
/// let mut pv = SegmentationEndpoint::new(&Limits::default(), u32::MAX, 1_000);
/// // Contract: the PC asks, the PV answers with its smaller segment size.
/// let SegmentationEvent::Reply(resp) = pv.handle(&pc.contract_request()).unwrap() else { panic!() };
/// assert!(matches!(pc.handle(&resp), Some(SegmentationEvent::ContractAgreed(_))));
/// // A 5,000-byte attribute leaves as envelopes pulled one by one.
/// let big = Attribute::new(VendorId::IETF, 16, false, Bytes::from(vec![7; 5_000]));
/// let mut on_wire = pc.prepare(big.clone());
/// let delivered = loop {
///     match pv.handle(&on_wire).unwrap() {
///         SegmentationEvent::Reply(next) => match pc.handle(&next).unwrap() {
///             SegmentationEvent::Reply(env) => on_wire = env,
///             other => panic!("{other:?}"),
///         },
///         SegmentationEvent::Delivered(a) => break a,
///         other => panic!("{other:?}"),
///     }
/// };
/// assert_eq!(delivered.value, big.value);
/// ```
#[derive(Debug)]
pub struct SegmentationEndpoint {
    own_max_message: u32,
    own_max_segment: u32,
    peer: Option<ContractResponse>,
    next_base_id: u32,
    outgoing: HashMap<u32, Segmenter>,
    reassembler: Reassembler,
}

impl SegmentationEndpoint {
    /// An endpoint accepting attributes up to `own_max_message` bytes in segments of up to
    /// `own_max_segment` bytes ([`NO_LIMIT`] for either means none).
    pub fn new(limits: &crate::Limits, own_max_message: u32, own_max_segment: u32) -> Self {
        Self {
            own_max_message,
            own_max_segment,
            peer: None,
            next_base_id: 1,
            outgoing: HashMap::new(),
            reassembler: Reassembler::new(limits),
        }
    }

    /// The Contract Request announcing our limits (send it once, first).
    pub fn contract_request(&self) -> Attribute {
        ContractRequest {
            max_message_size: self.own_max_message,
            max_segment_size: self.own_max_segment,
        }
        .to_attribute()
    }

    /// The limits the peer agreed to, once its Contract Response arrived.
    pub fn peer_contract(&self) -> Option<ContractResponse> {
        self.peer
    }

    /// Outgoing exchanges still waiting for Next Segment requests.
    pub fn pending_outgoing(&self) -> usize {
        self.outgoing.len()
    }

    /// What to put on the wire for `attribute`: itself if it fits the peer's segment size
    /// (or no contract was agreed), else the first envelope of a new exchange.
    pub fn prepare(&mut self, attribute: Attribute) -> Attribute {
        let Some(peer) = self.peer else {
            return attribute;
        };
        if !Segmenter::needed(&attribute, peer.max_segment_size) {
            return attribute;
        }
        let id = self.next_base_id;
        self.next_base_id = (self.next_base_id % VendorId::MAX) + 1;
        let mut s = Segmenter::new(&attribute, id, peer.max_segment_size);
        let first = s.next_envelope();
        if !s.is_done() {
            self.outgoing.insert(id, s);
        }
        first.map_or(attribute, |e| e.to_attribute())
    }

    /// Handles one received attribute. `None` means it is not a segmentation attribute this
    /// endpoint acts on: process it normally.
    pub fn handle(&mut self, a: &Attribute) -> Option<SegmentationEvent> {
        if a.vendor != VendorId::TCG {
            return None;
        }
        let ev = match TcgAttributeType(a.kind) {
            TcgAttributeType::SEGMENTATION_CONTRACT_REQUEST => {
                match ContractRequest::from_attribute(a) {
                    Ok(req) => SegmentationEvent::Reply(
                        req.respond(self.own_max_message, self.own_max_segment)
                            .to_attribute(),
                    ),
                    Err(e) => SegmentationEvent::Failed(SegmentationError::Decode(e)),
                }
            }
            TcgAttributeType::SEGMENTATION_CONTRACT_RESPONSE => {
                match ContractResponse::from_attribute(a) {
                    Ok(resp) => {
                        self.peer = Some(resp);
                        SegmentationEvent::ContractAgreed(resp)
                    }
                    Err(e) => SegmentationEvent::Failed(SegmentationError::Decode(e)),
                }
            }
            TcgAttributeType::SEGMENTATION_ENVELOPE => {
                match SegmentationEnvelope::from_attribute(a) {
                    Ok(env) => match self.reassembler.handle(&env) {
                        Ok(Reassembly::NeedMore(ns)) => SegmentationEvent::Reply(ns.to_attribute()),
                        Ok(Reassembly::Complete(x)) => SegmentationEvent::Delivered(x),
                        Err(e) => SegmentationEvent::Failed(e),
                    },
                    Err(e) => SegmentationEvent::Failed(SegmentationError::Decode(e)),
                }
            }
            TcgAttributeType::NEXT_SEGMENT => match NextSegment::from_attribute(a) {
                Ok(ns) if ns.is_cancel() => {
                    self.outgoing.remove(&ns.base_message_id);
                    SegmentationEvent::Cancelled(ns.base_message_id)
                }
                Ok(ns) => {
                    let id = ns.base_message_id;
                    let Some(s) = self.outgoing.get_mut(&id) else {
                        return Some(SegmentationEvent::Failed(
                            SegmentationError::UnknownBaseMessageId(id),
                        ));
                    };
                    let env = s.next_envelope();
                    if s.is_done() {
                        self.outgoing.remove(&id);
                    }
                    match env {
                        Some(e) => SegmentationEvent::Reply(e.to_attribute()),
                        None => {
                            SegmentationEvent::Failed(SegmentationError::UnknownBaseMessageId(id))
                        }
                    }
                }
                Err(e) => SegmentationEvent::Failed(SegmentationError::Decode(e)),
            },
            _ => return None,
        };
        Some(ev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    fn big(n: usize) -> Attribute {
        let v: Vec<u8> = (0..n).map(|i| u8::try_from(i % 251).unwrap()).collect();
        Attribute::new(VendorId::IETF, 16, false, Bytes::from(v))
    }

    #[test]
    fn segment_and_reassemble() {
        let a = big(1000);
        assert!(Segmenter::needed(&a, 100));
        assert!(!Segmenter::needed(&a, 1012));
        let mut s = Segmenter::new(&a, 1, 100);
        let mut r = Reassembler::new(&Limits::default());
        let first = s.next_envelope().unwrap();
        assert_eq!(first.flags, FLAG_START | FLAG_MORE);
        let mut step = r.handle(&first).unwrap();
        let mut n = 1;
        loop {
            match step {
                Reassembly::NeedMore(ns) => {
                    assert_eq!(ns, NextSegment::request(1));
                    let e = s.next_envelope().unwrap();
                    n += 1;
                    step = r.handle(&e).unwrap();
                }
                Reassembly::Complete(got) => {
                    assert_eq!(got.value, a.value);
                    assert_eq!(got.kind, 16);
                    break;
                }
            }
        }
        assert_eq!(n, 11); // 1012 bytes in 100-byte segments
        assert!(s.next_envelope().is_none());
        assert_eq!(r.in_progress(), 0);
    }

    #[test]
    fn single_segment_has_only_start() {
        let a = big(10);
        let mut s = Segmenter::new(&a, 7, 1000);
        let e = s.next_envelope().unwrap();
        assert_eq!(e.flags, FLAG_START);
        let mut r = Reassembler::new(&Limits::default());
        assert!(matches!(r.handle(&e).unwrap(), Reassembly::Complete(_)));
    }

    #[test]
    fn errors() {
        let limits = Limits {
            max_reassembled_size: 500,
            max_reassemblies: 1,
            ..Limits::default()
        };
        let mut r = Reassembler::new(&limits);
        let mut s = Segmenter::new(&big(1000), 1, 100);
        let e = s.next_envelope().unwrap();
        assert!(matches!(
            r.handle(&e),
            Err(SegmentationError::Oversized {
                length: 1012,
                limit: 500
            })
        ));
        let e2 = s.next_envelope().unwrap();
        assert_eq!(
            r.handle(&e2),
            Err(SegmentationError::UnknownBaseMessageId(1))
        );

        let mut s = Segmenter::new(&big(300), 2, 100);
        let first = s.next_envelope().unwrap();
        r.handle(&first).unwrap();
        assert_eq!(r.handle(&first), Err(SegmentationError::DuplicateStart(2)));
        let mut s3 = Segmenter::new(&big(300), 3, 100);
        r.handle(&s.next_envelope().unwrap()).ok();
        let other = s3.next_envelope().unwrap();
        r.handle(&first).ok();
        assert_eq!(
            r.handle(&other),
            Err(SegmentationError::TooManyExchanges(1))
        );

        // A last segment that ends early.
        let mut r = Reassembler::new(&Limits::default());
        let mut s = Segmenter::new(&big(300), 4, 100);
        r.handle(&s.next_envelope().unwrap()).unwrap();
        let mut e = s.next_envelope().unwrap();
        e.flags = 0;
        assert!(matches!(
            r.handle(&e),
            Err(SegmentationError::LengthMismatch { .. })
        ));
        // Several exchanges together may not exceed the limit either.
        let limits = Limits {
            max_reassembled_size: 250,
            max_reassemblies: 4,
            ..Limits::default()
        };
        let mut r = Reassembler::new(&limits);
        let mut a = Segmenter::new(&big(188), 10, 100);
        let mut b = Segmenter::new(&big(188), 11, 100);
        r.handle(&a.next_envelope().unwrap()).unwrap();
        r.handle(&b.next_envelope().unwrap()).unwrap();
        assert!(matches!(
            r.handle(&a.next_envelope().unwrap()),
            Err(SegmentationError::Oversized {
                length: 300,
                limit: 250
            })
        ));
        assert_eq!(r.in_progress(), 1);
        let short = SegmentationEnvelope {
            flags: FLAG_START,
            base_message_id: 9,
            segment: Bytes::from_static(&[0, 0, 0]),
        };
        assert_eq!(
            r.handle(&short),
            Err(SegmentationError::ShortFirstSegment(9))
        );
    }

    #[test]
    fn codec() {
        let c = ContractRequest {
            max_message_size: NO_LIMIT,
            max_segment_size: 65512,
        };
        let a = c.to_attribute();
        let mut out = Vec::new();
        a.encode(&mut out);
        assert_eq!(
            out,
            [
                0, 0, 0x55, 0x97, 0, 0, 0, 0x21, 0, 0, 0, 20, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xff,
                0xe8
            ]
        );
        assert_eq!(ContractRequest::from_attribute(&a).unwrap(), c);
        let resp = ContractRequest {
            max_message_size: NO_LIMIT,
            max_segment_size: 2_097_080,
        }
        .respond(NO_LIMIT, 65512);
        assert_eq!(resp.max_segment_size, 65512);
        let ns = NextSegment::decode_value(Bytes::from_static(&[0x01, 0, 0, 1]), 0).unwrap();
        assert!(ns.is_cancel());
        assert!(NextSegment::decode_value(Bytes::from_static(&[0, 0, 1]), 0).is_err());
    }
}
