//! Hand-written CoSWID decoder over `minicbor::Decoder`. Strings and byte strings borrow from
//! the input unless they are indefinite-length (then they are joined into owned values).
//!
//! Policy for registered keys with a wrong-typed value (which the CDDL's global-attributes
//! catch-all `label => one-or-more<text> / one-or-more<int>` would accept): the strict decoder
//! rejects them with [`DecodeErrorKind::WrongType`] naming the field; the lenient decoder keeps
//! them, unchanged, as an unknown attribute of the enclosing map and reports
//! [`DeviationKind::MistypedKeptAsAttribute`] — except for the known real-world deviations it
//! coerces (untagged URIs, untagged or float dates, text or bignum integers, one-element arrays).

use std::borrow::Cow;

use minicbor::Decoder;
use minicbor::data::Type;

use crate::error::{DecodeError, DecodeErrorKind, Deviation, DeviationKind};
use crate::model::*;
use crate::registry::key;

/// Deepest map/array nesting the decoder follows (directories nest).
pub(crate) const MAX_DEPTH: u32 = 64;

/// Most elements of a one-or-more array reserved from its length on the wire (never more
/// than the input bytes left, as each element takes at least one).
const MAX_PREALLOC: u64 = 1024;

type Dec<'b> = Decoder<'b>;
type Res<T> = Result<T, DecodeError>;

pub(crate) struct Ctx {
    strict: bool,
    pub(crate) deviations: Vec<Deviation>,
    depth: u32,
    base: usize,
}

impl Ctx {
    pub(crate) fn new(strict: bool, base: usize) -> Self {
        Self {
            strict,
            deviations: Vec::new(),
            depth: 0,
            base,
        }
    }
    fn err(&self, kind: DecodeErrorKind, field: &'static str, offset: usize) -> DecodeError {
        DecodeError {
            kind,
            field,
            offset: offset.saturating_add(self.base),
        }
    }
    fn deviate(&mut self, kind: DeviationKind, field: &'static str, offset: usize) -> Res<()> {
        if self.strict {
            return Err(self.err(DecodeErrorKind::Deviation(kind), field, offset));
        }
        self.deviations.push(Deviation {
            kind,
            field,
            offset: offset.saturating_add(self.base),
        });
        Ok(())
    }
    fn cbor(&self, e: &minicbor::decode::Error, d: &Dec<'_>, field: &'static str) -> DecodeError {
        self.cbor_at(e, d.position(), field)
    }
    fn cbor_at(&self, e: &minicbor::decode::Error, pos: usize, field: &'static str) -> DecodeError {
        let kind = if e.is_end_of_input() {
            DecodeErrorKind::EndOfInput
        } else {
            DecodeErrorKind::Malformed
        };
        self.err(kind, field, e.position().unwrap_or(pos))
    }
    fn enter(&mut self, field: &'static str, pos: usize) -> Res<()> {
        self.depth = self.depth.saturating_add(1);
        if self.depth > MAX_DEPTH {
            return Err(self.err(DecodeErrorKind::TooDeep, field, pos));
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

fn ty(d: &Dec<'_>, cx: &Ctx, field: &'static str) -> Res<Type> {
    d.datatype().map_err(|e| cx.cbor(&e, d, field))
}

/// Skip one data item whose arrays, maps and tags nest no deeper than [`MAX_DEPTH`] (counting
/// from `depth`, the level of the map holding it), like the known fields and the canonical
/// re-encoder: unknown values nest within the same limit.
fn skip_bounded(d: &mut Dec<'_>, cx: &Ctx, field: &'static str, depth: u32) -> Res<()> {
    if depth > MAX_DEPTH {
        return Err(cx.err(DecodeErrorKind::TooDeep, field, d.position()));
    }
    let (len, per) = match ty(d, cx, field)? {
        Type::Array | Type::ArrayIndef => (d.array().map_err(|e| cx.cbor(&e, d, field))?, 1),
        Type::Map | Type::MapIndef => (d.map().map_err(|e| cx.cbor(&e, d, field))?, 2),
        Type::Tag => {
            d.tag().map_err(|e| cx.cbor(&e, d, field))?;
            return skip_bounded(d, cx, field, depth.saturating_add(1));
        }
        Type::Break => return Err(cx.err(DecodeErrorKind::Malformed, field, d.position())),
        _ => return d.skip().map_err(|e| cx.cbor(&e, d, field)),
    };
    let mut left = len.map(|n| n.saturating_mul(per));
    loop {
        match left {
            Some(0) => return Ok(()),
            Some(n) => left = Some(n.saturating_sub(1)),
            None if ty(d, cx, field)? == Type::Break => {
                d.set_position(d.position().saturating_add(1));
                return Ok(());
            }
            None => {}
        }
        skip_bounded(d, cx, field, depth.saturating_add(1))?;
    }
}

/// One whole data item as raw bytes.
pub(crate) fn raw<'b>(d: &mut Dec<'b>, cx: &Ctx, field: &'static str) -> Res<RawValue<'b>> {
    let start = d.position();
    skip_bounded(d, cx, field, cx.depth)?;
    let input: &'b [u8] = d.input();
    input
        .get(start..d.position())
        .map(|s| RawValue(Cow::Borrowed(s)))
        .ok_or_else(|| cx.err(DecodeErrorKind::Malformed, field, start))
}

// ---- fast paths: definite-length heads read straight from the input ----

/// The head at the current position: (major type, argument, head length); `None` for
/// indefinite lengths, simple values/floats with info 24..27, reserved values and end of input
/// (the minicbor slow path then handles or reports them).
#[inline(always)]
fn head(d: &Dec<'_>) -> Option<(u8, u64, usize)> {
    head_at(d.input(), d.position())
}

/// [`head`] at position `p` of `input`.
#[inline(always)]
fn head_at(input: &[u8], p: usize) -> Option<(u8, u64, usize)> {
    let b = *input.get(p)?;
    let (major, info) = (b >> 5, b & 0x1f);
    if info < 24 {
        return Some((major, u64::from(info), 1));
    }
    let n: usize = match info {
        24 => 1,
        25 => 2,
        26 => 4,
        27 => 8,
        _ => return None,
    };
    let s = input.get(p.checked_add(1)?..p.checked_add(1)?.checked_add(n)?)?;
    let arg = match *s {
        [a] => u64::from(a),
        [a, b] => u64::from(u16::from_be_bytes([a, b])),
        [a, b, c, d] => u64::from(u32::from_be_bytes([a, b, c, d])),
        [a, b, c, d, e, f, g, h] => u64::from_be_bytes([a, b, c, d, e, f, g, h]),
        _ => return None,
    };
    Some((major, arg, n + 1))
}

/// A definite text or byte string of `major` borrowed from the input; `None` → slow path.
#[inline]
fn fast_str<'b>(d: &mut Dec<'b>, major: u8) -> Option<&'b [u8]> {
    let (m, len, hl) = head(d)?;
    if m != major {
        return None;
    }
    let start = d.position().checked_add(hl)?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    let input: &'b [u8] = d.input();
    let s = input.get(start..end)?;
    d.set_position(end);
    Some(s)
}

// ---- scalar readers: Ok(None) = type mismatch (the caller rewinds) ----

fn text<'b>(d: &mut Dec<'b>, cx: &mut Ctx, field: &'static str) -> Res<Option<Text<'b>>> {
    let pos = d.position();
    if let Some(b) = fast_str(d, 3) {
        return match core::str::from_utf8(b) {
            Ok(t) => Ok(Some(Cow::Borrowed(t))),
            Err(_) => Err(cx.err(DecodeErrorKind::Malformed, field, pos)),
        };
    }
    match ty(d, cx, field)? {
        Type::String => Ok(Some(Cow::Borrowed(
            d.str().map_err(|e| cx.cbor(&e, d, field))?,
        ))),
        Type::StringIndef => {
            let mut s = String::new();
            let p = d.position();
            let mut it = d.str_iter().map_err(|e| cx.cbor_at(&e, p, field))?;
            loop {
                match it.next() {
                    None => break,
                    Some(Ok(chunk)) => s.push_str(chunk),
                    Some(Err(e)) => {
                        return Err(cx.err(
                            if e.is_end_of_input() {
                                DecodeErrorKind::EndOfInput
                            } else {
                                DecodeErrorKind::Malformed
                            },
                            field,
                            e.position().unwrap_or(0),
                        ));
                    }
                }
            }
            Ok(Some(Cow::Owned(s)))
        }
        _ => Ok(None),
    }
}

fn byte_string<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    field: &'static str,
) -> Res<Option<Cow<'b, [u8]>>> {
    if let Some(b) = fast_str(d, 2) {
        return Ok(Some(Cow::Borrowed(b)));
    }
    match ty(d, cx, field)? {
        Type::Bytes => Ok(Some(Cow::Borrowed(
            d.bytes().map_err(|e| cx.cbor(&e, d, field))?,
        ))),
        Type::BytesIndef => {
            let mut v = Vec::new();
            let p = d.position();
            let mut it = d.bytes_iter().map_err(|e| cx.cbor_at(&e, p, field))?;
            loop {
                match it.next() {
                    None => break,
                    Some(Ok(chunk)) => v.extend_from_slice(chunk),
                    Some(Err(e)) => {
                        return Err(cx.err(
                            DecodeErrorKind::Malformed,
                            field,
                            e.position().unwrap_or(0),
                        ));
                    }
                }
            }
            Ok(Some(Cow::Owned(v)))
        }
        _ => Ok(None),
    }
}

fn boolean(d: &mut Dec<'_>, cx: &mut Ctx, field: &'static str) -> Res<Option<bool>> {
    match d.input().get(d.position()) {
        Some(0xf4) => {
            d.set_position(d.position().saturating_add(1));
            return Ok(Some(false));
        }
        Some(0xf5) => {
            d.set_position(d.position().saturating_add(1));
            return Ok(Some(true));
        }
        _ => {}
    }
    match ty(d, cx, field)? {
        Type::Bool => Ok(Some(d.bool().map_err(|e| cx.cbor(&e, d, field))?)),
        _ => Ok(None),
    }
}

fn is_int(t: Type) -> bool {
    matches!(
        t,
        Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::Int
    )
}

/// `int` (plain CBOR integer) as i64.
fn int(d: &mut Dec<'_>, cx: &mut Ctx, field: &'static str) -> Res<Option<i64>> {
    if let Some((m @ (0 | 1), arg, hl)) = head(d) {
        let pos = d.position();
        let v = i64::try_from(arg)
            .map_err(|_| cx.err(DecodeErrorKind::IntegerOutOfRange, field, pos))?;
        d.set_position(pos.saturating_add(hl));
        return Ok(Some(if m == 0 { v } else { -1 - v }));
    }
    if !is_int(ty(d, cx, field)?) {
        return Ok(None);
    }
    let pos = d.position();
    let i = d.int().map_err(|e| cx.cbor(&e, d, field))?;
    i64::try_from(i)
        .map(Some)
        .map_err(|_| cx.err(DecodeErrorKind::IntegerOutOfRange, field, pos))
}

/// `integer` (int / bigint): bignums are a lenient deviation.
fn integer(d: &mut Dec<'_>, cx: &mut Ctx, field: &'static str) -> Res<Option<i64>> {
    let pos = d.position();
    if ty(d, cx, field)? != Type::Tag {
        return int(d, cx, field);
    }
    let t = d.tag().map_err(|e| cx.cbor(&e, d, field))?.as_u64();
    if t != 2 && t != 3 {
        return Ok(None);
    }
    let Some(b) = byte_string(d, cx, field)? else {
        return Ok(None);
    };
    cx.deviate(DeviationKind::BignumInteger, field, pos)?;
    let mut v: u64 = 0;
    for byte in b.iter() {
        v = v
            .checked_mul(256)
            .and_then(|v| v.checked_add(u64::from(*byte)))
            .ok_or_else(|| cx.err(DecodeErrorKind::IntegerOutOfRange, field, pos))?;
    }
    let v = i64::try_from(v).map_err(|_| cx.err(DecodeErrorKind::IntegerOutOfRange, field, pos))?;
    Ok(Some(if t == 3 { -1 - v } else { v }))
}

fn uint(d: &mut Dec<'_>, cx: &mut Ctx, field: &'static str) -> Res<Option<u64>> {
    if let Some((0, arg, hl)) = head(d) {
        d.set_position(d.position().saturating_add(hl));
        return Ok(Some(arg));
    }
    match ty(d, cx, field)? {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => {
            Ok(Some(d.u64().map_err(|e| cx.cbor(&e, d, field))?))
        }
        _ => Ok(None),
    }
}

fn code<'b>(d: &mut Dec<'b>, cx: &mut Ctx, field: &'static str) -> Res<Option<Code<'b>>> {
    if let Some(i) = int(d, cx, field)? {
        return Ok(Some(Code::Int(i)));
    }
    Ok(text(d, cx, field)?.map(Code::Text))
}

/// `any-uri = #6.32(tstr)`; plain text is a lenient deviation.
fn uri<'b>(d: &mut Dec<'b>, cx: &mut Ctx, field: &'static str) -> Res<Option<Text<'b>>> {
    if let Some((6, 32, hl)) = head(d) {
        d.set_position(d.position().saturating_add(hl));
        return text(d, cx, field);
    }
    let pos = d.position();
    match ty(d, cx, field)? {
        Type::Tag => {
            if d.tag().map_err(|e| cx.cbor(&e, d, field))?.as_u64() != 32 {
                return Ok(None);
            }
            text(d, cx, field)
        }
        Type::String | Type::StringIndef => {
            cx.deviate(DeviationKind::UntaggedUri, field, pos)?;
            text(d, cx, field)
        }
        _ => Ok(None),
    }
}

fn tag_id<'b>(d: &mut Dec<'b>, cx: &mut Ctx, field: &'static str) -> Res<Option<TagId<'b>>> {
    let pos = d.position();
    if let Some(t) = text(d, cx, field)? {
        return Ok(Some(TagId::Text(t)));
    }
    match byte_string(d, cx, field)? {
        None => Ok(None),
        Some(b) => <[u8; 16]>::try_from(b.as_ref())
            .map(|u| Some(TagId::Uuid(u)))
            .map_err(|_| cx.err(DecodeErrorKind::BadUuidLength, field, pos)),
    }
}

/// `integer-time = #6.1(int)`; untagged ints and floats are lenient deviations.
fn date(d: &mut Dec<'_>, cx: &mut Ctx, field: &'static str) -> Res<Option<i64>> {
    let pos = d.position();
    let mut t = ty(d, cx, field)?;
    let tagged = t == Type::Tag;
    if tagged {
        if d.tag().map_err(|e| cx.cbor(&e, d, field))?.as_u64() != 1 {
            return Ok(None);
        }
        t = ty(d, cx, field)?;
    }
    if is_int(t) {
        if !tagged {
            cx.deviate(DeviationKind::UntaggedDate, field, pos)?;
        }
        return int(d, cx, field);
    }
    if matches!(t, Type::F16 | Type::F32 | Type::F64) {
        cx.deviate(DeviationKind::FloatDate, field, pos)?;
        let f = d.f64().map_err(|e| cx.cbor(&e, d, field))?;
        if !f.is_finite() || !(-9.0e18..=9.0e18).contains(&f) {
            return Err(cx.err(DecodeErrorKind::IntegerOutOfRange, field, pos));
        }
        #[allow(clippy::cast_possible_truncation)] // range checked just above
        return Ok(Some(f.trunc() as i64));
    }
    Ok(None)
}

fn hash_entry<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    field: &'static str,
) -> Res<Option<HashEntry<'b>>> {
    match head(d) {
        Some((4, 2, hl)) => d.set_position(d.position().saturating_add(hl)),
        _ => return Ok(None),
    }
    let Some(alg) = int(d, cx, field)? else {
        return Ok(None);
    };
    Ok(byte_string(d, cx, field)?.map(|value| HashEntry { alg, value }))
}

/// `one-or-more<T> = T / [2* T]`; `[x]` and `[]` are lenient deviations. Each item is decoded
/// by `item` straight into `out` (no move of a large value through `Result`s): it returns
/// `false`, having pushed nothing, on a type mismatch, and so does this function then (the
/// caller rewinds and discards `out`).
fn one_or_more<'b, T>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    field: &'static str,
    out: &mut Vec<T>,
    item: impl Fn(&mut Dec<'b>, &mut Ctx, &'static str, &mut Vec<T>) -> Res<bool>,
) -> Res<bool> {
    let pos = d.position();
    let is_array = match head(d) {
        Some((m, _, _)) => m == 4,
        None => ty(d, cx, field)? == Type::ArrayIndef,
    };
    if !is_array {
        return item(d, cx, field, out);
    }
    cx.enter(field, pos)?;
    let len = d.array().map_err(|e| cx.cbor(&e, d, field))?;
    // capacity from the wire, but capped: every element takes at least one byte of the input
    // left, and at most MAX_PREALLOC elements are reserved ahead
    let left = d.input().len().saturating_sub(d.position());
    let cap = len.map_or(0, |n| {
        usize::try_from(n.min(MAX_PREALLOC)).map_or(0, |n| n.min(left))
    });
    out.reserve_exact(cap);
    let first = out.len();
    loop {
        match len {
            Some(n) if (out.len() - first) as u64 >= n => break,
            None if ty(d, cx, field)? == Type::Break => {
                d.set_position(d.position().saturating_add(1));
                break;
            }
            _ => {}
        }
        if !item(d, cx, field, out)? {
            cx.leave();
            return Ok(false);
        }
    }
    cx.leave();
    match out.len() - first {
        0 => cx.deviate(DeviationKind::EmptyArray, field, pos)?,
        1 => cx.deviate(DeviationKind::SingleElementArray, field, pos)?,
        _ => {}
    }
    Ok(true)
}

/// `one_or_more` as a field reader: `None` on a type mismatch.
#[inline(always)]
fn many<'b, T>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    field: &'static str,
    item: impl Fn(&mut Dec<'b>, &mut Ctx, &'static str, &mut Vec<T>) -> Res<bool>,
) -> Res<Option<Vec<T>>> {
    let mut out = Vec::new();
    Ok(one_or_more(d, cx, field, &mut out, item)?.then_some(out))
}

/// An item reader returning `Option<T>` as one that pushes into a vector.
#[inline(always)]
fn push<'b, T>(
    read: impl Fn(&mut Dec<'b>, &mut Ctx, &'static str) -> Res<Option<T>>,
) -> impl Fn(&mut Dec<'b>, &mut Ctx, &'static str, &mut Vec<T>) -> Res<bool> {
    move |d, cx, field, out| {
        Ok(match read(d, cx, field)? {
            Some(v) => {
                out.push(v);
                true
            }
            None => false,
        })
    }
}

// ---- maps ----

struct MapIter {
    left: Option<u64>,
    seen: u64,
    start: usize,
}

fn label<'b>(d: &mut Dec<'b>, cx: &mut Ctx, field: &'static str) -> Res<Label<'b>> {
    let pos = d.position();
    if let Some(i) = int(d, cx, field)? {
        return Ok(Label::Int(i));
    }
    match text(d, cx, field)? {
        Some(t) => Ok(Label::Text(t)),
        None => Err(cx.err(DecodeErrorKind::BadKey, field, pos)),
    }
}

impl MapIter {
    /// `None` when the next item is not a map.
    #[inline(always)]
    fn begin(d: &mut Dec<'_>, cx: &mut Ctx, field: &'static str) -> Res<Option<Self>> {
        let start = d.position();
        if let Some((5, n, hl)) = head(d) {
            cx.enter(field, start)?;
            d.set_position(start.saturating_add(hl));
            return Ok(Some(Self {
                left: Some(n),
                seen: 0,
                start,
            }));
        }
        if !matches!(ty(d, cx, field)?, Type::Map | Type::MapIndef) {
            return Ok(None);
        }
        cx.enter(field, start)?;
        let left = d.map().map_err(|e| cx.cbor(&e, d, field))?;
        Ok(Some(Self {
            left,
            seen: 0,
            start,
        }))
    }

    #[inline(always)]
    fn next<'b>(
        &mut self,
        d: &mut Dec<'b>,
        cx: &mut Ctx,
        field: &'static str,
    ) -> Res<Option<(Label<'b>, usize)>> {
        if let Some(n) = self.left {
            if n == 0 {
                cx.leave();
                return Ok(None);
            }
            // fast path: a small non-negative integer key (every registered key)
            let pos = d.position();
            match d.input().get(pos) {
                Some(&b) if b < 0x18 => {
                    self.left = Some(n.saturating_sub(1));
                    d.set_position(pos.saturating_add(1));
                    return Ok(Some((Label::Int(i64::from(b)), pos)));
                }
                Some(0x18) => {
                    if let Some(&k) = d.input().get(pos.saturating_add(1)) {
                        self.left = Some(n.saturating_sub(1));
                        d.set_position(pos.saturating_add(2));
                        return Ok(Some((Label::Int(i64::from(k)), pos)));
                    }
                }
                _ => {}
            }
        }
        self.next_slow(d, cx, field)
    }

    #[cold]
    #[inline(never)]
    fn next_slow<'b>(
        &mut self,
        d: &mut Dec<'b>,
        cx: &mut Ctx,
        field: &'static str,
    ) -> Res<Option<(Label<'b>, usize)>> {
        match self.left {
            Some(0) => {
                cx.leave();
                return Ok(None);
            }
            Some(n) => self.left = Some(n.saturating_sub(1)),
            None => {
                if ty(d, cx, field)? == Type::Break {
                    d.set_position(d.position().saturating_add(1));
                    cx.leave();
                    return Ok(None);
                }
            }
        }
        let pos = d.position();
        // fast path: small non-negative integer keys (all registered keys)
        match d.input().get(pos) {
            Some(&b) if b < 0x18 => {
                d.set_position(pos.saturating_add(1));
                return Ok(Some((Label::Int(i64::from(b)), pos)));
            }
            Some(0x18) => {
                if let Some(&k) = d.input().get(pos.saturating_add(1)) {
                    d.set_position(pos.saturating_add(2));
                    return Ok(Some((Label::Int(i64::from(k)), pos)));
                }
            }
            _ => {}
        }
        Ok(Some((label(d, cx, field)?, pos)))
    }

    /// Duplicate check for registered keys (0..=63).
    fn first(&mut self, cx: &mut Ctx, k: i64, field: &'static str, pos: usize) -> Res<()> {
        let bit = u32::try_from(k)
            .ok()
            .and_then(|k| 1u64.checked_shl(k))
            .unwrap_or(0);
        if self.seen & bit != 0 {
            if cx.strict {
                return Err(cx.err(DecodeErrorKind::DuplicateKey, field, pos));
            }
            cx.deviate(DeviationKind::DuplicateKey, field, pos)?;
        }
        self.seen |= bit;
        Ok(())
    }
}

/// Read a registered field with `read`; on a type mismatch, reject (strict) or keep the raw
/// value as an unknown attribute (lenient).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn field<'b, T>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    attrs: &mut Attributes<'b>,
    key: Label<'b>,
    field: &'static str,
    expected: &'static str,
    read: impl FnOnce(&mut Dec<'b>, &mut Ctx, &'static str) -> Res<Option<T>>,
) -> Res<Option<T>> {
    let pos = d.position();
    let depth = cx.depth;
    if let Some(v) = read(d, cx, field)? {
        return Ok(Some(v));
    }
    d.set_position(pos);
    cx.depth = depth;
    if cx.strict {
        return Err(cx.err(DecodeErrorKind::WrongType { expected }, field, pos));
    }
    cx.deviate(DeviationKind::MistypedKeptAsAttribute, field, pos)?;
    let v = raw(d, cx, field)?;
    attrs.extra.push((key, v));
    Ok(None)
}

/// lang or an unknown key.
fn other<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    attrs: &mut Attributes<'b>,
    it: &mut MapIter,
    key: Label<'b>,
    pos: usize,
    map: &'static str,
) -> Res<()> {
    if key == Label::Int(key::LANG) {
        it.first(cx, key::LANG, "lang", pos)?;
        if let Some(l) = field(d, cx, attrs, key, "lang", "text", text)? {
            attrs.lang = Some(l);
        }
        return Ok(());
    }
    if cx.strict && attrs.extra.len() < 256 && attrs.extra.iter().any(|(k, _)| *k == key) {
        return Err(cx.err(DecodeErrorKind::DuplicateKey, map, pos));
    }
    let v = raw(d, cx, map)?;
    attrs.extra.push((key, v));
    Ok(())
}

fn missing(cx: &Ctx, field: &'static str, pos: usize) -> DecodeError {
    cx.err(DecodeErrorKind::MissingField, field, pos)
}

macro_rules! set {
    ($d:ident, $cx:ident, $attrs:expr, $it:ident, $k:ident, $pos:ident, $slot:expr, $name:literal, $exp:literal, $read:expr) => {{
        $it.first($cx, $k, $name, $pos)?;
        if let Some(v) = field($d, $cx, &mut $attrs, Label::Int($k), $name, $exp, $read)? {
            $slot = Some(v);
        }
    }};
}

pub(crate) fn concise_swid_tag<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
) -> Res<Option<ConciseSwidTag<'b>>> {
    const M: &str = "concise-swid-tag";
    let Some(mut it) = MapIter::begin(d, cx, M)? else {
        return Ok(None);
    };
    let start = it.start;
    let mut attrs = Attributes::default();
    let (mut id, mut tag_version, mut corpus, mut patch, mut supplemental) =
        (None, None, None, None, None);
    let (mut name, mut version, mut scheme, mut media) = (None, None, None, None);
    let (mut meta, mut entity, mut link, mut payload, mut evidence) =
        (None, None, None, None, None);
    while let Some((k, pos)) = it.next(d, cx, M)? {
        let Label::Int(kk) = k else {
            other(d, cx, &mut attrs, &mut it, k, pos, M)?;
            continue;
        };
        match kk {
            key::TAG_ID => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                id,
                "tag-id",
                "text / bstr .size 16",
                tag_id
            ),
            key::TAG_VERSION => {
                let p = d.position();
                if !cx.strict {
                    // lenient: text tag-version ("1")
                    if let Some(Ok(v)) =
                        text(d, cx, "tag-version")?.map(|t| t.trim().parse::<i64>())
                    {
                        it.first(cx, kk, "tag-version", pos)?;
                        cx.deviate(DeviationKind::TextTagVersion, "tag-version", p)?;
                        tag_version = Some(v);
                        continue;
                    }
                    d.set_position(p);
                }
                set!(
                    d,
                    cx,
                    attrs,
                    it,
                    kk,
                    pos,
                    tag_version,
                    "tag-version",
                    "integer",
                    integer
                )
            }
            key::CORPUS => set!(d, cx, attrs, it, kk, pos, corpus, "corpus", "bool", boolean),
            key::PATCH => set!(d, cx, attrs, it, kk, pos, patch, "patch", "bool", boolean),
            key::SUPPLEMENTAL => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                supplemental,
                "supplemental",
                "bool",
                boolean
            ),
            key::SOFTWARE_NAME => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                name,
                "software-name",
                "text",
                text
            ),
            key::SOFTWARE_VERSION => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                version,
                "software-version",
                "text",
                text
            ),
            key::VERSION_SCHEME => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                scheme,
                "version-scheme",
                "int / text",
                code
            ),
            key::MEDIA => set!(d, cx, attrs, it, kk, pos, media, "media", "text", text),
            key::SOFTWARE_META => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                meta,
                "software-meta",
                "one-or-more<software-meta-entry>",
                |d, cx, f| many(d, cx, f, push(software_meta))
            ),
            key::ENTITY => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                entity,
                "entity",
                "one-or-more<entity-entry>",
                |d, cx, f| many(d, cx, f, push(entity_entry))
            ),
            key::LINK => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                link,
                "link",
                "one-or-more<link-entry>",
                |d, cx, f| many(d, cx, f, push(link_entry))
            ),
            key::PAYLOAD => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                payload,
                "payload",
                "payload-entry",
                payload_entry
            ),
            key::EVIDENCE => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                evidence,
                "evidence",
                "evidence-entry",
                evidence_entry
            ),
            _ => other(d, cx, &mut attrs, &mut it, k, pos, M)?,
        }
    }
    let tag_id = id.ok_or_else(|| missing(cx, "tag-id", start))?;
    let tag_version = match tag_version {
        Some(v) => v,
        None => {
            if cx.strict {
                return Err(missing(cx, "tag-version", start));
            }
            cx.deviate(DeviationKind::MissingTagVersion, "tag-version", start)?;
            0
        }
    };
    let software_name = name.ok_or_else(|| missing(cx, "software-name", start))?;
    let entity: Vec<Entity<'b>> = match entity {
        Some(e) => e,
        None => return Err(missing(cx, "entity", start)),
    };
    Ok(Some(ConciseSwidTag {
        tag_id,
        tag_version,
        corpus,
        patch,
        supplemental,
        software_name,
        software_version: version,
        version_scheme: scheme,
        media,
        software_meta: meta.unwrap_or_default(),
        entity,
        link: link.unwrap_or_default(),
        payload,
        evidence,
        attributes: attrs,
    }))
}

pub(crate) fn entity_entry<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    _f: &'static str,
) -> Res<Option<Entity<'b>>> {
    const M: &str = "entity";
    let Some(mut it) = MapIter::begin(d, cx, M)? else {
        return Ok(None);
    };
    let start = it.start;
    let mut attrs = Attributes::default();
    let (mut name, mut reg_id, mut role, mut thumbprint) = (None, None, None, None);
    while let Some((k, pos)) = it.next(d, cx, M)? {
        match k {
            Label::Int(kk @ key::ENTITY_NAME) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                name,
                "entity/entity-name",
                "text",
                text
            ),
            Label::Int(kk @ key::REG_ID) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                reg_id,
                "entity/reg-id",
                "#6.32(tstr)",
                uri
            ),
            Label::Int(kk @ key::ROLE) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                role,
                "entity/role",
                "one-or-more<int / text>",
                |d, cx, f| many(d, cx, f, push(code))
            ),
            Label::Int(kk @ key::THUMBPRINT) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                thumbprint,
                "entity/thumbprint",
                "hash-entry",
                hash_entry
            ),
            k => other(d, cx, &mut attrs, &mut it, k, pos, M)?,
        }
    }
    if name.is_none() {
        if cx.strict {
            return Err(missing(cx, "entity/entity-name", start));
        }
        cx.deviate(DeviationKind::MissingField, "entity/entity-name", start)?;
    }
    let role = match role {
        Some(r) => r,
        None if cx.strict => return Err(missing(cx, "entity/role", start)),
        None => {
            cx.deviate(DeviationKind::MissingField, "entity/role", start)?;
            Vec::new()
        }
    };
    Ok(Some(Entity {
        entity_name: name,
        reg_id,
        role,
        thumbprint,
        attributes: attrs,
    }))
}

pub(crate) fn link_entry<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    _f: &'static str,
) -> Res<Option<Link<'b>>> {
    const M: &str = "link";
    let Some(mut it) = MapIter::begin(d, cx, M)? else {
        return Ok(None);
    };
    let start = it.start;
    let mut attrs = Attributes::default();
    let (mut artifact, mut href, mut media, mut ownership, mut rel, mut media_type, mut use_) =
        (None, None, None, None, None, None, None);
    while let Some((k, pos)) = it.next(d, cx, M)? {
        match k {
            Label::Int(kk @ key::ARTIFACT) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                artifact,
                "link/artifact",
                "text",
                text
            ),
            Label::Int(kk @ key::HREF) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                href,
                "link/href",
                "#6.32(tstr)",
                uri
            ),
            Label::Int(kk @ key::MEDIA) => {
                set!(d, cx, attrs, it, kk, pos, media, "link/media", "text", text)
            }
            Label::Int(kk @ key::OWNERSHIP) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                ownership,
                "link/ownership",
                "int / text",
                code
            ),
            Label::Int(kk @ key::REL) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                rel,
                "link/rel",
                "int / text",
                code
            ),
            Label::Int(kk @ key::MEDIA_TYPE) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                media_type,
                "link/media-type",
                "text",
                text
            ),
            Label::Int(kk @ key::USE) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                use_,
                "link/use",
                "int / text",
                code
            ),
            k => other(d, cx, &mut attrs, &mut it, k, pos, M)?,
        }
    }
    Ok(Some(Link {
        artifact,
        href: href.ok_or_else(|| missing(cx, "link/href", start))?,
        media,
        ownership,
        rel: rel.ok_or_else(|| missing(cx, "link/rel", start))?,
        media_type,
        use_,
        attributes: attrs,
    }))
}

pub(crate) fn software_meta<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    _f: &'static str,
) -> Res<Option<SoftwareMeta<'b>>> {
    const M: &str = "software-meta";
    let Some(mut it) = MapIter::begin(d, cx, M)? else {
        return Ok(None);
    };
    let mut m = SoftwareMeta::default();
    let mut attrs = Attributes::default();
    while let Some((k, pos)) = it.next(d, cx, M)? {
        match k {
            Label::Int(kk @ key::ACTIVATION_STATUS) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.activation_status,
                "software-meta/activation-status",
                "text",
                text
            ),
            Label::Int(kk @ key::CHANNEL_TYPE) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.channel_type,
                "software-meta/channel-type",
                "text",
                text
            ),
            Label::Int(kk @ key::COLLOQUIAL_VERSION) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.colloquial_version,
                "software-meta/colloquial-version",
                "text",
                text
            ),
            Label::Int(kk @ key::DESCRIPTION) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.description,
                "software-meta/description",
                "text",
                text
            ),
            Label::Int(kk @ key::EDITION) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.edition,
                "software-meta/edition",
                "text",
                text
            ),
            Label::Int(kk @ key::ENTITLEMENT_DATA_REQUIRED) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.entitlement_data_required,
                "software-meta/entitlement-data-required",
                "bool",
                boolean
            ),
            Label::Int(kk @ key::ENTITLEMENT_KEY) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.entitlement_key,
                "software-meta/entitlement-key",
                "text",
                text
            ),
            Label::Int(kk @ key::GENERATOR) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.generator,
                "software-meta/generator",
                "text / bstr .size 16",
                tag_id
            ),
            Label::Int(kk @ key::PERSISTENT_ID) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.persistent_id,
                "software-meta/persistent-id",
                "text",
                text
            ),
            Label::Int(kk @ key::PRODUCT) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.product,
                "software-meta/product",
                "text",
                text
            ),
            Label::Int(kk @ key::PRODUCT_FAMILY) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.product_family,
                "software-meta/product-family",
                "text",
                text
            ),
            Label::Int(kk @ key::REVISION) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.revision,
                "software-meta/revision",
                "text",
                text
            ),
            Label::Int(kk @ key::SUMMARY) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.summary,
                "software-meta/summary",
                "text",
                text
            ),
            Label::Int(kk @ key::UNSPSC_CODE) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.unspsc_code,
                "software-meta/unspsc-code",
                "text",
                text
            ),
            Label::Int(kk @ key::UNSPSC_VERSION) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                m.unspsc_version,
                "software-meta/unspsc-version",
                "text",
                text
            ),
            k => other(d, cx, &mut attrs, &mut it, k, pos, M)?,
        }
    }
    m.attributes = attrs;
    Ok(Some(m))
}

/// Keys of resource-collection; returns false when `k` is not one of them.
#[allow(clippy::too_many_arguments)]
fn collection_key<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    mut attrs: &mut Attributes<'b>,
    it: &mut MapIter,
    rc: &mut ResourceCollection<'b>,
    k: i64,
    pos: usize,
    with_pr: bool,
) -> Res<bool> {
    let mut slot_d = None;
    let mut slot_f = None;
    let mut slot_p = None;
    let mut slot_r = None;
    match k {
        key::DIRECTORY => set!(
            d,
            cx,
            attrs,
            it,
            k,
            pos,
            slot_d,
            "directory",
            "one-or-more<directory-entry>",
            |d, cx, f| many(d, cx, f, directory_into)
        ),
        key::FILE => set!(
            d,
            cx,
            attrs,
            it,
            k,
            pos,
            slot_f,
            "file",
            "one-or-more<file-entry>",
            |d, cx, f| many(d, cx, f, file_into)
        ),
        key::PROCESS if with_pr => set!(
            d,
            cx,
            attrs,
            it,
            k,
            pos,
            slot_p,
            "process",
            "one-or-more<process-entry>",
            |d, cx, f| many(d, cx, f, push(process_entry))
        ),
        key::RESOURCE if with_pr => set!(
            d,
            cx,
            attrs,
            it,
            k,
            pos,
            slot_r,
            "resource",
            "one-or-more<resource-entry>",
            |d, cx, f| many(d, cx, f, push(resource_entry))
        ),
        _ => return Ok(false),
    }
    if let Some(v) = slot_d {
        rc.directory = v;
    }
    if let Some(v) = slot_f {
        rc.file = v;
    }
    if let Some(v) = slot_p {
        rc.process = v;
    }
    if let Some(v) = slot_r {
        rc.resource = v;
    }
    Ok(true)
}

pub(crate) fn payload_entry<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    _f: &'static str,
) -> Res<Option<Payload<'b>>> {
    const M: &str = "payload";
    let Some(mut it) = MapIter::begin(d, cx, M)? else {
        return Ok(None);
    };
    let mut p = Payload::default();
    while let Some((k, pos)) = it.next(d, cx, M)? {
        if let Label::Int(kk) = k
            && collection_key(
                d,
                cx,
                &mut p.attributes,
                &mut it,
                &mut p.resources,
                kk,
                pos,
                true,
            )?
        {
            continue;
        }
        other(d, cx, &mut p.attributes, &mut it, k, pos, M)?;
    }
    Ok(Some(p))
}

pub(crate) fn evidence_entry<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    _f: &'static str,
) -> Res<Option<Evidence<'b>>> {
    const M: &str = "evidence";
    let Some(mut it) = MapIter::begin(d, cx, M)? else {
        return Ok(None);
    };
    let mut e = Evidence::default();
    let mut attrs = Attributes::default();
    while let Some((k, pos)) = it.next(d, cx, M)? {
        match k {
            Label::Int(kk @ key::DATE) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                e.date,
                "evidence/date",
                "#6.1(int)",
                date
            ),
            Label::Int(kk @ key::DEVICE_ID) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                e.device_id,
                "evidence/device-id",
                "text",
                text
            ),
            Label::Int(kk @ key::LOCATION) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                e.location,
                "evidence/location",
                "text",
                text
            ),
            Label::Int(kk)
                if collection_key(d, cx, &mut attrs, &mut it, &mut e.resources, kk, pos, true)? => {
            }
            k => other(d, cx, &mut attrs, &mut it, k, pos, M)?,
        }
    }
    e.attributes = attrs;
    Ok(Some(e))
}

/// An in-place reader (`directory_into`, `file_into`) for one item on its own.
fn single<'b, T>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    f: &'static str,
    into: impl Fn(&mut Dec<'b>, &mut Ctx, &'static str, &mut Vec<T>) -> Res<bool>,
) -> Res<Option<T>> {
    let mut out = Vec::with_capacity(1);
    Ok(if into(d, cx, f, &mut out)? {
        out.pop()
    } else {
        None
    })
}

/// One directory-entry on its own (fragments).
pub(crate) fn directory_entry<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    f: &'static str,
) -> Res<Option<Directory<'b>>> {
    single(d, cx, f, directory_into)
}

/// A directory-entry decoded in place as the new last element of `out`; `false`, nothing
/// pushed, when the next item is not a map.
fn directory_into<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    _f: &'static str,
    out: &mut Vec<Directory<'b>>,
) -> Res<bool> {
    const M: &str = "directory";
    if cx.depth < MAX_DEPTH - 1
        && let Some((fs_name, root, files)) = directory_exact(d.input(), d.position())
    {
        // the directory and path-elements maps are open while the files are read
        let (pos, deviations) = (d.position(), cx.deviations.len());
        cx.depth += 2;
        d.set_position(files);
        let mut file = Vec::new();
        let read = one_or_more(d, cx, "file", &mut file, file_into)?;
        cx.depth -= 2;
        if read {
            out.push(Directory {
                key: None,
                location: None,
                fs_name: Cow::Borrowed(fs_name),
                root: Some(Cow::Borrowed(root)),
                path_elements: Some(PathElements {
                    directory: Vec::new(),
                    file,
                    attributes: Attributes::default(),
                }),
                attributes: Attributes::default(),
            });
            return Ok(true);
        }
        // not files: the general path reads it all again (and reports what it finds)
        d.set_position(pos);
        cx.deviations.truncate(deviations);
    }
    let Some(mut it) = MapIter::begin(d, cx, M)? else {
        return Ok(false);
    };
    let start = it.start;
    out.push(EMPTY_DIRECTORY); // filled in place, like `file_into`
    let Some(dir) = out.last_mut() else {
        return Ok(false);
    };
    let mut fs_name = None;
    while let Some((k, pos)) = it.next(d, cx, M)? {
        // fast path: a definite text fs-name, root or location, the first of its key
        if let Label::Int(kk @ (key::FS_NAME | key::ROOT | key::LOCATION)) = k
            && it.seen & (1u64 << kk) == 0
            && let Some(t) = fast_text(d)
        {
            it.seen |= 1u64 << kk;
            let slot = match kk {
                key::FS_NAME => &mut fs_name,
                key::ROOT => &mut dir.root,
                _ => &mut dir.location,
            };
            *slot = Some(Cow::Borrowed(t));
            continue;
        }
        match k {
            Label::Int(kk @ key::KEY) => set!(
                d,
                cx,
                dir.attributes,
                it,
                kk,
                pos,
                dir.key,
                "directory/key",
                "bool",
                boolean
            ),
            Label::Int(kk @ key::LOCATION) => set!(
                d,
                cx,
                dir.attributes,
                it,
                kk,
                pos,
                dir.location,
                "directory/location",
                "text",
                text
            ),
            Label::Int(kk @ key::FS_NAME) => set!(
                d,
                cx,
                dir.attributes,
                it,
                kk,
                pos,
                fs_name,
                "directory/fs-name",
                "text",
                text
            ),
            Label::Int(kk @ key::ROOT) => set!(
                d,
                cx,
                dir.attributes,
                it,
                kk,
                pos,
                dir.root,
                "directory/root",
                "text",
                text
            ),
            Label::Int(kk @ key::PATH_ELEMENTS) => set!(
                d,
                cx,
                dir.attributes,
                it,
                kk,
                pos,
                dir.path_elements,
                "directory/path-elements",
                "{ path-elements-group }",
                path_elements
            ),
            k => other(d, cx, &mut dir.attributes, &mut it, k, pos, M)?,
        }
    }
    dir.fs_name = fs_name.ok_or_else(|| missing(cx, "directory/fs-name", start))?;
    Ok(true)
}

fn path_elements<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    _f: &'static str,
) -> Res<Option<PathElements<'b>>> {
    const M: &str = "path-elements";
    let Some(mut it) = MapIter::begin(d, cx, M)? else {
        return Ok(None);
    };
    let mut rc = ResourceCollection::default();
    let mut attrs = Attributes::default();
    while let Some((k, pos)) = it.next(d, cx, M)? {
        if let Label::Int(kk) = k
            && collection_key(d, cx, &mut attrs, &mut it, &mut rc, kk, pos, false)?
        {
            continue;
        }
        other(d, cx, &mut attrs, &mut it, k, pos, M)?;
    }
    Ok(Some(PathElements {
        directory: rc.directory,
        file: rc.file,
        attributes: attrs,
    }))
}

/// A definite-length text string, borrowed; `None` (position unchanged) for anything else,
/// invalid UTF-8 included: the general reader then decides or reports.
#[inline(always)]
fn fast_text<'b>(d: &mut Dec<'b>) -> Option<&'b str> {
    let input: &'b [u8] = d.input();
    let p = d.position();
    // the heads of texts shorter than 24 and than 256 bytes, else the general head
    let (start, len) = match *input.get(p)? {
        b @ 0x60..=0x77 => (p.checked_add(1)?, usize::from(b & 0x1f)),
        0x78 => (
            p.checked_add(2)?,
            usize::from(*input.get(p.checked_add(1)?)?),
        ),
        _ => {
            let s = fast_str(d, 3)?;
            return match core::str::from_utf8(s) {
                Ok(t) => Some(t),
                Err(_) => {
                    d.set_position(p);
                    None
                }
            };
        }
    };
    let end = start.checked_add(len)?;
    let t = core::str::from_utf8(input.get(start..end)?).ok()?;
    d.set_position(end);
    Some(t)
}

/// The values every real file map holds, read without the general field machinery: a
/// definite text (fs-name, location, root, file-version), a uint size, a definite
/// `[int, bstr]` hash, each the first of its key in the map. `false` (nothing read, position
/// unchanged) sends the entry down the general path, which also reports errors and
/// deviations.
#[inline(always)]
fn file_fast<'b>(d: &mut Dec<'b>, it: &mut MapIter, f: &mut FileFields<'_, 'b>, k: i64) -> bool {
    let bit = match k {
        key::FS_NAME | key::LOCATION | key::ROOT | key::FILE_VERSION | key::SIZE | key::HASH => {
            1u64 << k
        }
        _ => return false,
    };
    if it.seen & bit != 0 {
        return false;
    }
    match k {
        key::SIZE => match head(d) {
            Some((0, v, hl)) => {
                d.set_position(d.position().saturating_add(hl));
                *f.size = Some(v);
            }
            _ => return false,
        },
        key::HASH => {
            let p = d.position();
            let input: &'b [u8] = d.input();
            let alg = match (input.get(p), head_at(input, p.saturating_add(1))) {
                (Some(0x82), Some((m @ (0 | 1), a, hl))) => {
                    let Ok(a) = i64::try_from(a) else {
                        return false;
                    };
                    d.set_position(p.saturating_add(1).saturating_add(hl));
                    if m == 0 { a } else { -1 - a }
                }
                _ => return false,
            };
            // the heads of byte strings shorter than 24 and than 256 bytes (digests)
            let q = d.position();
            let bstr = match input.get(q) {
                Some(&b @ 0x40..=0x57) => q
                    .checked_add(1)
                    .and_then(|s| Some((s, s.checked_add(usize::from(b & 0x1f))?))),
                Some(0x58) => input.get(q.saturating_add(1)).and_then(|&n| {
                    let s = q.checked_add(2)?;
                    Some((s, s.checked_add(usize::from(n))?))
                }),
                _ => None,
            }
            .and_then(|(s, e)| Some((input.get(s..e)?, e)));
            let value = match bstr {
                Some((v, e)) => {
                    d.set_position(e);
                    Some(v)
                }
                None => fast_str(d, 2),
            };
            match value {
                Some(value) => {
                    *f.hash = Some(HashEntry {
                        alg,
                        value: Cow::Borrowed(value),
                    });
                }
                None => {
                    d.set_position(p);
                    return false;
                }
            }
        }
        _ => {
            let Some(t) = fast_text(d) else {
                return false;
            };
            let slot = match k {
                key::FS_NAME => {
                    *f.fs_name = Cow::Borrowed(t);
                    *f.named = true;
                    it.seen |= bit;
                    return true;
                }
                key::LOCATION => &mut *f.location,
                key::ROOT => &mut *f.root,
                _ => &mut *f.file_version,
            };
            *slot = Some(Cow::Borrowed(t));
        }
    }
    it.seen |= bit;
    true
}

/// The fields [`file_fast`] fills, as separate locals of [`file_into`] (so that the `File` is
/// assembled once, in the vector).
struct FileFields<'r, 'b> {
    fs_name: &'r mut Text<'b>,
    named: &'r mut bool,
    location: &'r mut Option<Text<'b>>,
    root: &'r mut Option<Text<'b>>,
    file_version: &'r mut Option<Text<'b>>,
    size: &'r mut Option<u64>,
    hash: &'r mut Option<HashEntry<'b>>,
}

/// An empty directory-entry.
const EMPTY_DIRECTORY: Directory<'static> = Directory {
    key: None,
    location: None,
    fs_name: Cow::Borrowed(""),
    root: None,
    path_elements: None,
    attributes: Attributes {
        lang: None,
        extra: Vec::new(),
    },
};

/// An empty file-entry.
const EMPTY_FILE: File<'static> = File {
    fs_name: Cow::Borrowed(""),
    size: None,
    hash: None,
    extra: None,
};

/// The shape of practically every directory map, `{24: tstr, 25: tstr, 26: {17: file}}`
/// with definite lengths: fs-name, root and the position of the file value. `None` for
/// anything else (the general path reads it). The caller checks that the two maps may nest.
#[inline(always)]
fn directory_exact(input: &[u8], p: usize) -> Option<(&str, &str, usize)> {
    let text = |q: usize| -> Option<(&str, usize)> {
        let (3, len, hl) = head_at(input, q)? else {
            return None;
        };
        let t0 = q.checked_add(hl)?;
        let end = t0.checked_add(usize::try_from(len).ok()?)?;
        Some((core::str::from_utf8(input.get(t0..end)?).ok()?, end))
    };
    if input.get(p..p.checked_add(3)?)? != [0xa3, 0x18, 0x18] {
        return None;
    }
    let (fs_name, q) = text(p + 3)?;
    if input.get(q..q.checked_add(2)?)? != [0x18, 0x19] {
        return None;
    }
    let (root, q) = text(q + 2)?;
    if input.get(q..q.checked_add(4)?)? != [0x18, 0x1a, 0xa1, 0x11] {
        return None;
    }
    Some((fs_name, root, q + 4))
}

/// The fields [`file_exact`] reads.
struct ExactFile<'b> {
    fs_name: Text<'b>,
    size: Option<u64>,
    hash: Option<HashEntry<'b>>,
}

/// The shape of practically every file map (swidGenerator's, and ours: keys in canonical
/// order), `{7: [int, bstr], 20: uint, 24: tstr}` with definite lengths, read straight
/// through from `p`: the fields and the position after the map. `None`, nothing read, for
/// anything else; the general path then reads it, and reports errors and deviations (this
/// shape has none). The caller checks that the map may nest here.
#[inline(always)]
fn file_exact(input: &[u8], p: usize) -> Option<(ExactFile<'_>, usize)> {
    let [0xa3, 0x07, 0x82, ref rest @ ..] = *input.get(p..)? else {
        return None;
    };
    let (alg, rest) = match take_head(rest)? {
        (0, a, rest) => (i64::try_from(a).ok()?, rest),
        (1, a, rest) => (-1 - i64::try_from(a).ok()?, rest),
        _ => return None,
    };
    let (2, len, rest) = take_head(rest)? else {
        return None;
    };
    let (value, rest) = rest.split_at_checked(usize::try_from(len).ok()?)?;
    let [0x14, ref rest @ ..] = *rest else {
        return None;
    };
    let (0, size, rest) = take_head(rest)? else {
        return None;
    };
    let [0x18, 0x18, ref rest @ ..] = *rest else {
        return None;
    };
    let (3, len, rest) = take_head(rest)? else {
        return None;
    };
    let (name, rest) = rest.split_at_checked(usize::try_from(len).ok()?)?;
    let fs_name = core::str::from_utf8(name).ok()?;
    Some((
        ExactFile {
            fs_name: Cow::Borrowed(fs_name),
            size: Some(size),
            hash: Some(HashEntry {
                alg,
                value: Cow::Borrowed(value),
            }),
        },
        input.len() - rest.len(),
    ))
}

/// The head at the start of `b` (see [`head_at`]) and the bytes after it.
#[inline(always)]
fn take_head(b: &[u8]) -> Option<(u8, u64, &[u8])> {
    match *b {
        [x, ref rest @ ..] if x & 0x1f < 24 => Some((x >> 5, u64::from(x & 0x1f), rest)),
        [x, a, ref rest @ ..] if x & 0x1f == 24 => Some((x >> 5, u64::from(a), rest)),
        [x, a, c, ref rest @ ..] if x & 0x1f == 25 => {
            Some((x >> 5, u64::from(u16::from_be_bytes([a, c])), rest))
        }
        _ => {
            let (major, arg, hl) = head_at(b, 0)?;
            Some((major, arg, b.get(hl..)?))
        }
    }
}

/// One file-entry on its own (fragments).
pub(crate) fn file_entry<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    f: &'static str,
) -> Res<Option<File<'b>>> {
    single(d, cx, f, file_into)
}

/// A file-entry decoded in place as the new last element of `out` (moving a finished `File`
/// through `Result`s and `Vec::push` cost more than decoding it); `false`, nothing pushed,
/// when the next item is not a map.
fn file_into<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    _f: &'static str,
    out: &mut Vec<File<'b>>,
) -> Res<bool> {
    const M: &str = "file";
    if cx.depth < MAX_DEPTH
        && let Some((f, end)) = file_exact(d.input(), d.position())
    {
        out.push(File {
            fs_name: f.fs_name,
            size: f.size,
            hash: f.hash,
            extra: None,
        });
        d.set_position(end);
        return Ok(true);
    }
    let Some(mut it) = MapIter::begin(d, cx, M)? else {
        return Ok(false);
    };
    let start = it.start;
    // pushed first and filled in place: a constant is copied without store-forwarding stalls
    out.push(EMPTY_FILE);
    let Some(File {
        fs_name: name_slot,
        size,
        hash,
        extra: extra_slot,
    }) = out.last_mut()
    else {
        return Ok(false);
    };
    let mut extra = FileExtra::default();
    let FileExtra {
        key: key_,
        location,
        root,
        file_version: version,
        attributes: attrs,
    } = &mut extra;
    let (mut fs_name, mut named) = (None, false);
    while let Some((k, pos)) = it.next(d, cx, M)? {
        if let Label::Int(kk) = k
            && file_fast(
                d,
                &mut it,
                &mut FileFields {
                    fs_name: name_slot,
                    named: &mut named,
                    location,
                    root,
                    file_version: version,
                    size,
                    hash,
                },
                kk,
            )
        {
            continue;
        }
        match k {
            Label::Int(kk @ key::KEY) => {
                set!(
                    d, cx, *attrs, it, kk, pos, *key_, "file/key", "bool", boolean
                )
            }
            Label::Int(kk @ key::LOCATION) => set!(
                d,
                cx,
                *attrs,
                it,
                kk,
                pos,
                *location,
                "file/location",
                "text",
                text
            ),
            Label::Int(kk @ key::FS_NAME) => set!(
                d,
                cx,
                *attrs,
                it,
                kk,
                pos,
                fs_name,
                "file/fs-name",
                "text",
                text
            ),
            Label::Int(kk @ key::ROOT) => {
                set!(d, cx, *attrs, it, kk, pos, *root, "file/root", "text", text)
            }
            Label::Int(kk @ key::SIZE) => {
                set!(d, cx, *attrs, it, kk, pos, *size, "file/size", "uint", uint)
            }
            Label::Int(kk @ key::FILE_VERSION) => set!(
                d,
                cx,
                *attrs,
                it,
                kk,
                pos,
                *version,
                "file/file-version",
                "text",
                text
            ),
            Label::Int(kk @ key::HASH) => set!(
                d,
                cx,
                *attrs,
                it,
                kk,
                pos,
                *hash,
                "file/hash",
                "hash-entry",
                hash_entry
            ),
            k => other(d, cx, attrs, &mut it, k, pos, M)?,
        }
    }
    match fs_name {
        Some(n) => *name_slot = n,
        None if named => {} // the fast path wrote the slot
        None => return Err(missing(cx, "file/fs-name", start)),
    }
    if !extra.is_empty() {
        *extra_slot = Some(Box::new(extra));
    }
    Ok(true)
}

pub(crate) fn process_entry<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    _f: &'static str,
) -> Res<Option<Process<'b>>> {
    const M: &str = "process";
    let Some(mut it) = MapIter::begin(d, cx, M)? else {
        return Ok(None);
    };
    let start = it.start;
    let mut attrs = Attributes::default();
    let (mut name, mut pid) = (None, None);
    while let Some((k, pos)) = it.next(d, cx, M)? {
        match k {
            Label::Int(kk @ key::PROCESS_NAME) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                name,
                "process/process-name",
                "text",
                text
            ),
            Label::Int(kk @ key::PID) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                pid,
                "process/pid",
                "integer",
                integer
            ),
            k => other(d, cx, &mut attrs, &mut it, k, pos, M)?,
        }
    }
    Ok(Some(Process {
        process_name: name.ok_or_else(|| missing(cx, "process/process-name", start))?,
        pid,
        attributes: attrs,
    }))
}

pub(crate) fn resource_entry<'b>(
    d: &mut Dec<'b>,
    cx: &mut Ctx,
    _f: &'static str,
) -> Res<Option<Resource<'b>>> {
    const M: &str = "resource";
    let Some(mut it) = MapIter::begin(d, cx, M)? else {
        return Ok(None);
    };
    let start = it.start;
    let mut attrs = Attributes::default();
    let mut type_ = None;
    while let Some((k, pos)) = it.next(d, cx, M)? {
        match k {
            Label::Int(kk @ key::TYPE) => set!(
                d,
                cx,
                attrs,
                it,
                kk,
                pos,
                type_,
                "resource/type",
                "text",
                text
            ),
            k => other(d, cx, &mut attrs, &mut it, k, pos, M)?,
        }
    }
    Ok(Some(Resource {
        type_: type_.ok_or_else(|| missing(cx, "resource/type", start))?,
        attributes: attrs,
    }))
}

/// Decode one CoSWID (tagged or not) filling `cx`; returns the tag and whether it was tagged.
pub(crate) fn top<'b>(input: &'b [u8], cx: &mut Ctx) -> Res<(ConciseSwidTag<'b>, bool)> {
    let mut d = Decoder::new(input);
    let mut tagged = false;
    if ty(&d, cx, "coswid")? == Type::Tag {
        let t = d.tag().map_err(|e| cx.cbor(&e, &d, "coswid"))?.as_u64();
        if t != super::COSWID_TAG {
            return Err(cx.err(DecodeErrorKind::WrongCborTag(t), "coswid", 0));
        }
        tagged = true;
        if ty(&d, cx, "coswid")? == Type::Bytes {
            let pos = d.position();
            cx.deviate(DeviationKind::WrappedInByteString, "coswid", pos)?;
            let inner = d.bytes().map_err(|e| cx.cbor(&e, &d, "coswid"))?;
            if d.position() != input.len() {
                return Err(cx.err(DecodeErrorKind::TrailingBytes, "coswid", d.position()));
            }
            let base = input.len().saturating_sub(inner.len());
            // each wrapping is a nesting level: a tower of wrappings must not recurse unbounded
            cx.enter("coswid", pos)?;
            let mut inner_cx = Ctx::new(cx.strict, cx.base.saturating_add(base));
            inner_cx.depth = cx.depth;
            let (tag, _) = top(inner, &mut inner_cx)?;
            cx.leave();
            cx.deviations.append(&mut inner_cx.deviations);
            return Ok((tag, true));
        }
    }
    let pos = d.position();
    let tag = concise_swid_tag(&mut d, cx)?.ok_or_else(|| {
        cx.err(
            DecodeErrorKind::WrongType { expected: "map" },
            "concise-swid-tag",
            pos,
        )
    })?;
    if d.position() != input.len() {
        return Err(cx.err(DecodeErrorKind::TrailingBytes, "coswid", d.position()));
    }
    Ok((tag, tagged))
}
