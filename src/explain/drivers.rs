//! Per-driver economics beyond the marginal return: how far a driver's rates would
//! have to move before the optimizer changes its mind about funding it.

use std::time::{Duration, Instant};

use crate::model::Plan;
use crate::program::Program;
use crate::solve::{
    expired, remaining, solve_program, Backend, SolveError, SolveOptions, SolverChoice, Status,
};

/// Plans with more drivers than this get no break-even scales: each driver costs a
/// few dozen full re-solves.
pub const MAX_DRIVERS_FOR_BREAK_EVEN: usize = 50;

/// The largest factor searched when asking what would fund an unfunded driver.
const HIGHEST_SCALE: f64 = 1000.0;
/// Bisection steps per driver.
const STEPS: usize = 18;

/// Units below this count as no funding.
const FUNDED: f64 = 1e-7;

/// Each probe (one full re-solve) gets at most this share of the time left when the
/// search starts: on a mixed-integer plan one probe can take many times the plan's
/// own solve (plan_4242_0207: 45 s per level against 7 s), and a search that spends
/// the whole explanation budget on one driver's first probe tells nothing.
const PROBE_SHARE: u32 = 5;

/// For each driver, the factor on its revenue per unit at which its funding changes
/// (reported as each driver's `break_even_scale`), given which drivers are
/// funded now. `None` entries: no factor within [0, 1000] changes it, or the search
/// ran out of time (the search ends at the first probe that does not finish within
/// its share of the time: the drivers after it get `None` too).
pub fn break_even_scales(
    plan: &Plan,
    funded: &[bool],
    backend: Backend,
    deadline: Option<Instant>,
) -> Result<Vec<Option<f64>>, SolveError> {
    let probe_limit = remaining(deadline).map(|left| left / PROBE_SHARE);
    let mut scales = Vec::with_capacity(plan.drivers.len());
    let mut out_of_time = false;
    for (index, &is_funded) in funded.iter().enumerate() {
        if out_of_time {
            scales.push(None);
            continue;
        }
        let mut probe = |scale: f64| -> Result<Option<bool>, SolveError> {
            if expired(deadline) {
                out_of_time = true;
                return Ok(None);
            }
            // Both are set exactly when there is a deadline.
            let limit = remaining(deadline)
                .zip(probe_limit)
                .map(|(left, cap)| left.min(cap));
            match funded_at(plan, index, scale, backend, limit)? {
                Probe::Funded(funded) => Ok(Some(funded)),
                Probe::NoOptimum => Ok(None),
                Probe::OutOfTime => {
                    out_of_time = true;
                    Ok(None)
                }
            }
        };
        // Funding is taken as monotone in the driver's rates: bisect between a
        // factor where it is as now and one where it has changed.
        let (mut same, mut changed) = if is_funded {
            (1.0, 0.0)
        } else {
            (1.0, HIGHEST_SCALE)
        };
        match probe(changed)? {
            Some(now) if now != is_funded => {}
            _ => {
                scales.push(None);
                continue;
            }
        }
        let mut complete = true;
        for _ in 0..STEPS {
            // Geometric steps upwards (the factor can be large), arithmetic down.
            let middle = if is_funded {
                (same + changed) / 2.0
            } else {
                f64::sqrt(same * changed)
            };
            match probe(middle)? {
                Some(now) if now == is_funded => same = middle,
                Some(_) => changed = middle,
                None => {
                    complete = false;
                    break;
                }
            }
        }
        scales.push(complete.then_some(changed));
    }
    Ok(scales)
}

/// What one probe of [`break_even_scales`] found.
enum Probe {
    /// The plan solved to optimality: whether the driver gets any units.
    Funded(bool),
    /// The plan has no optimum (infeasible or unbounded with the rates moved).
    NoOptimum,
    /// The solve did not finish within its time.
    OutOfTime,
}

/// Whether driver `index` gets any units once its revenue per unit is scaled by
/// `scale`, solved within `time_limit`.
fn funded_at(
    plan: &Plan,
    index: usize,
    scale: f64,
    backend: Backend,
    time_limit: Option<Duration>,
) -> Result<Probe, SolveError> {
    let mut scaled = plan.clone();
    if let Some(driver) = scaled.drivers.get_mut(index) {
        for segment in &mut driver.response {
            segment.revenue_per_unit *= scale;
        }
    }
    let mut program = Program::build(&scaled);
    program.backend = backend;
    let options = SolveOptions {
        time_limit,
        explain: false,
        solver: SolverChoice::Only(backend),
    };
    let solution = solve_program(&scaled, &program, &options)?;
    let values = match (solution.status, solution.values) {
        (Status::Optimal, Some(values)) => values,
        (Status::TimeLimit, _) => return Ok(Probe::OutOfTime),
        _ => return Ok(Probe::NoOptimum),
    };
    let units: f64 = program.units.get(index).map_or(0.0, |per_period| {
        per_period.iter().map(|expr| expr.eval(&values)).sum()
    });
    Ok(Probe::Funded(units > FUNDED))
}
