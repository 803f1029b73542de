//! The version ordering used by version-range queries.
//!
//! Software versions in tags are free text (`1.2.10`, `3.134`, `2.0.0-rc1`, `1:9.2p1-2+deb12u3`).
//! The order is the documented, total one below (close to Debian's and RPM's, without their
//! special cases):
//!
//! 1. A version is split into *segments* at every character that is not an ASCII letter or digit
//!    (`.`, `-`, `+`, `:`, `_`, `~`, …); empty segments are dropped.
//! 2. Each segment is split further into runs of digits and runs of letters (`10rc2` → `10`,
//!    `rc`, `2`).
//! 3. The run lists are compared run by run: two digit runs compare as numbers (of any length,
//!    leading zeros ignored); two letter runs compare ASCII case-insensitively; a digit run is
//!    greater than a letter run.
//! 4. When one list is a prefix of the other, the longer is greater (`1.2.1` > `1.2`; and so
//!    `1.0rc1` > `1.0`: pre-release suffixes are not special-cased).
//! 5. Versions that compare equal so far (`1.02` vs `1.2`, `1.0` vs `1-0`) are ordered by their
//!    plain byte order, so the order is total and consistent with equality of the text.
//!
//! ```
//! use posture_repository::version::compare;
//! use std::cmp::Ordering::*;
//! assert_eq!(compare("1.2.10", "1.2.9"), Greater);
//! assert_eq!(compare("3.134", "3.134"), Equal);
//! assert_eq!(compare("2.0", "10.0"), Less);
//! assert_eq!(compare("1.0a", "1.0b"), Less);
//! ```

use std::cmp::Ordering;

#[derive(Debug, PartialEq, Eq)]
enum Run<'a> {
    Num(&'a str),
    Alpha(&'a str),
}

fn runs(v: &str) -> impl Iterator<Item = Run<'_>> {
    let b = v.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && !b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
            i += 1;
        }
        let start = i;
        let digit = b.get(i)?.is_ascii_digit();
        while b
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() && c.is_ascii_digit() == digit)
        {
            i += 1;
        }
        let s = v.get(start..i)?;
        Some(if digit { Run::Num(s) } else { Run::Alpha(s) })
    })
}

fn cmp_num(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn cmp_alpha(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// Compares two versions in the order described in the [module docs](self).
pub fn compare(a: &str, b: &str) -> Ordering {
    let mut ra = runs(a);
    let mut rb = runs(b);
    loop {
        let o = match (ra.next(), rb.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(Run::Num(x)), Some(Run::Num(y))) => cmp_num(x, y),
            (Some(Run::Alpha(x)), Some(Run::Alpha(y))) => cmp_alpha(x, y),
            (Some(Run::Num(_)), Some(Run::Alpha(_))) => Ordering::Greater,
            (Some(Run::Alpha(_)), Some(Run::Num(_))) => Ordering::Less,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
}

/// A version range: each bound optional, inclusive or exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionRange {
    /// Lower bound and whether it is included.
    pub min: Option<(String, bool)>,
    /// Upper bound and whether it is included.
    pub max: Option<(String, bool)>,
}

impl VersionRange {
    /// Every version.
    pub fn any() -> Self {
        Self::default()
    }
    /// Versions strictly below `v` (the usual "fixed in v" advisory).
    pub fn below(v: impl Into<String>) -> Self {
        Self {
            min: None,
            max: Some((v.into(), false)),
        }
    }
    /// Exactly `v` (in this order: `1.02` does not equal `1.2`).
    pub fn exactly(v: impl Into<String>) -> Self {
        let v = v.into();
        Self {
            min: Some((v.clone(), true)),
            max: Some((v, true)),
        }
    }
    /// `min <= v < max`.
    pub fn between(min: impl Into<String>, max: impl Into<String>) -> Self {
        Self {
            min: Some((min.into(), true)),
            max: Some((max.into(), false)),
        }
    }
    /// Whether the range is unbounded on both sides.
    pub fn is_any(&self) -> bool {
        self.min.is_none() && self.max.is_none()
    }
    /// Whether `v` lies in the range.
    pub fn contains(&self, v: &str) -> bool {
        let lo = self
            .min
            .as_ref()
            .is_none_or(|(m, incl)| match compare(v, m) {
                Ordering::Greater => true,
                Ordering::Equal => *incl,
                Ordering::Less => false,
            });
        let hi = self
            .max
            .as_ref()
            .is_none_or(|(m, incl)| match compare(v, m) {
                Ordering::Less => true,
                Ordering::Equal => *incl,
                Ordering::Greater => false,
            });
        lo && hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn numeric_segments_compare_as_numbers() {
        assert_eq!(compare("1.2.10", "1.2.9"), Greater);
        assert_eq!(compare("2.0", "10.0"), Less);
        assert_eq!(compare("1.10", "1.9"), Greater);
        assert_eq!(compare("99999999999999999999999.1", "2.1"), Greater);
    }

    #[test]
    fn prefix_and_letters() {
        assert_eq!(compare("1.2", "1.2.1"), Less);
        assert_eq!(compare("1.0a", "1.0b"), Less);
        assert_eq!(compare("1.0RC1", "1.0rc2"), Less);
        assert_eq!(compare("1.0", "1.0rc1"), Less);
        assert_eq!(compare("1.a", "1.1"), Less);
        assert_eq!(compare("9.2p1-2+deb12u3", "9.2p1-2+deb12u2"), Greater);
        assert_eq!(compare("1:9.2", "1:10.0"), Less);
    }

    #[test]
    fn total_and_consistent_with_text_equality() {
        assert_eq!(compare("1.02", "1.2"), "1.02".cmp("1.2"));
        assert_ne!(compare("1.02", "1.2"), Equal);
        assert_eq!(compare("", ""), Equal);
        assert_eq!(compare("", "0"), Less);
        assert_eq!(compare("...", ""), "...".cmp(""));
        let mut v = vec!["1.10", "1.9", "1.9.1", "1.0rc1", "1.0", "0.9", "1.a"];
        v.sort_by(|a, b| compare(a, b));
        assert_eq!(v, ["0.9", "1.a", "1.0", "1.0rc1", "1.9", "1.9.1", "1.10"]);
    }

    #[test]
    fn ranges() {
        let r = VersionRange::below("3.134");
        assert!(r.contains("3.133.9"));
        assert!(!r.contains("3.134"));
        assert!(!r.contains("3.135"));
        let r = VersionRange::between("1.0", "2.0");
        assert!(
            r.contains("1.0") && r.contains("1.99") && !r.contains("2.0") && !r.contains("0.9")
        );
        assert!(VersionRange::exactly("1.2").contains("1.2"));
        assert!(!VersionRange::exactly("1.2").contains("1.2.0"));
        assert!(VersionRange::any().contains("anything"));
    }
}
