//! Explanation tests on docs/MODEL.md §4 and small variants; expected prices, ranges and
//! relaxations are worked out by hand beside each assertion.

use crate::analysis::{solve, PlanReport};
use crate::model::fixtures::{driver, plan, worked_example};
use crate::model::Objective;
use crate::solve::{SolveOptions, Status};

fn solved(plan: &crate::model::Plan) -> PlanReport {
    solve(plan, &SolveOptions::default()).expect("solve")
}

#[track_caller]
fn assert_close(actual: Option<f64>, expected: f64) {
    let actual = actual.expect("a value");
    assert!(
        (actual - expected).abs() <= 1e-6 * expected.abs().max(1.0),
        "expected {expected}, got {actual}"
    );
}

#[test]
fn budget_price_in_case_one_is_b_rate_between_50_and_450() {
    // One more unit of budget buys 1.5 of revenue through b (docs/MODEL.md §4). Raising
    // the cap keeps that rate until the margin floor binds: with a = 50 and b = x,
    // 0.8 (150 + 1.5 x) - (50 + x) >= 0.2 (150 + 1.5 x) gives x <= 400, a budget of
    // 450. Lowering it takes money out of b at 1.5 until b = 0 at a budget of 50.
    let report = solved(&worked_example(0.2));
    let price = report.constraint("budget_cap").price.expect("priced");
    assert_close(price.up, 1.5);
    assert_close(price.down, 1.5);
    assert_close(price.up_until, 450.0);
    assert_close(price.down_until, 50.0);
    // The margin floor does not bind: 0 both ways, until it reaches the plan's margin
    // 80 / 225 from below.
    let margin = report
        .constraint("requirements.min_margin")
        .price
        .expect("priced");
    assert_close(margin.up, 0.0);
    assert_close(margin.down, 0.0);
    assert_close(margin.up_until, 80.0 / 225.0);
    assert_eq!(margin.down_until, None);
    assert!(!report.prices_with_integers_fixed);
}

#[test]
fn margin_price_in_case_two_is_the_derivative_of_revenue() {
    // With the floor m binding, b = x solves (0.8 - m)(150 + 1.5 x) = 50 + x, so
    // x(m) = (70 - 150 m) / (1.5 m - 0.2) and dx/dm = -75 / (1.5 m - 0.2)^2 = -468.75
    // at m = 0.4; revenue 150 + 1.5 x moves by 1.5 * -468.75 = -703.125 per 1.0 of
    // margin (-7.03 per point), from both sides.
    let report = solved(&worked_example(0.4));
    let price = report
        .constraint("requirements.min_margin")
        .price
        .expect("priced");
    assert_close(price.up, -703.125);
    assert_close(price.down, -703.125);
    // The budget does not bind (spend 75): 0, and it may fall to 75.
    let budget = report.constraint("budget_cap").price.expect("priced");
    assert_close(budget.up, 0.0);
    assert_close(budget.down, 0.0);
    assert_close(budget.down_until, 75.0);
    assert_eq!(budget.up_until, None);
}

#[test]
fn prices_differ_at_a_kink() {
    // Budget exactly 50: a's first segment (3.0) is just used up. Raising the budget
    // buys b at 1.5 (up to 450 as in case one); lowering it gives up a's first
    // segment at 3.0, all the way down to 0.
    let mut plan = worked_example(0.2);
    plan.budget_cap = Some(50.0);
    let report = solved(&plan);
    let price = report.constraint("budget_cap").price.expect("priced");
    assert_close(price.up, 1.5);
    assert_close(price.down, 3.0);
    assert_close(price.up_until, 450.0);
    assert_close(price.down_until, 0.0);
}

#[test]
fn prices_of_a_spend_objective_are_in_spend() {
    // Minimise spend for a target of 180: the last 30 of revenue come from b at 1.5
    // per dollar, so each unit of target costs 1 / 1.5 = 0.667 of spend, up to the
    // 225 a budget of 100 buys, and down to 150, where b is no longer needed.
    let mut plan = worked_example(0.2);
    plan.requirements.revenue_target = Some(180.0);
    plan.objective = Objective::MinimizeSpend;
    let report = solved(&plan);
    let price = report
        .constraint("requirements.revenue_target")
        .price
        .expect("priced");
    assert_close(price.up, 1.0 / 1.5);
    assert_close(price.down, 1.0 / 1.5);
    assert_close(price.up_until, 225.0);
    assert_close(price.down_until, 150.0);
}

#[test]
fn raising_a_binding_floor_past_what_is_possible_has_no_price() {
    // Target 225 is exactly what the budget buys: one more unit of target is
    // infeasible (no value), one less frees spend at 1 / 1.5 per unit of revenue
    // under MINIMIZE_SPEND.
    let mut plan = worked_example(0.2);
    plan.requirements.revenue_target = Some(225.0);
    plan.objective = Objective::MinimizeSpend;
    let report = solved(&plan);
    let price = report
        .constraint("requirements.revenue_target")
        .price
        .expect("priced");
    assert_eq!(price.up, None);
    assert_close(price.down, 1.0 / 1.5);
}

#[test]
fn case_three_diagnosis_names_budget_and_target() {
    // docs/MODEL.md §4: feasible with budget_cap 116.67 (b = 66.67: 150 + 100 = 250
    // for a spend of 50 + 66.67) or with revenue_target 225; the margin floor alone
    // cannot help (without it the budget still buys only 225).
    let mut plan = worked_example(0.2);
    plan.requirements.revenue_target = Some(250.0);
    let report = solved(&plan);
    assert_eq!(report.status, Status::Infeasible);
    let diagnosis = report.diagnosis.expect("diagnosis");
    let relaxation = |name: &str| {
        diagnosis
            .relaxations
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no relaxation {name}"))
            .clone()
    };
    assert_close(relaxation("budget_cap").alone, 350.0 / 3.0);
    assert_close(relaxation("requirements.revenue_target").alone, 225.0);
    assert_eq!(relaxation("requirements.min_margin").alone, None);
    // Combined, least relative change: lowering the target by 25 costs 25 / 250 =
    // 0.1; reaching it by budget costs 16.67 / 100 = 0.167. So only the target moves.
    assert!(diagnosis.combined_exact);
    assert_close(relaxation("requirements.revenue_target").combined, 225.0);
    assert_close(relaxation("budget_cap").combined, 100.0);
    assert!(diagnosis.audit.is_empty(), "{:?}", diagnosis.audit);
}

#[test]
fn margin_floors_relax_alone_to_the_margin_a_plan_reaches() {
    // Baseline revenue 100 with fixed costs 90 (contribution 10); a driver earning
    // 2 per dollar at gross margin 0.8 (+0.6 contribution, +2 revenue per dollar) must
    // commit 100 units: revenue 300, contribution 70, margin 0.2333. A floor of 0.3 is
    // infeasible; alone it must fall to 70 / 300 = 0.2333.
    let mut d = driver("d", 0.8, &[(None, 2.0)], 1);
    d.min_units = vec![100.0];
    let mut plan = plan(&["total"], vec![d]);
    plan.periods[0].baseline_revenue = 100.0;
    plan.periods[0].fixed_costs = 90.0;
    plan.budget_cap = Some(100.0);
    plan.requirements.min_margin = Some(0.3);
    let report = solved(&plan);
    assert_eq!(report.status, Status::Infeasible);
    let diagnosis = report.diagnosis.expect("diagnosis");
    let margin = diagnosis
        .relaxations
        .iter()
        .find(|r| r.name == "requirements.min_margin")
        .expect("margin");
    let alone = margin.alone.expect("relaxable alone");
    // Exactly, to round-off: the margin's extreme is reached by a plan (the
    // minimum's 100 units), not bisected to within a bracket (forty halvings
    // of [0.3 - 1, 0.3] leave 1e-12).
    assert!((alone - 70.0 / 300.0).abs() < 1e-14, "{alone}");
    // Each unit adds 0.6 of contribution per 2 of revenue (a marginal margin of
    // exactly 0.3), so the margin (10 + 0.6 x) / (100 + 2 x) approaches 0.3 from
    // below and never reaches it: neither fewer units (the minimum) nor more (the
    // budget) can help alone.
    let minimum = diagnosis
        .relaxations
        .iter()
        .find(|r| r.name == "driver[d].min_units[total]")
        .expect("minimum");
    assert_eq!(minimum.alone, None);
    let budget = diagnosis
        .relaxations
        .iter()
        .find(|r| r.name == "budget_cap")
        .expect("budget");
    assert_eq!(budget.alone, None);
}

#[test]
fn audit_names_minimums_above_the_budget() {
    // b must commit 150 units at 1 each: 150 of spend against a cap of 100.
    let mut plan = worked_example(0.2);
    plan.drivers[1].min_units = vec![150.0];
    let report = solved(&plan);
    assert_eq!(report.status, Status::Infeasible);
    let diagnosis = report.diagnosis.expect("diagnosis");
    assert!(
        diagnosis
            .audit
            .iter()
            .any(|finding| finding.contains("150.00") && finding.contains("budget_cap")),
        "{:?}",
        diagnosis.audit
    );
}

#[test]
fn break_even_scale_says_when_funding_changes() {
    // Case one: b (1.5 per dollar) loses its money once its rate falls below a's
    // second segment (1.0): at a factor of 1 / 1.5 = 0.667.
    let report = solved(&worked_example(0.2));
    let b = report.drivers.iter().find(|d| d.id == "b").expect("b");
    let scale = b.break_even_scale.expect("computed");
    assert!((scale - 2.0 / 3.0).abs() < 1e-4, "{scale}");
    // c earns 0.5 per dollar and gets nothing; it would be funded once that beats
    // b's 1.5: a factor of 3.
    let mut plan = worked_example(0.2);
    plan.drivers.push(driver("c", 0.8, &[(None, 0.5)], 1));
    let report = solved(&plan);
    let c = report.drivers.iter().find(|d| d.id == "c").expect("c");
    let scale = c.break_even_scale.expect("computed");
    assert!((scale - 3.0).abs() < 1e-4, "{scale}");
}

#[test]
fn integer_plans_are_priced_with_whole_units_fixed() {
    let mut ae = driver("ae", 0.8, &[(None, 100.0)], 1);
    ae.unit_cost = 30.0;
    ae.integer = true;
    let mut plan = plan(&["total"], vec![ae, driver("b", 0.8, &[(None, 1.5)], 1)]);
    plan.budget_cap = Some(100.0);
    let report = solved(&plan);
    assert!(report.prices_with_integers_fixed);
    // With 3 AEs fixed, the last budget goes to b: 1.5 per unit, both ways.
    let price = report.constraint("budget_cap").price.expect("priced");
    assert_close(price.up, 1.5);
    assert_close(price.down, 1.5);
    // ... down to 90, where b has nothing left to give.
    assert_close(price.down_until, 90.0);
}

#[test]
fn explanations_can_be_skipped() {
    let options = SolveOptions {
        explain: false,
        ..SolveOptions::default()
    };
    let report = solve(&worked_example(0.2), &options).expect("solve");
    assert!(report.constraints.iter().all(|c| c.price.is_none()));
    assert!(report.drivers.iter().all(|d| d.break_even_scale.is_none()));
}
