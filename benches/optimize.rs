//! Optimize on synthetic plans of about 100, 1,000 and 10,000 variables.
//!
//! Each plan has four quarters and drivers with two response segments (8 variables
//! per driver), ramping returns and recurring costs, a budget cap, a margin floor, a
//! marketing share cap and a per-quarter SDR link — the shape of a real plan, scaled.

mod common;

use common::synthetic_plan;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tradeoff::convert::{plan_from_pb, Limits};
use tradeoff::model::Plan;
use tradeoff::solve::{solve, SolveOptions, Status};

/// Solve options without explanations (the bare solve) or with them.
fn options(explain: bool) -> SolveOptions {
    SolveOptions {
        explain,
        ..SolveOptions::default()
    }
}

fn plans() -> Vec<(String, Plan)> {
    [12usize, 125, 1_250]
        .into_iter()
        .map(|drivers| {
            let plan =
                plan_from_pb(&synthetic_plan(drivers), &Limits::default()).expect("valid plan");
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
