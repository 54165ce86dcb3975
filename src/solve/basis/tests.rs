//! The basis against hand-computed programs and re-solves.

use super::*;
use crate::model::{fixtures, Objective};
use crate::solve::{first_optimum, Optimum};

/// Linear constraint `name` of `program`, explored far on both sides.
fn wanted(program: &Program, name: &str) -> Wanted {
    let index = program
        .named
        .iter()
        .position(|named| named.name == name)
        .expect("named constraint");
    Wanted {
        index,
        factor: 1.0,
        far: [1e9, 1e9],
    }
}

/// The first objective's optimal values on `program`.
fn vertex(program: &Program, plan: &crate::model::Plan) -> Vec<f64> {
    let Ok(Optimum::Value(_, vertex)) = first_optimum(program, plan.objective, None) else {
        panic!("the plan solves");
    };
    vertex
}

fn sides(plan: &crate::model::Plan, name: &str) -> Option<[Side; 2]> {
    let program = Program::build(plan);
    let vertex = vertex(&program, plan);
    basis_sides(&program, plan.objective, &vertex, &[wanted(&program, name)]).map(|sides| sides[0])
}

#[track_caller]
fn assert_side(side: Side, rate: f64, reach: f64) {
    let (found_rate, found_reach) = side.expect("decided from the basis");
    let found_rate = found_rate.expect("a rate");
    assert!(
        (found_rate - rate).abs() < 1e-9,
        "rate {found_rate}, expected {rate}"
    );
    assert!(
        (found_reach - reach).abs() < 1e-6 || found_reach == reach,
        "reach {found_reach}, expected {reach}"
    );
}

#[test]
fn budget_price_and_range_in_case_one() {
    // docs/MODEL.md §4, min_margin 0.2: the budget buys b at 1.5 revenue per unit of
    // money. Up to 450, where the margin floor binds: with a = 50, b = x,
    // 0.8 (150 + 1.5 x) - (50 + x) >= 0.2 (150 + 1.5 x) gives x <= 400; down to
    // 50, where b = 0. From a budget of 100: 350 up, 50 down.
    let plan = fixtures::worked_example(0.2);
    let [up, down] = sides(&plan, "budget_cap").expect("an optimal basis");
    assert_side(up, 1.5, 350.0);
    assert_side(down, 1.5, 50.0);
}

#[test]
fn a_slack_constraint_costs_nothing() {
    // Case two (min_margin 0.4): the budget does not bind (spend 75 of 100).
    // Raising it changes nothing, ever; lowering it costs nothing down to 75,
    // where it starts to bind.
    let plan = fixtures::worked_example(0.4);
    let [up, down] = sides(&plan, "budget_cap").expect("an optimal basis");
    assert_side(up, 0.0, f64::INFINITY);
    assert_side(down, 0.0, 25.0);
}

#[test]
fn a_degenerate_vertex_gives_both_one_sided_rates() {
    // Budget exactly 50: a's first segment (3.0 per unit of money) is just used
    // up and b is at 0, a degenerate vertex. Raising the budget buys b at 1.5
    // (until 450, 400 further); lowering it gives up a's first segment at 3.0
    // all the way down to 0.
    let mut plan = fixtures::worked_example(0.2);
    plan.budget_cap = Some(50.0);
    let [up, down] = sides(&plan, "budget_cap").expect("an optimal basis");
    assert_side(up, 1.5, 400.0);
    assert_side(down, 3.0, 50.0);
}

#[test]
fn a_minimised_objective_is_priced_in_its_own_direction() {
    // Minimise spend for a revenue target of 180: the last 30 of revenue come
    // from b at 1.5 per unit of money, so each unit of target costs 1 / 1.5 of
    // spend, up to 225 (what a budget of 100 buys, 45 further) and down to
    // 150 (a's first segment alone, 30 lower).
    let mut plan = fixtures::worked_example(0.2);
    plan.requirements.revenue_target = Some(180.0);
    plan.objective = Objective::MinimizeSpend;
    let [up, down] = sides(&plan, "requirements.revenue_target").expect("an optimal basis");
    assert_side(up, 1.0 / 1.5, 45.0);
    assert_side(down, 1.0 / 1.5, 30.0);
}

#[test]
fn a_bound_that_cannot_move_has_no_rate() {
    // A target of 225 is exactly what the budget buys: raising it leaves no
    // plan at all (no rate, decided at once); lowering it saves 1 / 1.5 of
    // spend per unit down to 150.
    let mut plan = fixtures::worked_example(0.2);
    plan.requirements.revenue_target = Some(225.0);
    plan.objective = Objective::MinimizeSpend;
    let [up, down] = sides(&plan, "requirements.revenue_target").expect("an optimal basis");
    assert_eq!(up, Some((None, 0.0)));
    assert_side(down, 1.0 / 1.5, 75.0);
}

#[test]
fn values_that_are_not_a_vertex_give_no_basis() {
    // Case one with b's units split off the vertex: a = 40 (inside its first
    // segment) and b = 60 leave two variables free against one tight row.
    let plan = fixtures::worked_example(0.2);
    let program = Program::build(&plan);
    let mut values = vertex(&program, &plan);
    let a_first = program.segment_units[0][0][0];
    let b_only = program.segment_units[1][0][0];
    values[a_first] -= 10.0;
    values[b_only] += 10.0;
    let wanted = wanted(&program, "budget_cap");
    assert!(basis_sides(&program, plan.objective, &values, &[wanted]).is_none());
}
