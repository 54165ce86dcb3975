//! Scenario batches keep the optimal bases of the scenarios they solved and try
//! them on the next ones (`tradeoff::solve::Bases`): a scenario whose first level
//! an earlier basis settles gets no engine call. This checks that the fast path
//! changes no answer: every scenario of a batch, solved one after another with
//! the bases kept, has the status and the four totals of the same scenario solved
//! alone in a fresh batch (1e-7 relative), over realistic plans and what-ifs
//! that keep the basis (small moves) and that change it a lot (wide budget
//! swings, exclusions, scales, margin floors, targets beyond reach: infeasible
//! and unbounded scenarios included).
//!
//! `SCENARIO_PLANS` (default 6) plans of `benches/common/realistic.rs` from
//! `SCENARIO_SEED` (default fixed; `random`), `SCENARIO_COUNT` (default 40)
//! what-ifs each. The long run:
//!
//!     SCENARIO_PLANS=200 SCENARIO_COUNT=100 SCENARIO_SEED=random cargo test --release --test scenarios

#[path = "../benches/common/realistic.rs"]
mod realistic;

use realistic::{realistic_plan, Rng};
use tradeoff::convert::Limits;
use tradeoff::pb;
use tradeoff::planner::{self, ScenarioBatch};

fn setting(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) if value == "random" => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("a clock after 1970");
            let seed = now.as_nanos() as u64 % 1_000_000_000_000;
            eprintln!("{name}=random: {seed}");
            seed
        }
        Ok(value) => value.parse().unwrap_or_else(|_| panic!("{name}: a number")),
        Err(_) => default,
    }
}

/// A batch of `plan` with explanations off, on this build's default engine.
fn batch(plan: &pb::Plan) -> Option<ScenarioBatch> {
    let options = pb::SolveOptions {
        time_limit: Some(pbjson_types::Duration {
            seconds: 60,
            nanos: 0,
        }),
        skip_explanations: true,
        solver: pb::Solver::Auto as i32,
    };
    planner::scenario_batch(Some(plan), Some(&options), &Limits::default()).ok()
}

/// What-if `index` of `plan`: a small move of the budget (which mostly keeps the
/// optimal basis) or a wide one, plus now and then an exclusion, a scale, a
/// margin floor, a revenue target (sometimes out of reach) or a unit cap.
fn what_if(plan: &pb::Plan, rng: &mut Rng, index: usize) -> pb::Scenario {
    let mut overrides = pb::ScenarioOverrides::default();
    let budget = plan.budget_cap.unwrap_or(1e6);
    overrides.budget_cap = Some(if rng.chance(0.5) {
        budget * rng.uniform(0.995, 1.005)
    } else {
        budget * rng.uniform(0.4, 1.6)
    });
    let driver = |rng: &mut Rng| rng.pick(&plan.drivers).id.clone();
    if rng.chance(0.15) {
        overrides.excluded_drivers.push(driver(rng));
    }
    if rng.chance(0.15) {
        overrides
            .revenue_scale
            .insert(driver(rng), rng.uniform(0.5, 1.5));
    }
    if rng.chance(0.1) {
        overrides
            .cost_scale
            .insert(driver(rng), rng.uniform(0.7, 1.4));
    }
    if rng.chance(0.15) {
        overrides.min_margin = Some(rng.uniform(-0.2, 0.6));
    }
    if rng.chance(0.1) {
        // Up to far beyond what the budget buys: infeasible scenarios.
        overrides.revenue_target = Some(budget * rng.uniform(0.5, 20.0));
    }
    if rng.chance(0.1) {
        overrides
            .max_units
            .insert(driver(rng), rng.uniform(0.0, 20.0).round());
    }
    pb::Scenario {
        id: format!("w{index}"),
        overrides: Some(overrides),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-7 * a.abs().max(b.abs()).max(1.0)
}

/// Why `warm` and `cold` differ, if they do.
fn difference(warm: &pb::ScenarioResult, cold: &pb::ScenarioResult) -> Option<String> {
    if warm.status != cold.status || warm.error.is_some() != cold.error.is_some() {
        return Some(format!(
            "status {:?} / error {:?} against a cold solve's {:?} / {:?}",
            warm.status, warm.error, cold.status, cold.error
        ));
    }
    let (Some(a), Some(b)) = (&warm.totals, &cold.totals) else {
        return None;
    };
    [
        ("revenue", a.revenue, b.revenue),
        ("spend", a.spend, b.spend),
        ("contribution", a.contribution, b.contribution),
        ("gross profit", a.gross_profit, b.gross_profit),
    ]
    .into_iter()
    .find(|&(_, x, y)| !close(x, y))
    .map(|(what, x, y)| format!("{what} {x} against a cold solve's {y}"))
}

#[test]
fn kept_bases_change_no_answer() {
    let seed = setting("SCENARIO_SEED", 20_261_207);
    let plans = setting("SCENARIO_PLANS", 6);
    let count = setting("SCENARIO_COUNT", 40) as usize;
    let (mut failures, mut reused, mut pivoted, mut solved) = (Vec::new(), 0, 0, 0);
    for case in 0..plans {
        let generated = realistic_plan(seed + case);
        let plan = generated.plan;
        let Some(warm_batch) = batch(&plan) else {
            continue;
        };
        let mut rng = Rng::new(seed ^ case.wrapping_mul(0x9E37_79B9));
        for index in 0..count {
            let scenario = what_if(&plan, &mut rng, index);
            let warm = warm_batch.run(index, &scenario, None);
            let Some(cold_batch) = batch(&plan) else {
                continue;
            };
            let cold = cold_batch.run(index, &scenario, None);
            assert!(!cold.basis_reused, "a fresh batch has no basis to reuse");
            solved += 1;
            reused += usize::from(warm.basis_reused);
            pivoted += usize::from(warm.basis_pivots > 0);
            if let Some(why) = difference(&warm, &cold) {
                failures.push(format!(
                    "plan seed {}, what-if {index} ({:?}): {why}",
                    generated.seed, scenario.overrides
                ));
            }
        }
    }
    eprintln!(
        "{solved} what-ifs, {reused} settled from a kept basis ({pivoted} after simplex pivots)"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        reused > 0,
        "no what-if kept an earlier basis: the fast path went untested"
    );
}
