//! Connection states, retry reasons, IMV recommendations and evaluations, and how a TNCS
//! combines its IMVs' recommendations.

macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $( $(#[$vmeta:meta])* $var:ident = $val:expr, )* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum $name {
            $( $(#[$vmeta])* $var, )*
        }

        impl $name {
            /// The interface's numeric value.
            pub const fn code(self) -> u32 {
                match self {
                    $( Self::$var => $val, )*
                }
            }
        }

        impl TryFrom<u64> for $name {
            type Error = crate::TncError;

            fn try_from(v: u64) -> Result<Self, crate::TncError> {
                match v {
                    $( x if x == $val => Ok(Self::$var), )*
                    _ => Err(crate::TncError::InvalidParameter(concat!("unknown ", stringify!($name)))),
                }
            }
        }
    };
}

coded_enum!(
    /// `TNC_ConnectionState`.
    ConnectionState {
        /// CREATE (0): the connection exists; attributes (AR identities) can be read.
        Create = 0,
        /// HANDSHAKE (1): an assessment handshake starts.
        Handshake = 1,
        /// ACCESS_ALLOWED (2).
        AccessAllowed = 2,
        /// ACCESS_ISOLATED (3).
        AccessIsolated = 3,
        /// ACCESS_NONE (4).
        AccessNone = 4,
        /// DELETE (5): forget the connection ID.
        Delete = 5,
    }
);

coded_enum!(
    /// `TNC_RetryReason`: 0–3 for IMCs, 4–8 for IMVs.
    RetryReason {
        /// IMC: remediation complete (0).
        ImcRemediationComplete = 0,
        /// IMC: serious event (1).
        ImcSeriousEvent = 1,
        /// IMC: informational event (2).
        ImcInformationalEvent = 2,
        /// IMC: periodic (3).
        ImcPeriodic = 3,
        /// IMV: important policy change (4).
        ImvImportantPolicyChange = 4,
        /// IMV: minor policy change (5).
        ImvMinorPolicyChange = 5,
        /// IMV: serious event (6).
        ImvSeriousEvent = 6,
        /// IMV: minor event (7).
        ImvMinorEvent = 7,
        /// IMV: periodic (8).
        ImvPeriodic = 8,
    }
);

impl RetryReason {
    /// Whether an IMC may give this reason (0–3).
    pub const fn is_imc_reason(self) -> bool {
        self.code() <= 3
    }
}

coded_enum!(
    /// `TNC_IMV_Action_Recommendation`.
    ActionRecommendation {
        /// ALLOW (0).
        Allow = 0,
        /// NO_ACCESS (1).
        NoAccess = 1,
        /// ISOLATE (2).
        Isolate = 2,
        /// NO_RECOMMENDATION (3): also what an IMV that never recommended counts as.
        NoRecommendation = 3,
    }
);

coded_enum!(
    /// `TNC_IMV_Evaluation_Result`.
    EvaluationResult {
        /// COMPLIANT (0).
        Compliant = 0,
        /// NONCOMPLIANT_MINOR (1).
        NonCompliantMinor = 1,
        /// NONCOMPLIANT_MAJOR (2).
        NonCompliantMajor = 2,
        /// ERROR (3).
        Error = 3,
        /// DONT_KNOW (4).
        DontKnow = 4,
    }
);

impl ActionRecommendation {
    /// Restrictiveness for "worst wins": `None` for the neutral NO_RECOMMENDATION.
    const fn rank(self) -> Option<u8> {
        match self {
            Self::Allow => Some(0),
            Self::Isolate => Some(1),
            Self::NoAccess => Some(2),
            Self::NoRecommendation => None,
        }
    }

    /// The connection state this recommendation leads to (NO_RECOMMENDATION and NO_ACCESS
    /// both deny access).
    pub const fn connection_state(self) -> ConnectionState {
        match self {
            Self::Allow => ConnectionState::AccessAllowed,
            Self::Isolate => ConnectionState::AccessIsolated,
            Self::NoAccess | Self::NoRecommendation => ConnectionState::AccessNone,
        }
    }
}

impl EvaluationResult {
    /// Severity for "worst wins": `None` for the neutral DONT_KNOW.
    const fn rank(self) -> Option<u8> {
        match self {
            Self::Compliant => Some(0),
            Self::NonCompliantMinor => Some(1),
            Self::NonCompliantMajor => Some(2),
            Self::Error => Some(3),
            Self::DontKnow => None,
        }
    }
}

/// How a TNCS combines the recommendations of its IMVs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum RecommendationPolicy {
    /// The most restrictive wins (ALLOW < ISOLATE < NO_ACCESS; COMPLIANT < MINOR < MAJOR <
    /// ERROR); NO_RECOMMENDATION and DONT_KNOW are neutral. If every IMV is neutral, the result
    /// is NO_RECOMMENDATION / DONT_KNOW.
    #[default]
    MostRestrictive,
    /// All IMVs must agree; any disagreement gives NO_RECOMMENDATION / DONT_KNOW.
    Unanimous,
    /// The least restrictive wins.
    LeastRestrictive,
}

/// Combines `(recommendation, evaluation)` pairs under `policy`. An empty input (no IMVs)
/// gives NO_RECOMMENDATION / DONT_KNOW.
///
/// ```
/// use tnc_if::{combine, ActionRecommendation as A, EvaluationResult as E, RecommendationPolicy};
/// let votes = [(A::Allow, E::Compliant), (A::Isolate, E::NonCompliantMinor), (A::NoRecommendation, E::DontKnow)];
/// assert_eq!(combine(RecommendationPolicy::MostRestrictive, votes), (A::Isolate, E::NonCompliantMinor));
/// assert_eq!(combine(RecommendationPolicy::LeastRestrictive, votes), (A::Allow, E::Compliant));
/// assert_eq!(combine(RecommendationPolicy::Unanimous, votes), (A::NoRecommendation, E::DontKnow));
/// ```
pub fn combine(
    policy: RecommendationPolicy,
    votes: impl IntoIterator<Item = (ActionRecommendation, EvaluationResult)>,
) -> (ActionRecommendation, EvaluationResult) {
    let mut rec: Option<ActionRecommendation> = None;
    let mut eval: Option<EvaluationResult> = None;
    let mut rec_conflict = false;
    let mut eval_conflict = false;
    for (r, e) in votes {
        match policy {
            RecommendationPolicy::MostRestrictive | RecommendationPolicy::LeastRestrictive => {
                let worst = policy == RecommendationPolicy::MostRestrictive;
                if let Some(rr) = r.rank() {
                    let better = rec
                        .and_then(ActionRecommendation::rank)
                        .is_none_or(|cur| if worst { rr > cur } else { rr < cur });
                    if better {
                        rec = Some(r);
                    }
                }
                if let Some(er) = e.rank() {
                    let better = eval
                        .and_then(EvaluationResult::rank)
                        .is_none_or(|cur| if worst { er > cur } else { er < cur });
                    if better {
                        eval = Some(e);
                    }
                }
            }
            RecommendationPolicy::Unanimous => {
                if rec.is_some_and(|x| x != r) {
                    rec_conflict = true;
                }
                rec = Some(r);
                if eval.is_some_and(|x| x != e) {
                    eval_conflict = true;
                }
                eval = Some(e);
            }
        }
    }
    let rec = if rec_conflict { None } else { rec };
    let eval = if eval_conflict { None } else { eval };
    (
        rec.unwrap_or(ActionRecommendation::NoRecommendation),
        eval.unwrap_or(EvaluationResult::DontKnow),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActionRecommendation as A;
    use EvaluationResult as E;

    #[test]
    fn numeric_values() {
        assert_eq!(ConnectionState::Delete.code(), 5);
        assert_eq!(
            ConnectionState::try_from(3u64),
            Ok(ConnectionState::AccessIsolated)
        );
        assert!(ConnectionState::try_from(6u64).is_err());
        assert_eq!(RetryReason::ImvPeriodic.code(), 8);
        assert!(RetryReason::ImcPeriodic.is_imc_reason());
        assert!(!RetryReason::ImvMinorEvent.is_imc_reason());
        assert_eq!(A::Isolate.code(), 2);
        assert_eq!(E::DontKnow.code(), 4);
    }

    #[test]
    fn combination() {
        use RecommendationPolicy::*;
        assert_eq!(
            combine(MostRestrictive, []),
            (A::NoRecommendation, E::DontKnow)
        );
        assert_eq!(
            combine(MostRestrictive, [(A::NoRecommendation, E::DontKnow)]),
            (A::NoRecommendation, E::DontKnow)
        );
        assert_eq!(
            combine(
                MostRestrictive,
                [
                    (A::Allow, E::Compliant),
                    (A::NoAccess, E::Error),
                    (A::Isolate, E::NonCompliantMajor)
                ]
            ),
            (A::NoAccess, E::Error)
        );
        // Neutral votes never win over a real one.
        assert_eq!(
            combine(
                LeastRestrictive,
                [
                    (A::NoRecommendation, E::DontKnow),
                    (A::Isolate, E::NonCompliantMinor)
                ]
            ),
            (A::Isolate, E::NonCompliantMinor)
        );
        assert_eq!(
            combine(
                Unanimous,
                [(A::Allow, E::Compliant), (A::Allow, E::Compliant)]
            ),
            (A::Allow, E::Compliant)
        );
        assert_eq!(
            combine(
                Unanimous,
                [(A::Allow, E::Compliant), (A::Allow, E::NonCompliantMinor)]
            ),
            (A::Allow, E::DontKnow)
        );
        assert_eq!(
            A::NoRecommendation.connection_state(),
            ConnectionState::AccessNone
        );
        assert_eq!(
            A::Isolate.connection_state(),
            ConnectionState::AccessIsolated
        );
    }
}
