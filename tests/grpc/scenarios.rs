//! RunScenarios: many variants of one base, streamed as each finishes.

use super::*;

#[tokio::test]
async fn run_scenarios_streams_each_result_and_reports_the_invalid_one() {
    let mut server = start().await;
    let request = pb::RunScenariosRequest {
        base: Some(worked_example(0.2, None)),
        scenarios: vec![
            // Budget 80: a's first 50 units (150), b the remaining 30 (45): 195.
            scenario(
                "budget-80",
                pb::ScenarioOverrides {
                    budget_cap: Some(80.0),
                    ..Default::default()
                },
            ),
            // §4 case 3: revenue 250 is beyond the 225 that 100 buys.
            scenario(
                "quota-250",
                pb::ScenarioOverrides {
                    revenue_target: Some(250.0),
                    ..Default::default()
                },
            ),
            // No driver `ae`, and a negative factor: refused, alone.
            scenario(
                "bad",
                pb::ScenarioOverrides {
                    revenue_scale: [("ae".to_string(), 1.0), ("b".to_string(), -2.0)]
                        .into_iter()
                        .collect(),
                    ..Default::default()
                },
            ),
        ],
        options: None,
    };
    let results = run_scenarios(&mut server, request).await.expect("stream");
    assert_eq!(results.len(), 3);

    let budget = &results["budget-80"];
    assert_eq!(budget.error, None);
    assert_eq!(budget.status, pb::SolveStatus::Optimal as i32);
    let totals = budget.totals.clone().expect("totals");
    assert_close(totals.revenue, 195.0, "revenue");
    assert_close(totals.spend, 80.0, "spend");
    // Contribution 0.8 * 195 - 80 = 76.
    assert_close(totals.contribution, 76.0, "contribution");
    let units: Vec<(&str, f64)> = budget
        .drivers
        .iter()
        .map(|driver| (driver.driver_id.as_str(), driver.units))
        .collect();
    assert_eq!(units.len(), 2);
    assert_eq!(units[0].0, "a");
    assert_close(units[0].1, 50.0, "a units");
    assert_eq!(units[1].0, "b");
    assert_close(units[1].1, 30.0, "b units");

    assert_eq!(
        results["quota-250"].status,
        pb::SolveStatus::Infeasible as i32
    );
    assert_eq!(results["quota-250"].error, None);

    let bad = results["bad"].error.as_ref().expect("an error");
    assert_eq!(bad.code, "INVALID_ARGUMENT");
    let fields: Vec<&str> = bad
        .field_violations
        .iter()
        .map(|violation| violation.field.as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "scenarios[2].overrides.revenue_scale[ae]",
            "scenarios[2].overrides.revenue_scale[b]"
        ]
    );
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn run_scenarios_refuses_an_invalid_base_and_too_many_scenarios() {
    let mut base = worked_example(0.2, None);
    base.drivers[0].unit_cost = Some(0.0);
    let mut server = start_with(ServerConfig {
        max_scenarios: 2,
        ..ServerConfig::default()
    })
    .await;
    let status = run_scenarios(
        &mut server,
        pb::RunScenariosRequest {
            base: Some(base),
            scenarios: vec![scenario("s", Default::default())],
            options: None,
        },
    )
    .await
    .expect_err("an invalid base fails the call");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("bad request details")
        .field_violations
        .into_iter()
        .map(|violation| violation.field)
        .collect();
    assert_eq!(fields, ["base.drivers[0].unit_cost"]);

    let status = run_scenarios(
        &mut server,
        pb::RunScenariosRequest {
            base: Some(worked_example(0.2, None)),
            scenarios: (0..3)
                .map(|i| scenario(&i.to_string(), Default::default()))
                .collect(),
            options: None,
        },
    )
    .await
    .expect_err("three scenarios are over the limit of two");
    assert_eq!(status.code(), Code::ResourceExhausted);
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn run_scenarios_stops_when_the_client_goes_away() {
    let mut server = start().await;
    let base = worked_example(0.2, None);
    let many = pb::RunScenariosRequest {
        base: Some(base.clone()),
        scenarios: (0..5_000)
            .map(|i| {
                scenario(
                    &format!("s{i}"),
                    pb::ScenarioOverrides {
                        budget_cap: Some(f64::from(i % 200)),
                        ..Default::default()
                    },
                )
            })
            .collect(),
        options: None,
    };
    let mut stream = server
        .client
        .run_scenarios(many)
        .await
        .expect("stream")
        .into_inner();
    assert!(stream.message().await.expect("a result").is_some());
    drop(stream);

    // The abandoned call leaves the server free (its cores are shared fairly and
    // its spawning stops): a new small batch answers at once.
    let started = Instant::now();
    let results = run_scenarios(
        &mut server,
        pb::RunScenariosRequest {
            base: Some(base),
            scenarios: vec![scenario(
                "budget-80",
                pb::ScenarioOverrides {
                    budget_cap: Some(80.0),
                    ..Default::default()
                },
            )],
            options: None,
        },
    )
    .await
    .expect("stream");
    // Budget 80: a's first 50 units (150), then b with the other 30 (45): 195.
    let totals = results["budget-80"].totals.clone().expect("totals");
    assert_close(totals.revenue, 195.0, "revenue");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    server.stop().await.expect("clean stop");
}
