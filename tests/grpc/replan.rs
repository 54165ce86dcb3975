//! Re-plans (docs/MODEL.md §6) end to end on `tests/plans/replan.json`: `ae` earns
//! 30 a unit and `sdr` 12, both at unit cost 10 and at most 4 a quarter, budget
//! 100; the plan in force hires 2 AEs each quarter and 2 SDRs in Q1 and Q2 (spend
//! 100, revenue 228). Every number is worked out by hand beside it.

use super::*;

fn replan_plan() -> pb::Plan {
    plan_file("replan.json")
}

fn replan(plan: &mut pb::Plan) -> &mut pb::Replan {
    plan.replan.as_mut().expect("a re-plan")
}

fn revenue(result: &pb::PlanResult) -> f64 {
    result.totals.as_ref().expect("totals").revenue
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_optimal_replan_closest_to_the_plan_in_force() {
    // The optimum puts all 100 into AEs (300): 4 SDRs out and 4 AEs in, 80 moved.
    // The budget moves them: one more dollar buys 0.1 AE, +3.
    let mut server = start().await;
    for solver in engines() {
        let result = optimize_with(&mut server, replan_plan(), on(solver)).await;
        assert_rel(revenue(&result), 300.0, "revenue");
        assert_some_rel(result.money_moved, 80.0, "money moved");
        let sdr = driver(&result, "sdr");
        assert_some_rel(sdr.money_moved, 40.0, "SDR money moved");
        let q1 = &sdr.periods[0];
        assert_some_rel(q1.current_units, 2.0, "SDRs in force in Q1");
        assert_rel(q1.change, -2.0, "SDR change in Q1");
        assert_eq!(q1.moved_by, ["budget_cap"], "{q1:?}");
        assert_prices(&result, "budget_cap", 3.0, 3.0);
    }
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_on_the_money_moved_and_its_price() {
    // 40 may move: 2 swaps of an SDR for an AE (20 moved and +18 each): 264. Each
    // extra unit of money moved buys 18 / 20 = 0.9, until 80 (every SDR swapped).
    let mut server = start().await;
    let mut plan = replan_plan();
    replan(&mut plan).max_change = Some(40.0);
    for solver in engines() {
        let result = optimize_with(&mut server, plan.clone(), on(solver)).await;
        assert_rel(revenue(&result), 264.0, "revenue");
        assert_prices(&result, "replan.max_change", 0.9, 0.9);
        let cap = constraint(&result, "replan.max_change");
        assert_some_rel(cap.up_price_holds_to, 80.0, "up range");
        assert_eq!(cap.unit, pb::BoundUnit::Money as i32);
        let ae = driver(&result, "ae");
        let moved_by = ae
            .periods
            .iter()
            .find(|p| p.change > 0.0)
            .map(|p| p.moved_by.clone())
            .expect("an AE period moves");
        assert!(
            moved_by.contains(&"replan.max_change".to_string()),
            "{moved_by:?}"
        );
    }
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_loss_and_a_locked_period() {
    // Up to 10 % less revenue (>= 270): 7/3 swaps, 140/3 moved.
    let mut server = start().await;
    let mut plan = replan_plan();
    replan(&mut plan).max_objective_loss = 0.1;
    // In force AEs 4, 4, 2 and no SDR, Q1 locked, budget 80: Q2 and Q3 keep 4 of
    // their 6 AEs: 20 moved, revenue 240.
    let mut locked = replan_plan();
    locked.budget_cap = Some(80.0);
    replan(&mut locked).current[0].units = vec![4.0, 4.0, 2.0];
    replan(&mut locked).current[1].units = vec![0.0; 3];
    replan(&mut locked).locked_periods = vec!["Q1".into()];
    for solver in engines() {
        let result = optimize_with(&mut server, plan.clone(), on(solver)).await;
        assert_rel(revenue(&result), 270.0, "revenue with a loss allowed");
        assert_some_rel(result.money_moved, 140.0 / 3.0, "money moved");
        let result = optimize_with(&mut server, locked.clone(), on(solver)).await;
        assert_rel(revenue(&result), 240.0, "revenue with Q1 locked");
        assert_some_rel(result.money_moved, 20.0, "money moved with Q1 locked");
        assert_rel(driver(&result, "ae").periods[0].units, 4.0, "Q1 kept");
    }
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_past_a_cap_is_diagnosed() {
    let mut server = start().await;
    let mut plan = replan_plan();
    replan(&mut plan).current[0].units = vec![5.0, 2.0, 2.0];
    replan(&mut plan).locked_periods = vec!["Q1".into()];
    for solver in engines() {
        let result = optimize_with(&mut server, plan.clone(), on(solver)).await;
        assert_eq!(status(&result), pb::SolveStatus::Infeasible);
        let diagnosis = result.diagnosis.as_ref().expect("a diagnosis");
        assert!(
            diagnosis
                .audit
                .iter()
                .any(|finding| finding.contains("driver[ae] is locked at 5 units in Q1")),
            "{diagnosis:?}"
        );
    }
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_and_the_disruption_frontier() {
    // max_change 20: one swap, 228 + 18 = 246. The frontier over max_change from 0
    // to 120 is 228 + 0.9 x up to 80, then 300.
    let mut server = start().await;
    let request = scenarios_on(
        replan_plan(),
        vec![scenario(
            "twenty",
            pb::ScenarioOverrides {
                max_change: Some(20.0),
                ..Default::default()
            },
        )],
    );
    let results = run_scenarios(&mut server, request)
        .await
        .expect("scenarios");
    assert_some_rel(
        results["twenty"].totals.as_ref().map(|t| t.revenue),
        246.0,
        "twenty",
    );
    // A cap on the money moved needs a re-plan to cap.
    let mut plain = replan_plan();
    plain.replan = None;
    let request = scenarios_on(
        plain,
        vec![scenario(
            "no_replan",
            pb::ScenarioOverrides {
                max_change: Some(20.0),
                ..Default::default()
            },
        )],
    );
    let results = run_scenarios(&mut server, request)
        .await
        .expect("scenarios");
    let error = results["no_replan"].error.as_ref().expect("an error");
    assert_eq!(
        error.field_violations[0].field,
        "scenarios[0].overrides.max_change"
    );
    for solver in engines() {
        let frontier = server
            .client
            .frontier(pb::FrontierRequest {
                plan: Some(replan_plan()),
                over: pb::SweptBound::MaxChange as i32,
                from: 0.0,
                to: 120.0,
                options: Some(on(solver)),
                ..Default::default()
            })
            .await
            .expect("frontier")
            .into_inner()
            .frontier
            .expect("a frontier");
        assert!(frontier.exact && frontier.complete, "{frontier:?}");
        assert_eq!(frontier.bound_name, "replan.max_change");
        let points: Vec<(f64, f64)> = frontier
            .points
            .iter()
            .map(|p| (p.bound, p.totals.as_ref().expect("totals").revenue))
            .collect();
        assert_eq!(points.len(), 3, "{points:?}");
        for ((bound, revenue), (want_bound, want_revenue)) in
            points
                .iter()
                .zip([(0.0, 228.0), (80.0, 300.0), (120.0, 300.0)])
        {
            assert_rel(*bound, want_bound, "breakpoint");
            assert_rel(*revenue, want_revenue, "revenue at the breakpoint");
        }
        assert_some_rel(frontier.points[0].slope_after, 0.9, "slope");
    }
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluate_counts_the_money_an_allocation_moves() {
    // AEs 4, 4, 2 and no SDR against the plan in force: 4 AE units and 4 SDR units
    // moved, 80 of money; with Q1 locked the allocation breaks the lock on both.
    let mut server = start().await;
    let allocation = pb::Allocation {
        drivers: vec![pb::DriverAllocation {
            driver_id: "ae".into(),
            units: vec![4.0, 4.0, 2.0],
        }],
    };
    let evaluate = |plan: pb::Plan| pb::EvaluateRequest {
        plan: Some(plan),
        allocation: Some(allocation.clone()),
        options: None,
    };
    let evaluation = server
        .client
        .evaluate(evaluate(replan_plan()))
        .await
        .expect("evaluate")
        .into_inner()
        .evaluation
        .expect("an evaluation");
    let given = evaluation.given.as_ref().expect("given");
    assert_some_rel(given.money_moved, 80.0, "money moved");
    assert!(evaluation.feasible, "{:?}", evaluation.violations);
    let mut locked = replan_plan();
    replan(&mut locked).locked_periods = vec!["Q1".into()];
    let evaluation = server
        .client
        .evaluate(evaluate(locked))
        .await
        .expect("evaluate")
        .into_inner()
        .evaluation
        .expect("an evaluation");
    let names: Vec<&str> = evaluation
        .violations
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(names, ["driver[ae].locked[Q1]", "driver[sdr].locked[Q1]"]);
    server.stop().await.expect("clean shutdown");
}
