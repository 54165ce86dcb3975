//! How one stage solve ended, whichever engine ran it: the one type every engine
//! adapter returns, in its own file so the adapters need not import each other.

/// How one stage ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StageOutcome {
    /// Proven optimal values.
    Optimal(Vec<f64>),
    /// The time limit ran out with an integer-feasible incumbent and this proven
    /// relative gap.
    Feasible { values: Vec<f64>, gap: f64 },
    /// No values satisfy every row.
    Infeasible,
    /// The objective grows without bound.
    Unbounded,
    /// The time limit ran out before any values were found.
    TimedOut,
}

impl StageOutcome {
    /// The outcome's name, for logs.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            StageOutcome::Optimal(_) => "optimal",
            StageOutcome::Feasible { .. } => "feasible",
            StageOutcome::Infeasible => "infeasible",
            StageOutcome::Unbounded => "unbounded",
            StageOutcome::TimedOut => "timed out",
        }
    }
}
