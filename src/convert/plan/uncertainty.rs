//! `Plan.uncertainty` (docs/MODEL.md §7): explicit outcomes or ranges checked with
//! their field paths, weights normalised, draws made.

use std::collections::HashMap;

use super::{quote, DriverIndex, Violations};
use crate::model::{self, Domain, Range};
use crate::pb;

/// Most outcomes of one plan: each is a row and a variable of the program when
/// the plan asks for a confidence.
pub const MAX_OUTCOMES: usize = 100_000;

/// Outcomes drawn from ranges when `sample_count` is unset.
pub const DEFAULT_SAMPLE_COUNT: usize = 1_000;

/// Checks `u` and resolves it into outcomes over `drivers`.
pub(super) fn uncertainty(
    u: &pb::Uncertainty,
    index: &DriverIndex,
    drivers: &[model::Driver],
    revenue_target: Option<f64>,
    v: &mut Violations,
) -> model::Uncertainty {
    let path = "uncertainty";
    let outcomes = match (u.samples.is_empty(), u.ranges.is_empty()) {
        (true, true) => {
            v.add(
                path,
                "give samples (explicit outcomes) or ranges to draw them from",
            );
            Vec::new()
        }
        (false, false) => {
            v.add(format!("{path}.ranges"), "give samples or ranges, not both");
            Vec::new()
        }
        (false, true) => samples(u, index, drivers.len(), v),
        (true, false) => ranges(u, index, drivers.len(), v),
    };
    let confidence = u.confidence;
    if let Some(q) = confidence {
        if v.number(format_args!("{path}.confidence"), q, Domain::Fraction)
            .is_some()
            && (q <= 0.0 || q >= 1.0)
        {
            v.add(
                format!("{path}.confidence"),
                format!("confidence must be in (0, 1), got {q}"),
            );
        }
        if revenue_target.is_none() {
            v.add(
                format!("{path}.confidence"),
                "confidence needs requirements.revenue_target: it is the share of outcomes \
                 in which the target must be met",
            );
        }
    }
    let mean_factors = (0..drivers.len())
        .map(|i| outcomes.iter().map(|o| o.weight * o.factors[i]).sum())
        .collect();
    model::Uncertainty {
        outcomes,
        mean_factors,
        confidence,
    }
}

/// Explicit outcomes: weights >= 0 (normalised; all 0 means equal), factors >= 0
/// on drivers of the plan.
fn samples(
    u: &pb::Uncertainty,
    index: &DriverIndex,
    drivers: usize,
    v: &mut Violations,
) -> Vec<model::Outcome> {
    let path = "uncertainty";
    if u.sample_count.is_some() {
        v.add(
            format!("{path}.sample_count"),
            "sample_count says how many outcomes to draw from ranges; samples are the outcomes",
        );
    }
    let mut outcomes: Vec<model::Outcome> = u
        .samples
        .iter()
        .enumerate()
        .map(|(s, sample)| {
            let at = format!("{path}.samples[{s}]");
            let weight = v
                .number(
                    format_args!("{at}.weight"),
                    sample.weight,
                    Domain::NonNegative,
                )
                .unwrap_or(0.0);
            let mut factors = vec![1.0; drivers];
            for (id, &factor) in &sample.revenue_scale {
                let field = format!("{at}.revenue_scale[{id}]");
                let driver = index.resolve(&field, id, v);
                let factor = v.number(&field, factor, Domain::NonNegative);
                if let (Some(i), Some(factor)) = (driver, factor) {
                    factors[i] = factor;
                }
            }
            model::Outcome { weight, factors }
        })
        .collect();
    let total: f64 = outcomes.iter().map(|o| o.weight).sum();
    let count = outcomes.len() as f64;
    for outcome in &mut outcomes {
        outcome.weight = if total > 0.0 {
            outcome.weight / total
        } else {
            1.0 / count
        };
    }
    outcomes
}

/// Triangular ranges: each driver once, `low` in [0, 1], `high >= 1`, drawn
/// `sample_count` times (1 to [`MAX_OUTCOMES`]) with the seed and correlation.
fn ranges(
    u: &pb::Uncertainty,
    index: &DriverIndex,
    drivers: usize,
    v: &mut Violations,
) -> Vec<model::Outcome> {
    let path = "uncertainty";
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut resolved = Vec::with_capacity(u.ranges.len());
    for (r, range) in u.ranges.iter().enumerate() {
        let at = format!("{path}.ranges[{r}]");
        let driver = index.resolve(&format!("{at}.driver_id"), &range.driver_id, v);
        if let Some(i) = driver {
            if let Some(first) = seen.insert(i, r) {
                v.add(
                    format!("{at}.driver_id"),
                    format!(
                        "driver {} has a range already ({path}.ranges[{first}])",
                        quote(&range.driver_id)
                    ),
                );
            }
        }
        let low = v.number(format_args!("{at}.low"), range.low, Domain::Fraction);
        let high = v.number(format_args!("{at}.high"), range.high, Domain::NonNegative);
        if high.is_some_and(|high| high < 1.0) {
            v.add(
                format!("{at}.high"),
                format!("high must be >= 1 (the mode is 1), got {}", range.high),
            );
        }
        if let (Some(driver), Some(low), Some(high)) = (driver, low, high) {
            resolved.push(Range { driver, low, high });
        }
    }
    let count = u
        .sample_count
        .map_or(DEFAULT_SAMPLE_COUNT, |count| count as usize);
    if count == 0 || count > MAX_OUTCOMES {
        v.add(
            format!("{path}.sample_count"),
            format!("sample_count must be 1 to {MAX_OUTCOMES}, got {count}"),
        );
    }
    let rho = v.number(
        format_args!("{path}.correlation"),
        u.correlation,
        Domain::Fraction,
    );
    if resolved.len() != u.ranges.len() || !(1..=MAX_OUTCOMES).contains(&count) {
        return Vec::new();
    }
    model::draw(&resolved, drivers, count, u.seed, rho.unwrap_or(0.0))
}
