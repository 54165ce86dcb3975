//! Optimize on synthetic plans (see `common`) of about 100, 1,000 and 10,000
//! variables, and the FY27 example with 10,000 outcomes of its rates beside the
//! same plan without them (docs/MODEL.md §7).

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

/// `examples/fy27_uncertain.json` with `sample_count` outcomes, its quota met with
/// 90 % confidence where `confidence` (the margin floor at 14 %, where that is
/// feasible), or without outcomes at all (`sample_count` 0).
fn uncertain_plan(sample_count: u32, confidence: bool) -> Plan {
    let text = include_str!("../examples/fy27_uncertain.json");
    let mut plan = tradeoff::convert::parse_plan_json(text).expect("the example parses");
    if let Some(requirements) = plan.requirements.as_mut() {
        requirements.min_margin = Some(0.14);
    }
    match plan.uncertainty.as_mut() {
        Some(uncertainty) if sample_count > 0 => {
            uncertainty.sample_count = Some(sample_count);
            uncertainty.confidence = confidence.then_some(0.9);
        }
        _ => plan.uncertainty = None,
    }
    let plan = plan_from_pb(&plan, &Limits::default()).expect("valid plan");
    let report = solve(&plan, &options(false)).expect("solve");
    assert_eq!(report.status, Status::Optimal, "{}", report.message);
    plan
}

/// 10,000 outcomes on the FY27 plan: only reported, and with the quota met with
/// 90 % confidence (one row and variable per outcome), beside the plan without.
fn uncertainty(c: &mut Criterion) {
    let mut group = c.benchmark_group("fy27_outcomes");
    group.sample_size(10);
    for (name, plan) in [
        ("none", uncertain_plan(0, false)),
        ("10000_reported", uncertain_plan(10_000, false)),
        ("10000_confidence_0.9", uncertain_plan(10_000, true)),
    ] {
        group.bench_with_input(BenchmarkId::from_parameter(name), &plan, |b, plan| {
            b.iter(|| solve(plan, &options(false)).expect("solve"));
        });
    }
    group.finish();
}

criterion_group!(benches, optimize, explained, uncertainty);
criterion_main!(benches);
