//! Shadow prices: the change of the first objective per unit increase of a bound,
//! from above and from below, with the range over which each holds.

use std::time::Instant;

use super::bound_domain;
use crate::model::{Objective, Sense};
use crate::program::{Measure, Program};
use crate::solve::{first_optimum, Optimum, SolveError};

/// The price of one named constraint.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ShadowPrice {
    /// Change of the first objective per unit increase of the bound, as the bound is
    /// raised. `None`: raising it makes the plan infeasible or unbounded (no value).
    pub up: Option<f64>,
    /// Change of the first objective per unit increase of the bound, as the bound is
    /// lowered (the left derivative). `None`: lowering it makes the plan infeasible
    /// or unbounded.
    pub down: Option<f64>,
    /// The bound up to which `up` holds; `None`: without limit.
    pub up_until: Option<f64>,
    /// The bound down to which `down` holds; `None`: without limit.
    pub down_until: Option<f64>,
}

/// How far probes go before a price is said to hold without limit: this many times
/// the bound's own scale.
const FAR: f64 = 1e6;
/// Most probes spent locating one breakpoint.
const MAX_BREAKPOINT_PROBES: usize = 40;

/// Prices of every named constraint of `program` at its optimum `optimum` (the first
/// objective's value) reached by `values`. Non-binding constraints get 0 on both
/// sides, holding until the bound reaches the constrained value. Binding ones that
/// could not be priced before `deadline` are `None`.
pub fn shadow_prices(
    program: &Program,
    objective: Objective,
    optimum: f64,
    values: &[f64],
    deadline: Option<Instant>,
) -> Result<Vec<Option<ShadowPrice>>, SolveError> {
    let denominators = program
        .named
        .iter()
        .map(|named| match &named.measure {
            Measure::Ratio { denominator, .. } => denominator.eval(values),
            Measure::Linear(_) => 0.0,
        })
        .collect();
    let probe = Prober {
        program,
        objective,
        optimum,
        deadline,
        denominators,
    };
    let mut out_of_time = false;
    let mut prices = Vec::with_capacity(program.named.len());
    for (index, named) in program.named.iter().enumerate() {
        let row = &program.rows[named.row];
        let gap = (row.expr.eval(values) - row.rhs).abs();
        let binding = named.sense == Sense::Equal || gap <= 1e-7 * row.scale(values);
        if !binding {
            let value = named.measure.eval(values);
            let (up_until, down_until) = match named.sense {
                Sense::LessEqual => (None, Some(value)),
                _ => (Some(value), None),
            };
            prices.push(Some(ShadowPrice {
                up: Some(0.0),
                down: Some(0.0),
                up_until,
                down_until,
            }));
            continue;
        }
        if out_of_time {
            prices.push(None);
            continue;
        }
        let sides = probe
            .side(index, 1.0)
            .and_then(|up| Ok((up, probe.side(index, -1.0)?)));
        match sides {
            Ok(((up, up_until), (down, down_until))) => prices.push(Some(ShadowPrice {
                up,
                down,
                up_until,
                down_until,
            })),
            Err(SolveError::OutOfTime) => {
                tracing::warn!(
                    "explanation budget spent; remaining binding constraints are not priced"
                );
                out_of_time = true;
                prices.push(None);
            }
            Err(error) => return Err(error),
        }
    }
    Ok(prices)
}

struct Prober<'a> {
    program: &'a Program,
    objective: Objective,
    optimum: f64,
    deadline: Option<Instant>,
    /// Each ratio constraint's denominator at the reported plan (0 for linear ones).
    denominators: Vec<f64>,
}

impl Prober<'_> {
    /// The first objective's optimum with constraint `index`'s bound moved by
    /// `offset`, or `None` when that program is infeasible or unbounded.
    ///
    /// A linear bound is moved as written. A ratio bound `num - bound * den (sense) 0`
    /// is moved through its right-hand side, by `offset * den` at the reported plan:
    /// the first-order effect of moving the bound, which keeps the optimal value
    /// piecewise linear in the offset, so the price is the exact derivative.
    fn value_at(&self, index: usize, offset: f64) -> Result<Option<f64>, SolveError> {
        let time_limit = self
            .deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()));
        let named = &self.program.named[index];
        let moved = match named.measure {
            Measure::Linear(_) => self.program.with_bound(index, named.bound + offset),
            Measure::Ratio { .. } => {
                let mut moved = self.program.clone();
                if let Some(row) = moved.rows.get_mut(named.row) {
                    row.rhs += offset * self.denominators[index];
                }
                moved
            }
        };
        match first_optimum(&moved, self.objective, time_limit)? {
            Optimum::Value(value, _) => Ok(Some(value)),
            Optimum::Infeasible | Optimum::Unbounded => Ok(None),
            Optimum::TimedOut => Err(SolveError::OutOfTime),
        }
    }

    fn tolerance(&self) -> f64 {
        1e-8 * self.optimum.abs().max(1.0)
    }

    /// Whether `value` at step `h` lies on the line through `(0, optimum)` and
    /// `(known_h, known_value)`.
    fn on_line(&self, known_h: f64, known_value: f64, h: f64, value: f64) -> bool {
        let predicted = self.optimum + (known_value - self.optimum) * h / known_h;
        (value - predicted).abs() <= self.tolerance() * (1.0 + h / known_h)
    }

    /// The rate and range on one side (`direction` +1: raising the bound, -1:
    /// lowering it).
    fn side(&self, index: usize, direction: f64) -> Result<(Option<f64>, Option<f64>), SolveError> {
        let named = &self.program.named[index];
        let bound = named.bound;
        let (lowest, highest) = bound_domain(named.source);
        let scale = bound.abs().max(1.0);
        let room = if direction > 0.0 {
            highest - bound
        } else {
            bound - lowest
        };
        let far = room.min(FAR * scale);
        if far <= 0.0 {
            return Ok((None, Some(bound)));
        }
        let value_at = |h: f64| self.value_at(index, direction * h);

        // A first linear piece: a probe whose midpoint lies on the chord.
        let mut h = (1e-3 * scale).min(far);
        let mut piece = None;
        for _ in 0..5 {
            if let Some(value) = value_at(h)? {
                let middle = value_at(h / 2.0)?;
                if middle.is_some_and(|middle| self.on_line(h, value, h / 2.0, middle)) {
                    piece = Some(value);
                    break;
                }
            }
            h /= 16.0;
        }
        let Some(mut value) = piece else {
            return Ok((None, Some(bound)));
        };

        // Extend it geometrically while the probes stay on the line.
        let mut beyond: Option<(f64, Option<f64>)> = None;
        while beyond.is_none() && h < far {
            let next = (h * 16.0).min(far);
            match value_at(next)? {
                Some(next_value) if self.on_line(h, value, next, next_value) => {
                    h = next;
                    value = next_value;
                }
                outside => beyond = Some((next, outside)),
            }
        }
        let rate = (value - self.optimum) / h;
        let until = match beyond {
            None if far < FAR * scale => Some(bound + direction * far),
            None => None,
            Some((outside, outside_value)) => {
                let breakpoint = self.breakpoint(&value_at, rate, h, outside, outside_value)?;
                Some(bound + direction * breakpoint)
            }
        };
        Ok((Some(rate * direction), until))
    }

    /// Where the first piece (slope `rate` per step from the optimum, known to hold
    /// up to `good`) ends, given a probe `outside` that is off it. The next piece is
    /// found from two probes beyond the breakpoint and intersected with the first;
    /// the intersection is accepted once a probe confirms it, else the bracket is
    /// halved.
    fn breakpoint(
        &self,
        value_at: &impl Fn(f64) -> Result<Option<f64>, SolveError>,
        rate: f64,
        mut good: f64,
        mut outside: f64,
        mut outside_value: Option<f64>,
    ) -> Result<f64, SolveError> {
        let first_piece_end = good.max(1e-12);
        let on_first = |h: f64, value: f64| {
            (value - (self.optimum + rate * h)).abs()
                <= self.tolerance() * (1.0 + h / first_piece_end)
        };
        for _ in 0..MAX_BREAKPOINT_PROBES {
            if outside - good <= 1e-9 * outside.abs().max(1.0) {
                break;
            }
            let middle = (good + outside) / 2.0;
            let middle_value = value_at(middle)?;
            match middle_value {
                Some(v) if on_first(middle, v) => {
                    good = middle;
                    continue;
                }
                _ => {}
            }
            // Both `middle` and `outside` are off the first piece; if they share the
            // next piece, its line meets the first one at the breakpoint.
            if let (Some(v_mid), Some(v_out)) = (middle_value, outside_value) {
                let next_rate = (v_out - v_mid) / (outside - middle);
                if (next_rate - rate).abs() > 1e-12 {
                    let candidate =
                        (v_mid - self.optimum - next_rate * middle) / (rate - next_rate);
                    if candidate > good && candidate < middle {
                        if let Some(v) = value_at(candidate)? {
                            if on_first(candidate, v) {
                                return Ok(candidate);
                            }
                        }
                    }
                }
            }
            outside = middle;
            outside_value = middle_value;
        }
        Ok(good)
    }
}
