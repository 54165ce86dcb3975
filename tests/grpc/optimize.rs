//! Optimize: the worked examples of docs/MODEL.md §4, validation, health, reflection,
//! time limits and the JSON mapping.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_min_margin_0_2_spends_the_whole_budget() {
    let mut server = start().await;
    let plan = worked_example(0.2, None);
    let name = plan.name.clone();
    let result = optimize(&mut server, plan).await;

    assert_eq!(status(&result), pb::SolveStatus::Optimal, "{result:?}");
    assert!(result.has_solution);
    assert_eq!(result.plan_name, name);
    assert_eq!(result.periods, vec!["total".to_string()]);

    // Money goes to the best marginal return first: a's first 50 units (3.0), then b
    // (1.5, better than a's second segment at 1.0) until the budget of 100 is spent:
    // a = 50, b = 50.
    let a = driver(&result, "a");
    let b = driver(&result, "b");
    assert_close(a.units, 50.0, "a.units");
    assert_close(b.units, 50.0, "b.units");
    // a: 50 * 3.0 = 150 revenue for 50 spend; b: 50 * 1.5 = 75 revenue for 50 spend.
    assert_close(a.revenue, 150.0, "a.revenue");
    assert_close(a.spend, 50.0, "a.spend");
    assert_close(b.revenue, 75.0, "b.revenue");
    assert_close(b.spend, 50.0, "b.spend");
    assert_eq!(a.periods.len(), 1);
    assert_close(a.periods[0].units, 50.0, "a.periods[0].units");

    // Revenue 150 + 75 = 225; spend 100; gross profit 0.8 * 225 = 180; contribution
    // 180 - 100 = 80; margin 80 / 225 = 0.3556; ROI 225 / 100 = 2.25.
    let totals = result.totals.as_ref().expect("totals");
    assert_close(totals.revenue, 225.0, "revenue");
    assert_close(totals.spend, 100.0, "spend");
    assert_close(totals.gross_profit, 180.0, "gross_profit");
    assert_close(totals.contribution, 80.0, "contribution");
    assert_close(totals.margin, 80.0 / 225.0, "margin");
    assert_close(totals.roi, 2.25, "roi");
    assert_close(totals.baseline_revenue, 0.0, "baseline_revenue");
    assert_close(totals.driver_revenue, 225.0, "driver_revenue");
    assert_eq!(result.period_totals.len(), 1);
    assert_eq!(result.period_totals[0].period, "total");
    assert_close(result.period_totals[0].revenue, 225.0, "period revenue");

    // The budget binds (spend 100 = cap 100); the margin floor does not
    // (0.3556 > 0.2, slack 80/225 - 0.2 = 0.1556).
    let budget = constraint(&result, "budget_cap");
    assert!(budget.binding, "{budget:?}");
    assert_eq!(budget.sense, pb::Sense::LessEqual as i32);
    assert_close(budget.value, 100.0, "budget_cap.value");
    assert_close(budget.bound, 100.0, "budget_cap.bound");
    assert_close(budget.slack, 0.0, "budget_cap.slack");
    let margin = constraint(&result, "requirements.min_margin");
    assert!(!margin.binding, "{margin:?}");
    assert_eq!(margin.sense, pb::Sense::GreaterEqual as i32);
    assert_close(margin.value, 80.0 / 225.0, "min_margin.value");
    assert_close(margin.bound, 0.2, "min_margin.bound");
    assert_close(margin.slack, 80.0 / 225.0 - 0.2, "min_margin.slack");

    // A pure LP (gross margin 0.8 is above the floor 0.2: no segment-order binaries).
    let solver = result.solver.as_ref().expect("solver info");
    assert!(!solver.name.is_empty());
    assert!(solver.stages >= 1, "{solver:?}");
    assert!(solver.variables >= 3, "{solver:?}");
    assert!(solver.constraints >= 1, "{solver:?}");
    assert!(!solver.mixed_integer, "{solver:?}");
    assert!(solver.solve_time.is_some(), "{solver:?}");

    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_min_margin_0_4_binds_the_margin() {
    let mut server = start().await;
    let result = optimize(&mut server, worked_example(0.4, None)).await;

    assert_eq!(status(&result), pb::SolveStatus::Optimal, "{result:?}");
    assert!(result.has_solution);

    // 0.8 R - S >= 0.4 R caps spend at 0.4 R. With a's first 50 units (150 revenue for
    // 50 spend) the floor leaves 0.4 * 150 - 50 = 10 of room; b costs 1 - 0.4 * 1.5 =
    // 0.4 of room per unit (a's second segment 1 - 0.4 = 0.6 for less revenue), so
    // b = 10 / 0.4 = 25. Revenue 150 + 37.5 = 187.5, spend 75, gross profit 150,
    // contribution 75, margin 75 / 187.5 = 0.4, ROI 187.5 / 75 = 2.5.
    assert_close(driver(&result, "a").units, 50.0, "a.units");
    assert_close(driver(&result, "b").units, 25.0, "b.units");
    let totals = result.totals.as_ref().expect("totals");
    assert_close(totals.revenue, 187.5, "revenue");
    assert_close(totals.spend, 75.0, "spend");
    assert_close(totals.gross_profit, 150.0, "gross_profit");
    assert_close(totals.contribution, 75.0, "contribution");
    assert_close(totals.margin, 0.4, "margin");
    assert_close(totals.roi, 2.5, "roi");

    // The margin binds; the budget does not: 100 - 75 = 25 left.
    let margin = constraint(&result, "requirements.min_margin");
    assert!(margin.binding, "{margin:?}");
    assert_close(margin.value, 0.4, "min_margin.value");
    assert_close(margin.slack, 0.0, "min_margin.slack");
    let budget = constraint(&result, "budget_cap");
    assert!(!budget.binding, "{budget:?}");
    assert_close(budget.value, 75.0, "budget_cap.value");
    assert_close(budget.slack, 25.0, "budget_cap.slack");

    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_unreachable_target_is_an_infeasible_result() {
    let mut server = start().await;
    // 225 is the most revenue a budget of 100 buys (case 1), so a target of 250 is
    // out of reach: a result with status INFEASIBLE, not a gRPC error.
    let result = optimize(&mut server, worked_example(0.2, Some(250.0))).await;
    assert_eq!(status(&result), pb::SolveStatus::Infeasible, "{result:?}");
    assert!(!result.has_solution);
    assert!(!result.message.is_empty());
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_plan_lists_every_violation_with_its_field_path() {
    let mut server = start().await;
    let mut plan = worked_example(0.2, None);
    plan.requirements = None;
    // Four independent faults, one per rule of docs/MODEL.md §1:
    plan.drivers[0].unit_cost = Some(-1.0); // unit_cost > 0
    plan.drivers[1].response = vec![segment(Some(10.0), 1.0), segment(None, 2.0)]; // 2.0 > 1.0
    plan.budget_cap = Some(f64::NAN); // every number finite
    plan.groups = vec![pb::Group {
        name: "ghosts".into(),
        driver_ids: vec!["nobody".into()], // every listed id exists
        max_share: Some(0.5),
        ..Default::default()
    }];

    let status = server
        .client
        .optimize(request(plan))
        .await
        .expect_err("an invalid plan is refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let bad_request = status
        .get_details_bad_request()
        .expect("google.rpc.BadRequest details");
    let mut fields: Vec<&str> = bad_request
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        vec![
            "budget_cap",
            "drivers[0].unit_cost",
            "drivers[1].response[1].revenue_per_unit",
            "groups[0].driver_ids[0]",
        ],
        "{bad_request:?}"
    );
    assert!(
        bad_request
            .field_violations
            .iter()
            .all(|v| !v.description.is_empty()),
        "{bad_request:?}"
    );
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_plan_is_invalid_argument_on_field_plan() {
    let mut server = start().await;
    let status = server
        .client
        .optimize(pb::OptimizeRequest::default())
        .await
        .expect_err("a request without a plan is refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let bad_request = status
        .get_details_bad_request()
        .expect("google.rpc.BadRequest details");
    let fields: Vec<&str> = bad_request
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(fields, vec!["plan"], "{bad_request:?}");
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_plan_is_resource_exhausted() {
    let mut config = ServerConfig::default();
    config.limits.max_drivers = 2;
    let mut server = start_with(config).await;

    // Two drivers fit the limit and solve as usual.
    let result = optimize(&mut server, worked_example(0.2, None)).await;
    assert_eq!(status(&result), pb::SolveStatus::Optimal);

    // A third driver is over it.
    let mut plan = worked_example(0.2, None);
    plan.drivers.push(pb::Driver {
        id: "c".into(),
        response: vec![segment(None, 1.2)],
        ..Default::default()
    });
    let status = server
        .client
        .optimize(request(plan))
        .await
        .expect_err("an oversized plan is refused");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_serving_and_shutdown_completes() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    let server = start().await;
    let mut health = HealthClient::new(server.channel().await);
    let answer = health
        .check(HealthCheckRequest {
            service: "tradeoff.v1.PlannerService".into(),
        })
        .await
        .expect("health check")
        .into_inner();
    assert_eq!(answer.status, ServingStatus::Serving as i32, "{answer:?}");

    // An unknown service is NOT_FOUND, per the health protocol.
    let unknown = health
        .check(HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await
        .expect_err("unknown service");
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");

    // Drop the client's connection so that the drain has nothing to wait for; the
    // server future must then complete promptly after the shutdown signal.
    drop(health);
    let started = Instant::now();
    server.stop().await.expect("clean shutdown");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_the_planner_service() {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient as AlphaClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest as AlphaRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse as AlphaResponse;
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest as AlphaReflectionRequest;

    let server = start().await;
    let channel = server.channel().await;

    // v1
    let mut client = ServerReflectionClient::new(channel.clone());
    let mut responses = client
        .server_reflection_info(tokio_stream::iter(vec![ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        }]))
        .await
        .expect("reflection v1 call")
        .into_inner();
    let response = responses
        .message()
        .await
        .expect("reflection v1 stream")
        .expect("one response");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a list_services response, got {response:?}");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"tradeoff.v1.PlannerService"), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health"), "{names:?}");

    // The descriptor of the planner's file is served too.
    let mut responses = client
        .server_reflection_info(tokio_stream::iter(vec![ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(
                "tradeoff.v1.PlannerService".into(),
            )),
        }]))
        .await
        .expect("reflection v1 call")
        .into_inner();
    let response = responses
        .message()
        .await
        .expect("reflection v1 stream")
        .expect("one response");
    let Some(MessageResponse::FileDescriptorResponse(files)) = response.message_response else {
        panic!("expected a file descriptor response, got {response:?}");
    };
    assert!(!files.file_descriptor_proto.is_empty());

    // v1alpha
    let mut alpha = AlphaClient::new(channel);
    let mut responses = alpha
        .server_reflection_info(tokio_stream::iter(vec![AlphaReflectionRequest {
            host: String::new(),
            message_request: Some(AlphaRequest::ListServices(String::new())),
        }]))
        .await
        .expect("reflection v1alpha call")
        .into_inner();
    let response = responses
        .message()
        .await
        .expect("reflection v1alpha stream")
        .expect("one response");
    let Some(AlphaResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a list_services response, got {response:?}");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"tradeoff.v1.PlannerService"), "{names:?}");

    drop(client);
    drop(alpha);
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_cuts_a_slow_solve_with_deadline_exceeded() {
    let mut server = start().await;

    // The plan really is slow: given 200 ms through `options.time_limit` (and no
    // deadline) it ends with TIME_LIMIT, not OPTIMAL. (Checked by hand in-process:
    // microlp does not finish it in 20 s.)
    let mut slow = request(slow_plan());
    slow.options = Some(pb::SolveOptions {
        time_limit: Some(pbjson_types::Duration {
            seconds: 0,
            nanos: 200_000_000,
        }),
        solver: pb::Solver::Microlp as i32,
        ..Default::default()
    });
    let result = server
        .client
        .optimize(slow)
        .await
        .expect("a time limit is a result")
        .into_inner()
        .result
        .expect("result");
    assert_eq!(status(&result), pb::SolveStatus::TimeLimit, "{result:?}");

    // With a 300 ms deadline and no time limit, the call answers DEADLINE_EXCEEDED
    // (not CANCELLED, not a late OK) and does so promptly.
    let mut call = Request::new(slow_request());
    call.set_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let status = server
        .client
        .optimize(call)
        .await
        .expect_err("the deadline passes before the solve ends");
    let elapsed = started.elapsed();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        elapsed < Duration::from_secs(1),
        "DEADLINE_EXCEEDED after {elapsed:?}"
    );

    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_time_limit_is_a_time_limit_result() {
    let mut server = start().await;
    let mut zero = request(worked_example(0.2, None));
    zero.options = Some(pb::SolveOptions {
        time_limit: Some(pbjson_types::Duration {
            seconds: 0,
            nanos: 0,
        }),
        ..Default::default()
    });
    // No time at all to solve: a TIME_LIMIT result without a plan, not an error.
    let result = server
        .client
        .optimize(zero)
        .await
        .expect("a spent time limit is a result")
        .into_inner()
        .result
        .expect("result");
    assert_eq!(status(&result), pb::SolveStatus::TimeLimit, "{result:?}");
    assert!(!result.has_solution, "{result:?}");
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_json_uses_the_proto3_json_mapping() {
    let mut server = start().await;
    let response = server
        .client
        .optimize(request(worked_example(0.2, None)))
        .await
        .expect("optimize")
        .into_inner();
    let json = serde_json::to_value(&response.result).expect("serialize");
    let object = json.as_object().expect("result is a JSON object");
    // camelCase field names, enums by name.
    assert_eq!(json["hasSolution"], serde_json::json!(true), "{json}");
    assert!(json["periodTotals"].is_array(), "{json}");
    assert_eq!(json["periodTotals"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["status"], serde_json::json!("SOLVE_STATUS_OPTIMAL"));
    assert_eq!(
        json["planName"],
        serde_json::json!(worked_example(0.2, None).name)
    );
    assert!(json["totals"]["grossProfit"].is_number(), "{json}");
    assert_eq!(
        json["constraints"][0]["sense"]
            .as_str()
            .map(|s| s.starts_with("SENSE_")),
        Some(true),
        "{json}"
    );
    for snake in ["has_solution", "period_totals", "plan_name"] {
        assert!(
            !object.contains_key(snake),
            "snake_case key {snake} in {json}"
        );
    }
    server.stop().await.expect("clean shutdown");
}
