//! The layers of `tnc-inspect`: each turns one unit of bytes into a JSON value whose field
//! names are the RFC field names in snake_case; nested payloads are decoded by the next layer.
//! Every function takes the absolute offset of its input's first byte so errors name the byte
//! of the file the user gave.

pub mod pa_tnc;
pub mod pb_tnc;
pub mod pt_tls;
pub mod swima;
