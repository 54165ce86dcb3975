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
use tradeoff::analysis::solve;
use tradeoff::convert::{plan_from_pb, Limits};
use tradeoff::model::{Plan, Sense};
use tradeoff::program::{LinExpr, Program};
use tradeoff::solve::{Backend, SolveOptions, SolverChoice, Status};

/// Drivers of the large plan: 8 variables each.
const LARGE_DRIVERS: usize = 6_250;

fn plan(drivers: usize) -> Plan {
    // The large plan has more drivers than a server accepts by default.
    let limits = Limits {
        max_drivers: 10_000,
        ..Limits::default()
    };
    plan_from_pb(&common::synthetic_plan(drivers), &limits).expect("valid plan")
}

fn bare(backend: Backend) -> SolveOptions {
    SolveOptions {
        explain: false,
        solver: SolverChoice::Only(backend),
        ..SolveOptions::default()
    }
}

fn dense(expr: &LinExpr, columns: usize) -> Vec<f64> {
    let mut costs = vec![0.0; columns];
    for &(var, coefficient) in &expr.terms {
        costs[var] += coefficient;
    }
    costs
}

/// The first stage of `program` (maximise revenue) as a HiGHS model, built without
/// any of `tradeoff`'s solver code, with its columns.
fn highs_model(program: &Program) -> (highs::Model, Vec<highs::Col>) {
    let costs = dense(&program.levels.revenue, program.vars.len());
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
    (model, columns)
}

/// HiGHS alone on the lexicographic sequence `tradeoff` solves for a
/// maximise-revenue plan (docs/MODEL.md §2): maximise revenue; then, holding it,
/// minimise spend; then, holding both, maximise contribution — each stage warm from
/// the last, as a careful direct user of HiGHS would write it.
fn highs_lexicographic(model: highs::Model, columns: &[highs::Col], program: &Program) {
    let levels = &program.levels;
    let solved = model.solve();
    let solved = next_stage(
        solved,
        columns,
        &levels.revenue,
        &levels.spend,
        highs::Sense::Minimise,
    );
    let solved = next_stage(
        solved,
        columns,
        &levels.spend,
        &levels.contribution,
        highs::Sense::Maximise,
    );
    assert_eq!(solved.status(), highs::HighsModelStatus::Optimal);
}

/// Holds `held` at its optimum in `solved` (a maximum when the next stage
/// minimises, and the other way round) and optimises `next`, warm.
fn next_stage(
    solved: highs::SolvedModel,
    columns: &[highs::Col],
    held: &LinExpr,
    next: &LinExpr,
    sense: highs::Sense,
) -> highs::SolvedModel {
    assert_eq!(solved.status(), highs::HighsModelStatus::Optimal);
    let values = solved.get_solution().columns().to_vec();
    let optimum: f64 = held.terms.iter().map(|&(var, c)| c * values[var]).sum();
    // Held within docs/MODEL.md's tolerance, 1e-9 relative.
    let slack = 1e-9 * optimum.abs().max(1.0);
    let mut model = highs::Model::from(solved);
    let terms = held.clone().normalized().terms;
    let factors = terms.iter().map(|&(var, c)| (columns[var], c));
    match sense {
        highs::Sense::Minimise => model.add_row(optimum - slack.., factors),
        highs::Sense::Maximise => model.add_row(..=optimum + slack, factors),
    };
    let (old, new) = (dense(held, columns.len()), dense(next, columns.len()));
    for ((&column, old), new) in columns.iter().zip(old).zip(new) {
        if old != new {
            model.change_column_cost(column, new);
        }
    }
    model.set_sense(sense);
    // Warm from the last basis, which the primal simplex keeps using.
    model.set_option("presolve", "off");
    model.set_option("simplex_strategy", 4);
    model.solve()
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
    group.bench_function(BenchmarkId::new("highs_alone_first_stage", &name), |b| {
        b.iter_batched(
            || highs_model(&program),
            |(model, _)| {
                let solved = model.solve();
                assert_eq!(solved.status(), highs::HighsModelStatus::Optimal);
                solved
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function(BenchmarkId::new("highs_alone_all_stages", &name), |b| {
        b.iter_batched(
            || highs_model(&program),
            |(model, columns)| highs_lexicographic(model, &columns, &program),
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
    for drivers in [12usize, 30, 60, 90, 125, 250] {
        let plan = plan(drivers);
        let size = format!("{}_variables", drivers * 8);
        for backend in [Backend::Microlp, Backend::Highs] {
            let id = BenchmarkId::new(backend.name(), &size);
            group.bench_with_input(id, &plan, |b, plan| {
                b.iter(|| solve(plan, &bare(backend)).expect("solve"));
            });
        }
        let program = Program::build(&plan);
        group.bench_with_input(
            BenchmarkId::new("highs_alone_first_stage", &size),
            &program,
            |b, program| {
                b.iter_batched(
                    || highs_model(program),
                    |(model, _)| model.solve(),
                    BatchSize::PerIteration,
                );
            },
        );
    }
    group.finish();
}

criterion_group!(benches, crossover, large_plan);
criterion_main!(benches);
