//! Frontier and Evaluate.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frontier_over_the_budget_breaks_at_50_and_450() {
    // docs/MODEL.md §4 case one over budget_cap 0..600: a's first segment (3.0 per
    // dollar) takes the first 50; b (1.5) the next 400, until the 0.2 margin floor
    // binds at 450 (0.8 (150 + 1.5 x) - (50 + x) = 0.2 (150 + 1.5 x) gives x = 400);
    // revenue stays 750 beyond.
    let mut server = start().await;
    let response = server
        .client
        .frontier(pb::FrontierRequest {
            plan: Some(worked_example(0.2, None)),
            over: pb::SweptBound::BudgetCap as i32,
            from: 0.0,
            to: 600.0,
            options: None,
            ..Default::default()
        })
        .await
        .expect("frontier")
        .into_inner();
    let frontier = response.frontier.expect("frontier");
    assert!(frontier.complete && frontier.exact);
    let bounds: Vec<f64> = frontier.points.iter().map(|p| p.bound).collect();
    assert_eq!(bounds, vec![0.0, 50.0, 450.0, 600.0]);
    let revenue: Vec<f64> = frontier
        .points
        .iter()
        .map(|p| p.totals.as_ref().expect("totals").revenue)
        .collect();
    assert_eq!(revenue, vec![0.0, 150.0, 750.0, 750.0]);
    let slopes: Vec<Option<f64>> = frontier.points.iter().map(|p| p.slope_after).collect();
    assert_eq!(slopes, vec![Some(3.0), Some(1.5), Some(0.0), None]);
    assert_eq!(frontier.points[1].entering, vec!["b".to_string()]);
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frontier_refuses_a_backwards_range() {
    let mut server = start().await;
    let status = server
        .client
        .frontier(pb::FrontierRequest {
            plan: Some(worked_example(0.2, None)),
            over: pb::SweptBound::BudgetCap as i32,
            from: 600.0,
            to: 0.0,
            options: None,
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("bad request")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, vec!["to".to_string()]);
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluate_scores_a_hand_made_allocation() {
    // Case one with a = 30 (at 3.0: 90) and b = 90 (at 1.5: 135): revenue 225, spend
    // 120 — budget_cap broken by 20 — contribution 0.8 * 225 - 120 = 60. The optimum
    // (a = 50, b = 50) would move a by +20 and b by -40.
    let mut server = start().await;
    let allocation = pb::Allocation {
        drivers: vec![
            pb::DriverAllocation {
                driver_id: "a".into(),
                units: vec![30.0],
            },
            pb::DriverAllocation {
                driver_id: "b".into(),
                units: vec![90.0],
            },
        ],
    };
    let evaluation = server
        .client
        .evaluate(pb::EvaluateRequest {
            plan: Some(worked_example(0.2, None)),
            allocation: Some(allocation),
            options: None,
        })
        .await
        .expect("evaluate")
        .into_inner()
        .evaluation
        .expect("evaluation");
    assert!(!evaluation.feasible);
    assert_eq!(evaluation.violations.len(), 1);
    assert_eq!(evaluation.violations[0].name, "budget_cap");
    assert_eq!(evaluation.violations[0].amount, 20.0);
    let totals = evaluation.given.expect("given").totals.expect("totals");
    assert_eq!(
        (totals.revenue, totals.spend, totals.contribution),
        (225.0, 120.0, 60.0)
    );
    let changes: Vec<(String, f64)> = evaluation
        .gaps
        .iter()
        .map(|gap| (gap.driver_id.clone(), gap.units_change[0]))
        .collect();
    assert_eq!(
        changes,
        vec![("a".to_string(), 20.0), ("b".to_string(), -40.0)]
    );
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluate_refuses_unknown_drivers_with_their_path() {
    let mut server = start().await;
    let status = server
        .client
        .evaluate(pb::EvaluateRequest {
            plan: Some(worked_example(0.2, None)),
            allocation: Some(pb::Allocation {
                drivers: vec![pb::DriverAllocation {
                    driver_id: "zz".into(),
                    units: vec![1.0],
                }],
            }),
            options: None,
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("bad request")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, vec!["allocation.drivers[0].driver_id".to_string()]);
    server.stop().await.expect("clean shutdown");
}
