//! Shadow prices (docs/MODEL.md §3) against independent evidence.
//!
//! 1. On random small linear plans, every one-sided rate and every range a solve
//!    reports is checked against full re-solves of the *plan* with the bound moved
//!    in its own field (not through the program the prices were measured on).
//! 2. On random linear plans, the rate of every linear constraint where both sides
//!    agree is checked against the dual of the same row from another solver
//!    (clarabel, an interior-point method, through good_lp).
//!
//! No expected number comes from the program's own output: every expectation is a
//! re-solve, another solver's dual, or worked out by hand beside the assertion.
//! The hand-made plans below pin disagreements that these checks found.

mod support;

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use support::moved::{first_total, held_exactly, movable, Checks, Optimum, Priced};
use tradeoff::analysis::solve;
use tradeoff::explain::ShadowPrice;
use tradeoff::model::{
    Driver, Group, Link, LinkMeasure, LinkTerm, Objective, Period, Plan, Requirements, Segment,
    Sense,
};
use tradeoff::program::{LinExpr, Measure, Program};
use tradeoff::solve::{SolveOptions, SolverChoice, Status};

// ---------------------------------------------------------------------------------
// Random linear plans.

fn driver_strategy(periods: usize) -> impl Strategy<Value = Driver> {
    (
        prop::collection::vec((1.0..40.0f64, 0.2..4.0f64), 1..=3),
        0.5..20.0f64,
        0.0..=1.0f64,
        prop::collection::vec(0.0..1.5f64, 1..=3),
        prop::collection::vec(0.1..1.5f64, 1..=3),
        prop::collection::vec(0.5..1.5f64, periods),
        prop::collection::vec(prop::option::weighted(0.3, 1.0..30.0f64), periods),
        prop::collection::vec(prop::option::weighted(0.15, 0.1..2.0f64), periods),
        active_strategy(periods),
    )
        .prop_map(
            move |(
                segments,
                unit_cost,
                gross_margin,
                return_profile,
                cost_profile,
                seasonality,
                max_units,
                min_units,
                (active_profile, existing_active, min_active, max_active),
            )| {
                // Rates that never increase; only the last segment unbounded.
                let mut rates: Vec<f64> =
                    segments.iter().map(|&(_, rate)| rate * unit_cost).collect();
                rates.sort_by(|a, b| b.total_cmp(a));
                let count = segments.len();
                let response = segments
                    .iter()
                    .zip(rates)
                    .enumerate()
                    .map(|(k, (&(width, _), rate))| Segment {
                        units: (k + 1 < count).then_some(width),
                        revenue_per_unit: rate,
                    })
                    .collect();
                let min_units = min_units
                    .iter()
                    .zip(&max_units)
                    .map(|(min, max)| {
                        let min = min.unwrap_or(0.0);
                        max.map_or(min, |max| min.min(max))
                    })
                    .collect();
                Driver {
                    id: String::new(),
                    name: String::new(),
                    tags: Vec::new(),
                    unit: "USD".into(),
                    unit_cost,
                    gross_margin,
                    response,
                    min_units,
                    max_units,
                    seasonality,
                    integer: false,
                    return_profile,
                    cost_profile,
                    active_profile,
                    existing_active,
                    min_active,
                    max_active,
                }
            },
        )
}

/// Units in seat (docs/MODEL.md §5) on some drivers: an attrition profile,
/// today's team, and floors and caps on units active.
type ActiveSpec = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<Option<f64>>);

fn active_strategy(periods: usize) -> impl Strategy<Value = ActiveSpec> {
    let some = |p: f64| prop::bool::weighted(p);
    (
        some(0.5),
        prop::collection::vec(0.3..=1.0f64, 1..=3),
        prop::collection::vec(0.0..5.0f64, periods),
        prop::collection::vec(prop::option::weighted(0.15, 0.5..10.0f64), periods),
        prop::collection::vec(prop::option::weighted(0.2, 0.5..40.0f64), periods),
    )
        .prop_map(move |(in_seat, profile, existing, floors, caps)| {
            if !in_seat {
                return (
                    vec![1.0],
                    vec![0.0; periods],
                    vec![0.0; periods],
                    vec![None; periods],
                );
            }
            // A floor never above the cap of its period: the plan stays valid.
            let floors = floors
                .iter()
                .zip(&caps)
                .map(|(floor, cap)| match (floor, cap) {
                    (Some(floor), Some(cap)) => floor.min(*cap),
                    (floor, _) => floor.unwrap_or(0.0),
                })
                .collect();
            (profile, existing, floors, caps)
        })
}

/// Optional group bounds: min_spend, max_spend, min_share, max_share.
type GroupBounds = (Option<f64>, Option<f64>, Option<f64>, Option<f64>);

fn group_strategy() -> impl Strategy<Value = (Vec<bool>, GroupBounds)> {
    (
        prop::collection::vec(any::<bool>(), 4),
        (
            prop::option::weighted(0.2, 0.0..100.0f64),
            prop::option::weighted(0.3, 20.0..800.0f64),
            prop::option::weighted(0.2, 0.0..0.4f64),
            prop::option::weighted(0.5, 0.1..0.9f64),
        ),
    )
}

/// Link: coefficients on two drivers, sense, rhs, per period.
/// Coefficients, at most, right-hand side, per period, and whether the terms
/// count units active (docs/MODEL.md §5) rather than committed.
type LinkSpec = (f64, f64, bool, f64, bool, bool);

fn link_strategy() -> impl Strategy<Value = LinkSpec> {
    (
        -2.0..2.0f64,
        -2.0..2.0f64,
        any::<bool>(),
        -5.0..20.0f64,
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.4),
    )
}

/// Horizon requirements: min_margin, min_contribution, revenue_target, min_roi.
type RequirementSpec = (Option<f64>, Option<f64>, Option<f64>, Option<f64>);

fn requirements_strategy() -> impl Strategy<Value = RequirementSpec> {
    (
        prop::option::weighted(0.4, -0.3..0.5f64),
        prop::option::weighted(0.2, -500.0..500.0f64),
        prop::option::weighted(0.35, 0.0..3000.0f64),
        prop::option::weighted(0.15, 0.0..3.0f64),
    )
}

/// Per period: baseline revenue, fixed costs, budget cap, margin floor.
type PeriodSpec = (f64, f64, Option<f64>, Option<f64>);

fn period_strategy() -> impl Strategy<Value = PeriodSpec> {
    (
        0.0..500.0f64,
        0.0..300.0f64,
        prop::option::weighted(0.3, 20.0..800.0f64),
        prop::option::weighted(0.15, -0.3..0.5f64),
    )
}

fn plan_strategy() -> impl Strategy<Value = Plan> {
    (1usize..=3)
        .prop_flat_map(|periods| {
            (
                prop::collection::vec(driver_strategy(periods), 1..=4),
                prop::collection::vec(period_strategy(), periods),
                50.0..2000.0f64,
                0.3..=1.0f64,
                requirements_strategy(),
                prop::option::weighted(0.5, group_strategy()),
                prop::option::weighted(0.5, link_strategy()),
                0..3usize,
                0.0..3000.0f64,
            )
        })
        .prop_map(
            |(
                drivers,
                periods,
                budget_cap,
                baseline_gross_margin,
                requirements,
                group,
                link,
                objective,
                fallback_target,
            )| {
                build_plan(
                    drivers,
                    periods,
                    budget_cap,
                    baseline_gross_margin,
                    requirements,
                    group,
                    link,
                    objective,
                    fallback_target,
                )
            },
        )
}

#[allow(clippy::too_many_arguments)]
fn build_plan(
    mut drivers: Vec<Driver>,
    periods: Vec<PeriodSpec>,
    budget_cap: f64,
    baseline_gross_margin: f64,
    (min_margin, min_contribution, revenue_target, min_roi): RequirementSpec,
    group: Option<(Vec<bool>, GroupBounds)>,
    link: Option<LinkSpec>,
    objective: usize,
    fallback_target: f64,
) -> Plan {
    for (i, driver) in drivers.iter_mut().enumerate() {
        driver.id = format!("d{i}");
    }
    // Margin floors stay below the gross margin of every driver with several
    // segments, so that no segment-order binaries are needed: the plan stays a
    // linear program.
    let lowest_multi_segment_margin = drivers
        .iter()
        .filter(|driver| driver.response.len() >= 2)
        .map(|driver| driver.gross_margin)
        .fold(f64::INFINITY, f64::min);
    let floor = |m: Option<f64>| m.map(|m| m.min(lowest_multi_segment_margin - 0.02));
    let count = drivers.len();
    let objective = match objective {
        0 => Objective::MaximizeRevenue,
        1 => Objective::MaximizeContribution,
        _ => Objective::MinimizeSpend,
    };
    let revenue_target = match (objective, revenue_target, min_contribution) {
        (Objective::MinimizeSpend, None, None) => Some(fallback_target),
        _ => revenue_target,
    };
    let mut plan = Plan {
        name: "prices".into(),
        currency: "USD".into(),
        periods: periods
            .iter()
            .enumerate()
            .map(
                |(t, &(baseline_revenue, fixed_costs, budget_cap, min_margin))| Period {
                    name: format!("Q{}", t + 1),
                    baseline_revenue,
                    fixed_costs,
                    budget_cap,
                    min_margin: floor(min_margin),
                },
            )
            .collect(),
        drivers,
        baseline_gross_margin,
        budget_cap: Some(budget_cap),
        requirements: Requirements {
            min_margin: floor(min_margin),
            min_contribution,
            revenue_target,
            min_roi,
        },
        groups: Vec::new(),
        links: Vec::new(),
        objective,
        replan: None,
        uncertainty: None,
    };
    if let Some((mask, (min_spend, max_spend, min_share, max_share))) = group {
        let mut members: Vec<usize> = (0..count).filter(|&i| mask[i]).collect();
        if members.is_empty() {
            members.push(0);
        }
        let max_spend = match (min_spend, max_spend) {
            (Some(min), Some(max)) => Some(max.max(min)),
            (_, max) => max,
        };
        let max_share = match (min_share, max_share) {
            (Some(min), Some(max)) => Some(max.max(min)),
            (_, max) => max,
        };
        plan.groups.push(Group {
            name: "g".into(),
            members,
            min_spend,
            max_spend,
            min_share,
            max_share,
        });
    }
    if let Some((first, second, at_most, rhs, per_period, active)) = link {
        let mut terms = vec![LinkTerm {
            driver: 0,
            coefficient: first,
        }];
        if count >= 2 {
            terms.push(LinkTerm {
                driver: count - 1,
                coefficient: second,
            });
        }
        plan.links.push(Link {
            name: "l".into(),
            terms,
            sense: if at_most {
                Sense::LessEqual
            } else {
                Sense::GreaterEqual
            },
            rhs,
            per_period,
            measure: if active {
                LinkMeasure::Active
            } else {
                LinkMeasure::Committed
            },
        });
    }
    plan
}

/// Solves `plan` with explanations and checks every price against re-solves.
fn check_prices_against_resolves(plan: &Plan) -> Result<(), TestCaseError> {
    let program = Program::build(plan);
    prop_assert!(!program.is_mixed_integer(), "the generator made a MIP");
    let report = solve(plan, &SolveOptions::default())
        .map_err(|error| TestCaseError::fail(format!("solve: {error}")))?;
    prop_assume!(report.status == Status::Optimal);
    prop_assert!(!report.prices_with_integers_fixed);
    let base = Optimum::of(&report);
    prop_assume!(held_exactly(&program, plan.objective, base.value));
    prop_assert_eq!(report.constraints.len(), program.named.len());
    for (named, constraint) in program.named.iter().zip(&report.constraints) {
        prop_assert_eq!(&named.name, &constraint.name);
        let Some(price) = constraint.price else {
            continue;
        };
        if !constraint.binding {
            prop_assert!(
                price.up == Some(0.0) && price.down == Some(0.0),
                "{}: not binding (slack {}), but priced {:?}",
                constraint.name,
                constraint.slack,
                price
            );
        }
        if !movable(named.source) {
            continue;
        }
        let checks = Checks {
            solver: SolverChoice::Auto,
            relative: 1e-4,
            ranges: true,
            strict: false,
        };
        let priced = Priced::new(plan, named, constraint.binding, base, checks);
        priced.check_side(&price, 1.0)?;
        priced.check_side(&price, -1.0)?;
    }
    Ok(())
}

/// Property-test settings: `cases` cases from a fixed seed, so that every run tries
/// the same plans; `PRICES_CASES=n` and `PRICES_SEED=n` (or `random`) explore
/// further, and may meet the open bug of `a_budget_price_stops_at_a_small_kink`
/// (about once in 6,000 plans).
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PRICES_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(cases);
    let rng_seed = match std::env::var("PRICES_SEED") {
        Ok(seed) if seed == "random" => RngSeed::Random,
        Ok(seed) => RngSeed::Fixed(seed.parse().expect("PRICES_SEED: a number or random")),
        Err(_) => RngSeed::Fixed(20_261_126),
    };
    ProptestConfig {
        cases,
        max_global_rejects: 4096,
        rng_seed,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn prices_match_resolves_of_the_moved_plan(plan in plan_strategy()) {
        check_prices_against_resolves(&plan)?;
    }
}

// ---------------------------------------------------------------------------------
// Hand-made plans: disagreements the checks above found, each kept as a test.

/// One period with `baseline_revenue`, a budget cap, and one driver `a` (unit cost
/// 1, gross margin 1) with these segments and maximum units; maximise revenue.
fn one_driver_plan(
    segments: &[(Option<f64>, f64)],
    max_units: Option<f64>,
    budget_cap: f64,
    baseline_revenue: f64,
) -> Plan {
    Plan {
        name: "hand".into(),
        currency: "USD".into(),
        periods: vec![Period {
            name: "total".into(),
            baseline_revenue,
            fixed_costs: 0.0,
            budget_cap: None,
            min_margin: None,
        }],
        drivers: vec![Driver {
            id: "a".into(),
            name: String::new(),
            tags: Vec::new(),
            unit: "USD".into(),
            unit_cost: 1.0,
            gross_margin: 1.0,
            response: segments
                .iter()
                .map(|&(units, revenue_per_unit)| Segment {
                    units,
                    revenue_per_unit,
                })
                .collect(),
            min_units: vec![0.0],
            max_units: vec![max_units],
            seasonality: vec![1.0],
            integer: false,
            return_profile: vec![1.0],
            cost_profile: vec![1.0],
            active_profile: vec![1.0],
            existing_active: vec![0.0; 1],
            min_active: vec![0.0; 1],
            max_active: vec![None; 1],
        }],
        baseline_gross_margin: 1.0,
        budget_cap: Some(budget_cap),
        requirements: Requirements::default(),
        groups: Vec::new(),
        links: Vec::new(),
        objective: Objective::MaximizeRevenue,
        replan: None,
        uncertainty: None,
    }
}

/// Driver `a` earns 1.0 on its first unit and 0.9 on every further one, at most 1.1
/// units, beside a baseline revenue of `baseline`: lowering `max_units` from 1.1
/// gives up 0.9 of revenue per unit down to 1.0 (then 1.0 per unit). Checks the
/// price of `max_units` on that side against re-solves.
fn check_small_rate_beside_baseline(baseline: f64) {
    let plan = one_driver_plan(
        &[(Some(1.0), 1.0), (None, 0.9)],
        Some(1.1),
        1000.0,
        baseline,
    );
    let revenue = |max_units: f64| {
        let mut moved = plan.clone();
        moved.drivers[0].max_units[0] = Some(max_units);
        let options = SolveOptions {
            explain: false,
            ..Default::default()
        };
        let report = solve(&moved, &options).expect("solves");
        assert_eq!(report.status, Status::Optimal);
        report.totals.revenue
    };
    let report = solve(&plan, &SolveOptions::default()).expect("solves");
    let price = report
        .constraints
        .iter()
        .find(|c| c.name == "driver[a].max_units[total]")
        .and_then(|c| c.price)
        .expect("priced");
    let base = revenue(1.1);
    // The rate from re-solves 0.001 below the bound.
    let measured = (base - revenue(1.099)) / 0.001;
    let down = price.down.expect("a rate");
    assert!(
        (down - measured).abs() <= 1e-4 * measured.abs().max(1.0),
        "baseline {baseline}: down = {down}, re-solves give {measured}"
    );
    // The range: the optimum lies on the line halfway down it.
    let until = price.down_until.expect("a finite range");
    let middle = (1.1 + until) / 2.0;
    let expected = base - down * (1.1 - middle);
    let actual = revenue(middle);
    assert!(
        (actual - expected).abs() <= 1e-9 * baseline.max(1.0) + 1e-9,
        "baseline {baseline}: down = {down} said to hold down to {until}, but at \
         {middle} the revenue is {actual}, not {expected}"
    );
}

#[test]
fn small_rate_kink_is_found_beside_a_modest_baseline() {
    check_small_rate_beside_baseline(0.0);
    check_small_rate_beside_baseline(1e4);
}

/// Probes judged "on the line" within `1e-8 * |optimum|`: beside a baseline of 1e6
/// the kink at 1.0 went unnoticed (down = 0.9909, a chord, until 0).
#[test]
fn small_rate_kink_is_found_beside_a_large_baseline() {
    check_small_rate_beside_baseline(1e6);
}

/// Units within a millionth of a segment end were snapped onto it and the snapped
/// plan kept: spend 100 against the cap of 99.99995, revenue 200.
#[test]
fn a_reported_plan_stays_within_its_budget() {
    // 100 units earn 2.0 each, further ones 1.0; the budget buys 99.99995 units,
    // all in the first segment: revenue 199.9999 for a spend of 99.99995.
    let plan = one_driver_plan(&[(Some(100.0), 2.0), (None, 1.0)], None, 99.99995, 0.0);
    let report = solve(&plan, &SolveOptions::default()).expect("solves");
    assert_eq!(report.status, Status::Optimal);
    assert!(
        report.totals.spend <= 99.99995 * (1.0 + 1e-12),
        "spend {} above the budget cap 99.99995",
        report.totals.spend
    );
    assert!(
        (report.totals.revenue - 199.9999).abs() <= 1e-9,
        "revenue {}, not 199.9999",
        report.totals.revenue
    );
}

/// A plan (found by `prices_match_resolves_of_the_moved_plan`, shrunk by proptest)
/// whose budget is priced with no value on either side. Driver `d1` has the best
/// return and no limit, so each unit of budget buys revenue at the same rate.
fn budget_without_a_price() -> Plan {
    let driver = |id: &str, unit_cost: f64, segments: &[(Option<f64>, f64)]| Driver {
        id: id.into(),
        name: String::new(),
        tags: Vec::new(),
        unit: "USD".into(),
        unit_cost,
        gross_margin: 0.0,
        response: segments
            .iter()
            .map(|&(units, revenue_per_unit)| Segment {
                units,
                revenue_per_unit,
            })
            .collect(),
        min_units: vec![0.0],
        max_units: vec![None],
        seasonality: vec![1.0],
        integer: false,
        return_profile: vec![1.0],
        cost_profile: vec![1.0],
        active_profile: vec![1.0],
        existing_active: vec![0.0; 1],
        min_active: vec![0.0; 1],
        max_active: vec![None; 1],
    };
    let mut d0 = driver(
        "d0",
        15.57644310513059,
        &[
            (Some(1.0), 44.572336119678745),
            (Some(28.656023959214554), 3.115288621026118),
            (None, 3.115288621026118),
        ],
    );
    d0.seasonality = vec![1.262366736090336];
    d0.return_profile = vec![0.008889340355261144];
    d0.cost_profile = vec![1.2417672397113];
    let mut d1 = driver("d1", 15.544920234776004, &[(None, 56.967744835513244)]);
    d1.seasonality = vec![1.2042044340652593];
    d1.return_profile = vec![1.1254167897923744];
    d1.cost_profile = vec![1.1607382043103147];
    let mut d2 = driver(
        "d2",
        9.427552218680592,
        &[
            (Some(4.219750651913807), 1.8855104437361185),
            (None, 1.8855104437361185),
        ],
    );
    d2.max_units = vec![Some(1.0)];
    d2.seasonality = vec![0.5];
    d2.return_profile = vec![1.196874261053936];
    d2.cost_profile = vec![1.2863518408215786];
    Plan {
        name: "prices".into(),
        currency: "USD".into(),
        periods: vec![Period {
            name: "Q1".into(),
            baseline_revenue: 288.1812517590178,
            fixed_costs: 0.0,
            budget_cap: None,
            min_margin: None,
        }],
        drivers: vec![d0, d1, d2],
        baseline_gross_margin: 0.3,
        budget_cap: Some(1955.9873604794468),
        requirements: Requirements {
            revenue_target: Some(2673.4464864230777),
            ..Requirements::default()
        },
        groups: vec![Group {
            name: "g".into(),
            members: vec![0],
            min_spend: Some(0.0),
            max_spend: None,
            min_share: None,
            max_share: None,
        }],
        links: Vec::new(),
        objective: Objective::MaximizeRevenue,
        replan: None,
        uncertainty: None,
    }
}

/// The budget was priced with no value on either side (up = down = None).
#[test]
fn a_binding_budget_has_a_price_both_ways() {
    let plan = budget_without_a_price();
    let cap = plan.budget_cap.expect("a cap");
    let revenue = |budget_cap: f64| {
        let mut moved = plan.clone();
        moved.budget_cap = Some(budget_cap);
        let options = SolveOptions {
            explain: false,
            ..Default::default()
        };
        let report = solve(&moved, &options).expect("solves");
        assert_eq!(report.status, Status::Optimal, "budget {budget_cap}");
        report.totals.revenue
    };
    let base = revenue(cap);
    let up = revenue(cap + 1.0) - base;
    let down = base - revenue(cap - 1.0);
    let report = solve(&plan, &SolveOptions::default()).expect("solves");
    let price = report
        .constraints
        .iter()
        .find(|c| c.name == "budget_cap")
        .and_then(|c| c.price)
        .expect("priced");
    for (side, reported, measured) in [("up", price.up, up), ("down", price.down, down)] {
        let reported = reported.unwrap_or_else(|| {
            panic!("{side}: no value, but re-solves give {measured} per unit ({price:?})")
        });
        assert!(
            (reported - measured).abs() <= 1e-6 * measured.abs().max(1.0),
            "{side}: {reported}, re-solves give {measured}"
        );
    }
}

/// Driver `d1` returns about 8.7 per unit of money in Q2, `d0` about 1.1, so `d0`
/// gets only its minimum in Q2; its first segment ends at 1.0 unit, where each
/// forced unit earns a little less (1.43213 instead of 1.43271 per unit). So
/// revenue falls linearly as the minimum rises from 0.1 to 1.0, and a little faster
/// after. (Found by `prices_match_resolves_of_the_moved_plan`, shrunk by proptest.)
fn a_minimum_before_a_small_kink() -> Plan {
    let driver = |id: &str, segments: &[(Option<f64>, f64)]| Driver {
        id: id.into(),
        name: String::new(),
        tags: Vec::new(),
        unit: "USD".into(),
        unit_cost: 0.5,
        gross_margin: 0.0,
        response: segments
            .iter()
            .map(|&(units, revenue_per_unit)| Segment {
                units,
                revenue_per_unit,
            })
            .collect(),
        min_units: vec![0.0, 0.0],
        max_units: vec![None, None],
        seasonality: vec![0.5, 0.5],
        integer: false,
        return_profile: vec![1.0],
        cost_profile: vec![1.0],
        active_profile: vec![1.0],
        existing_active: vec![0.0; 2],
        min_active: vec![0.0; 2],
        max_active: vec![None; 2],
    };
    let mut d0 = driver(
        "d0",
        &[(Some(1.0), 1.4327140962351668), (None, 1.432133890665169)],
    );
    d0.min_units = vec![0.0, 0.1];
    d0.return_profile = vec![0.9978077181264905];
    d0.cost_profile = vec![1.289545504580279];
    let mut d1 = driver("d1", &[(None, 1.5970211760005981)]);
    d1.seasonality = vec![0.5, 1.3425659882635201];
    d1.return_profile = vec![0.9833547333497953];
    d1.cost_profile = vec![0.4822506064862156];
    Plan {
        name: "prices".into(),
        currency: "USD".into(),
        periods: vec![
            Period {
                name: "Q1".into(),
                baseline_revenue: 217.56230252989462,
                fixed_costs: 0.0,
                budget_cap: None,
                min_margin: None,
            },
            Period {
                name: "Q2".into(),
                baseline_revenue: 0.0,
                fixed_costs: 0.0,
                budget_cap: None,
                min_margin: None,
            },
        ],
        drivers: vec![d0, d1],
        baseline_gross_margin: 0.3,
        budget_cap: Some(367.3227685121481),
        requirements: Requirements::default(),
        groups: Vec::new(),
        links: Vec::new(),
        objective: Objective::MaximizeRevenue,
        replan: None,
        uncertainty: None,
    }
}

/// The range ended short of the kink (0.907 or 0.924, varying from run to run).
#[test]
fn a_range_reaches_its_kink() {
    let plan = a_minimum_before_a_small_kink();
    let revenue = |minimum: f64| {
        let mut moved = plan.clone();
        moved.drivers[0].min_units[1] = minimum;
        let options = SolveOptions {
            explain: false,
            ..Default::default()
        };
        let report = solve(&moved, &options).expect("solves");
        assert_eq!(report.status, Status::Optimal, "minimum {minimum}");
        report.totals.revenue
    };
    // The re-solves: on one line from 0.1 to 0.99.
    let (base, middle, late) = (revenue(0.1), revenue(0.5), revenue(0.99));
    let slope = (middle - base) / 0.4;
    assert!(
        (late - (base + slope * 0.89)).abs() <= 1e-9 * base.abs(),
        "re-solves: {late} at 0.99 is not on the line through {base} and {middle}"
    );
    let report = solve(&plan, &SolveOptions::default()).expect("solves");
    let price = report
        .constraints
        .iter()
        .find(|c| c.name == "driver[d0].min_units[Q2]")
        .and_then(|c| c.price)
        .expect("priced");
    let up = price.up.expect("a rate");
    assert!(
        (up - slope).abs() <= 1e-6 * slope.abs(),
        "up = {up}, re-solves give {slope}"
    );
    let until = price.up_until.expect("a finite range");
    assert!(
        (until - 1.0).abs() <= 1e-6,
        "up = {up} said to hold until {until}, but re-solves stay on the line to 0.99 \
         and the segment ends at 1.0"
    );
}

/// Two drivers in one period, no limits but the budget. Driver `d0` returns about
/// 5.3 per unit of money on its first 39.46 units and almost nothing after, so it
/// takes its first segment whole; `d1` returns about 2.899 on its first 1.2534 units
/// and a little less (2.8983) after, and takes the rest of the budget, just short of
/// its first segment's end. (Found by `prices_match_resolves_of_the_moved_plan`.)
fn a_budget_just_short_of_a_small_kink() -> Plan {
    let driver =
        |id: &str, unit_cost: f64, gross_margin: f64, segments: [(Option<f64>, f64); 2]| Driver {
            id: id.into(),
            name: String::new(),
            tags: Vec::new(),
            unit: "USD".into(),
            unit_cost,
            gross_margin,
            response: segments
                .iter()
                .map(|&(units, revenue_per_unit)| Segment {
                    units,
                    revenue_per_unit,
                })
                .collect(),
            min_units: vec![0.0],
            max_units: vec![None],
            seasonality: vec![1.0],
            integer: false,
            return_profile: vec![1.0],
            cost_profile: vec![1.0],
            active_profile: vec![1.0],
            existing_active: vec![0.0; 1],
            min_active: vec![0.0; 1],
            max_active: vec![None; 1],
        };
    let mut d0 = driver(
        "d0",
        3.220363269277408,
        0.7935632676353473,
        [
            (Some(39.464326870810744), 10.79756510404013),
            (None, 0.6440726538554816),
        ],
    );
    d0.seasonality = vec![1.2641457143320722];
    d0.return_profile = vec![1.1889269801013194];
    d0.cost_profile = vec![0.9477885205284614];
    let mut d1 = driver(
        "d1",
        3.457423072257654,
        0.6376940995637694,
        [
            (Some(1.2533880074731525), 9.746819702377863),
            (None, 9.74481246628005),
        ],
    );
    d1.seasonality = vec![1.0144806648777318];
    d1.return_profile = vec![1.2720351550750084];
    d1.cost_profile = vec![1.2549014114462778];
    Plan {
        name: "prices".into(),
        currency: "USD".into(),
        periods: vec![Period {
            name: "Q1".into(),
            baseline_revenue: 330.73379613627634,
            fixed_costs: 0.0,
            budget_cap: None,
            min_margin: None,
        }],
        drivers: vec![d0, d1],
        baseline_gross_margin: 0.3,
        budget_cap: Some(125.86089976415036),
        requirements: Requirements::default(),
        groups: Vec::new(),
        links: Vec::new(),
        objective: Objective::MaximizeRevenue,
        replan: None,
        uncertainty: None,
    }
}

/// Probing alone took the chord across this kink for the rate (2.898521 until
/// 125.98677); the basis walk ends the range exactly at the segment's end.
#[test]
fn a_budget_price_stops_at_a_small_kink() {
    let plan = a_budget_just_short_of_a_small_kink();
    let cap = plan.budget_cap.expect("a cap");
    let (d0, d1) = (&plan.drivers[0], &plan.drivers[1]);
    // Per unit of each driver: revenue and cost realised in the single period.
    let revenue = |driver: &Driver, k: usize| {
        driver.response[k].revenue_per_unit * driver.seasonality[0] * driver.return_profile[0]
    };
    let cost = |driver: &Driver| driver.unit_cost * driver.cost_profile[0];
    // d0's first segment takes its share of the budget; d1 takes the rest, and
    // extra budget buys d1's first segment until it is full.
    let d0_spend = d0.response[0].units.expect("a width") * cost(d0);
    let d1_units = (cap - d0_spend) / cost(d1);
    let width = d1.response[0].units.expect("a width");
    assert!(d1_units < width, "d1 fills its first segment: {d1_units}");
    let rate = revenue(d1, 0) / cost(d1);
    let until = cap + (width - d1_units) * cost(d1);
    let report = solve(&plan, &SolveOptions::default()).expect("solves");
    let price = report
        .constraints
        .iter()
        .find(|c| c.name == "budget_cap")
        .and_then(|c| c.price)
        .expect("priced");
    let up = price.up.expect("a rate");
    let up_until = price.up_until.expect("a finite range");
    assert!(
        (up - rate).abs() <= 1e-6 * rate && (up_until - until).abs() <= 1e-6 * cap,
        "up = {up} until {up_until}; by hand {rate} until {until}"
    );
}

// ---------------------------------------------------------------------------------
// Duals from another solver.

mod duals {
    use super::*;
    use good_lp::solvers::clarabel::clarabel;
    use good_lp::{
        constraint, variable, Constraint, DualValues, Expression, ProblemVariables,
        SolutionWithDual, SolverModel, Variable,
    };

    fn expression(expr: &LinExpr, vars: &[Variable]) -> Expression {
        let mut total = Expression::from(0.0);
        for &(var, coefficient) in &expr.terms {
            total += coefficient * vars[var];
        }
        total
    }

    fn row_constraint(expr: Expression, sense: Sense, rhs: f64) -> Constraint {
        match sense {
            Sense::LessEqual => constraint::leq(expr, rhs),
            Sense::GreaterEqual => constraint::geq(expr, rhs),
            Sense::Equal => constraint::eq(expr, rhs),
        }
    }

    /// The dual of every row of `program` for its first objective, from clarabel
    /// through good_lp: the change of the objective per unit increase of the row's
    /// right-hand side as written (`clarabel_dual_signs` pins that convention).
    fn clarabel_duals(program: &Program, objective: Objective) -> Option<Vec<f64>> {
        let mut problem = ProblemVariables::new();
        let vars: Vec<Variable> = program
            .vars
            .iter()
            .map(|var| {
                assert!(!var.integer, "a linear program has no integer variable");
                let mut definition = variable().min(var.lower);
                if var.upper.is_finite() {
                    definition = definition.max(var.upper);
                }
                problem.add(definition)
            })
            .collect();
        let levels = &program.levels;
        let (goal, maximise) = match objective {
            Objective::MaximizeRevenue => (&levels.revenue, true),
            Objective::MaximizeContribution => (&levels.contribution, true),
            Objective::MinimizeSpend => (&levels.spend, false),
        };
        let goal = expression(goal, &vars);
        let mut model = if maximise {
            problem.maximise(goal)
        } else {
            problem.minimise(goal)
        }
        .using(clarabel);
        // The dual of a slack row is of the order of the duality gap over its slack
        // (1e-8 of the objective by default): solve tightly, so that it vanishes.
        model
            .settings()
            .tol_gap_abs(1e-12)
            .tol_gap_rel(1e-12)
            .tol_feas(1e-12)
            .max_iter(500);
        let references: Vec<_> = program
            .rows
            .iter()
            .map(|row| {
                model.add_constraint(row_constraint(
                    expression(&row.expr, &vars),
                    row.sense,
                    row.rhs,
                ))
            })
            .collect();
        let mut solution = model.solve().ok()?;
        let duals = solution.compute_dual();
        Some(
            references
                .into_iter()
                .map(|reference| duals.dual(reference))
                .collect(),
        )
    }

    /// good_lp's sign convention, on problems solved by hand: the dual is the change
    /// of the objective as written per unit increase of the right-hand side as
    /// written, for `<=` and `>=` rows, maximising and minimising.
    #[test]
    fn clarabel_dual_signs() {
        // max x + 2y  s.t.  x + y <= 4,  -y >= -3 (y <= 3),  x, y >= 0.
        // Optimum x = 1, y = 3 (value 7). Raising 4 adds one x: +1. Raising -3
        // tightens y by one, traded for one x: -(2 - 1) = -1.
        let mut problem = ProblemVariables::new();
        let x = problem.add(variable().min(0.0));
        let y = problem.add(variable().min(0.0));
        let mut model = problem.maximise(x + 2.0 * y).using(clarabel);
        let sum = model.add_constraint(constraint::leq(x + y, 4.0));
        let cap = model.add_constraint(constraint::geq(-1.0 * y, -3.0));
        let mut solution = model.solve().expect("solves");
        let duals = solution.compute_dual();
        let (sum, cap) = (duals.dual(sum), duals.dual(cap));
        assert!((sum - 1.0).abs() < 1e-6, "{sum}");
        assert!((cap + 1.0).abs() < 1e-6, "{cap}");

        // min 3x  s.t.  x >= 2,  x <= 10. Raising 2 costs 3; the cap does not bind.
        let mut problem = ProblemVariables::new();
        let x = problem.add(variable().min(0.0));
        let mut model = problem.minimise(3.0 * x).using(clarabel);
        let floor = model.add_constraint(constraint::geq(x, 2.0));
        let cap = model.add_constraint(constraint::leq(x, 10.0));
        let mut solution = model.solve().expect("solves");
        let duals = solution.compute_dual();
        let (floor, cap) = (duals.dual(floor), duals.dual(cap));
        assert!((floor - 3.0).abs() < 1e-6, "{floor}");
        assert!(cap.abs() < 1e-6, "{cap}");
    }

    fn check_prices_against_duals(plan: &Plan) -> Result<(), TestCaseError> {
        let program = Program::build(plan);
        prop_assert!(!program.is_mixed_integer());
        let report = solve(plan, &SolveOptions::default())
            .map_err(|error| TestCaseError::fail(format!("solve: {error}")))?;
        prop_assume!(report.status == Status::Optimal);
        prop_assume!(held_exactly(&program, plan.objective, first_total(&report)));
        let Some(duals) = clarabel_duals(&program, plan.objective) else {
            return Err(TestCaseError::reject("clarabel did not solve"));
        };
        for (named, constraint) in program.named.iter().zip(&report.constraints) {
            let Measure::Linear(_) = named.measure else {
                continue;
            };
            let Some(ShadowPrice {
                up: Some(up),
                down: Some(down),
                ..
            }) = constraint.price
            else {
                continue;
            };
            // Only where the optimum is differentiable in the bound: there the dual
            // of the row is unique, whatever optimum an interior-point method ends at.
            if (up - down).abs() > 1e-6 * up.abs().max(1.0) {
                continue;
            }
            // The row is `expr (sense) bound - constant`: d/d(bound) = d/d(rhs).
            let dual = duals[named.row];
            prop_assert!(
                (dual - up).abs() <= 1e-4 * up.abs().max(1.0),
                "{}: shadow price {} but clarabel's dual is {}",
                named.name,
                up,
                dual
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(config(32))]

        #[test]
        fn linear_prices_match_clarabel_duals(plan in plan_strategy()) {
            check_prices_against_duals(&plan)?;
        }
    }
}

// ---------------------------------------------------------------------------------
// Backends: HiGHS and microlp give the same answers.

/// With the `highs` feature, every random plan is solved by both engines: the
/// status, the first objective (up to round-off), and every price must agree, since
/// explanations do not depend on which engine found the plan. Whole-unit drivers
/// are included: the plan is made mixed-integer by marking its drivers `integer`.
#[cfg(feature = "highs")]
mod backends {
    use super::*;
    use tradeoff::analysis::PlanReport;
    use tradeoff::solve::Backend;

    fn solve_with(plan: &Plan, backend: Backend) -> Result<PlanReport, TestCaseError> {
        let options = SolveOptions {
            solver: SolverChoice::Only(backend),
            ..SolveOptions::default()
        };
        solve(plan, &options)
            .map_err(|error| TestCaseError::fail(format!("{} failed: {error}", backend.name())))
    }

    fn close(a: f64, b: f64, scale: f64) -> bool {
        (a - b).abs() <= 1e-6 * scale.max(1.0)
    }

    fn check_backends_agree(plan: &Plan) -> Result<(), TestCaseError> {
        let microlp = solve_with(plan, Backend::Microlp)?;
        let highs = solve_with(plan, Backend::Highs)?;
        prop_assert_eq!(microlp.solver.name, "microlp");
        prop_assert_eq!(highs.solver.name, "highs");
        prop_assert_eq!(microlp.status, highs.status);
        if microlp.status != Status::Optimal {
            return Ok(());
        }
        let scale = Optimum::of(&microlp).magnitude;
        prop_assert!(
            close(first_total(&microlp), first_total(&highs), scale),
            "first objective: microlp {} vs HiGHS {}",
            first_total(&microlp),
            first_total(&highs)
        );
        for (ours, theirs) in microlp.constraints.iter().zip(&highs.constraints) {
            let (Some(ours_price), Some(theirs_price)) = (ours.price, theirs.price) else {
                continue;
            };
            // A different optimal vertex may make a constraint binding under one
            // engine only; prices are compared where both see the same plan side.
            if ours.binding != theirs.binding {
                continue;
            }
            for (a, b) in [
                (ours_price.up, theirs_price.up),
                (ours_price.down, theirs_price.down),
            ] {
                if let (Some(a), Some(b)) = (a, b) {
                    prop_assert!(
                        (a - b).abs() <= 1e-5 * a.abs().max(1.0),
                        "{}: price {} (microlp) vs {} (HiGHS)",
                        ours.name,
                        a,
                        b
                    );
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(config(32))]

        #[test]
        fn highs_and_microlp_agree_on_linear_plans(plan in plan_strategy()) {
            check_backends_agree(&plan)?;
        }

        #[test]
        fn highs_and_microlp_agree_on_whole_unit_plans(plan in plan_strategy()) {
            let mut plan = plan;
            for driver in &mut plan.drivers {
                driver.integer = true;
            }
            check_backends_agree(&plan)?;
        }
    }
}
