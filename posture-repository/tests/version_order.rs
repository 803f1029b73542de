//! The version order is a total order (so sorting and ranges are well defined).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::cmp::Ordering;

use posture_repository::version::{VersionRange, compare};
use proptest::prelude::*;

fn version() -> impl Strategy<Value = String> {
    // Digits (with leading zeros), letters of both cases, separators, and some non-ASCII.
    "[0-9a-cA-C.~+:_é-]{0,12}"
}

proptest! {
    #[test]
    fn antisymmetric_and_reflexive(a in version(), b in version()) {
        prop_assert_eq!(compare(&a, &a), Ordering::Equal);
        prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
        prop_assert_eq!(compare(&a, &b) == Ordering::Equal, a == b);
    }

    #[test]
    fn transitive(mut v in proptest::collection::vec(version(), 3)) {
        v.sort_by(|a, b| compare(a, b));
        prop_assert_ne!(compare(&v[0], &v[1]), Ordering::Greater);
        prop_assert_ne!(compare(&v[1], &v[2]), Ordering::Greater);
        prop_assert_ne!(compare(&v[0], &v[2]), Ordering::Greater);
    }

    #[test]
    fn ranges_agree_with_compare(v in version(), lo in version(), hi in version()) {
        let r = VersionRange::between(lo.clone(), hi.clone());
        let expect = compare(&v, &lo) != Ordering::Less && compare(&v, &hi) == Ordering::Less;
        prop_assert_eq!(r.contains(&v), expect);
    }
}
