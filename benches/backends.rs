//! The two solver engines side by side (needs `--features highs`):
//!
//! - `crossover`: bare solves of growing plans on microlp and on HiGHS, which sets
//!   `AUTO_HIGHS_MIN_VARIABLES`;
//! - `large_plan`: a 50,000-variable plan solved by `tradeoff` on HiGHS (program
//!   build, every lexicographic stage, verification, report) against HiGHS alone on
//!   the same linear program (the first stage, built straight from the program and
//!   handed to HiGHS, timing only HiGHS's solve);
//! - before the groups, microlp on the large plan under a time limit, printed to
//!   stderr: it either solves it or stops with status TIME_LIMIT.
//!
//! Run: `cargo bench --features highs --bench backends`.

mod common;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use tradeoff::convert::{plan_from_pb, Limits};
use tradeoff::model::{Plan, Sense};
use tradeoff::program::Program;
use tradeoff::solve::{solve, Backend, SolveOptions, SolverChoice, Status};

/// Drivers of the large plan: 8 variables each.
const LARGE_DRIVERS: usize = 6_250;

fn plan(drivers: usize) -> Plan {
    plan_from_pb(&common::synthetic_plan(drivers), &Limits::default()).expect("valid plan")
}

fn bare(backend: Backend) -> SolveOptions {
    SolveOptions {
        explain: false,
        solver: SolverChoice::Only(backend),
        ..SolveOptions::default()
    }
}

/// The first stage of `program` (maximise revenue) as a HiGHS model, built without
/// any of `tradeoff`'s solver code.
fn highs_model(program: &Program) -> highs::Model {
    let mut costs = vec![0.0; program.vars.len()];
    for &(var, coefficient) in &program.levels.revenue.terms {
        costs[var] += coefficient;
    }
    let mut problem = highs::RowProblem::default();
    let columns: Vec<highs::Col> = program
        .vars
        .iter()
        .zip(&costs)
        .map(|(var, &cost)| {
            problem.add_column_with_integrality(cost, var.lower..=var.upper, var.integer)
        })
        .collect();
    for row in &program.rows {
        let terms = row.expr.clone().normalized().terms;
        let factors = terms.iter().map(|&(var, c)| (columns[var], c));
        match row.sense {
            Sense::LessEqual => problem.add_row(..=row.rhs, factors),
            Sense::GreaterEqual => problem.add_row(row.rhs.., factors),
            Sense::Equal => problem.add_row(row.rhs..=row.rhs, factors),
        };
    }
    let mut model = problem.optimise(highs::Sense::Maximise);
    model.make_quiet();
    model.set_option("threads", 1);
    model
}

/// microlp on the large plan, once, under a time limit: solved or TIME_LIMIT.
fn microlp_on_the_large_plan() {
    let plan = plan(LARGE_DRIVERS);
    let limit = Duration::from_secs(60);
    let started = Instant::now();
    let options = SolveOptions {
        time_limit: Some(limit),
        ..bare(Backend::Microlp)
    };
    let report = solve(&plan, &options).expect("microlp answers");
    eprintln!(
        "microlp on {} variables with a {limit:?} limit: {:?} after {:.1?} ({})",
        report.solver.variables,
        report.status,
        started.elapsed(),
        report.message
    );
    assert!(matches!(report.status, Status::Optimal | Status::TimeLimit));
}

fn large_plan(c: &mut Criterion) {
    microlp_on_the_large_plan();
    let plan = plan(LARGE_DRIVERS);
    let program = Program::build(&plan);
    let mut group = c.benchmark_group("large_plan");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    let name = format!("{}_variables", program.vars.len());
    group.bench_function(BenchmarkId::new("highs_alone", &name), |b| {
        b.iter_batched(
            || highs_model(&program),
            |model| {
                let solved = model.solve();
                assert_eq!(solved.status(), highs::HighsModelStatus::Optimal);
                solved
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function(BenchmarkId::new("tradeoff_highs", &name), |b| {
        b.iter(|| {
            let report = solve(&plan, &bare(Backend::Highs)).expect("solve");
            assert_eq!(report.status, Status::Optimal, "{}", report.message);
            report
        });
    });
    group.finish();
}

fn crossover(c: &mut Criterion) {
    let mut group = c.benchmark_group("crossover");
    group.sample_size(10);
    for drivers in [12usize, 30, 60, 125, 250] {
        let plan = plan(drivers);
        for backend in [Backend::Microlp, Backend::Highs] {
            let id = BenchmarkId::new(backend.name(), format!("{}_variables", drivers * 8));
            group.bench_with_input(id, &plan, |b, plan| {
                b.iter(|| solve(plan, &bare(backend)).expect("solve"));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, crossover, large_plan);
criterion_main!(benches);
