#![doc = include_str!("../README.md")]

mod error;
mod reader;
mod registry;
mod text;
mod tlv;
mod vendor;
#[cfg(feature = "x509")]
pub mod x509;

pub use error::{DecodeError, DecodeErrorKind};
pub use reader::{Reader, put_u24};
pub use registry::{PaSubtype, PaType};
pub use text::Text;
pub use tlv::{NOSKIP, TLV_HEADER_LEN, Tlv, TlvHeader, TlvIter};
pub use vendor::VendorId;
