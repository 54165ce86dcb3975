//! Per-driver economics beyond the marginal return: how far a driver's rates would
//! have to move before the optimizer changes its mind about funding it.

use std::time::Instant;

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

/// For each driver, the factor on its revenue per unit at which its funding changes
/// (reported as each driver's `break_even_scale`), given which drivers are
/// funded now. `None` entries: no factor within [0, 1000] changes it, or the search
/// ran out of time.
pub fn break_even_scales(
    plan: &Plan,
    funded: &[bool],
    backend: Backend,
    deadline: Option<Instant>,
) -> Result<Vec<Option<f64>>, SolveError> {
    let mut scales = Vec::with_capacity(plan.drivers.len());
    for (index, &is_funded) in funded.iter().enumerate() {
        let probe = |scale: f64| -> Result<Option<bool>, SolveError> {
            if expired(deadline) {
                return Ok(None);
            }
            funded_at(plan, index, scale, backend, deadline)
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

/// Whether driver `index` gets any units once its revenue per unit is scaled by
/// `scale`; `None` when that plan does not solve to optimality in time.
fn funded_at(
    plan: &Plan,
    index: usize,
    scale: f64,
    backend: Backend,
    deadline: Option<Instant>,
) -> Result<Option<bool>, SolveError> {
    let mut scaled = plan.clone();
    if let Some(driver) = scaled.drivers.get_mut(index) {
        for segment in &mut driver.response {
            segment.revenue_per_unit *= scale;
        }
    }
    let mut program = Program::build(&scaled);
    program.backend = backend;
    let options = SolveOptions {
        time_limit: remaining(deadline),
        explain: false,
        solver: SolverChoice::Only(backend),
    };
    let solution = solve_program(&scaled, &program, &options)?;
    let (Status::Optimal, Some(values)) = (solution.status, solution.values) else {
        return Ok(None);
    };
    let units: f64 = program.units.get(index).map_or(0.0, |per_period| {
        per_period.iter().map(|expr| expr.eval(&values)).sum()
    });
    Ok(Some(units > FUNDED))
}
