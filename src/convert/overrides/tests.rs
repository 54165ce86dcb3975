//! Overrides on docs/MODEL.md §4's worked example, every expected number worked out by
//! hand in the comments.
//!
//! The base: one period, no baseline, budget_cap 100, gross margins 0.8,
//! min_margin 0.2, maximise revenue. `a` (unit cost 1): 50 units at 3.0, then
//! unbounded at 1.0. `b` (unit cost 1): unbounded at 1.5. Its optimum: a = 50,
//! b = 50, revenue 225, spend 100.

use std::collections::BTreeMap;

use super::apply;
use crate::convert::Limits;
use crate::pb;
use crate::planner::{scenario_batch, ScenarioBatch};

const EPS: f64 = 1e-6;

fn segment(units: Option<f64>, revenue_per_unit: f64) -> pb::Segment {
    pb::Segment {
        units,
        revenue_per_unit,
    }
}

/// The §4 base, without an explicit period (the default single `total`).
fn base() -> pb::Plan {
    pb::Plan {
        name: "worked-example".into(),
        budget_cap: Some(100.0),
        drivers: vec![
            pb::Driver {
                id: "a".into(),
                gross_margin: Some(0.8),
                response: vec![segment(Some(50.0), 3.0), segment(None, 1.0)],
                ..Default::default()
            },
            pb::Driver {
                id: "b".into(),
                gross_margin: Some(0.8),
                response: vec![segment(None, 1.5)],
                ..Default::default()
            },
        ],
        requirements: Some(pb::Requirements {
            min_margin: Some(0.2),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn batch() -> ScenarioBatch {
    scenario_batch(Some(&base()), None, &Limits::default()).expect("the base is valid")
}

fn run(overrides: pb::ScenarioOverrides) -> pb::ScenarioResult {
    let scenario = pb::Scenario {
        id: "s".into(),
        overrides: Some(overrides),
    };
    batch().run(3, &scenario, None)
}

fn map(entries: &[(&str, f64)]) -> BTreeMap<String, f64> {
    entries
        .iter()
        .map(|&(key, value)| (key.to_string(), value))
        .collect()
}

#[track_caller]
fn assert_solved(result: &pb::ScenarioResult, revenue: f64, spend: f64, units: &[f64]) {
    assert_eq!(result.error, None, "{result:?}");
    assert_eq!(result.status, pb::SolveStatus::Optimal as i32, "{result:?}");
    let totals = result.totals.clone().unwrap_or_default();
    assert!((totals.revenue - revenue).abs() < EPS, "revenue {result:?}");
    assert!((totals.spend - spend).abs() < EPS, "spend {result:?}");
    let got: Vec<f64> = result.drivers.iter().map(|driver| driver.units).collect();
    assert_eq!(got.len(), units.len(), "{result:?}");
    for (got, expected) in got.iter().zip(units) {
        assert!((got - expected).abs() < EPS, "units {result:?}");
    }
}

#[track_caller]
fn assert_violations(result: &pb::ScenarioResult, fields: &[&str]) {
    let error = result.error.as_ref().expect("an invalid scenario");
    assert_eq!(error.code, "INVALID_ARGUMENT");
    let got: Vec<&str> = error
        .field_violations
        .iter()
        .map(|violation| violation.field.as_str())
        .collect();
    assert_eq!(got, fields, "{error:?}");
    assert_eq!(result.status, pb::SolveStatus::Unspecified as i32);
}

#[test]
fn no_overrides_is_the_base() {
    // §4 case 1: a = 50, b = 50, revenue 50 * 3 + 50 * 1.5 = 225, spend 100.
    assert_solved(&run(Default::default()), 225.0, 100.0, &[50.0, 50.0]);
}

#[test]
fn budget_cap() {
    // 80: a's first 50 (150), then b with the remaining 30 (45): revenue 195.
    let result = run(pb::ScenarioOverrides {
        budget_cap: Some(80.0),
        ..Default::default()
    });
    assert_solved(&result, 195.0, 80.0, &[50.0, 30.0]);
}

#[test]
fn period_budget_cap_on_the_default_period() {
    // `total` capped at 60: a's first 50 (150), b 10 (15): revenue 165, spend 60.
    let result = run(pb::ScenarioOverrides {
        period_budget_caps: map(&[("total", 60.0)]),
        ..Default::default()
    });
    assert_solved(&result, 165.0, 60.0, &[50.0, 10.0]);
}

#[test]
fn min_margin() {
    // §4 case 2: 0.8 R - S >= 0.4 R caps spend at 0.4 R; a = 50, b = 25:
    // revenue 150 + 37.5 = 187.5, spend 75.
    let result = run(pb::ScenarioOverrides {
        min_margin: Some(0.4),
        ..Default::default()
    });
    assert_solved(&result, 187.5, 75.0, &[50.0, 25.0]);
}

#[test]
fn revenue_target_beyond_reach_is_infeasible() {
    // §4 case 3: 225 is the most 100 buys, so 250 is out of reach.
    let result = run(pb::ScenarioOverrides {
        revenue_target: Some(250.0),
        ..Default::default()
    });
    assert_eq!(result.error, None);
    assert_eq!(result.status, pb::SolveStatus::Infeasible as i32);
}

#[test]
fn min_contribution_beyond_reach_is_infeasible() {
    // Contribution per unit: a's first segment 0.8 * 3 - 1 = 1.4, b 0.8 * 1.5 - 1
    // = 0.2, a's second 0.8 - 1 = -0.2. At most 50 * 1.4 + 50 * 0.2 = 80 < 85.
    let result = run(pb::ScenarioOverrides {
        min_contribution: Some(85.0),
        ..Default::default()
    });
    assert_eq!(result.status, pb::SolveStatus::Infeasible as i32);
}

#[test]
fn min_roi() {
    // R - 2.5 S >= 0: a = 50 gives 150 - 125 = 25 of room; each unit of b uses
    // 2.5 - 1.5 = 1, so b = 25: revenue 150 + 37.5 = 187.5, spend 75.
    let result = run(pb::ScenarioOverrides {
        min_roi: Some(2.5),
        ..Default::default()
    });
    assert_solved(&result, 187.5, 75.0, &[50.0, 25.0]);
}

#[test]
fn objective_minimize_spend() {
    // Reaching revenue 150 at least spend: a's first 50 units at 3.0 cost 50.
    let result = run(pb::ScenarioOverrides {
        objective: pb::Objective::MinimizeSpend as i32,
        revenue_target: Some(150.0),
        ..Default::default()
    });
    assert_solved(&result, 150.0, 50.0, &[50.0, 0.0]);
}

#[test]
fn revenue_scale() {
    // b at 0.5 * 1.5 = 0.75 falls below a's second segment (1.0): a takes all
    // 100 units: revenue 150 + 50 = 200. Margin 0.8 * 200 - 100 = 60 >= 0.2 * 200.
    let result = run(pb::ScenarioOverrides {
        revenue_scale: map(&[("b", 0.5)]),
        ..Default::default()
    });
    assert_solved(&result, 200.0, 100.0, &[100.0, 0.0]);
}

#[test]
fn cost_scale() {
    // b at unit cost 2 earns 1.5 / 2 = 0.75 per dollar, below a's second segment:
    // a = 100 for 150 + 50 = 200, b = 0.
    let result = run(pb::ScenarioOverrides {
        cost_scale: map(&[("b", 2.0)]),
        ..Default::default()
    });
    assert_solved(&result, 200.0, 100.0, &[100.0, 0.0]);
}

#[test]
fn max_units() {
    // b capped at 20: a 50 (150), b 20 (30), a's second segment takes the last 30
    // (30): a = 80, revenue 210.
    let result = run(pb::ScenarioOverrides {
        max_units: map(&[("b", 20.0)]),
        ..Default::default()
    });
    assert_solved(&result, 210.0, 100.0, &[80.0, 20.0]);
}

#[test]
fn min_units() {
    // a at least 90: 50 * 3 + 40 * 1 = 190, b gets the last 10 (15): revenue 205.
    let result = run(pb::ScenarioOverrides {
        min_units: map(&[("a", 90.0)]),
        ..Default::default()
    });
    assert_solved(&result, 205.0, 100.0, &[90.0, 10.0]);
}

#[test]
fn excluded_driver() {
    // Without b, a takes the whole budget: 150 + 50 = 200.
    let result = run(pb::ScenarioOverrides {
        excluded_drivers: vec!["b".into()],
        ..Default::default()
    });
    assert_solved(&result, 200.0, 100.0, &[100.0, 0.0]);
}

#[test]
fn overrides_leave_the_base_alone() {
    let base = base();
    let applied = apply(
        &base,
        &pb::ScenarioOverrides {
            budget_cap: Some(1.0),
            revenue_scale: map(&[("a", 2.0)]),
            ..Default::default()
        },
        "scenarios[0].overrides",
    )
    .expect("valid overrides");
    assert_eq!(applied.plan.budget_cap, Some(1.0));
    assert_eq!(applied.plan.drivers[0].response[0].revenue_per_unit, 6.0);
    assert_eq!(base, self::base());
}

#[test]
fn unknown_names_and_bad_factors_are_located() {
    let result = run(pb::ScenarioOverrides {
        period_budget_caps: map(&[("Q9", 1.0)]),
        revenue_scale: map(&[("a", -1.0), ("zz", 1.0)]),
        cost_scale: map(&[("b", f64::NAN)]),
        max_units: map(&[("nope", 1.0)]),
        objective: 99,
        excluded_drivers: vec!["ghost".into()],
        ..Default::default()
    });
    assert_violations(
        &result,
        &[
            "scenarios[3].overrides.period_budget_caps[Q9]",
            "scenarios[3].overrides.objective",
            "scenarios[3].overrides.revenue_scale[a]",
            "scenarios[3].overrides.revenue_scale[zz]",
            "scenarios[3].overrides.cost_scale[b]",
            "scenarios[3].overrides.max_units[nope]",
            "scenarios[3].overrides.excluded_drivers[0]",
        ],
    );
}

#[test]
fn plan_rules_broken_by_overrides_point_at_the_override() {
    // A zero cost scale makes b's unit cost 0 (must be > 0); a negative cap and a
    // margin of 1.5 break their ranges.
    let result = run(pb::ScenarioOverrides {
        budget_cap: Some(-5.0),
        min_margin: Some(1.5),
        cost_scale: map(&[("b", 0.0)]),
        ..Default::default()
    });
    assert_violations(
        &result,
        &[
            "scenarios[3].overrides.budget_cap",
            "scenarios[3].overrides.cost_scale[b]",
            "scenarios[3].overrides.min_margin",
        ],
    );
}

#[test]
fn excluded_driver_with_a_minimum_is_refused() {
    let result = run(pb::ScenarioOverrides {
        min_units: map(&[("b", 5.0)]),
        excluded_drivers: vec!["b".into()],
        ..Default::default()
    });
    assert_violations(&result, &["scenarios[3].overrides.excluded_drivers[0]"]);
}

#[test]
fn missing_id_is_refused() {
    let result = batch().run(7, &pb::Scenario::default(), None);
    assert_violations(&result, &["scenarios[7].id"]);
}

#[test]
fn invalid_base_is_reported_under_base() {
    let mut plan = base();
    plan.drivers[1].unit_cost = Some(-1.0);
    let Err(crate::Error::Plan(crate::convert::PlanError::Invalid(violations))) =
        scenario_batch(Some(&plan), None, &Limits::default())
    else {
        panic!("an invalid base");
    };
    assert_eq!(violations[0].field, "base.drivers[1].unit_cost");
}

#[test]
fn a_pool_delivers_every_scenario_once_and_stops_when_nobody_listens() {
    let scenarios: Vec<(usize, pb::Scenario)> = (0..20)
        .map(|k| {
            let overrides = pb::ScenarioOverrides {
                budget_cap: Some(100.0 + 10.0 * k as f64),
                ..Default::default()
            };
            let scenario = pb::Scenario {
                id: format!("s{k}"),
                overrides: Some(overrides),
            };
            (k, scenario)
        })
        .collect();
    let results = std::sync::Mutex::new(Vec::new());
    batch().run_on_threads(&scenarios, 3, |result| {
        results.lock().expect("no panics").push(result);
        true
    });
    let mut results = results.into_inner().expect("no panics");
    assert_eq!(results.len(), 20);
    results.sort_by_key(|result| result.scenario_id[1..].parse::<usize>().expect("s<k>"));
    for (k, result) in results.iter().enumerate() {
        // Budget B = 100 + 10 k (at most 290, below the 450 where the margin floor
        // binds): a keeps its 50 units at 3.0, b gets B - 50 at 1.5.
        let budget = 100.0 + 10.0 * k as f64;
        assert_eq!(result.scenario_id, format!("s{k}"));
        assert_solved(
            result,
            150.0 + 1.5 * (budget - 50.0),
            budget,
            &[50.0, budget - 50.0],
        );
    }
    // Nobody takes results after the first: the one thread stops there.
    let delivered = std::sync::atomic::AtomicUsize::new(0);
    batch().run_on_threads(&scenarios, 1, |_| {
        delivered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        false
    });
    assert_eq!(delivered.into_inner(), 1);
}
