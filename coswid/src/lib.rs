#![doc = include_str!("../README.md")]

pub mod cbor;
mod convert;
pub mod cose;
mod error;
mod model;
pub mod registry;
pub mod swid;
mod validate;

pub use cbor::{Decoded, Mode, canonicalize};
pub use error::{
    ConvertError, CoseError, DecodeError, DecodeErrorKind, Deviation, DeviationKind,
    ValidationError, ValidationKind, XmlError,
};
pub use model::{
    Attributes, Code, ConciseSwidTag, Directory, Entity, Evidence, File, FileExtra, HashEntry,
    Label, Link, PathElements, Payload, Process, RawValue, Resource, ResourceCollection,
    SoftwareMeta, TagId, Text,
};
