//! Reading what a tag says (name, version, creator, identifier) with the `coswid` crate.

use coswid::{ConciseSwidTag, Mode, swid::SoftwareIdentity};

use crate::model::SoftwareMeta;

/// What a readable tag says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedTag {
    /// The SWIMA software identifier the tag gives itself (`regid__tagId`).
    pub software_identifier: Option<String>,
    /// Name, version, vendor, regid.
    pub meta: SoftwareMeta,
}

/// Reads a SWID XML (ISO/IEC 19770-2) or CoSWID (RFC 9393, leniently; tagged or not) tag.
/// `None` when the bytes are neither.
///
/// ```
/// let xml = br#"<SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
///   name="adduser" version="3.134" tagId="Debian_12-adduser-3.134">
///   <Entity name="strongSwan Project" regid="strongswan.org" role="tagCreator"/>
/// </SoftwareIdentity>"#;
/// let t = posture_repository::tags::parse(xml).unwrap();
/// assert_eq!(t.software_identifier.as_deref(), Some("strongswan.org__Debian_12-adduser-3.134"));
/// assert_eq!(t.meta.version.as_deref(), Some("3.134"));
/// assert_eq!(t.meta.vendor.as_deref(), Some("strongSwan Project"));
/// ```
pub fn parse(content: &[u8]) -> Option<ParsedTag> {
    let first = content.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first == b'<' || content.starts_with(b"\xEF\xBB\xBF") {
        parse_xml(content)
    } else {
        parse_cbor(content)
    }
}

fn parse_xml(content: &[u8]) -> Option<ParsedTag> {
    let t = SoftwareIdentity::parse(content).ok()?;
    let creator = t.entities.iter().find(|e| {
        e.attr("role")
            .is_some_and(|r| r.split_ascii_whitespace().any(|r| r == "tagCreator"))
    });
    Some(ParsedTag {
        software_identifier: t.software_identifier(),
        meta: SoftwareMeta {
            name: t.name().map(str::to_owned),
            version: t.element.attr("version").map(str::to_owned),
            vendor: creator.and_then(|e| e.attr("name")).map(str::to_owned),
            regid: creator.and_then(|e| e.attr("regid")).map(str::to_owned),
        },
    })
}

fn parse_cbor(content: &[u8]) -> Option<ParsedTag> {
    let d = ConciseSwidTag::decode_with(content, Mode::Lenient).ok()?;
    let tag = d.tag;
    let creator = tag.tag_creator();
    Some(ParsedTag {
        software_identifier: tag.software_identifier(),
        meta: SoftwareMeta {
            name: Some(tag.software_name.to_string()),
            version: tag.software_version.as_deref().map(str::to_owned),
            vendor: creator
                .and_then(|e| e.entity_name.as_deref())
                .map(str::to_owned),
            regid: creator.and_then(|e| e.reg_id.as_deref()).map(str::to_owned),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../coswid/tests/data/coswid/dpkg-min/"
    );

    #[test]
    fn reads_a_real_coswid_tag() {
        let b = std::fs::read(format!("{DIR}Debian_12-x86_64-adduser-3.134.cbor")).unwrap();
        let t = parse(&b).unwrap();
        assert_eq!(
            t.software_identifier.as_deref(),
            Some("strongswan.org__Debian_12-x86_64-adduser-3.134")
        );
        assert_eq!(t.meta.name.as_deref(), Some("adduser"));
        assert_eq!(t.meta.version.as_deref(), Some("3.134"));
        assert_eq!(t.meta.regid.as_deref(), Some("strongswan.org"));
        assert!(t.meta.vendor.is_some());
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"   "), None);
        assert_eq!(parse(b"<not-xml"), None);
        assert_eq!(parse(&[0xff, 0x00, 0x13]), None);
    }
}
