//! Scenario throughput: 1,000 what-ifs of one 20-driver, four-quarter plan
//! (budget caps, margin floors, revenue and cost scales, exclusions, unit caps),
//! solved
//!
//! - `in_process_pool`: as `tradeoff batch` does without `--server`
//!   ([`ScenarioBatch::run_on_threads`] on one thread per core);
//! - `grpc_run_scenarios`: in one `RunScenarios` stream to a real server on this
//!   machine (port 0), as `tradeoff batch --server` sends a chunk;
//! - one at a time, for comparison: `in_process_one_at_a_time` (one
//!   [`planner::optimize`] after another on one thread) and
//!   `grpc_optimize_one_at_a_time` (one `Optimize` call after another, each
//!   answered before the next is sent).
//!
//! Explanations are off everywhere, as in every batch. Throughput is reported in
//! scenarios per second.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::synthetic_plan;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use tokio::net::TcpListener;
use tradeoff::convert::Limits;
use tradeoff::pb::{self, planner_service_client::PlannerServiceClient};
use tradeoff::planner::{self, ScenarioBatch};

/// Scenarios per batch.
const SCENARIOS: usize = 1_000;

/// Drivers of the plan (four quarters, two segments each: 160 variables).
const DRIVERS: usize = 20;

/// SplitMix64: the same scenarios on every run, without a dependency.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [low, high).
    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        self.between(0.0, 1.0) < p
    }

    fn driver(&mut self) -> String {
        format!("d{}", self.next() % DRIVERS as u64)
    }
}

/// A what-if study: every scenario moves the budget, most move a margin floor
/// or a few drivers' returns, some change a cost, cap a driver, cap Q1 spend or
/// drop a driver.
fn scenarios(base: &pb::Plan) -> Vec<pb::Scenario> {
    let budget = base
        .budget_cap
        .expect("the synthetic plan has a budget cap");
    let mut dice = Dice(2027);
    (0..SCENARIOS)
        .map(|k| {
            let mut overrides = pb::ScenarioOverrides {
                budget_cap: Some(budget * dice.between(0.6, 1.3)),
                ..Default::default()
            };
            if dice.chance(0.5) {
                overrides.min_margin = Some(dice.between(0.2, 0.36));
            }
            for _ in 0..3 {
                if dice.chance(0.6) {
                    let factor = dice.between(0.7, 1.3);
                    overrides.revenue_scale.insert(dice.driver(), factor);
                }
            }
            if dice.chance(0.3) {
                let factor = dice.between(0.8, 1.25);
                overrides.cost_scale.insert(dice.driver(), factor);
            }
            if dice.chance(0.2) {
                let cap = dice.between(10.0, 30.0).round();
                overrides.max_units.insert(dice.driver(), cap);
            }
            if dice.chance(0.2) {
                let cap = budget * dice.between(0.15, 0.3);
                overrides.period_budget_caps.insert("Q1".into(), cap);
            }
            if dice.chance(0.1) {
                overrides.excluded_drivers.push(dice.driver());
            }
            pb::Scenario {
                id: format!("what-if-{k}"),
                overrides: Some(overrides),
            }
        })
        .collect()
}

fn options() -> pb::SolveOptions {
    pb::SolveOptions {
        skip_explanations: true,
        ..Default::default()
    }
}

/// Solves every scenario once and says how they came out; panics on any error,
/// so that the bench never times failures.
fn check(batch: &ScenarioBatch, numbered: &[(usize, pb::Scenario)], jobs: usize) {
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<String, usize>::new());
    batch.run_on_threads(numbered, jobs, |result| {
        assert!(result.error.is_none(), "{result:?}");
        let status = pb::SolveStatus::try_from(result.status)
            .map_or("?", |status| status.as_str_name())
            .to_string();
        let how = match (result.basis_reused, result.basis_pivots) {
            (false, _) => "by the engine",
            (true, 0) => "from a kept basis as it was",
            (true, _) => "from a kept basis after pivots",
        };
        let mut statuses = statuses.lock().expect("no panics");
        *statuses.entry(status).or_default() += 1;
        *statuses.entry(how.to_string()).or_default() += 1;
        true
    });
    eprintln!(
        "{SCENARIOS} scenarios of a {DRIVERS}-driver, four-quarter plan: {:?}",
        statuses.into_inner().expect("no panics")
    );
}

fn batch(c: &mut Criterion) {
    let base = synthetic_plan(DRIVERS);
    let scenarios = scenarios(&base);
    let numbered: Vec<(usize, pb::Scenario)> = scenarios.iter().cloned().enumerate().collect();
    let limits = Limits::default();
    let batch = planner::scenario_batch(Some(&base), Some(&options()), &limits)
        .expect("the base plan is valid");
    let jobs = std::thread::available_parallelism().map_or(1, usize::from);
    check(&batch, &numbered, jobs);
    // The same variants as whole plans, for one Optimize each.
    let requests: Vec<pb::OptimizeRequest> = scenarios
        .iter()
        .enumerate()
        .map(|(index, scenario)| {
            let overrides = scenario.overrides.clone().unwrap_or_default();
            let root = format!("scenarios[{index}].overrides");
            let applied = tradeoff::convert::overrides::apply(&base, &overrides, &root)
                .expect("valid overrides");
            pb::OptimizeRequest {
                plan: Some(applied.plan),
                options: Some(options()),
            }
        })
        .collect();
    let run_scenarios = pb::RunScenariosRequest {
        base: Some(base.clone()),
        scenarios: scenarios.clone(),
        options: Some(options()),
    };

    // A real server on this machine, on a port of its own.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let listener = runtime
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("a local port");
    let address = listener.local_addr().expect("a bound address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(tradeoff::serve(listener, async {
        let _ = stopped.await;
    }));
    let client = runtime
        .block_on(PlannerServiceClient::connect(format!("http://{address}")))
        .expect("the server answers");

    let mut group = c.benchmark_group("batch_1000_scenarios");
    group.throughput(Throughput::Elements(SCENARIOS as u64));
    group.sample_size(10);
    // Each iteration takes seconds: the same number of them in every sample.
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));

    group.bench_function("in_process_pool", |b| {
        b.iter(|| {
            let solved = AtomicUsize::new(0);
            batch.run_on_threads(&numbered, jobs, |_| {
                solved.fetch_add(1, Ordering::Relaxed);
                true
            });
            assert_eq!(solved.into_inner(), SCENARIOS);
        });
    });
    group.bench_function("grpc_run_scenarios", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut stream = client
                    .clone()
                    .run_scenarios(run_scenarios.clone())
                    .await
                    .expect("RunScenarios")
                    .into_inner();
                let mut solved = 0;
                while let Some(result) = stream.message().await.expect("a result") {
                    assert!(result.error.is_none(), "{result:?}");
                    solved += 1;
                }
                assert_eq!(solved, SCENARIOS);
            });
        });
    });
    group.bench_function("in_process_one_at_a_time", |b| {
        b.iter(|| {
            for request in &requests {
                planner::optimize(request, &limits, None).expect("Optimize");
            }
        });
    });
    group.bench_function("grpc_optimize_one_at_a_time", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut client = client.clone();
                for request in &requests {
                    client.optimize(request.clone()).await.expect("Optimize");
                }
            });
        });
    });
    group.finish();

    let _ = stop.send(());
    runtime
        .block_on(server)
        .expect("the server task")
        .expect("the server stops cleanly");
}

criterion_group!(benches, batch);
criterion_main!(benches);
