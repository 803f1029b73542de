//! The evaluator's errors.

use crate::guidance::GuidanceError;

/// Everything an [`Evaluator`](crate::Evaluator) call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The repository failed.
    #[error("repository: {0}")]
    Repository(#[from] posture_repository::Error),
    /// A rule given to the evaluator was refused.
    #[error(transparent)]
    Guidance(#[from] GuidanceError),
    /// A rule stored in the repository cannot be read (guidance revision named).
    #[error("stored guidance revision {revision} is unreadable: {source}")]
    StoredRule {
        /// The revision.
        revision: i64,
        /// Why.
        source: GuidanceError,
    },
    /// A stored value cannot be read back.
    #[error("stored {0} is unreadable")]
    Corrupt(&'static str),
    /// No rule with this id is in force.
    #[error("no guidance rule {0:?}")]
    UnknownRule(String),
    /// Guidance kept changing (other processes storing rules) while this call evaluated.
    #[error("guidance kept changing during the evaluation")]
    StaleGuidance,
    /// Other writers kept storing evaluations of the endpoint while this one was computed.
    #[error("evaluation of {0:?} kept conflicting with other writers")]
    Conflict(String),
}
