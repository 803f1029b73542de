#![doc = include_str!("../README.md")]

pub mod cbor;
mod error;
mod model;
pub mod registry;
mod validate;

pub use cbor::{Decoded, Mode, canonicalize};
pub use error::{
    ConvertError, CoseError, DecodeError, DecodeErrorKind, Deviation, DeviationKind,
    ValidationError, ValidationKind, XmlError,
};
pub use model::{
    Attributes, Code, ConciseSwidTag, Directory, Entity, Evidence, File, HashEntry, Label, Link,
    PathElements, Payload, Process, RawValue, Resource, ResourceCollection, SoftwareMeta, TagId,
    Text,
};
