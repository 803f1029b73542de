//! SWID XML emitter.

use super::{Element, Resource, ResourceTree, SoftwareIdentity};

fn open(out: &mut String, el: &Element<'_>) {
    out.push('<');
    out.push_str(&el.qname);
    for a in &el.attrs {
        out.push(' ');
        out.push_str(&a.qname);
        out.push_str("=\"");
        escape_attr(out, &a.value);
        out.push('"');
    }
}

/// Escape for a double-quoted attribute value: `&`, `<`, `"` and the whitespace characters
/// that attribute-value normalisation would otherwise turn into spaces.
fn escape_attr(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

fn close(out: &mut String, el: &Element<'_>) {
    out.push_str("</");
    out.push_str(&el.qname);
    out.push('>');
}

fn empty(out: &mut String, el: &Element<'_>) {
    open(out, el);
    out.push_str("/>");
}

pub(crate) fn element_xml(el: &Element<'_>) -> String {
    let mut s = String::new();
    empty(&mut s, el);
    s
}

fn items(out: &mut String, items: &[Resource<'_>]) {
    for it in items {
        match it {
            Resource::Directory(el, kids) => {
                if kids.is_empty() {
                    empty(out, el);
                } else {
                    open(out, el);
                    out.push('>');
                    self::items(out, kids);
                    close(out, el);
                }
            }
            Resource::File(el) | Resource::Process(el) | Resource::Resource(el) => empty(out, el),
            Resource::Other(raw) => out.push_str(raw),
        }
    }
}

fn tree(out: &mut String, t: &ResourceTree<'_>) {
    if t.items.is_empty() {
        empty(out, &t.element);
    } else {
        open(out, &t.element);
        out.push('>');
        items(out, &t.items);
        close(out, &t.element);
    }
}

pub(crate) fn tree_xml(t: &ResourceTree<'_>) -> String {
    let mut s = String::new();
    tree(&mut s, t);
    s
}

impl SoftwareIdentity<'_> {
    /// Serialise as a UTF-8 XML document (no indentation).
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(1024);
        out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
        open(&mut out, &self.element);
        out.push('>');
        for e in self.entities.iter().chain(&self.links).chain(&self.metas) {
            empty(&mut out, e);
        }
        if let Some(p) = &self.payload {
            tree(&mut out, p);
        }
        if let Some(e) = &self.evidence {
            tree(&mut out, e);
        }
        for raw in &self.other {
            out.push_str(raw);
        }
        close(&mut out, &self.element);
        out
    }
}
