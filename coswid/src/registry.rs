//! RFC 9393 §6 registries: map keys, and the integer indexes of version-scheme, role, rel,
//! ownership and use with their SWID XML names; the named-information hash algorithm ids.

/// Integer map keys (RFC 9393 §6.1 "CoSWID Items" registry).
#[allow(missing_docs)] // names are the CDDL names
pub mod key {
    pub const TAG_ID: i64 = 0;
    pub const SOFTWARE_NAME: i64 = 1;
    pub const ENTITY: i64 = 2;
    pub const EVIDENCE: i64 = 3;
    pub const LINK: i64 = 4;
    pub const SOFTWARE_META: i64 = 5;
    pub const PAYLOAD: i64 = 6;
    pub const HASH: i64 = 7;
    pub const CORPUS: i64 = 8;
    pub const PATCH: i64 = 9;
    pub const MEDIA: i64 = 10;
    pub const SUPPLEMENTAL: i64 = 11;
    pub const TAG_VERSION: i64 = 12;
    pub const SOFTWARE_VERSION: i64 = 13;
    pub const VERSION_SCHEME: i64 = 14;
    pub const LANG: i64 = 15;
    pub const DIRECTORY: i64 = 16;
    pub const FILE: i64 = 17;
    pub const PROCESS: i64 = 18;
    pub const RESOURCE: i64 = 19;
    pub const SIZE: i64 = 20;
    pub const FILE_VERSION: i64 = 21;
    pub const KEY: i64 = 22;
    pub const LOCATION: i64 = 23;
    pub const FS_NAME: i64 = 24;
    pub const ROOT: i64 = 25;
    pub const PATH_ELEMENTS: i64 = 26;
    pub const PROCESS_NAME: i64 = 27;
    pub const PID: i64 = 28;
    pub const TYPE: i64 = 29;
    pub const ENTITY_NAME: i64 = 31;
    pub const REG_ID: i64 = 32;
    pub const ROLE: i64 = 33;
    pub const THUMBPRINT: i64 = 34;
    pub const DATE: i64 = 35;
    pub const DEVICE_ID: i64 = 36;
    pub const ARTIFACT: i64 = 37;
    pub const HREF: i64 = 38;
    pub const OWNERSHIP: i64 = 39;
    pub const REL: i64 = 40;
    pub const MEDIA_TYPE: i64 = 41;
    pub const USE: i64 = 42;
    pub const ACTIVATION_STATUS: i64 = 43;
    pub const CHANNEL_TYPE: i64 = 44;
    pub const COLLOQUIAL_VERSION: i64 = 45;
    pub const DESCRIPTION: i64 = 46;
    pub const EDITION: i64 = 47;
    pub const ENTITLEMENT_DATA_REQUIRED: i64 = 48;
    pub const ENTITLEMENT_KEY: i64 = 49;
    pub const GENERATOR: i64 = 50;
    pub const PERSISTENT_ID: i64 = 51;
    pub const PRODUCT: i64 = 52;
    pub const PRODUCT_FAMILY: i64 = 53;
    pub const REVISION: i64 = 54;
    pub const SUMMARY: i64 = 55;
    pub const UNSPSC_CODE: i64 = 56;
    pub const UNSPSC_VERSION: i64 = 57;
}

/// Role indexes (RFC 9393 §4.2).
#[allow(missing_docs)]
pub mod role {
    pub const TAG_CREATOR: i64 = 1;
    pub const SOFTWARE_CREATOR: i64 = 2;
    pub const AGGREGATOR: i64 = 3;
    pub const DISTRIBUTOR: i64 = 4;
    pub const LICENSOR: i64 = 5;
    pub const MAINTAINER: i64 = 6;
}

/// Version-scheme indexes (RFC 9393 §4.1).
#[allow(missing_docs)]
pub mod version_scheme {
    pub const MULTIPARTNUMERIC: i64 = 1;
    pub const MULTIPARTNUMERIC_SUFFIX: i64 = 2;
    pub const ALPHANUMERIC: i64 = 3;
    pub const DECIMAL: i64 = 4;
    pub const SEMVER: i64 = 16384;
}

/// Link rel indexes (RFC 9393 §4.4).
#[allow(missing_docs)]
pub mod rel {
    pub const ANCESTOR: i64 = 1;
    pub const COMPONENT: i64 = 2;
    pub const FEATURE: i64 = 3;
    pub const INSTALLATIONMEDIA: i64 = 4;
    pub const PACKAGEINSTALLER: i64 = 5;
    pub const PARENT: i64 = 6;
    pub const PATCHES: i64 = 7;
    pub const REQUIRES: i64 = 8;
    pub const SEE_ALSO: i64 = 9;
    pub const SUPERSEDES: i64 = 10;
    pub const SUPPLEMENTAL: i64 = 11;
}

/// Hash algorithm ids (IANA Named Information Hash Algorithm Registry).
#[allow(missing_docs)]
pub mod hash_alg {
    pub const SHA_256: i64 = 1;
    pub const SHA_384: i64 = 7;
    pub const SHA_512: i64 = 8;
}

/// Which registry a [`crate::Code`] value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// version-scheme (§4.1).
    VersionScheme,
    /// role (§4.2).
    Role,
    /// ownership (§4.3).
    Ownership,
    /// rel (§4.4).
    Rel,
    /// use (§4.5).
    Use,
}

const VERSION_SCHEMES: &[(i64, &str)] = &[
    (1, "multipartnumeric"),
    (2, "multipartnumeric+suffix"),
    (3, "alphanumeric"),
    (4, "decimal"),
    (16384, "semver"),
];
const ROLES: &[(i64, &str)] = &[
    (1, "tagCreator"),
    (2, "softwareCreator"),
    (3, "aggregator"),
    (4, "distributor"),
    (5, "licensor"),
    (6, "maintainer"),
];
const OWNERSHIPS: &[(i64, &str)] = &[(1, "abandon"), (2, "private"), (3, "shared")];
const RELS: &[(i64, &str)] = &[
    (1, "ancestor"),
    (2, "component"),
    (3, "feature"),
    (4, "installationmedia"),
    (5, "packageinstaller"),
    (6, "parent"),
    (7, "patches"),
    (8, "requires"),
    (9, "see-also"),
    (10, "supersedes"),
    (11, "supplemental"),
];
const USES: &[(i64, &str)] = &[(1, "optional"), (2, "required"), (3, "recommended")];

fn table(kind: CodeKind) -> &'static [(i64, &'static str)] {
    match kind {
        CodeKind::VersionScheme => VERSION_SCHEMES,
        CodeKind::Role => ROLES,
        CodeKind::Ownership => OWNERSHIPS,
        CodeKind::Rel => RELS,
        CodeKind::Use => USES,
    }
}

/// The SWID XML / RFC 9393 name of a registered index (`role 1` -> `"tagCreator"`).
pub fn code_name(kind: CodeKind, index: i64) -> Option<&'static str> {
    table(kind)
        .iter()
        .find(|(i, _)| *i == index)
        .map(|(_, n)| *n)
}

/// The registered index of a SWID XML name (`"tagCreator"` -> 1). Also accepts the RFC 9393
/// CDDL spellings (`tag-creator`, `multipartnumeric-suffix`, `see-also`).
pub fn code_index(kind: CodeKind, name: &str) -> Option<i64> {
    if let Some((i, _)) = table(kind).iter().find(|(_, n)| *n == name) {
        return Some(*i);
    }
    let alias = match (kind, name) {
        (CodeKind::Role, "tag-creator") => 1,
        (CodeKind::Role, "software-creator") => 2,
        (CodeKind::VersionScheme, "multipartnumeric-suffix") => 2,
        (CodeKind::Rel, "seeAlso") => 9,
        _ => return None,
    };
    Some(alias)
}

/// Name of a named-information hash algorithm id.
pub fn hash_alg_name(id: i64) -> Option<&'static str> {
    Some(match id {
        1 => "sha-256",
        2 => "sha-256-128",
        3 => "sha-256-120",
        4 => "sha-256-96",
        5 => "sha-256-64",
        6 => "sha-256-32",
        7 => "sha-384",
        8 => "sha-512",
        9 => "sha3-224",
        10 => "sha3-256",
        11 => "sha3-384",
        12 => "sha3-512",
        _ => return None,
    })
}

/// Id of a named-information hash algorithm name.
pub fn hash_alg_id(name: &str) -> Option<i64> {
    (1..=12).find(|i| hash_alg_name(*i) == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in [
            CodeKind::VersionScheme,
            CodeKind::Role,
            CodeKind::Ownership,
            CodeKind::Rel,
            CodeKind::Use,
        ] {
            for (i, n) in table(kind) {
                assert_eq!(code_index(kind, n), Some(*i));
                assert_eq!(code_name(kind, *i), Some(*n));
            }
        }
        assert_eq!(hash_alg_id("sha-512"), Some(8));
    }
}
