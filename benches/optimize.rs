//! Optimize on synthetic plans (see `common`) of about 100, 1,000 and 10,000
//! variables.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tradeoff::analysis::solve;
use tradeoff::convert::{plan_from_pb, Limits};
use tradeoff::model::Plan;
use tradeoff::solve::{Backend, SolveOptions, SolverChoice, Status};

/// Solve options without explanations (the bare solve) or with them, on microlp
/// (the default build's engine; `benches/backends.rs` compares engines).
fn options(explain: bool) -> SolveOptions {
    SolveOptions {
        explain,
        solver: SolverChoice::Only(Backend::Microlp),
        ..SolveOptions::default()
    }
}

fn plans() -> Vec<(String, Plan)> {
    [12usize, 125, 1_250]
        .into_iter()
        .map(|drivers| {
            let plan = plan_from_pb(&common::synthetic_plan(drivers), &Limits::default())
                .expect("valid plan");
            let report = solve(&plan, &options(false)).expect("solve");
            assert_eq!(report.status, Status::Optimal, "{}", report.message);
            (format!("{}_variables", drivers * 8), plan)
        })
        .collect()
}

/// The bare solve: lexicographic stages and verification, no explanations.
fn optimize(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimize");
    group.sample_size(10);
    for (name, plan) in plans() {
        group.bench_with_input(BenchmarkId::from_parameter(name), &plan, |b, plan| {
            b.iter(|| solve(plan, &options(false)).expect("solve"));
        });
    }
    group.finish();
}

/// The same solves with explanations (shadow prices of every named constraint,
/// break-even scales where there are at most 50 drivers): compare with `optimize`.
fn explained(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimize_explained");
    group.sample_size(10);
    for (name, plan) in plans() {
        group.bench_with_input(BenchmarkId::from_parameter(name), &plan, |b, plan| {
            b.iter(|| solve(plan, &options(true)).expect("solve"));
        });
    }
    group.finish();
}

criterion_group!(benches, optimize, explained);
criterion_main!(benches);
