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

/// docs/MODEL.md §4 as `examples/` has it: one period, no baseline, `budget_cap`
/// 100, gross margins 0.8, maximise revenue. `a` (unit cost 1): 50 units at 3.0,
/// then unbounded at 1.0; `b` (unit cost 1): unbounded at 1.5.
fn worked_example(min_margin: f64, revenue_target: Option<f64>) -> pb::Plan {
    let mut plan = tradeoff::convert::parse_plan_json(include_str!(
        "../../examples/worked_example_margin_0_2.json"
    ))
    .expect("the example is a plan");
    plan.requirements = Some(pb::Requirements {
        min_margin: Some(min_margin),
        revenue_target,
        ..Default::default()
    });
    plan
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

fn scenario(id: &str, overrides: pb::ScenarioOverrides) -> pb::Scenario {
    pb::Scenario {
        id: id.into(),
        overrides: Some(overrides),
    }
}

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

/// A hand-computed plan of `tests/plans/`, read as plan files are.
fn plan_file(name: &str) -> pb::Plan {
    let path = format!("{}/tests/plans/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    tradeoff::convert::parse_plan_json(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every engine compiled in.
fn engines() -> Vec<pb::Solver> {
    let mut engines = vec![pb::Solver::Microlp];
    if cfg!(feature = "highs") {
        engines.push(pb::Solver::Highs);
    }
    engines
}

/// Options that run `solver`.
fn on(solver: pb::Solver) -> pb::SolveOptions {
    pb::SolveOptions {
        solver: solver as i32,
        ..Default::default()
    }
}

/// A batch of `scenarios` on `base`, with the default options.
fn scenarios_on(base: pb::Plan, scenarios: Vec<pb::Scenario>) -> pb::RunScenariosRequest {
    pb::RunScenariosRequest {
        base: Some(base),
        scenarios,
        options: None,
    }
}

/// The field paths of an INVALID_ARGUMENT status's BadRequest details.
fn violated_fields(status: &tonic::Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .expect("google.rpc.BadRequest details")
        .field_violations
        .into_iter()
        .map(|violation| violation.field)
        .collect()
}

/// The benches' synthetic plans (`benches/common`), for tests that need a plan of
/// a given size.
#[path = "../../benches/common/mod.rs"]
mod bench_plans;

mod admission;
mod engines;
mod explanations;
mod frontier;
mod in_seat;
mod optimize;
mod replan;
mod scenarios;
mod uncertainty;
