//! The values a number of a plan may take (docs/MODEL.md §1), in one place: the
//! validation of a plan, the range of a frontier and the probes and relaxations of
//! explanations all read them from here.

/// Largest magnitude accepted for any number; beyond it the program's coefficients
/// lose all meaningful precision.
pub const MAX_MAGNITUDE: f64 = 1e15;

/// Smallest magnitude accepted for a number other than 0. Nothing in a plan is
/// meaningful below it, and tinier coefficients (`revenue_per_unit: 1e-309`, found
/// by fuzzing) overflow the solver's pivot arithmetic: microlp asserts, or a plan
/// that is fine at face value fails.
pub const MIN_MAGNITUDE: f64 = 1e-15;

/// Highest margin floor a probe or sweep may set: a margin is below 1 (revenue is
/// positive and spend is never negative), and a floor of exactly 1 leaves nothing
/// to spend.
const HIGHEST_MARGIN: f64 = 1.0 - 1e-9;

/// What a number must satisfy besides being finite, at most [`MAX_MAGNITUDE`] and 0
/// or at least [`MIN_MAGNITUDE`] in magnitude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// Any such number (a revenue target, a link's right-hand side).
    Any,
    /// At least 0 (money, units, an ROI floor).
    NonNegative,
    /// Above 0 (a unit cost, a segment's width).
    Positive,
    /// In [0, 1] (a share, a seasonality or ramp factor).
    Fraction,
    /// In [-1, 1) (a margin floor).
    Margin,
}

impl Domain {
    /// Whether `x` is allowed.
    pub fn allows(self, x: f64) -> bool {
        x.is_finite()
            && x.abs() <= MAX_MAGNITUDE
            && (x == 0.0 || x.abs() >= MIN_MAGNITUDE)
            && match self {
                Domain::Any => true,
                Domain::NonNegative => x >= 0.0,
                Domain::Positive => x > 0.0,
                Domain::Fraction => (0.0..=1.0).contains(&x),
                Domain::Margin => (-1.0..1.0).contains(&x),
            }
    }

    /// What `allows` asks beyond the magnitudes, in words.
    pub fn requirement(self) -> &'static str {
        match self {
            Domain::Any => "must be a finite number",
            Domain::NonNegative => "must be >= 0",
            Domain::Positive => "must be > 0",
            Domain::Fraction => "must be in [0, 1]",
            Domain::Margin => "must be in [-1, 1)",
        }
    }

    /// The lowest and highest value a bound of this domain may be moved to (a
    /// price's probe, a relaxation, a frontier's range).
    pub fn range(self) -> (f64, f64) {
        match self {
            Domain::Any => (-MAX_MAGNITUDE, MAX_MAGNITUDE),
            Domain::NonNegative => (0.0, MAX_MAGNITUDE),
            Domain::Positive => (MIN_MAGNITUDE, MAX_MAGNITUDE),
            Domain::Fraction => (0.0, 1.0),
            Domain::Margin => (-1.0, HIGHEST_MARGIN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_hold_only_allowed_values() {
        for domain in [
            Domain::Any,
            Domain::NonNegative,
            Domain::Positive,
            Domain::Fraction,
            Domain::Margin,
        ] {
            let (lowest, highest) = domain.range();
            assert!(
                domain.allows(lowest) && domain.allows(highest),
                "{domain:?}"
            );
        }
        assert!(!Domain::Margin.allows(1.0));
        assert!(!Domain::Positive.allows(0.0));
        assert!(!Domain::Any.allows(1e-300));
        assert!(!Domain::NonNegative.allows(2e15));
        assert!(Domain::Any.allows(0.0));
    }
}
