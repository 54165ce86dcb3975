//! Solver engines.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_info_names_the_engines_and_limits() {
    let config = ServerConfig {
        max_scenarios: 123,
        ..ServerConfig::default()
    };
    let max_variables = config.limits.max_variables;
    let (workers, queue) = (config.pool.workers, config.pool.queue);
    let mut server = start_with(config).await;
    let info = server
        .client
        .get_server_info(pb::GetServerInfoRequest {})
        .await
        .expect("info")
        .into_inner();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    let mut expected = vec![pb::Solver::Microlp as i32];
    if cfg!(feature = "highs") {
        expected.push(pb::Solver::Highs as i32);
    }
    assert_eq!(info.available_solvers, expected);
    assert_eq!(info.max_scenarios, 123);
    assert_eq!(info.solver_threads as usize, workers, "{info:?}");
    assert_eq!(info.queue_capacity as usize, queue, "{info:?}");
    assert_eq!(info.max_variables as usize, max_variables, "{info:?}");
    server.stop().await.expect("clean shutdown");
}

#[cfg(not(feature = "highs"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_highs_without_it_is_failed_precondition() {
    let mut server = start().await;
    let status = server
        .client
        .optimize(pb::OptimizeRequest {
            plan: Some(worked_example(0.2, None)),
            options: Some(on(pb::Solver::Highs)),
        })
        .await
        .expect_err("no HiGHS in this build");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("highs"), "{status:?}");
    // microlp, named or picked by AUTO, still answers.
    let named = optimize_with(
        &mut server,
        worked_example(0.2, None),
        on(pb::Solver::Microlp),
    )
    .await;
    let auto = optimize_with(&mut server, worked_example(0.2, None), on(pb::Solver::Auto)).await;
    for result in [named, auto] {
        assert_eq!(
            result.solver.as_ref().map(|s| s.name.as_str()),
            Some("microlp")
        );
    }
    server.stop().await.expect("clean shutdown");
}

/// The three docs/MODEL.md §4 cases on both engines: the documented numbers (worked out
/// in the tests above) from each, and the same result messages apart from the
/// engine's name and timing.
#[cfg(feature = "highs")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worked_examples_agree_on_both_engines() {
    let mut server = start().await;
    for (plan, case) in [
        (worked_example(0.2, None), 1),
        (worked_example(0.4, None), 2),
        (worked_example(0.2, Some(250.0)), 3),
    ] {
        let mut results = Vec::new();
        for solver in [pb::Solver::Microlp, pb::Solver::Highs] {
            let mut result = optimize_with(&mut server, plan.clone(), on(solver)).await;
            let info = result.solver.take().expect("solver info");
            assert_eq!(
                info.name,
                solver
                    .as_str_name()
                    .trim_start_matches("SOLVER_")
                    .to_lowercase()
            );
            match case {
                1 => {
                    // Revenue 150 + 1.5 * 50 = 225; +1.5 per unit of budget from 50 to 450.
                    assert_close(
                        result.totals.as_ref().expect("totals").revenue,
                        225.0,
                        "revenue",
                    );
                    assert_prices(&result, "budget_cap", 1.5, 1.5);
                    let budget = constraint(&result, "budget_cap");
                    assert_some_rel(budget.up_price_holds_to, 450.0, "up range");
                    assert_some_rel(budget.down_price_holds_to, 50.0, "down range");
                }
                2 => assert_prices(&result, "requirements.min_margin", -703.125, -703.125),
                _ => {
                    assert_eq!(status(&result), pb::SolveStatus::Infeasible);
                    let diagnosis = result.diagnosis.as_ref().expect("a diagnosis");
                    let alone = |name: &str| {
                        diagnosis
                            .relaxations
                            .iter()
                            .find(|r| r.name == name)
                            .and_then(|r| r.alone_bound)
                    };
                    assert_some_rel(alone("budget_cap"), 50.0 + 100.0 / 1.5, "budget alone");
                    assert_some_rel(alone("requirements.revenue_target"), 225.0, "target alone");
                }
            }
            results.push(result);
        }
        assert_eq!(results[0], results[1], "case {case}: the engines disagree");
    }
    server.stop().await.expect("clean shutdown");
}
