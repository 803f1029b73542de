#![doc = include_str!("../README.md")]

mod common;
pub mod os;
pub mod swima;

pub use common::Verdict;
