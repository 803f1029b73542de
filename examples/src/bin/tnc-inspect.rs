//! tnc-inspect (work in progress).
fn main() {}
