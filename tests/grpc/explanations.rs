//! Explanations: shadow prices (docs/MODEL.md §3) on the worked example (§4), the
//! diagnosis of its infeasible case, and `skip_explanations`.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case1_prices_the_budget_at_1_5_from_50_to_450() {
    let mut server = start().await;
    let result = optimize(&mut server, worked_example(0.2, None)).await;
    assert_eq!(status(&result), pb::SolveStatus::Optimal, "{result:?}");
    // The objective is echoed: prices measure revenue.
    assert_eq!(result.objective, pb::Objective::MaximizeRevenue as i32);
    // A pure LP (see case 1 above): no integer variables to fix.
    assert!(!result.prices_with_integers_fixed, "{result:?}");
    // A solved plan has no diagnosis.
    assert!(result.diagnosis.is_none(), "{:?}", result.diagnosis);

    // Budget B: a keeps its first 50 units (3.0), b gets B - 50 at 1.5, so revenue
    // is 150 + 1.5 (B - 50) and each unit of budget earns 1.5, both ways.
    // Up: with b = x, the 0.2 margin floor binds when
    // 0.8 (150 + 1.5 x) - (50 + x) = 0.2 (150 + 1.5 x), i.e. 70 + 0.2 x = 30 + 0.3 x,
    // x = 400: a budget of 50 + 400 = 450. Beyond it, more budget buys nothing.
    // Down: below a budget of 50, b is gone and the money comes out of a's first
    // segment at 3.0, so 1.5 holds down to 50.
    assert_prices(&result, "budget_cap", 1.5, 1.5);
    let budget = constraint(&result, "budget_cap");
    assert_some_rel(
        budget.up_price_holds_to,
        450.0,
        "budget_cap.up_price_holds_to",
    );
    assert_some_rel(
        budget.down_price_holds_to,
        50.0,
        "budget_cap.down_price_holds_to",
    );

    // The margin floor does not bind (0.356 > 0.2): price 0 both ways.
    assert_prices(&result, "requirements.min_margin", 0.0, 0.0);

    // Every constraint was priced.
    assert!(
        result.constraints.iter().all(|c| c.priced),
        "{:?}",
        result.constraints
    );
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case2_prices_the_margin_floor_at_minus_703_125() {
    let mut server = start().await;
    let result = optimize(&mut server, worked_example(0.4, None)).await;
    assert_eq!(status(&result), pb::SolveStatus::Optimal, "{result:?}");

    // Floor m, a = 50, b = x: the floor binds, (0.8 - m)(150 + 1.5 x) = 50 + x, so
    // 70 - 150 m = x (1.5 m - 0.2) and x(m) = (70 - 150 m) / (1.5 m - 0.2) (25 at
    // m = 0.4). dx/dm = (-150 (1.5 m - 0.2) - 1.5 (70 - 150 m)) / (1.5 m - 0.2)^2
    // = -75 / (1.5 m - 0.2)^2 = -75 / 0.16 = -468.75 at m = 0.4, and
    // dR/dm = 1.5 dx/dm = -703.125 per 1.0 of margin, from both sides (x(m) is
    // smooth there: b stays above 0 up to m = 0.467, the budget slack down to
    // m = 0.356).
    assert_prices(&result, "requirements.min_margin", -703.125, -703.125);

    // The budget does not bind (75 of 100 spent): 0 both ways.
    assert_prices(&result, "budget_cap", 0.0, 0.0);
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case3_diagnosis_names_what_to_relax() {
    let mut server = start().await;
    let result = optimize(&mut server, worked_example(0.2, Some(250.0))).await;
    assert_eq!(status(&result), pb::SolveStatus::Infeasible, "{result:?}");
    let diagnosis = result.diagnosis.as_ref().expect("a diagnosis");

    // The relaxable constraints of this plan: the budget cap and both requirements.
    let mut names: Vec<&str> = diagnosis
        .relaxations
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        vec![
            "budget_cap",
            "requirements.min_margin",
            "requirements.revenue_target"
        ],
        "{diagnosis:?}"
    );
    let relaxation = |name: &str| {
        diagnosis
            .relaxations
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no relaxation {name} in {diagnosis:?}"))
    };

    // Budget alone: a = 50 (150), then b must add 100 at 1.5: b = 66.67, a budget
    // of 116.67. The floor holds: 0.6 * 250 = 150 >= 116.67.
    let budget = relaxation("budget_cap");
    assert_rel(budget.bound, 100.0, "budget_cap.bound");
    assert_some_rel(
        budget.alone_bound,
        50.0 + 100.0 / 1.5,
        "budget_cap.alone_bound",
    );
    // Target alone: 225 is what a budget of 100 buys (case 1).
    let target = relaxation("requirements.revenue_target");
    assert_rel(target.bound, 250.0, "revenue_target.bound");
    assert_some_rel(target.alone_bound, 225.0, "revenue_target.alone_bound");
    // The margin floor alone cannot: case 1 does not bind it, and the budget still
    // caps revenue at 225.
    let margin = relaxation("requirements.min_margin");
    assert_rel(margin.bound, 0.2, "min_margin.bound");
    assert!(margin.alone_bound.is_none(), "{margin:?}");

    // Combined, least sum of |change| / max(1, |bound|): the target alone costs
    // 25 / 250 = 0.1, the budget alone 16.67 / 100 = 0.167; trading one unit of
    // budget (0.01) for 1.5 less target cut (saves 1.5 / 250 = 0.006) does not pay.
    // So the target goes to 225 and the rest stays. No margin moves: exact.
    assert!(diagnosis.combined_found, "{diagnosis:?}");
    assert!(diagnosis.combined_exact, "{diagnosis:?}");
    assert_some_rel(
        target.combined_bound,
        225.0,
        "revenue_target.combined_bound",
    );
    assert_some_rel(budget.combined_bound, 100.0, "budget_cap.combined_bound");
    assert_some_rel(margin.combined_bound, 0.2, "min_margin.combined_bound");
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_explanations_leaves_out_prices_and_diagnosis() {
    let mut server = start().await;

    // Case 1: the same allocation, no prices.
    let result = optimize_with(&mut server, worked_example(0.2, None), skip_explanations()).await;
    assert_eq!(status(&result), pb::SolveStatus::Optimal, "{result:?}");
    assert_close(driver(&result, "a").units, 50.0, "a.units");
    assert_close(driver(&result, "b").units, 50.0, "b.units");
    assert!(constraint(&result, "budget_cap").binding);
    assert!(!result.constraints.is_empty());
    for c in &result.constraints {
        assert!(!c.priced, "{c:?}");
        assert!(c.shadow_price_up.is_none(), "{c:?}");
        assert!(c.shadow_price_down.is_none(), "{c:?}");
        assert!(c.up_price_holds_to.is_none(), "{c:?}");
        assert!(c.down_price_holds_to.is_none(), "{c:?}");
    }
    // Break-even scales are explanations too (unset when skipped).
    for d in &result.drivers {
        assert!(d.break_even_scale.is_none(), "{d:?}");
    }
    assert!(result.diagnosis.is_none(), "{:?}", result.diagnosis);

    // Case 3: still infeasible, no diagnosis.
    let result = optimize_with(
        &mut server,
        worked_example(0.2, Some(250.0)),
        skip_explanations(),
    )
    .await;
    assert_eq!(status(&result), pb::SolveStatus::Infeasible, "{result:?}");
    assert!(result.diagnosis.is_none(), "{:?}", result.diagnosis);
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_at_the_kink_has_two_prices() {
    let mut server = start().await;
    let mut plan = worked_example(0.2, None);
    plan.budget_cap = Some(50.0);
    let result = optimize(&mut server, plan).await;
    assert_eq!(status(&result), pb::SolveStatus::Optimal, "{result:?}");

    // A budget of 50 buys exactly a's first segment: a = 50, b = 0, revenue 150,
    // margin (120 - 50) / 150 = 0.467 > 0.2.
    assert_close(driver(&result, "a").units, 50.0, "a.units");
    assert_close(driver(&result, "b").units, 0.0, "b.units");
    // Raising it funds b at 1.5 (up to 450, as in case 1); lowering it cuts a's
    // first segment at 3.0, down to a budget of 0 (below it no plan).
    assert_prices(&result, "budget_cap", 1.5, 3.0);
    let budget = constraint(&result, "budget_cap");
    assert_some_rel(
        budget.up_price_holds_to,
        450.0,
        "budget_cap.up_price_holds_to",
    );
    assert_some_rel(
        budget.down_price_holds_to,
        0.0,
        "budget_cap.down_price_holds_to",
    );
    assert_prices(&result, "requirements.min_margin", 0.0, 0.0);
    server.stop().await.expect("clean shutdown");
}
