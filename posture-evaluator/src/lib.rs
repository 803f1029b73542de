#![doc = include_str!("../README.md")]

mod engine;
mod error;
pub mod guidance;
mod index;
mod result;

pub use engine::{Evaluator, GuidanceUpdate, Publisher, Store};
pub use error::EvalError;
pub use guidance::{
    Condition, GuidanceError, Recommendation, Rule, Severity, SoftwareMatcher, VersionSpec,
    attributes,
};
pub use index::ActiveRule;
pub use result::{Evaluation, Evidence, Finding, Outcome, ResultChange};
