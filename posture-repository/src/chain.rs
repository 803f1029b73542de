//! The per-endpoint hash chain over history rows (tamper evidence, profile §8.2.4).
//!
//! Row *n* of an endpoint stores `H(n) = SHA-256(DOMAIN ‖ H(n-1) ‖ fields of row n)`, with
//! `H(0)` = 32 zero bytes. The fields are encoded without ambiguity: integers big-endian at
//! fixed width, text as a 4-byte length then UTF-8, absent values as a 0 byte and present ones
//! as a 1 byte then the value. The endpoint row keeps the chain head (last sequence number and
//! its hash), so removing the newest rows is detected too. An attacker who can rewrite the
//! whole file can recompute every chain: export [`ChainHead`]s elsewhere (a log, a second
//! system) to anchor them.

use ring::digest::{Context, SHA256};

use crate::error::{Error, Result};
use crate::model::{ChainProblem, HistoryEntry, HistoryKind, HistoryRecord};

const DOMAIN: &[u8] = b"nea-rs posture-repository history v1\0";

/// The hash before an endpoint's first row.
pub const GENESIS: [u8; 32] = [0; 32];

/// The newest row of an endpoint's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The endpoint identifier.
    pub endpoint: String,
    /// Sequence number of its newest history row (0: none yet).
    pub seq: i64,
    /// That row's hash.
    pub hash: [u8; 32],
}

/// The fields of one history row that the hash covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowFields<'a> {
    pub(crate) endpoint: &'a str,
    pub(crate) seq: i64,
    pub(crate) at: i64,
    pub(crate) kind: HistoryKind,
    pub(crate) record: Option<&'a HistoryRecord>,
    pub(crate) eid: Option<u32>,
    pub(crate) event_time: Option<i64>,
    pub(crate) epoch: u32,
}

fn text(c: &mut Context, s: &str) {
    // A text longer than u32::MAX cannot be stored in the first place; saturate rather than wrap.
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    c.update(&len.to_be_bytes());
    c.update(s.as_bytes());
}

fn opt<T>(c: &mut Context, v: Option<T>, f: impl FnOnce(&mut Context, T)) {
    match v {
        None => c.update(&[0]),
        Some(v) => {
            c.update(&[1]);
            f(c, v);
        }
    }
}

/// `H(n)` from `H(n-1)` and row *n*.
pub(crate) fn row_hash(prev: &[u8; 32], r: &RowFields<'_>) -> [u8; 32] {
    let mut c = Context::new(&SHA256);
    c.update(DOMAIN);
    c.update(prev);
    text(&mut c, r.endpoint);
    c.update(&r.seq.to_be_bytes());
    c.update(&r.at.to_be_bytes());
    c.update(&[r.kind.code()]);
    opt(&mut c, r.record, |c, rec| {
        text(c, &rec.software_identifier);
        c.update(&rec.data_model.pen.to_be_bytes());
        c.update(&[rec.data_model.kind, rec.source_id]);
        c.update(&rec.record_id.to_be_bytes());
        text(c, &rec.locator);
    });
    opt(&mut c, r.eid, |c, e| c.update(&e.to_be_bytes()));
    opt(&mut c, r.event_time, |c, t| c.update(&t.to_be_bytes()));
    c.update(&r.epoch.to_be_bytes());
    let mut out = [0; 32];
    out.copy_from_slice(c.finish().as_ref());
    out
}

/// A stored SHA-256 column as an array ([`Error::Corrupt`] when it is not 32 bytes).
pub(crate) fn hash32(v: &[u8]) -> Result<[u8; 32]> {
    <[u8; 32]>::try_from(v).map_err(|_| Error::Corrupt("a SHA-256 column"))
}

/// The walk over one endpoint's history rows, in `seq` order, for every backend: feed each
/// row to [`row`](Self::row) while it returns `true`, then ask [`finish`](Self::finish).
#[derive(Debug)]
pub(crate) struct Walk<'a> {
    endpoint: &'a str,
    prev: [u8; 32],
    expect: i64,
    fault: Option<(i64, ChainProblem)>,
}

impl<'a> Walk<'a> {
    pub(crate) fn new(endpoint: &'a str) -> Self {
        Self {
            endpoint,
            prev: GENESIS,
            expect: 1,
            fault: None,
        }
    }

    /// Checks the next row (`Err(seq)`: its columns could not be read, so it was edited).
    /// Returns whether to go on.
    pub(crate) fn row(&mut self, row: Result<HistoryEntry, i64>) -> bool {
        let row = match row {
            Ok(row) => row,
            Err(seq) => {
                self.fault = Some((seq, ChainProblem::Altered));
                return false;
            }
        };
        if row.seq != self.expect {
            self.fault = Some((self.expect, ChainProblem::Missing));
            return false;
        }
        let h = row_hash(
            &self.prev,
            &RowFields {
                endpoint: self.endpoint,
                seq: row.seq,
                at: row.at.0,
                kind: row.kind,
                record: row.record.as_ref(),
                eid: row.eid,
                event_time: row.event_time.map(|t| t.0),
                epoch: row.epoch,
            },
        );
        if h != row.hash {
            self.fault = Some((row.seq, ChainProblem::Altered));
            return false;
        }
        self.prev = row.hash;
        self.expect += 1;
        true
    }

    /// The sequence number the next row must have.
    pub(crate) fn expected_seq(&self) -> i64 {
        self.expect
    }

    /// The first fault, comparing the end of the rows with the endpoint's recorded head.
    pub(crate) fn finish(self, head_seq: i64, head_hash: &[u8]) -> Option<(i64, ChainProblem)> {
        if self.fault.is_some() {
            return self.fault;
        }
        let last = self.expect - 1;
        if last < head_seq {
            Some((self.expect, ChainProblem::Truncated))
        } else if last > head_seq || head_hash != self.prev.as_slice() {
            // Rows beyond the recorded head, or a head that is not the last row's hash.
            Some((last, ChainProblem::Altered))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DataModel;

    fn rec(id: &str) -> HistoryRecord {
        HistoryRecord {
            software_identifier: id.into(),
            data_model: DataModel::SWID_2015,
            source_id: 0,
            record_id: 7,
            locator: String::new(),
        }
    }

    #[test]
    fn every_field_and_the_previous_hash_change_the_hash() {
        let r = rec("a__b");
        let base = RowFields {
            endpoint: "ep",
            seq: 1,
            at: 10,
            kind: HistoryKind::Install,
            record: Some(&r),
            eid: Some(3),
            event_time: Some(9),
            epoch: 5,
        };
        let h = row_hash(&GENESIS, &base);
        assert_ne!(row_hash(&[1; 32], &base), h);
        let r2 = rec("a__c");
        let variants = [
            RowFields {
                endpoint: "eq",
                ..base
            },
            RowFields { seq: 2, ..base },
            RowFields { at: 11, ..base },
            RowFields {
                kind: HistoryKind::Remove,
                ..base
            },
            RowFields {
                record: Some(&r2),
                ..base
            },
            RowFields {
                record: None,
                ..base
            },
            RowFields { eid: None, ..base },
            RowFields {
                eid: Some(4),
                ..base
            },
            RowFields {
                event_time: None,
                ..base
            },
            RowFields { epoch: 6, ..base },
        ];
        for v in variants {
            assert_ne!(row_hash(&GENESIS, &v), h, "{v:?}");
        }
        // Text boundaries are unambiguous: ("ab", "") vs ("a", "b") style shifts.
        let x = HistoryRecord {
            locator: "b".into(),
            software_identifier: "a".into(),
            ..rec("")
        };
        let y = HistoryRecord {
            locator: String::new(),
            software_identifier: "ab".into(),
            ..rec("")
        };
        assert_ne!(
            row_hash(
                &GENESIS,
                &RowFields {
                    record: Some(&x),
                    ..base
                }
            ),
            row_hash(
                &GENESIS,
                &RowFields {
                    record: Some(&y),
                    ..base
                }
            )
        );
    }
}
