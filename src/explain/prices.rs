//! Shadow prices: the change of the first objective per unit increase of a bound,
//! from above and from below, with the range over which each holds.

use std::collections::HashMap;
use std::time::Instant;

use crate::model::{Objective, Sense};
use crate::program::{Measure, NamedConstraint, Program};
use crate::solve::basis::{basis_sides, Wanted};
use crate::solve::warm::WarmStart;
use crate::solve::{expired, first_objective, first_optimum, remaining, Optimum, SolveError};

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

/// Why a binding constraint is left unpriced when the explanation budget runs out.
pub(crate) const OUT_OF_TIME: &str =
    "the explanation time budget ran out before this constraint was priced";

/// How far probes go before a price is said to hold without limit: this many times
/// the bound's own scale.
const FAR: f64 = 1e6;
/// Warm re-solves reach this many times a bound's scale on each side; probes
/// further out are solved from scratch.
const WARM_REACH: f64 = FAR;
/// Basis changes that leave a rate alone, stepped over by the ratio-test path
/// before it hands over to the general search.
const MAX_BASIS_CHANGES: usize = 6;
/// Most probes spent locating one breakpoint.
const MAX_BREAKPOINT_PROBES: usize = 40;

/// Prices of every named constraint of `program` at its optimum `optimum` (the first
/// objective's value) reached by `values`. Non-binding constraints get 0 on both
/// sides, holding until the bound reaches the constrained value. Binding ones that
/// could not be priced before `deadline` are `None`.
///
/// `vertex`, when given, is an optimal vertex of the first objective (a simplex
/// solver's answer): the prices it settles from its basis need no re-solves.
pub fn shadow_prices(
    program: &Program,
    objective: Objective,
    optimum: f64,
    values: &[f64],
    vertex: Option<&[f64]>,
    deadline: Option<Instant>,
) -> Result<Vec<Result<ShadowPrice, String>>, SolveError> {
    let denominators = denominators(program, values);
    let binding: Vec<bool> = program
        .named
        .iter()
        .map(|named| program.rows[named.row].is_tight(values))
        .collect();
    let started = Instant::now();
    let settled = vertex
        .map(|vertex| settled_by_basis(program, objective, vertex, &binding, &denominators))
        .unwrap_or_default();
    let held: Vec<usize> = (0..program.named.len())
        .filter(|&index| binding[index])
        .filter(|&index| !matches!(settled.get(&index), Some([Some(_), Some(_)])))
        .collect();
    tracing::debug!(
        elapsed = ?started.elapsed(),
        binding = binding.iter().filter(|&&binding| binding).count(),
        probed = held.len(),
        "prices read off the basis"
    );
    let probe = Prober::new(
        program,
        objective,
        optimum,
        denominators,
        &held,
        deadline,
        None,
    );
    let mut out_of_time = false;
    let mut prices = Vec::with_capacity(program.named.len());
    for (index, named) in program.named.iter().enumerate() {
        if !binding[index] {
            let value = named.measure.eval(values);
            let (up_until, down_until) = match named.sense {
                Sense::LessEqual => (None, Some(value)),
                _ => (Some(value), None),
            };
            prices.push(Ok(ShadowPrice {
                up: Some(0.0),
                down: Some(0.0),
                up_until,
                down_until,
            }));
            continue;
        }
        if out_of_time {
            prices.push(Err(OUT_OF_TIME.to_string()));
            continue;
        }
        let known = settled.get(&index).copied().unwrap_or([None, None]);
        let side = |direction: f64, known: Option<(Option<f64>, Option<f64>)>| match known {
            Some(side) => Ok(side),
            None => probe.side(index, direction),
        };
        let sides = side(1.0, known[0]).and_then(|up| Ok((up, side(-1.0, known[1])?)));
        match sides {
            Ok(((up, up_until), (down, down_until))) => prices.push(Ok(ShadowPrice {
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
                prices.push(Err(OUT_OF_TIME.to_string()));
            }
            // This constraint alone stays unpriced, saying why; the others go on.
            Err(error) => {
                tracing::warn!(constraint = %named.name, %error, "not priced");
                prices.push(Err(error.to_string()));
            }
        }
    }
    tracing::debug!(elapsed = ?started.elapsed(), probes = probe.probes.get(), cold = probe.cold.get(), "priced");
    Ok(prices)
}

/// Each ratio constraint's denominator at `values` (0 for linear ones).
fn denominators(program: &Program, values: &[f64]) -> Vec<f64> {
    program
        .named
        .iter()
        .map(|named| match &named.measure {
            Measure::Ratio { denominator, .. } => denominator.eval(values),
            Measure::Linear(_) => 0.0,
        })
        .collect()
}

/// Units of `named`'s right-hand side per unit of its bound: 1 for a linear
/// bound, the denominator at the plan for a ratio bound (moved to first order).
fn rhs_per_unit(named: &NamedConstraint, denominator: f64) -> f64 {
    match named.measure {
        Measure::Linear(_) => 1.0,
        Measure::Ratio { .. } => denominator,
    }
}

/// How far (bound units) side `direction` (+1: up) of `named` is explored: to
/// the edge of the bound's domain, at most [`FAR`] times its scale and `limit`.
fn explored(named: &NamedConstraint, direction: f64, limit: Option<f64>) -> f64 {
    let (lowest, highest) = named.source.domain().range();
    let room = if direction > 0.0 {
        highest - named.bound
    } else {
        named.bound - lowest
    };
    room.min(FAR * named.bound.abs().max(1.0))
        .min(limit.unwrap_or(f64::INFINITY))
}

/// A side as [`Prober::side`] reports it: the rate, and the bound up to which it
/// holds (`None`: without limit).
type PricedSide = (Option<f64>, Option<f64>);

/// The sides of binding constraints that the basis at `vertex` settles, by
/// constraint index (`None` for a side left to probes).
fn settled_by_basis(
    program: &Program,
    objective: Objective,
    vertex: &[f64],
    binding: &[bool],
    denominators: &[f64],
) -> HashMap<usize, [Option<PricedSide>; 2]> {
    let wanted: Vec<Wanted> = program
        .named
        .iter()
        .enumerate()
        .filter(|&(index, _)| binding[index])
        .map(|(index, named)| Wanted {
            index,
            factor: rhs_per_unit(named, denominators[index]),
            far: [1.0, -1.0].map(|direction| explored(named, direction, None)),
        })
        .collect();
    let Some(sides) = basis_sides(program, objective, vertex, &wanted) else {
        tracing::debug!("no optimal basis at the vertex; probing every binding constraint");
        return HashMap::new();
    };
    wanted
        .iter()
        .zip(sides)
        .map(|(wanted, sides)| {
            let named = &program.named[wanted.index];
            let bound = named.bound;
            let scale = bound.abs().max(1.0);
            let mut priced = [None, None];
            for (slot, ((side, far), direction)) in priced
                .iter_mut()
                .zip(sides.into_iter().zip(wanted.far).zip([1.0, -1.0]))
            {
                if far <= 0.0 {
                    // Nothing to move on this side (as `Prober::side`).
                    *slot = Some((None, Some(bound)));
                    continue;
                }
                *slot = side.map(|(rate, reach)| match rate {
                    Some(rate) => {
                        let reach = reach.min(far);
                        let until = (reach < FAR * scale).then_some(bound + direction * reach);
                        (Some(rate), until)
                    }
                    // Infeasible as soon as the bound moves (as `Prober::side`).
                    None => (None, Some(bound)),
                });
            }
            (wanted.index, priced)
        })
        .collect()
}

/// The first objective's rate as constraint `index`'s bound is raised from its
/// current value, and how far (at most `limit` further) that rate holds: the step
/// of a parametric sweep. Returns `(optimum, rate, reach)`, `None` when the program
/// does not solve at its current bound or cannot move up at all.
pub fn rate_ahead(
    program: &Program,
    objective: Objective,
    index: usize,
    limit: f64,
    deadline: Option<Instant>,
) -> Result<Option<(f64, f64, f64)>, SolveError> {
    let time_limit = remaining(deadline);
    let Optimum::Value(optimum, values) = first_optimum(program, objective, time_limit)? else {
        return Ok(None);
    };
    let denominators = denominators(program, &values);
    // The optimum is a vertex: its basis usually says at once how far the rate
    // goes (as `shadow_prices`, limited to `limit`).
    if let Some(named) = program.named.get(index) {
        let scale = named.bound.abs().max(1.0);
        let far = explored(named, 1.0, Some(limit));
        if far > 0.0 {
            let wanted = Wanted {
                index,
                factor: rhs_per_unit(named, denominators[index]),
                far: [far, 0.0],
            };
            match basis_sides(program, objective, &values, &[wanted]).map(|sides| sides[0][0]) {
                Some(Some((Some(rate), reach))) => {
                    // No end within reach of the search: the rate holds to `limit`.
                    let reach = if reach >= far && far >= FAR * scale {
                        limit
                    } else {
                        reach.min(far)
                    };
                    return Ok(Some((optimum, rate, reach)));
                }
                Some(Some((None, _))) => return Ok(None),
                _ => {}
            }
        }
    }
    let probe = Prober::new(
        program,
        objective,
        optimum,
        denominators,
        &[index],
        deadline,
        Some(limit),
    );
    let bound = program.named.get(index).map_or(0.0, |named| named.bound);
    Ok(match probe.side(index, 1.0)? {
        (Some(rate), until) => Some((optimum, rate, until.map_or(limit, |until| until - bound))),
        (None, _) => None,
    })
}

struct Prober<'a> {
    program: &'a Program,
    objective: Objective,
    optimum: f64,
    deadline: Option<Instant>,
    /// Each ratio constraint's denominator at the reported plan (0 for linear ones).
    denominators: Vec<f64>,
    /// Warm re-solves, when microlp could set them up.
    warm: Option<WarmStart>,
    /// The warm start's variable values at the plan's bounds.
    base: Option<Vec<f64>>,
    /// The farthest a side is explored (offset units), when limited.
    limit: Option<f64>,
    /// The size of the objective's variable part at the plan (at least 1).
    noise_scale: f64,
    /// Probes made, and how many of them were solved from scratch.
    probes: std::cell::Cell<usize>,
    cold: std::cell::Cell<usize>,
}

impl<'a> Prober<'a> {
    /// A prober at `optimum` with warm re-solves for the constraints in `held`.
    fn new(
        program: &'a Program,
        objective: Objective,
        optimum: f64,
        denominators: Vec<f64>,
        held: &[usize],
        deadline: Option<Instant>,
        limit: Option<f64>,
    ) -> Self {
        let reach: Vec<(usize, f64, f64)> = held
            .iter()
            .filter_map(|&index| {
                let named = program.named.get(index)?;
                let (lowest, highest) = named.source.domain().range();
                let scale = named.bound.abs().max(1.0);
                let below = (named.bound - lowest).min(WARM_REACH * scale);
                let above = (highest - named.bound).min(WARM_REACH * scale);
                Some((index, -below, above))
            })
            .collect();
        let started = Instant::now();
        // Nothing to hold: every price is settled already, no warm start needed.
        let warm = if reach.is_empty() {
            None
        } else {
            WarmStart::new(program, objective, &reach, &denominators)
        };
        tracing::debug!(elapsed = ?started.elapsed(), held = reach.len(), ready = warm.is_some(), "warm start");
        let warm = warm.filter(|warm| {
            let agrees = (warm.optimum() - optimum).abs() <= 1e-7 * optimum.abs().max(1.0);
            if !agrees {
                tracing::debug!(
                    warm = warm.optimum(),
                    optimum,
                    "warm start disagrees; probing cold"
                );
            }
            agrees
        });
        let (_, expr) = first_objective(objective, program);
        let noise_scale = warm
            .as_ref()
            .map(|warm| expr.magnitude(&warm.values()))
            .unwrap_or((optimum - expr.constant).abs())
            .max((optimum - expr.constant).abs())
            .max(1.0);
        // Probes are compared with the optimum of the program they move: the warm
        // start's own, when there is one (a cold solve may differ by round-off).
        let optimum = warm.as_ref().map_or(optimum, WarmStart::optimum);
        Prober {
            program,
            objective,
            optimum,
            deadline,
            denominators,
            noise_scale,
            base: warm.as_ref().map(WarmStart::values),
            warm,
            limit,
            probes: std::cell::Cell::new(0),
            cold: std::cell::Cell::new(0),
        }
    }

    /// The first objective's optimum with constraint `index`'s bound moved by
    /// `offset`, or `None` when that program is infeasible or unbounded.
    ///
    /// A linear bound is moved as written. A ratio bound `num - bound * den (sense) 0`
    /// is moved through its right-hand side, by `offset * den` at the reported plan:
    /// the first-order effect of moving the bound, which keeps the optimal value
    /// piecewise linear in the offset, so the price is the exact derivative.
    fn value_at(&self, index: usize, offset: f64) -> Result<Option<f64>, SolveError> {
        if expired(self.deadline) {
            return Err(SolveError::OutOfTime);
        }
        self.probes.set(self.probes.get() + 1);
        if let Some(value) = self
            .warm
            .as_ref()
            .and_then(|warm| warm.value_at(index, offset))
        {
            return Ok(value);
        }
        self.cold.set(self.cold.get() + 1);
        let time_limit = remaining(self.deadline);
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

    /// Round-off in an optimum: relative to the part of the objective the solver
    /// moves (its terms at the plan), not to constants such as baseline revenue,
    /// which would hide small kinks beside a large baseline.
    fn tolerance(&self) -> f64 {
        1e-8 * self.noise_scale
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
        let scale = bound.abs().max(1.0);
        let far = explored(named, direction, self.limit);
        if far <= 0.0 {
            return Ok((None, Some(bound)));
        }
        let value_at = |h: f64| self.value_at(index, direction * h);
        // Past the first piece, a step the engine fails on proves nothing: it is
        // taken as off the line, so the piece found so far is kept (its reach may
        // come out shorter, its rate is proven all the same).
        let value_or_unknown = |h: f64| match value_at(h) {
            Err(SolveError::Backend(error)) => {
                tracing::debug!(%error, h, "engine failed on a probe; taken as off the line");
                Ok(None)
            }
            value => value,
        };
        let linear_to = |x: f64, at_x: Option<f64>| -> Result<Option<f64>, SolveError> {
            let Some(at_x) = at_x else { return Ok(None) };
            let middle = value_or_unknown(x / 2.0)?;
            Ok(middle
                .filter(|&middle| (middle - (self.optimum + at_x) / 2.0).abs() <= self.tolerance())
                .map(|_| at_x))
        };

        // Fast path: one small warm step shows how the solution moves with the
        // bound; a ratio test on that motion predicts where the basis (and so,
        // usually, the rate) changes. The prediction is accepted once the chord to it
        // is proven linear and a step past it leaves the line.
        if let Some(found) = self.predicted_side(index, direction, scale, far, &linear_to)? {
            return Ok(found);
        }

        // A first linear piece: a probe whose midpoint lies on the chord.
        let mut h = (1e-3 * scale).min(far);
        let mut piece = None;
        // An engine failure on one step is not an answer: the next, shorter step is
        // another program for the engine. Only when no step gave a piece does the
        // failure stand (the side is then unpriced, not called infeasible).
        let mut failure = None;
        for _ in 0..5 {
            let probed = value_at(h).and_then(|value| match value {
                Some(value) => Ok(Some((value, value_at(h / 2.0)?))),
                None => Ok(None),
            });
            match probed {
                Ok(Some((value, middle))) => {
                    if middle.is_some_and(|middle| self.on_line(h, value, h / 2.0, middle)) {
                        piece = Some(value);
                        break;
                    }
                }
                Ok(None) => {}
                Err(SolveError::Backend(error)) => {
                    tracing::debug!(%error, h, "engine failed on a probe; stepping shorter");
                    failure = Some(SolveError::Backend(error));
                }
                Err(error) => return Err(error),
            }
            h /= 16.0;
        }
        let Some(value) = piece else {
            return match failure {
                Some(error) => Err(error),
                None => Ok((None, Some(bound))),
            };
        };

        // Concavity (convexity when minimising): a midpoint on the chord proves the
        // whole chord linear. First try the farthest reach, then look for the end.
        let (reach, at_reach) = if h >= far {
            (h, value)
        } else {
            let at_far = value_or_unknown(far)?;
            match linear_to(far, at_far)? {
                Some(at_far) => (far, at_far),
                None => self.breakpoint(&value_or_unknown, &linear_to, h, value, far, at_far)?,
            }
        };
        let rate = (at_reach - self.optimum) / reach;
        // Reaching the artificial limit means no end was found.
        let until = (reach < FAR * scale).then_some(bound + direction * reach);
        Ok((Some(rate * direction), until))
    }

    /// The ratio-test fast path of [`Prober::side`]; `None` when it cannot decide
    /// (no warm start, or a prediction does not check out). Basis changes that leave
    /// the rate alone are stepped over, up to [`MAX_BASIS_CHANGES`] of them.
    #[allow(clippy::type_complexity)]
    fn predicted_side(
        &self,
        index: usize,
        direction: f64,
        scale: f64,
        far: f64,
        linear_to: &impl Fn(f64, Option<f64>) -> Result<Option<f64>, SolveError>,
    ) -> Result<Option<(Option<f64>, Option<f64>)>, SolveError> {
        let (Some(warm), Some(base)) = (self.warm.as_ref(), self.base.as_ref()) else {
            return Ok(None);
        };
        let bound = self.program.named[index].bound;
        let solution_at = |h: f64| -> Result<Option<Option<(f64, Vec<f64>)>>, SolveError> {
            if expired(self.deadline) {
                return Err(SolveError::OutOfTime);
            }
            self.probes.set(self.probes.get() + 1);
            Ok(warm.solution_at(index, direction * h))
        };
        let done = |rate: f64, reach: f64| {
            let until = (reach < far || far < FAR * scale).then_some(bound + direction * reach);
            Ok(Some((Some(rate * direction), until)))
        };
        // The motion of the solution per unit offset, from the bound.
        let step = (1e-4 * scale).min(far);
        let Some(Some((_, moved))) = solution_at(step)? else {
            return Ok(None);
        };
        let mut from = 0.0;
        let mut at_from: Vec<f64> = base.clone();
        let mut motion: Vec<f64> = moved
            .iter()
            .zip(base)
            .map(|(m, b)| (m - b) / step)
            .collect();
        let mut rate: Option<f64> = None;
        for _ in 0..MAX_BASIS_CHANGES {
            let reach = match ratio_test(self.program, index, &at_from, &motion, step) {
                Some(distance) => (from + distance).min(far),
                None => far,
            };
            let Some(Some((at_reach, reach_values))) = solution_at(reach)? else {
                return Ok(None);
            };
            let Some(at_reach) = linear_to(reach, Some(at_reach))? else {
                return Ok(None);
            };
            let line_rate = (at_reach - self.optimum) / reach;
            if rate.is_some_and(|rate| (rate - line_rate).abs() > 1e-6 * rate.abs().max(1e-9)) {
                return Ok(None);
            }
            rate = Some(line_rate);
            if reach >= far {
                return done(line_rate, far);
            }
            // Past the predicted point the rate must change, or the line goes on
            // through a basis change that left the rate alone.
            let past = reach * (1.0 + 1e-3);
            let Some(past_solution) = solution_at(past)? else {
                return Ok(None);
            };
            let Some((at_past, past_values)) = past_solution else {
                return done(line_rate, reach);
            };
            if (at_past - (self.optimum + line_rate * past)).abs() > 10.0 * self.tolerance() {
                return done(line_rate, reach);
            }
            motion = past_values
                .iter()
                .zip(&reach_values)
                .map(|(p, r)| (p - r) / (past - reach))
                .collect();
            from = past;
            at_from = past_values;
        }
        Ok(None)
    }

    /// Where the first piece ends, given that it holds up to `good` (value
    /// `at_good`) and not at `outside`. The piece through `outside` is measured from
    /// a second probe just before it and intersected with the first piece's line; a
    /// crossing confirmed linear from the bound (midpoint test) is the breakpoint
    /// (concavity: the function then follows the second line right after it);
    /// otherwise the bracket shrinks. Returns the end and the value there.
    fn breakpoint(
        &self,
        value_at: &impl Fn(f64) -> Result<Option<f64>, SolveError>,
        linear_to: &impl Fn(f64, Option<f64>) -> Result<Option<f64>, SolveError>,
        mut good: f64,
        mut at_good: f64,
        mut outside: f64,
        mut at_outside: Option<f64>,
    ) -> Result<(f64, f64), SolveError> {
        for _ in 0..MAX_BREAKPOINT_PROBES {
            if outside - good <= 1e-9 * outside.abs().max(1.0) {
                break;
            }
            let rate = (at_good - self.optimum) / good;
            let mut crossing = None;
            if let Some(at_out) = at_outside {
                let before = outside - (outside - good) * 1e-3;
                if let Some(at_before) = value_at(before)? {
                    let next_rate = (at_out - at_before) / (outside - before);
                    let x = (at_out - next_rate * outside - self.optimum) / (rate - next_rate);
                    crossing = (x.is_finite() && x > good && x < outside).then_some(x);
                }
            }
            let probe = crossing.unwrap_or((good + outside) / 2.0);
            let at_probe = value_at(probe)?;
            match linear_to(probe, at_probe)? {
                Some(at_probe) if crossing.is_some() => return Ok((probe, at_probe)),
                Some(at_probe) => {
                    good = probe;
                    at_good = at_probe;
                }
                None => {
                    outside = probe;
                    at_outside = at_probe;
                }
            }
        }
        Ok((good, at_good))
    }
}

/// How far (in offset units) the solution can move along `motion` (change per unit
/// of offset) from `base` before a variable reaches a bound or a row that is not
/// tight becomes tight; moves shorter than `step` (round-off on tight rows) are
/// ignored. `None` when nothing limits it.
fn ratio_test(
    program: &Program,
    index: usize,
    base: &[f64],
    motion: &[f64],
    step: f64,
) -> Option<f64> {
    const EPSILON: f64 = 1e-9;
    let mut limit = f64::INFINITY;
    let mut consider = |distance: f64| {
        if distance > step * (1.0 + 1e-6) && distance < limit {
            limit = distance;
        }
    };
    for ((var, &value), &change) in program.vars.iter().zip(base).zip(motion) {
        if change > EPSILON && var.upper.is_finite() {
            consider((var.upper - value) / change);
        } else if change < -EPSILON {
            consider((value - var.lower) / -change);
        }
    }
    let own_row = program.named.get(index).map(|named| named.row);
    for (row_index, row) in program.rows.iter().enumerate() {
        if Some(row_index) == own_row || row.sense == Sense::Equal {
            continue;
        }
        let change = row.expr.eval(motion);
        let value = row.expr.eval(base);
        let scale = row.expr.magnitude(motion).max(EPSILON);
        match row.sense {
            Sense::LessEqual if change > EPSILON * scale => consider((row.rhs - value) / change),
            Sense::GreaterEqual if change < -EPSILON * scale => {
                consider((value - row.rhs) / -change)
            }
            _ => {}
        }
    }
    limit.is_finite().then_some(limit)
}
