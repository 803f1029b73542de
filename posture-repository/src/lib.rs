#![doc = include_str!("../README.md")]

pub mod chain;
mod error;
pub mod guidance;
pub mod migrations;
mod model;
mod repository;
mod sqlite;
pub mod tags;
pub mod version;

pub use chain::ChainHead;
pub use error::{Error, Result};
pub use guidance::EvaluationStore;
pub use model::*;
pub use repository::Repository;
pub use sqlite::{Durability, Limits, SqliteConfig, SqliteRepository};
