//! Tags: stored once, the "which tags are missing" query, trusted imports and their protection.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "common/fixture.rs"]
mod fixture;

use fixture::*;
use posture_repository::*;

const COSWID: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../coswid/tests/data/coswid/dpkg-min/"
);
const SWID: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../coswid/tests/data/swid-xml/dpkg-min/"
);

fn reported(id: &str, content: Vec<u8>) -> ReportedTag {
    ReportedTag {
        software_identifier: id.into(),
        data_model: DataModel::SWID_2015,
        content,
    }
}

fn tags_are_stored_once_and_missing_ones_are_named(b: Backend) {
    let repo = b.open();
    connect(&repo, "ep1", 1);
    connect(&repo, "ep2", 1);
    let t = swid("zsh", "5.9", "Debian", "debian.org", "zsh-5.9");
    assert_eq!(
        repo.store_tags(
            "ep1",
            &[reported("debian.org__zsh-5.9", t.clone())],
            UnixTime(5)
        )
        .unwrap(),
        [TagOutcome::Stored(TagFlags::default())]
    );
    assert_eq!(
        repo.store_tags(
            "ep2",
            &[reported("debian.org__zsh-5.9", t.clone())],
            UnixTime(6)
        )
        .unwrap(),
        [TagOutcome::AlreadyHeld]
    );
    let held = repo.tags("debian.org__zsh-5.9").unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].sha256, fingerprint(&t));
    assert_eq!(held[0].reported_by.as_deref(), Some("ep1"));
    assert_eq!(held[0].meta.version.as_deref(), Some("5.9"));
    assert_eq!(
        repo.tag_content("debian.org__zsh-5.9", &held[0].sha256)
            .unwrap(),
        Some(t)
    );
    assert_eq!(
        repo.tag_content("debian.org__zsh-5.9", &[0; 32]).unwrap(),
        None
    );

    let ask: Vec<String> = ["debian.org__zsh-5.9", "x__1", "y__2", "x__1"]
        .map(String::from)
        .into();
    assert_eq!(repo.missing_tags(&ask).unwrap(), ["x__1", "y__2"]);
    let small = b.limited(Limits {
        max_lookup: 3,
        ..Limits::default()
    });
    assert!(matches!(
        small.missing_tags(&ask),
        Err(Error::TooLarge { .. })
    ));
}

fn reported_tags_that_disagree_are_flagged(b: Backend) {
    let repo = b.open();
    connect(&repo, "ep", 1);
    let out = repo
        .store_tags(
            "ep",
            &[
                reported(
                    "debian.org__a-1",
                    swid("a", "1", "Debian", "debian.org", "a-1"),
                ),
                reported(
                    "debian.org__a-1",
                    swid("a", "1-evil", "Debian", "debian.org", "a-1"),
                ),
                reported("debian.org__b-1", b"not a tag".to_vec()),
                reported(
                    "debian.org__c-1",
                    swid("c", "1", "Debian", "debian.org", "other-id"),
                ),
            ],
            UnixTime(2),
        )
        .unwrap();
    assert_eq!(
        out,
        [
            TagOutcome::Stored(TagFlags::default()),
            TagOutcome::Stored(TagFlags::DIFFERS_FROM_REPORTED),
            TagOutcome::Stored(TagFlags::UNREADABLE),
            TagOutcome::Stored(TagFlags::IDENTIFIER_MISMATCH),
        ]
    );
    // The first clean tag gave the software its metadata; the second did not change it.
    connect(&repo, "ep", 3);
    repo.apply_inventory("ep", &inventory(1, 0, 3, vec![rec("debian.org__a-1", 1)]))
        .unwrap();
    assert_eq!(
        repo.installed("ep", ALL).unwrap()[0]
            .meta
            .version
            .as_deref(),
        Some("1")
    );
    assert_eq!(repo.flagged_tags(ALL).unwrap().len(), 3);
}

fn copy_dir(from: &str, to: &std::path::Path, n: usize, ext: &str) -> Vec<std::path::PathBuf> {
    let mut names: Vec<_> = std::fs::read_dir(from)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names
        .into_iter()
        .take(n)
        .map(|p| {
            let dst = to.join(p.file_stem().unwrap()).with_extension(ext);
            std::fs::copy(&p, &dst).unwrap();
            dst
        })
        .collect()
}

fn trusted_import_from_a_folder_of_real_swid_and_coswid_tags(b: Backend) {
    let dir = TempDir::new("import");
    copy_dir(SWID, dir.path(), 5, "swidtag");
    let cbor = copy_dir(COSWID, dir.path(), 8, "coswid");
    std::fs::write(dir.path().join("broken.swidtag"), b"<SoftwareIdentity").unwrap();
    std::fs::write(dir.path().join("ignored.txt"), b"not a tag").unwrap();
    let repo = b.open();
    let r = repo.import_tag_dir(dir.path(), UnixTime(50)).unwrap();
    // 5 XML + 8 CBOR, of which the first 5 packages are the same software in both encodings
    // (different content: stored side by side, both trusted).
    assert_eq!((r.imported, r.unchanged), (13, 0));
    assert_eq!(r.rejected.len(), 1);
    assert!(r.rejected[0].0.ends_with("broken.swidtag"));
    let again = repo.import_tag_dir(dir.path(), UnixTime(60)).unwrap();
    assert_eq!((again.imported, again.unchanged), (0, 13));

    let adduser = repo
        .tags("strongswan.org__Debian_12-x86_64-adduser-3.134")
        .unwrap();
    assert_eq!(adduser.len(), 2);
    assert!(
        adduser
            .iter()
            .all(|t| t.trusted && t.flags.is_empty() && t.reported_by.is_none())
    );
    assert_eq!(adduser[0].meta.name.as_deref(), Some("adduser"));
    assert_eq!(
        repo.tags_by_vendor("strongswan.org", ALL).unwrap().len(),
        13
    );

    // An oversized file is refused without being read.
    let tiny = b.limited(Limits {
        max_tag_bytes: 16,
        ..Limits::default()
    });
    let r = tiny.import_tag_dir(dir.path(), UnixTime(1)).unwrap();
    assert_eq!((r.imported, r.rejected.len()), (0, 14));
    assert!(cbor.iter().all(|p| {
        r.rejected
            .iter()
            .any(|(n, why)| n == &p.display().to_string() && why.contains("limit"))
    }));
}

fn an_endpoint_never_overwrites_a_trusted_tag(b: Backend) {
    let repo = b.open();
    connect(&repo, "ep", 1);
    let id = "vendor.example__tool-2.0";
    let trusted = swid("tool", "2.0", "Vendor", "vendor.example", "tool-2.0");
    let r = repo
        .import_tags(
            &mut std::iter::once(("tool.swidtag".to_string(), trusted.clone())),
            UnixTime(1),
        )
        .unwrap();
    assert_eq!(r.imported, 1);
    assert_eq!(r.software_identifiers, [id]);
    // The endpoint claims the same identifier with other content (a forged version).
    let forged = swid("tool", "9.9", "Vendor", "vendor.example", "tool-2.0");
    let out = repo
        .apply_inventory(
            "ep",
            &inventory(1, 0, 2, vec![with_tag(rec(id, 1), forged.clone())]),
        )
        .unwrap();
    assert_eq!(out.tags_stored, 1);
    let tags = repo.tags(id).unwrap();
    assert_eq!(tags.len(), 2);
    assert!(tags[0].trusted && tags[0].flags.is_empty());
    assert_eq!(tags[0].sha256, fingerprint(&trusted));
    assert_eq!(
        repo.tag_content(id, &tags[0].sha256).unwrap(),
        Some(trusted.clone())
    );
    assert!(!tags[1].trusted);
    assert!(tags[1].flags.contains(TagFlags::CONFLICTS_WITH_TRUSTED));
    assert_eq!(
        repo.flagged_tags(ALL).unwrap()[0].sha256,
        fingerprint(&forged)
    );
    // Queries answer from the trusted tag.
    assert_eq!(
        repo.installed("ep", ALL).unwrap()[0]
            .meta
            .version
            .as_deref(),
        Some("2.0")
    );
    // The endpoint sending the trusted content itself changes nothing.
    assert_eq!(
        repo.store_tags("ep", &[reported(id, trusted)], UnixTime(3))
            .unwrap(),
        [TagOutcome::AlreadyHeld]
    );
}

fn importing_a_reference_later_flags_earlier_reports_and_takes_over_metadata(b: Backend) {
    let repo = b.open();
    connect(&repo, "ep", 1);
    let id = "vendor.example__lib-1";
    let reported_first = swid("lib", "1.0-modified", "Vendor", "vendor.example", "lib-1");
    repo.apply_inventory(
        "ep",
        &inventory(1, 0, 2, vec![with_tag(rec(id, 1), reported_first)]),
    )
    .unwrap();
    assert_eq!(
        repo.installed("ep", ALL).unwrap()[0]
            .meta
            .version
            .as_deref(),
        Some("1.0-modified")
    );
    let reference = swid("lib", "1.0", "Vendor", "vendor.example", "lib-1");
    repo.import_tags(
        &mut std::iter::once(("lib".to_string(), reference.clone())),
        UnixTime(3),
    )
    .unwrap();
    assert_eq!(
        repo.installed("ep", ALL).unwrap()[0]
            .meta
            .version
            .as_deref(),
        Some("1.0")
    );
    let tags = repo.tags(id).unwrap();
    assert!(tags[0].trusted);
    assert!(tags[1].flags.contains(TagFlags::CONFLICTS_WITH_TRUSTED));
    // Importing content an endpoint reported first makes that row trusted and unflagged.
    let other = "vendor.example__app-3";
    let same = swid("app", "3", "Vendor", "vendor.example", "app-3");
    repo.store_tags("ep", &[reported(other, same.clone())], UnixTime(4))
        .unwrap();
    let r = repo
        .import_tags(&mut std::iter::once(("app".to_string(), same)), UnixTime(5))
        .unwrap();
    assert_eq!(r.imported, 1);
    // Newly trusted: its metadata may have changed.
    assert_eq!(r.software_identifiers, [other]);
    let t = repo.tags(other).unwrap();
    assert_eq!(t.len(), 1);
    assert!(t[0].trusted && t[0].flags.is_empty());
    // Tags without an identifier are refused.
    let r = repo
        .import_tags(
            &mut std::iter::once(("x".to_string(), b"{}".to_vec())),
            UnixTime(6),
        )
        .unwrap();
    assert_eq!(r.rejected.len(), 1);
}

on_both!(
    tags_are_stored_once_and_missing_ones_are_named,
    reported_tags_that_disagree_are_flagged,
    trusted_import_from_a_folder_of_real_swid_and_coswid_tags,
    an_endpoint_never_overwrites_a_trusted_tag,
    importing_a_reference_later_flags_earlier_reports_and_takes_over_metadata,
);
