//! End-to-end tests over real gRPC: a `tradeoff` server on an ephemeral port, a tonic
//! client, and the answers docs/MODEL.md promises. Expected numbers are worked out by
//! hand in the comments, from docs/MODEL.md §4, never copied from the program's
//! output.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_types::StatusExt;

use tradeoff::pb::{self, planner_service_client::PlannerServiceClient};
use tradeoff::server::{serve_with, ServerConfig, ServerError};

/// Absolute tolerance for money and fractions in these small, exact examples.
const EPS: f64 = 1e-6;

/// A running server: its address, a client, the shutdown trigger and the task
/// serving (which completes when the server has stopped).
struct TestServer {
    addr: SocketAddr,
    client: PlannerServiceClient<Channel>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl TestServer {
    /// A connected channel to the server, for the health and reflection clients.
    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("uri")
            .connect()
            .await
            .expect("connect")
    }

    /// Triggers shutdown and waits (bounded) for the server task to finish.
    async fn stop(mut self) -> Result<(), ServerError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("server stops within 5 s of shutdown")
            .expect("server task did not panic")
    }
}

/// Starts `tradeoff` with `config` on 127.0.0.1:0 and connects a client.
async fn start_with(config: ServerConfig) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (shutdown, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_with(
        listener,
        async {
            rx.await.ok();
        },
        config,
    ));
    // The listener is already bound, so the connection is accepted as soon as the
    // server polls it: no waiting for readiness needed.
    let client = PlannerServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("connect client");
    TestServer {
        addr,
        client,
        shutdown: Some(shutdown),
        task,
    }
}

/// Starts `tradeoff` through the plain `tradeoff::serve` entry point.
async fn start() -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (shutdown, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(tradeoff::serve(listener, async {
        rx.await.ok();
    }));
    let client = PlannerServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("connect client");
    TestServer {
        addr,
        client,
        shutdown: Some(shutdown),
        task,
    }
}

fn segment(units: Option<f64>, revenue_per_unit: f64) -> pb::Segment {
    pb::Segment {
        units,
        revenue_per_unit,
    }
}

/// docs/MODEL.md §4: one period, no baseline, `budget_cap` 100, gross margins 0.8,
/// maximise revenue. `a` (unit cost 1): 50 units at 3.0, then unbounded at 1.0; `b`
/// (unit cost 1): unbounded at 1.5.
fn worked_example(min_margin: f64, revenue_target: Option<f64>) -> pb::Plan {
    pb::Plan {
        name: "worked-example".into(),
        periods: vec![pb::Period {
            name: "total".into(),
            ..Default::default()
        }],
        budget_cap: Some(100.0),
        drivers: vec![
            pb::Driver {
                id: "a".into(),
                unit_cost: Some(1.0),
                gross_margin: Some(0.8),
                response: vec![segment(Some(50.0), 3.0), segment(None, 1.0)],
                ..Default::default()
            },
            pb::Driver {
                id: "b".into(),
                unit_cost: Some(1.0),
                gross_margin: Some(0.8),
                response: vec![segment(None, 1.5)],
                ..Default::default()
            },
        ],
        requirements: Some(pb::Requirements {
            min_margin: Some(min_margin),
            revenue_target,
            ..Default::default()
        }),
        objective: pb::Objective::MaximizeRevenue as i32,
        ..Default::default()
    }
}

fn request(plan: pb::Plan) -> pb::OptimizeRequest {
    pb::OptimizeRequest {
        plan: Some(plan),
        options: None,
    }
}

async fn optimize(server: &mut TestServer, plan: pb::Plan) -> pb::PlanResult {
    server
        .client
        .optimize(request(plan))
        .await
        .expect("optimize succeeds")
        .into_inner()
        .result
        .expect("response carries a result")
}

#[track_caller]
fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= EPS,
        "{what}: expected {expected}, got {actual}"
    );
}

fn driver<'a>(result: &'a pb::PlanResult, id: &str) -> &'a pb::DriverResult {
    result
        .drivers
        .iter()
        .find(|d| d.driver_id == id)
        .unwrap_or_else(|| panic!("no driver {id} in result"))
}

fn constraint<'a>(result: &'a pb::PlanResult, name: &str) -> &'a pb::ConstraintResult {
    result
        .constraints
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| {
            let names: Vec<_> = result.constraints.iter().map(|c| &c.name).collect();
            panic!("no constraint {name} in result; have {names:?}")
        })
}

fn status(result: &pb::PlanResult) -> pb::SolveStatus {
    pb::SolveStatus::try_from(result.status).expect("known status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_min_margin_0_2_spends_the_whole_budget() {
    let mut server = start().await;
    let result = optimize(&mut server, worked_example(0.2, None)).await;

    assert_eq!(status(&result), pb::SolveStatus::Optimal, "{result:?}");
    assert!(result.has_solution);
    assert_eq!(result.plan_name, "worked-example");
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

/// A mixed-integer plan that keeps microlp's branch and bound busy for well over a
/// second: many integer drivers with nearly equal, fractional cost/return ratios,
/// competing for tight, fractional per-period and horizon budget caps (coupled
/// knapsacks with no easy integral optimum).
/// [`slow_plan`] on microlp, the engine it is slow on (HiGHS may be compiled in).
fn slow_request() -> pb::OptimizeRequest {
    pb::OptimizeRequest {
        plan: Some(slow_plan()),
        options: Some(pb::SolveOptions {
            solver: pb::Solver::Microlp as i32,
            ..Default::default()
        }),
    }
}

fn slow_plan() -> pb::Plan {
    const PERIODS: usize = 4;
    const DRIVERS: usize = 30;
    let periods = (0..PERIODS)
        .map(|t| pb::Period {
            name: format!("Q{}", t + 1),
            budget_cap: Some(97.31 + 3.17 * t as f64),
            ..Default::default()
        })
        .collect();
    let drivers = (0..DRIVERS)
        .map(|i| {
            let i = i as f64;
            let unit_cost = 3.0 + ((i * 7.3) % 11.0) + 0.137 * i;
            // Return per unit of money close to 2 for every driver, so that no
            // driver dominates and the LP bound prunes little.
            let ratio = 2.0 + 0.013 * ((i * 5.0) % 7.0) - 0.0007 * i;
            pb::Driver {
                id: format!("d{i}"),
                integer: true,
                unit_cost: Some(unit_cost),
                max_units: Some(7.0),
                response: vec![segment(None, ratio * unit_cost)],
                return_profile: vec![0.6, 0.4],
                ..Default::default()
            }
        })
        .collect();
    pb::Plan {
        name: "slow".into(),
        periods,
        drivers,
        budget_cap: Some(391.17),
        ..Default::default()
    }
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
    assert_eq!(json["planName"], serde_json::json!("worked-example"));
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

// ---------------------------------------------------------------------------------
// Explanations: shadow prices (docs/MODEL.md §3) on the worked example (§4), the
// diagnosis of its infeasible case, and `skip_explanations`.

/// Relative tolerance for prices and bounds, which the explanations derive through
/// extra solves (and, for a margin, through a product with the revenue).
const REL: f64 = 1e-6;

#[track_caller]
fn assert_rel(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= REL * expected.abs().max(1.0),
        "{what}: expected {expected}, got {actual}"
    );
}

/// Asserts that an optional field is set and close to `expected`.
#[track_caller]
fn assert_some_rel(actual: Option<f64>, expected: f64, what: &str) {
    match actual {
        Some(actual) => assert_rel(actual, expected, what),
        None => panic!("{what}: expected {expected}, got unset"),
    }
}

async fn optimize_with(
    server: &mut TestServer,
    plan: pb::Plan,
    options: pb::SolveOptions,
) -> pb::PlanResult {
    server
        .client
        .optimize(pb::OptimizeRequest {
            plan: Some(plan),
            options: Some(options),
        })
        .await
        .expect("optimize succeeds")
        .into_inner()
        .result
        .expect("response carries a result")
}

fn skip_explanations() -> pb::SolveOptions {
    pb::SolveOptions {
        skip_explanations: true,
        ..Default::default()
    }
}

/// Checks both one-sided prices of `name`, and that it was priced.
#[track_caller]
fn assert_prices(result: &pb::PlanResult, name: &str, up: f64, down: f64) {
    let c = constraint(result, name);
    assert!(c.priced, "{c:?}");
    assert_some_rel(c.shadow_price_up, up, &format!("{name}.shadow_price_up"));
    assert_some_rel(
        c.shadow_price_down,
        down,
        &format!("{name}.shadow_price_down"),
    );
}

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

// ---------------------------------------------------------------------------------
// Frontier and Evaluate.

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

// ---------------------------------------------------------------------------------
// RunScenarios: many variants of one base, streamed as each finishes.

fn scenario(id: &str, overrides: pb::ScenarioOverrides) -> pb::Scenario {
    pb::Scenario {
        id: id.into(),
        overrides: Some(overrides),
    }
}

/// Collects a RunScenarios stream, keyed by scenario id.
async fn run_scenarios(
    server: &mut TestServer,
    request: pb::RunScenariosRequest,
) -> Result<std::collections::BTreeMap<String, pb::ScenarioResult>, tonic::Status> {
    let mut stream = server.client.run_scenarios(request).await?.into_inner();
    let mut results = std::collections::BTreeMap::new();
    while let Some(result) = stream.message().await? {
        let previous = results.insert(result.scenario_id.clone(), result);
        assert!(previous.is_none(), "each scenario answers once");
    }
    Ok(results)
}

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

// ---------------------------------------------------------------------------------
// Admission control, deadlines, cancellation, panics and request ids.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tradeoff::pool::{BeforeJob, PoolConfig};

/// The tests below measure wall-clock time on a small machine: they run one at a
/// time, so that one's solver threads do not slow another's down.
static TIMED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A server configuration with `workers` solver threads and `queue` places to wait.
fn pool_of(workers: usize, queue: usize) -> ServerConfig {
    ServerConfig {
        pool: PoolConfig { workers, queue },
        ..ServerConfig::default()
    }
}

/// The benches' synthetic plan (`benches/common`), with `drivers` drivers over four
/// quarters: two segments each, ramps, recurring costs, a budget cap, a margin
/// floor, a share cap and a link. It solves in tens of milliseconds for tens of
/// drivers in a debug build, and its explanations take their whole budget (at
/// least 2 s): break-even scales re-solve it per driver.
#[path = "../benches/common/mod.rs"]
mod bench_plans;
use bench_plans::synthetic_plan;

/// Whether the server's health service says the planner is SERVING, within 1 s.
async fn serving(health: &mut HealthClient<Channel>) -> bool {
    let check = health.check(HealthCheckRequest {
        service: "tradeoff.v1.PlannerService".into(),
    });
    matches!(
        tokio::time::timeout(Duration::from_secs(1), check).await,
        Ok(Ok(answer)) if answer.get_ref().status == ServingStatus::Serving as i32
    )
}

/// The request id a reply carries in its metadata.
fn reply_id(metadata: &tonic::metadata::MetadataMap) -> String {
    metadata
        .get("x-request-id")
        .expect("the reply carries x-request-id")
        .to_str()
        .expect("ASCII")
        .to_string()
}

/// Tries a small call until the single worker of a `pool_of(1, 0)` server takes
/// it (a free worker), for at most `within`; returns how long that took.
async fn admitted_within(server: &mut TestServer, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let mut probe = request(worked_example(0.2, None));
        probe.options = Some(skip_explanations());
        match server.client.optimize(probe).await {
            Ok(_) => return started.elapsed(),
            Err(status)
                if status.code() == Code::ResourceExhausted && started.elapsed() < within =>
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(status) => panic!("no free worker after {:?}: {status:?}", started.elapsed()),
        }
    }
}

/// How one call of the overload test ended.
struct Ended {
    code: Code,
    latency: Duration,
    retry_delay: Option<Duration>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overload_answers_ok_or_resource_exhausted_at_once_and_health_stays_serving() {
    let _timed = TIMED.lock().await;
    // Capacity: one solve running and two waiting. Twice that many clients, each
    // sending its next call as soon as the last one answered (after the retry delay
    // when refused), keep it overloaded for two seconds.
    const WORKERS: usize = 1;
    const QUEUE: usize = 2;
    let clients = 2 * (WORKERS + QUEUE);
    let deadline = Duration::from_secs(3);
    let run_for = Duration::from_secs(2);
    let server = start_with(pool_of(WORKERS, QUEUE)).await;
    // About 25 ms per solve here (debug build): a queue of two waits ~50 ms.
    let mut call = request(synthetic_plan(60));
    call.options = Some(skip_explanations());
    let started = Instant::now();

    let mut health = HealthClient::new(server.channel().await);
    let checker = tokio::spawn(async move {
        let mut checks = Vec::new();
        while started.elapsed() < run_for {
            checks.push(serving(&mut health).await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        checks
    });
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let mut client = PlannerServiceClient::new(server.channel().await);
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut ended = Vec::new();
            while started.elapsed() < run_for {
                let mut request = Request::new(call.clone());
                request.set_timeout(deadline);
                let sent = Instant::now();
                let outcome = client.optimize(request).await;
                let latency = sent.elapsed();
                let (code, retry_delay) = match &outcome {
                    Ok(_) => (Code::Ok, None),
                    Err(status) => (
                        status.code(),
                        status
                            .get_details_retry_info()
                            .and_then(|info| info.retry_delay),
                    ),
                };
                ended.push(Ended {
                    code,
                    latency,
                    retry_delay,
                });
                if let Some(delay) = retry_delay {
                    tokio::time::sleep(delay).await;
                }
            }
            ended
        }));
    }
    let mut ended = Vec::new();
    for task in tasks {
        ended.extend(task.await.expect("client task"));
    }
    let checks = checker.await.expect("health task");

    let others: Vec<Code> = ended
        .iter()
        .map(|ended| ended.code)
        .filter(|code| !matches!(code, Code::Ok | Code::ResourceExhausted))
        .collect();
    assert!(others.is_empty(), "calls ended with {others:?}");
    let slowest = ended
        .iter()
        .map(|ended| ended.latency)
        .max()
        .expect("calls");
    assert!(
        slowest <= deadline + Duration::from_millis(250),
        "a call took {slowest:?}, past its deadline"
    );
    let ok = ended.iter().filter(|ended| ended.code == Code::Ok).count();
    let mut refused: Vec<&Ended> = ended
        .iter()
        .filter(|ended| ended.code == Code::ResourceExhausted)
        .collect();
    assert!(ok > 0, "no call was solved");
    assert!(!refused.is_empty(), "twice the capacity was never refused");
    // Refused at once, not after waiting: a refusal costs no solve.
    refused.sort_by_key(|ended| ended.latency);
    let median = refused[refused.len() / 2].latency;
    let worst = refused[refused.len() - 1].latency;
    assert!(
        median < Duration::from_millis(50),
        "median refusal took {median:?}"
    );
    assert!(worst < Duration::from_secs(1), "a refusal took {worst:?}");
    assert!(
        refused.iter().all(|ended| ended
            .retry_delay
            .is_some_and(|delay| delay > Duration::ZERO)),
        "every refusal says when to retry"
    );
    // Health answered SERVING within a second every time it was asked.
    assert!(checks.len() >= 10, "only {} health checks", checks.len());
    assert!(
        checks.iter().all(|&serving| serving),
        "health checks: {checks:?}"
    );
    eprintln!(
        "overload: {} calls, {ok} OK, {} refused (median {median:?})",
        ended.len(),
        refused.len()
    );
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100ms_deadline_answers_deadline_exceeded_within_250ms_and_the_solver_ends() {
    let _timed = TIMED.lock().await;
    // One worker and no queue: a call is admitted only while no solver runs.
    let mut server = start_with(pool_of(1, 0)).await;

    // The plan takes seconds: given 1 s (as its time limit, no deadline), it is
    // still unsolved. (By hand, in-process: microlp does not finish it in 20 s.)
    let mut limited = request(slow_plan());
    limited.options = Some(pb::SolveOptions {
        time_limit: Some(pbjson_types::Duration {
            seconds: 1,
            nanos: 0,
        }),
        // microlp: the engine this plan is slow on (HiGHS may be compiled in).
        solver: pb::Solver::Microlp as i32,
        skip_explanations: true,
    });
    let started = Instant::now();
    let result = server
        .client
        .optimize(limited)
        .await
        .expect("a time limit is a result")
        .into_inner()
        .result
        .expect("result");
    assert_eq!(status(&result), pb::SolveStatus::TimeLimit, "{result:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));

    let mut call = Request::new(slow_request());
    call.set_timeout(Duration::from_millis(100));
    let started = Instant::now();
    let status = server
        .client
        .optimize(call)
        .await
        .expect_err("the deadline passes before the solve ends");
    let elapsed = started.elapsed();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        elapsed < Duration::from_millis(250),
        "DEADLINE_EXCEEDED after {elapsed:?}"
    );
    // The solver thread itself stopped: the only worker takes a new call at
    // once (were it still solving, every call would be refused for seconds).
    let freed = admitted_within(&mut server, Duration::from_secs(2)).await;
    assert!(
        freed < Duration::from_millis(250),
        "worker busy for {freed:?} more"
    );
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_stops_its_solve() {
    let _timed = TIMED.lock().await;
    let mut server = start_with(pool_of(1, 0)).await;
    // No deadline, no time limit: the solve itself takes ~15 ms, its explanations
    // their whole budget of 2 s (a re-solve per driver and bisection step).
    let call = request(synthetic_plan(30));
    let mut client = server.client.clone();
    let abandoned = tokio::spawn(async move { client.optimize(call).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The client goes away: its HTTP/2 stream is reset, the call's future dropped.
    abandoned.abort();
    let _ = abandoned.await;
    // The solves stop at their next check, well before the explanation budget
    // (another 1.7 s) would have run out.
    let freed = admitted_within(&mut server, Duration::from_secs(3)).await;
    assert!(
        freed < Duration::from_millis(700),
        "the abandoned solve kept the worker for {freed:?}"
    );
    server.stop().await.expect("clean shutdown");
}

/// Everything logged in this test binary (INFO and above), for tests that check
/// what the server logged.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    Arc::clone(LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        struct Capture(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Capture {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                if let Ok(mut logs) = self.0.lock() {
                    logs.extend_from_slice(bytes);
                }
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let writer = Arc::clone(&logs);
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || Capture(Arc::clone(&writer)))
            .try_init();
        logs
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_solver_panic_answers_internal_is_logged_with_the_request_id_and_serving_goes_on() {
    let logs = captured_logs();
    // Panics to inject: the hook runs on the solver thread before each solve.
    let panics = Arc::new(AtomicUsize::new(0));
    let hook = {
        let panics = Arc::clone(&panics);
        BeforeJob(Arc::new(move || {
            if panics
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                })
                .is_ok()
            {
                panic!("injected solver panic");
            }
        }))
    };
    let mut server = start_with(ServerConfig {
        before_solve: Some(hook),
        ..pool_of(1, 0)
    })
    .await;

    panics.store(1, Ordering::SeqCst);
    let mut call = Request::new(request(worked_example(0.2, None)));
    call.metadata_mut()
        .insert("x-request-id", "panic-test-42".parse().expect("ascii"));
    let failed = server
        .client
        .optimize(call)
        .await
        .expect_err("the solver panicked");
    assert_eq!(failed.code(), Code::Internal, "{failed:?}");
    assert!(failed.message().contains("panicked"), "{failed:?}");
    assert_eq!(reply_id(failed.metadata()), "panic-test-42");
    let logged = String::from_utf8_lossy(&logs.lock().expect("logs")).into_owned();
    assert!(
        logged
            .lines()
            .any(|line| line.contains("panic-test-42") && line.contains("injected solver panic")),
        "no log line names the request and the panic:\n{logged}"
    );

    // The same (only) worker serves the next call.
    let result = optimize(&mut server, worked_example(0.2, None)).await;
    assert_eq!(status(&result), pb::SolveStatus::Optimal, "{result:?}");

    // In a batch the panic fails its scenario alone (one worker: scenarios run in
    // order, and the first one panics).
    panics.store(1, Ordering::SeqCst);
    let results = run_scenarios(
        &mut server,
        pb::RunScenariosRequest {
            base: Some(worked_example(0.2, None)),
            scenarios: vec![
                scenario("first", Default::default()),
                scenario("second", Default::default()),
            ],
            options: None,
        },
    )
    .await
    .expect("the batch streams");
    let error = results["first"].error.as_ref().expect("the first failed");
    assert_eq!(error.code, "INTERNAL", "{error:?}");
    assert_eq!(results["second"].error, None);
    assert_eq!(results["second"].status, pb::SolveStatus::Optimal as i32);

    let mut health = HealthClient::new(server.channel().await);
    assert!(serving(&mut health).await);
    drop(health);
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_or_generated_on_every_reply() {
    let mut server = start().await;
    let call = |id: Option<&str>, plan: Option<pb::Plan>| {
        let mut call = Request::new(pb::OptimizeRequest {
            plan,
            options: Some(skip_explanations()),
        });
        if let Some(id) = id {
            call.metadata_mut()
                .insert("x-request-id", id.parse().expect("ascii"));
        }
        call
    };
    let is_generated = |id: &str| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit());

    // The client's id comes back, on a result and on an error alike.
    let response = server
        .client
        .optimize(call(Some("client-7"), Some(worked_example(0.2, None))))
        .await
        .expect("solved");
    assert_eq!(reply_id(response.metadata()), "client-7");
    let status = server
        .client
        .optimize(call(Some("client-8"), None))
        .await
        .expect_err("no plan");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(reply_id(status.metadata()), "client-8");

    // Without one (or with one too long to log), the server makes one up.
    let first = server
        .client
        .optimize(call(None, Some(worked_example(0.2, None))))
        .await
        .expect("solved");
    let second = server
        .client
        .optimize(call(
            Some(&"x".repeat(200)),
            Some(worked_example(0.2, None)),
        ))
        .await
        .expect("solved");
    let (first, second) = (reply_id(first.metadata()), reply_id(second.metadata()));
    assert!(is_generated(&first), "{first}");
    assert!(is_generated(&second), "{second}");
    assert_ne!(first, second);

    // A stream's reply carries it too.
    let mut batch = Request::new(pb::RunScenariosRequest {
        base: Some(worked_example(0.2, None)),
        scenarios: vec![scenario("s", Default::default())],
        options: None,
    });
    batch
        .metadata_mut()
        .insert("x-request-id", "batch-1".parse().expect("ascii"));
    let response = server.client.run_scenarios(batch).await.expect("stream");
    assert_eq!(reply_id(response.metadata()), "batch-1");
    drop(response);
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_cannot_start_is_refused_and_one_that_started_waits_its_turn() {
    let _timed = TIMED.lock().await;
    let mut server = start_with(pool_of(1, 0)).await;
    // Keep the only worker busy with a slow solve (1 s time limit).
    let mut slow = request(slow_plan());
    slow.options = Some(pb::SolveOptions {
        time_limit: Some(pbjson_types::Duration {
            seconds: 1,
            nanos: 0,
        }),
        // microlp: the engine this plan is slow on (HiGHS may be compiled in).
        solver: pb::Solver::Microlp as i32,
        skip_explanations: true,
    });
    let mut client = server.client.clone();
    let busy = tokio::spawn(async move { client.optimize(slow).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let batch = || pb::RunScenariosRequest {
        base: Some(worked_example(0.2, None)),
        scenarios: (0..4)
            .map(|i| scenario(&format!("s{i}"), Default::default()))
            .collect(),
        options: None,
    };
    let status = run_scenarios(&mut server, batch())
        .await
        .expect_err("no place for the batch");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.get_details_retry_info().is_some(), "{status:?}");
    busy.await.expect("join").expect("a time limit is a result");

    // With the worker free, the batch starts; its four scenarios share the one
    // worker by waiting, and none is refused.
    let results = run_scenarios(&mut server, batch()).await.expect("stream");
    assert_eq!(results.len(), 4);
    assert!(
        results.values().all(|result| result.error.is_none()),
        "{results:?}"
    );
    server.stop().await.expect("clean shutdown");
}

// ---------------------------------------------------------------------------------
// Solver engines.

fn on(solver: pb::Solver) -> pb::SolveOptions {
    pb::SolveOptions {
        solver: solver as i32,
        ..Default::default()
    }
}

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
