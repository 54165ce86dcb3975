//! Realistic plans (`benches/common/realistic.rs`: the shape of real B2B sales
//! plans, from a seed) through the planner, the call the CLI and the gRPC service
//! share:
//!
//! 1. `every_plan_solves`: every plan solves to OPTIMAL, INFEASIBLE or UNBOUNDED
//!    (TIME_LIMIT only for plans with integer variables), never an error, on every
//!    engine compiled in (each forced, and AUTO); the engines agree on the status
//!    and the four totals (1e-6 of max(1, |total|)).
//! 2. `linear_prices_match_finite_differences`: on linear OPTIMAL plans, every
//!    constraint is priced, a slack one at 0; each one-sided shadow price of a
//!    binding constraint matches a re-solve of the whole plan with the bound moved
//!    a step `h` (1e-3 of the bound's scale, at most a quarter of the reported
//!    range) on the other engine when there is one, to 1e-5 relative plus the
//!    re-solves' round-off (`2 * 2e-9 * (driver revenue + spend) / h`); margin,
//!    share and ROI bounds, whose prices are derivatives, to 1e-3 after one
//!    Richardson step; a side without a value must be infeasible one step out; a
//!    constraint priced 0 as slack by a hair (1e-5 of its scale) must really leave
//!    the optimum alone when loosened. (`support::moved` moves the bounds.) A
//!    mismatch the pricing engine's own re-solves bear out is counted as the two
//!    engines' re-solves disagreeing, not as a wrong price.
//! 3. `infeasible_plans_are_diagnosed`: an infeasible plan has a diagnosis; each
//!    bound that alone makes it feasible does (re-solved on the other engine; one
//!    1e-6 of its scale further is accepted, and counted), and one 1e-4 of its
//!    scale short of it (at most half-way back) does not.
//!
//! Case `i` is the plan of seed `REALISTIC_SEED + i`, for `REALISTIC_CASES` cases
//! (default: a fixed seed and 24 cases, then the plans of `REGRESSION_SEEDS` that
//! long runs found failing, for CI, re-solving at most 12 constraints
//! or relaxations per plan and engine, drawn from the plan's seed; a run that sets
//! `REALISTIC_CASES` checks all of them, unless `REALISTIC_CHECKS` (a number or
//! `all`) says otherwise). A test runs every case, prints each failure with its
//! seed, the plan's JSON file and the command that reruns it alone, then fails with
//! a count of failures by kind. The long run:
//!
//!     REALISTIC_CASES=2000 REALISTIC_SEED=random cargo test --release --features highs --test realistic
//!
//! `REALISTIC_TIME_LIMIT` (seconds, default 60) bounds each solve;
//! `REALISTIC_TRACE=1` prints each case's seed before it runs (a crash's plan); `--nocapture`
//! shows what was checked and skipped, and the slowest cases.

#[path = "../benches/common/realistic.rs"]
mod realistic;
mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use proptest::test_runner::TestCaseError;
use realistic::{realistic_plan, realistic_plan_before_active_units, Intent, Realistic};
use support::moved::{movable, resolve, with_bound, Checks, Priced};
use tradeoff::analysis::solve;
use tradeoff::convert::{backend_to_pb, plan_from_pb, Limits};
use tradeoff::explain::{diagnose, ShadowPrice};
use tradeoff::model::{Plan, Sense};
use tradeoff::pb;
use tradeoff::planner;
use tradeoff::program::{LinExpr, Program};
use tradeoff::solve::{
    build_program, optimize_expr, Backend, Optimum, SolveOptions, SolverChoice, Status,
};

// ---------------------------------------------------------------------------------
// Cases, failures and their report.

/// The seed CI runs.
const CI_SEED: u64 = 20_261_203;
/// The cases CI runs.
const CI_CASES: u64 = 24;
/// Plans a long run found failing, which CI runs after its fixed-seed cases:
/// microlp called the first three singular from every start (fixed by the
/// scaled-columns start); the next ones failed their diagnoses' re-solves with a
/// singular basis, an integral candidate microlp's own validation refused, or an
/// optimum that broke a row (fixed by retrying the next start); the next one
/// panicked inside microlp (now a failed start); the rest are below. They name
/// plans of the generator before units in seat (docs/MODEL.md §5), which is how
/// they are made (`realistic_plan_before_active_units`): the plans they were found
/// on.
const REGRESSION_SEEDS: &[u64] = &[
    585_574_524_806,
    585_574_524_838,
    585_574_524_893,
    585_574_569_149,
    585_574_569_109,
    585_574_569_834,
    585_574_569_878,
    302_411_200_479,
    // Fixed by microlp 0.7: a whole-unit plan singular from every start, and
    // diagnoses whose bounds microlp 0.6 could not re-solve.
    302_411_201_261,
    302_412_238_710,
    302_412_239_298,
    302_412_239_065,
    774_196_197_460,
    // Fixed by taking a zero reduced cost at round-off (1e-10), not 1e-7: a
    // price's range ran past the point where the price changes.
    807_020_224_452,
    500_784_166_802,
    807_020_224_023,
    807_020_224_197,
    // HiGHS's branch and bound answered "unbounded or infeasible" without
    // presolve too, and asking again recursed until the stack overflowed.
    340_828_473_279,
    // A ratio bound's edge bisected on the engine's word alone: microlp's plans
    // sat a ten-millionth of a unit below zero on drivers costing 40,000 a unit,
    // so `min_roi` counted as met 2e-6 (relative) past where plans of units stop.
    340_828_473_774,
    340_828_473_971,
    340_828_474_015,
    // Whole units within microlp's integrality tolerance of whole let the later
    // levels keep revenue; made whole, they lost 15.9 of it (1.4e-7).
    392_940_190_193,
    // microlp met rows of whole-unit plans within its tolerances only: a value
    // 1e-6 off whole (a share bound broken by 1.2e-6 once made whole), and
    // units a few 1e-10 below zero paying for a revenue target of 0.0001
    // where the group shares allow no spend. The diagnoses' linear bounds,
    // taken from such an extreme, overshot their edge (42,141,457.72 for
    // 42,137,244).
    50_408_219_718,
    50_408_219_854,
    69_428_623_018,
    // Linear bounds alone that overshot their edge by microlp's noise.
    69_428_623_285,
    69_428_623_800,
    // A group spend floor of 0.0001 where no spend is possible, met by units
    // 2e-9 below zero on drivers costing millions (reported OPTIMAL); then,
    // with units kept inside their bounds, our own simplex left the floor's
    // 4e-7 units undecided instead of proving no plan exists.
    39_072_164_665,
    // 72 binding constraints priced by re-solves (ranges of 67 million units)
    // needed 2.2 s: the explanation budget's floor of 2 s left seven unpriced.
    357_757_751_037,
    // Group share bounds alone bisected on microlp's word landed 5e-6 short
    // of the edge (HiGHS infeasible 1e-6 beyond); now Dinkelbach's steps
    // reach the extreme a plan attains, equal to HiGHS's to 12 digits.
    255_808_274_861,
    255_808_275_500,
    // HiGHS answered a budget cap's least spend 26 % too high on the program
    // without the row; a second opinion with the row far out is right.
    29_907_943_721,
];
/// In CI, the constraints whose prices, and the relaxations whose bounds, are
/// re-solved per plan and engine (a sample, drawn from the plan's seed).
const CI_CHECKS_PER_PLAN: usize = 12;

struct Config {
    seed: u64,
    cases: u64,
    /// Seeds run after the `cases` from `seed`.
    regressions: &'static [u64],
    time_limit: Duration,
    /// At most this many constraints (prices) or relaxations (diagnoses) of a plan
    /// are re-solved; `None`: all.
    checks_per_plan: Option<usize>,
}

fn config() -> Config {
    let explicit = std::env::var("REALISTIC_CASES").ok();
    let cases = explicit
        .as_ref()
        .map(|cases| cases.parse().expect("REALISTIC_CASES: a number"))
        .unwrap_or(CI_CASES);
    // CI re-solves a sample of each plan's constraints; a run that names its number
    // of cases checks all of them, unless REALISTIC_CHECKS says otherwise.
    let checks_per_plan = match std::env::var("REALISTIC_CHECKS") {
        Ok(checks) if checks == "all" => None,
        Ok(checks) => Some(checks.parse().expect("REALISTIC_CHECKS: a number or all")),
        Err(_) if explicit.is_some() => None,
        Err(_) => Some(CI_CHECKS_PER_PLAN),
    };
    let seed = match std::env::var("REALISTIC_SEED") {
        Ok(seed) if seed == "random" => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("a clock after 1970");
            let seed = now.as_nanos() as u64 % 1_000_000_000_000;
            eprintln!("REALISTIC_SEED=random: {seed}");
            seed
        }
        Ok(seed) => seed.parse().expect("REALISTIC_SEED: a number or random"),
        Err(_) => CI_SEED,
    };
    let time_limit = std::env::var("REALISTIC_TIME_LIMIT")
        .ok()
        .map(|seconds| seconds.parse().expect("REALISTIC_TIME_LIMIT: seconds"))
        .unwrap_or(60.0);
    Config {
        seed,
        cases,
        regressions: if explicit.is_some() {
            &[]
        } else {
            REGRESSION_SEEDS
        },
        time_limit: Duration::from_secs_f64(time_limit),
        checks_per_plan,
    }
}

/// The indices below `count` to check: all of them, or `limit` drawn from `seed`.
fn sample(seed: u64, count: usize, limit: Option<usize>) -> Vec<usize> {
    match limit {
        Some(limit) if limit < count => {
            let mut chosen = realistic::Rng::new(seed).sample(count, limit);
            chosen.sort_unstable();
            chosen
        }
        _ => (0..count).collect(),
    }
}

/// One generated plan, validated.
struct Case {
    generated: Realistic,
    plan: Plan,
}

impl Case {
    /// Whether the plan's program has integer variables (whole units or segment
    /// order).
    fn mixed_integer(&self) -> bool {
        Program::build(&self.plan).is_mixed_integer()
    }
}

/// A failure: which case, what kind (for the count), what exactly.
struct Failure {
    seed: u64,
    kind: String,
    detail: String,
}

/// The run of one test over every case.
struct Run {
    test: &'static str,
    config: Config,
    failures: Vec<Failure>,
    /// What happened besides failures, counted (statuses, skipped checks).
    counts: BTreeMap<String, usize>,
    /// The slowest solves: time, seed, what.
    slowest: Vec<(Duration, u64, String)>,
    started: Instant,
    /// `REALISTIC_TRACE`: print each case's seed (and write its plan's file)
    /// before it runs, to name the plan a crash (a stack overflow aborts the test
    /// binary) happened on.
    trace: bool,
}

impl Run {
    fn new(test: &'static str) -> Run {
        Run {
            test,
            config: config(),
            failures: Vec::new(),
            counts: BTreeMap::new(),
            slowest: Vec::new(),
            started: Instant::now(),
            trace: std::env::var_os("REALISTIC_TRACE").is_some(),
        }
    }

    fn count(&mut self, what: impl Into<String>) {
        *self.counts.entry(what.into()).or_default() += 1;
    }

    /// Notes how long something took, keeping the slowest few.
    fn time(&mut self, elapsed: Duration, seed: u64, what: impl Into<String>) {
        self.slowest.push((elapsed, seed, what.into()));
        self.slowest
            .sort_by_key(|&(elapsed, ..)| std::cmp::Reverse(elapsed));
        self.slowest.truncate(5);
    }

    fn fail(&mut self, case: &Realistic, kind: impl Into<String>, detail: impl Into<String>) {
        let (kind, detail) = (kind.into(), detail.into());
        let path = write_plan(case);
        println!(
            "FAILED {}: seed {} ({:?}): {kind}\n  {detail}\n  plan: {}\n  rerun: \
             REALISTIC_SEED={} REALISTIC_CASES=1 cargo test --test realistic {}",
            self.test,
            case.seed,
            case.intent,
            path.display(),
            case.seed,
            self.test
        );
        self.failures.push(Failure {
            seed: case.seed,
            kind,
            detail,
        });
    }

    /// Every case in turn: `check` gets the valid ones (an invalid plan is a
    /// generator bug, reported by `every_plan_solves`).
    fn cases(&mut self, mut check: impl FnMut(&mut Run, &Case)) {
        let (seed, cases) = (self.config.seed, self.config.cases);
        let seeds = (0..cases).map(|i| seed.wrapping_add(i));
        let regressions = self.config.regressions.iter().copied();
        let plans = seeds
            .map(realistic_plan)
            .chain(regressions.map(realistic_plan_before_active_units));
        for generated in plans {
            match plan_from_pb(&generated.plan, &Limits::default()) {
                Ok(plan) => {
                    let started = Instant::now();
                    let seed = generated.seed;
                    if self.trace {
                        let path = write_plan(&generated);
                        eprintln!("{}: seed {seed} ({})", self.test, path.display());
                    }
                    check(self, &Case { generated, plan });
                    self.time(started.elapsed(), seed, "the whole case");
                }
                Err(error) => {
                    if self.test == "every_plan_solves" {
                        self.fail(
                            &generated,
                            "invalid plan (generator bug)",
                            error.to_string(),
                        );
                    }
                }
            }
        }
    }

    /// Prints what happened and fails when anything failed.
    fn finish(self) {
        let elapsed = self.started.elapsed();
        println!(
            "{}: {} cases from seed {} in {:.1} s",
            self.test,
            self.config.cases,
            self.config.seed,
            elapsed.as_secs_f64()
        );
        for (what, count) in &self.counts {
            println!("  {what}: {count}");
        }
        for (elapsed, seed, what) in &self.slowest {
            println!(
                "  slow: {:.2} s, seed {seed}, {what}",
                elapsed.as_secs_f64()
            );
        }
        if self.failures.is_empty() {
            return;
        }
        // Per kind: the failures and the plans they happened on.
        let mut kinds: BTreeMap<&str, (usize, Vec<u64>)> = BTreeMap::new();
        for failure in &self.failures {
            let entry = kinds.entry(&failure.kind).or_default();
            entry.0 += 1;
            if !entry.1.contains(&failure.seed) {
                entry.1.push(failure.seed);
            }
        }
        let mut summary = format!(
            "{}: {} failures on {} of {} plans (seed {}):\n",
            self.test,
            self.failures.len(),
            {
                let mut seeds: Vec<u64> = self.failures.iter().map(|f| f.seed).collect();
                seeds.sort_unstable();
                seeds.dedup();
                seeds.len()
            },
            self.config.cases,
            self.config.seed
        );
        for (kind, (count, seeds)) in &kinds {
            let shown: Vec<String> = seeds.iter().take(6).map(u64::to_string).collect();
            summary.push_str(&format!(
                "  {count} x {kind} ({} plans, e.g. seeds {})\n",
                seeds.len(),
                shown.join(", ")
            ));
        }
        summary.push_str(&format!(
            "  first: seed {}: {}",
            self.failures[0].seed, self.failures[0].detail
        ));
        panic!("{summary}");
    }
}

/// Writes the plan to a file under the temporary directory and returns its path.
fn write_plan(case: &Realistic) -> PathBuf {
    let dir = std::env::temp_dir().join("tradeoff-realistic");
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join(format!("plan-{}.json", case.seed));
    let json = serde_json::to_string_pretty(&case.plan).expect("a plan serialises");
    std::fs::write(&path, json).expect("the plan file is written");
    path
}

/// A short name for what an error message says, for counting.
fn error_kind(message: &str) -> String {
    const KNOWN: [&str; 6] = [
        "Singular matrix",
        "exactly integral solution failed feasibility validation",
        "panicked",
        "breaks",
        "time budget ran out",
        "deadline",
    ];
    for known in KNOWN {
        if message.contains(known) {
            return match known {
                "breaks" => "the solved plan breaks a constraint (verification)".into(),
                known => known.into(),
            };
        }
    }
    message.chars().take(80).collect()
}

/// The engines to run a plan on: AUTO, and each engine forced when there are two.
fn choices() -> Vec<(&'static str, pb::Solver)> {
    let mut choices = vec![("auto", pb::Solver::Auto)];
    let available = Backend::available();
    if available.len() > 1 {
        choices.extend(
            available
                .into_iter()
                .map(|backend| (backend.name(), backend_to_pb(backend))),
        );
    }
    choices
}

/// Each engine compiled in, with the one that checks it: the other engine when
/// there are two, itself otherwise.
fn engines() -> Vec<(Backend, Backend)> {
    let available = Backend::available();
    available
        .iter()
        .map(|&engine| {
            let other = available.iter().find(|&&other| other != engine);
            (engine, other.copied().unwrap_or(engine))
        })
        .collect()
}

/// The plan through the planner.
fn optimize(
    case: &Case,
    solver: pb::Solver,
    explain: bool,
    time_limit: Duration,
) -> Result<pb::PlanResult, String> {
    let request = pb::OptimizeRequest {
        plan: Some(case.generated.plan.clone()),
        options: Some(pb::SolveOptions {
            solver: solver as i32,
            skip_explanations: !explain,
            ..Default::default()
        }),
    };
    planner::optimize(&request, &Limits::default(), Some(time_limit))
        .map(|response| response.result.expect("a result"))
        .map_err(|error| error.to_string())
}

fn status(result: &pb::PlanResult) -> pb::SolveStatus {
    pb::SolveStatus::try_from(result.status).unwrap_or(pb::SolveStatus::Unspecified)
}

// ---------------------------------------------------------------------------------
// 1. Every plan solves, on every engine, to the same answer.

#[test]
fn every_plan_solves() {
    let mut run = Run::new("every_plan_solves");
    let time_limit = run.config.time_limit;
    run.cases(|run, case| {
        let mixed_integer = case.mixed_integer();
        let program = if mixed_integer {
            "mixed-integer"
        } else {
            "linear"
        };
        run.count(format!("plans: {program}"));
        let mut results: Vec<(&str, pb::PlanResult)> = Vec::new();
        for (name, solver) in choices() {
            let started = Instant::now();
            let outcome = optimize(case, solver, false, time_limit);
            run.time(
                started.elapsed(),
                case.generated.seed,
                format!("{name}, {program}"),
            );
            let result = match outcome {
                Ok(result) => result,
                Err(error) => {
                    run.fail(
                        &case.generated,
                        format!("{name}: {}", error_kind(&error)),
                        format!("{name}: {error}"),
                    );
                    continue;
                }
            };
            let status = status(&result);
            run.count(format!("status on {name}: {}", status.as_str_name()));
            match status {
                pb::SolveStatus::Optimal
                | pb::SolveStatus::Infeasible
                | pb::SolveStatus::Unbounded => {}
                pb::SolveStatus::TimeLimit if mixed_integer => {}
                other => {
                    run.fail(
                        &case.generated,
                        format!("{name}: status {}", other.as_str_name()),
                        format!("{name}: {} ({})", other.as_str_name(), result.message),
                    );
                    continue;
                }
            }
            results.push((name, result));
        }
        // The engines agree.
        let Some(((first_name, first), rest)) = results.split_first() else {
            return;
        };
        for (name, other) in rest {
            let (a, b) = (status(first), status(other));
            if a == pb::SolveStatus::TimeLimit || b == pb::SolveStatus::TimeLimit {
                continue;
            }
            if a != b {
                run.fail(
                    &case.generated,
                    format!(
                        "engines disagree on the status ({first_name} {}, {name} {})",
                        a.as_str_name(),
                        b.as_str_name()
                    ),
                    format!(
                        "{first_name}: {} ({}); {name}: {} ({})",
                        a.as_str_name(),
                        first.message,
                        b.as_str_name(),
                        other.message
                    ),
                );
                continue;
            }
            if a != pb::SolveStatus::Optimal {
                continue;
            }
            let totals = |result: &pb::PlanResult| {
                let totals = result.totals.clone().unwrap_or_default();
                [
                    ("revenue", totals.revenue),
                    ("spend", totals.spend),
                    ("gross_profit", totals.gross_profit),
                    ("contribution", totals.contribution),
                ]
            };
            for ((total, x), (_, y)) in totals(first).into_iter().zip(totals(other)) {
                if (x - y).abs() > 1e-6 * x.abs().max(y.abs()).max(1.0) {
                    run.fail(
                        &case.generated,
                        format!("engines disagree on the totals ({program} plan)"),
                        format!("{total}: {first_name} {x}, {name} {y}"),
                    );
                    break;
                }
            }
        }
    });
    // The generator covers what it should: with enough cases, every status.
    if run.config.cases >= 100 {
        for status in ["OPTIMAL", "INFEASIBLE", "UNBOUNDED"] {
            let seen = run
                .counts
                .iter()
                .any(|(what, &count)| what.ends_with(status) && count > 0);
            assert!(seen, "no {status} plan among {} cases", run.config.cases);
        }
    }
    run.finish();
}

// ---------------------------------------------------------------------------------
// 2. Prices against finite differences.

/// A failure's kind: the engine, what went wrong, and what kind of constraint
/// (from its name) it went wrong on.
fn failure_kind(engine: Backend, what: &str, constraint: &str) -> String {
    format!(
        "{}: {what} ({})",
        engine.name(),
        constraint_kind(constraint)
    )
}

/// What a constraint's name says it is, for counting failures by kind.
fn constraint_kind(name: &str) -> String {
    let (head, tail) = match name.split_once("].") {
        Some((head, tail)) => (head, tail),
        None => return name.split('[').next().unwrap_or(name).into(),
    };
    let owner = head.split('[').next().unwrap_or(head);
    let field = tail.split('[').next().unwrap_or(tail);
    format!("{owner} {field}")
}

/// The kind of a price failure, from its message.
fn price_failure_kind(message: &str, reported_zero: bool, checker: Backend) -> String {
    if message.contains("failed:") {
        return format!(
            "re-solve on {} failed: {}",
            checker.name(),
            error_kind(message)
        );
    }
    if message.contains("is None, but") {
        "a side without value is feasible"
    } else if message.contains("not binding and priced 0") {
        "priced 0 as slack, but loosening moves the optimum"
    } else if message.contains("not binding, but") {
        "priced 0 as slack, but loosening leaves no optimum"
    } else if message.contains("is infeasible") {
        "infeasible inside the reported range"
    } else if message.contains("wrong side") {
        "range on the wrong side of the bound"
    } else if reported_zero {
        "priced 0 on a binding bound, re-solves differ"
    } else {
        "price differs from re-solves"
    }
    .into()
}

/// How close to its bound (relative to the bound's scale) a constraint reported
/// slack must be for its zero price to be checked too.
const NEAR: f64 = 1e-5;

#[test]
fn linear_prices_match_finite_differences() {
    let mut run = Run::new("linear_prices_match_finite_differences");
    let time_limit = run.config.time_limit;
    run.cases(|run, case| {
        if case.mixed_integer() {
            return;
        }
        for (engine, checker) in engines() {
            // Errors and statuses are `every_plan_solves`'s business.
            let Ok(result) = optimize(case, backend_to_pb(engine), true, time_limit) else {
                continue;
            };
            if status(&result) != pb::SolveStatus::Optimal {
                continue;
            }
            run.count(format!("optimal linear plans priced on {}", engine.name()));
            let checks = Checks {
                solver: SolverChoice::Only(checker),
                relative: 1e-5,
                ranges: false,
                strict: true,
            };
            // The base optimum from the checking engine, so that both ends of each
            // difference come from one engine.
            let base = match resolve(&case.plan, checks.solver) {
                Ok(Some(base)) => base,
                other => {
                    let why = match &other {
                        Err(error) => error_kind(&error.to_string()),
                        Ok(_) => "no optimum".into(),
                    };
                    run.fail(
                        &case.generated,
                        format!(
                            "{}: re-solve on {} failed: {why} (the unmoved plan)",
                            engine.name(),
                            checker.name()
                        ),
                        format!(
                            "{} found OPTIMAL, {} re-solving gives {other:?}",
                            engine.name(),
                            checker.name()
                        ),
                    );
                    continue;
                }
            };
            let program = Program::build(&case.plan);
            if program.named.len() != result.constraints.len() {
                run.fail(
                    &case.generated,
                    "constraints missing from the result",
                    format!(
                        "{} named constraints, {} reported",
                        program.named.len(),
                        result.constraints.len()
                    ),
                );
                continue;
            }
            // Cheap checks on every constraint; the ones whose prices re-solves can
            // check (binding, or slack by a hair), collected.
            let mut checkable: Vec<(usize, ShadowPrice)> = Vec::new();
            for (index, (named, constraint)) in
                program.named.iter().zip(&result.constraints).enumerate()
            {
                let kind = |what: &str| failure_kind(engine, what, &constraint.name);
                if named.name != constraint.name {
                    run.fail(
                        &case.generated,
                        kind("constraints out of order"),
                        format!(
                            "{} reported where {} was expected",
                            constraint.name, named.name
                        ),
                    );
                    break;
                }
                if !constraint.priced {
                    run.fail(
                        &case.generated,
                        kind("not priced"),
                        format!("{}: priced: false", constraint.name),
                    );
                    continue;
                }
                let price = ShadowPrice {
                    up: constraint.shadow_price_up,
                    down: constraint.shadow_price_down,
                    up_until: constraint.up_price_holds_to,
                    down_until: constraint.down_price_holds_to,
                };
                if !constraint.binding && (price.up != Some(0.0) || price.down != Some(0.0)) {
                    run.fail(
                        &case.generated,
                        kind("not binding, but priced"),
                        format!(
                            "{}: slack {}, priced {price:?}",
                            constraint.name, constraint.slack
                        ),
                    );
                    continue;
                }
                let near = constraint.slack <= NEAR * named.bound.abs().max(1.0);
                if !(constraint.binding || near) {
                    continue;
                }
                if !movable(named.source) {
                    run.count(
                        "constraints not checked: a per-period link's shared right-hand side",
                    );
                    continue;
                }
                checkable.push((index, price));
            }

            // The pricing engine's own base optimum, for a second opinion on a
            // mismatch (computed when first needed).
            let mut own_base = None;
            for at in sample(
                case.generated.seed,
                checkable.len(),
                run.config.checks_per_plan,
            ) {
                let (index, price) = checkable[at];
                let (named, constraint) = (&program.named[index], &result.constraints[index]);
                let kind = |what: &str| failure_kind(engine, what, &constraint.name);
                let priced = Priced::new(&case.plan, named, constraint.binding, base, checks);
                // Binding: both sides (+1, -1); slack by a hair: the loosening side
                // (0 stands for that check).
                let sides: &[f64] = if constraint.binding {
                    &[1.0, -1.0]
                } else {
                    &[0.0]
                };
                let check = |priced: &Priced, side: f64| {
                    if side != 0.0 {
                        priced.check_side(&price, side)
                    } else if named.sense == Sense::LessEqual {
                        priced.check_slack(1.0)
                    } else {
                        priced.check_slack(-1.0)
                    }
                };
                for &side in sides {
                    let message = match check(&priced, side) {
                        Ok(()) => {
                            run.count("sides checked");
                            continue;
                        }
                        Err(TestCaseError::Reject(reason)) => {
                            run.count(format!("sides skipped: {}", reason.message()));
                            continue;
                        }
                        Err(TestCaseError::Fail(message)) => message.message().to_string(),
                    };
                    let reported = if side > 0.0 { price.up } else { price.down };
                    let reported_zero = side == 0.0 || reported == Some(0.0);
                    let mut what = price_failure_kind(&message, reported_zero, checker);
                    if checker != engine && !message.contains("failed:") {
                        // A second opinion: the pricing engine's own re-solves. When
                        // they bear the price out, the two engines' optima of the
                        // moved plans differ: one engine's accuracy, not the price.
                        let own = own_base
                            .get_or_insert_with(|| resolve(&case.plan, SolverChoice::Only(engine)))
                            .clone();
                        if let Ok(Some(own)) = own {
                            let own = Priced {
                                base: own,
                                checks: Checks {
                                    solver: SolverChoice::Only(engine),
                                    ..checks
                                },
                                ..priced
                            };
                            if check(&own, side).is_ok() {
                                what = format!(
                                    "re-solves on {} and {} disagree",
                                    checker.name(),
                                    engine.name()
                                );
                            }
                        }
                    }
                    run.fail(
                        &case.generated,
                        kind(&what),
                        format!("{} (checked on {})", message, checker.name()),
                    );
                }
            }
        }
    });
    run.finish();
}

// ---------------------------------------------------------------------------------
// 3. Diagnoses of infeasible plans.

/// Whether `plan` with named constraint `index` moved to `bound` is feasible, on
/// `backend`: `None` when the solve says nothing (time limit, or a failure, which
/// is counted elsewhere).
fn feasible_with(
    plan: &Plan,
    program: &Program,
    index: usize,
    bound: f64,
    backend: Backend,
    time_limit: Duration,
) -> Result<Option<bool>, String> {
    let named = &program.named[index];
    match with_bound(plan, named.source, bound) {
        Some(moved) => {
            let options = SolveOptions {
                explain: false,
                solver: SolverChoice::Only(backend),
                time_limit: Some(time_limit),
            };
            let report = solve(&moved, &options).map_err(|error| error.to_string())?;
            Ok(match report.status {
                Status::Optimal | Status::Unbounded => Some(true),
                Status::Infeasible => Some(false),
                Status::TimeLimit => report.has_solution.then_some(true),
            })
        }
        None => {
            // A per-period link's row, or a move validity refuses in the plan: the
            // program's row is moved instead.
            let mut moved = program.with_bound(index, bound);
            moved.backend = backend;
            Ok(
                match optimize_expr(&moved, &LinExpr::default(), true, Some(time_limit))
                    .map_err(|error| error.to_string())?
                {
                    Optimum::Value(..) | Optimum::Unbounded => Some(true),
                    Optimum::Infeasible => Some(false),
                    Optimum::TimedOut => None,
                },
            )
        }
    }
}

/// How far beyond a bound that alone makes the plan feasible (relative to its
/// scale) the plan must be feasible.
const ALONE_TOLERANCE: f64 = 1e-6;

#[test]
fn infeasible_plans_are_diagnosed() {
    let mut run = Run::new("infeasible_plans_are_diagnosed");
    let time_limit = run.config.time_limit;
    run.cases(|run, case| {
        // Which plans are infeasible: a feasibility check alone (no objective, no
        // lexicographic levels), or the plain solve when that check fails.
        let infeasible = build_program(&case.plan, SolverChoice::Auto).and_then(|program| {
            optimize_expr(&program, &LinExpr::default(), true, Some(time_limit))
        });
        let infeasible = match infeasible {
            Ok(optimum) => optimum == Optimum::Infeasible,
            Err(_) => optimize(case, pb::Solver::Auto, false, time_limit)
                .is_ok_and(|result| status(&result) == pb::SolveStatus::Infeasible),
        };
        if !infeasible {
            return;
        }
        if let Intent::Infeasible(how) = case.generated.intent {
            run.count(format!("infeasible plans meant so: {how}"));
        } else {
            run.count("infeasible plans, not meant so");
        }
        let program = Program::build(&case.plan);
        for (engine, checker) in engines() {
            let Ok(result) = optimize(case, backend_to_pb(engine), true, time_limit) else {
                continue;
            };
            if status(&result) != pb::SolveStatus::Infeasible {
                continue;
            }
            let Some(diagnosis) = result.diagnosis.as_ref() else {
                // Why: the diagnosis again, alone, with the whole time limit.
                let why = match build_program(&case.plan, SolverChoice::Only(engine)) {
                    Ok(program) => match diagnose(&case.plan, &program, Some(time_limit)) {
                        Ok(_) => "not within the explanation budget".to_string(),
                        Err(error) => error.to_string(),
                    },
                    Err(error) => error.to_string(),
                };
                run.fail(
                    &case.generated,
                    format!("{}: no diagnosis ({})", engine.name(), error_kind(&why)),
                    format!(
                        "{}: an infeasible plan without a diagnosis: {why}",
                        engine.name()
                    ),
                );
                continue;
            };
            let mut relaxable = Vec::new();
            for relaxation in &diagnosis.relaxations {
                let Some(index) = program
                    .named
                    .iter()
                    .position(|named| named.name == relaxation.name)
                else {
                    run.fail(
                        &case.generated,
                        format!("{}: relaxation of an unknown constraint", engine.name()),
                        relaxation.name.clone(),
                    );
                    continue;
                };
                match relaxation.alone_bound {
                    Some(alone) => relaxable.push((relaxation, index, alone)),
                    None => run.count("relaxations that cannot alone"),
                }
            }
            for at in sample(
                case.generated.seed,
                relaxable.len(),
                run.config.checks_per_plan,
            ) {
                let (relaxation, index, alone) = relaxable[at];
                let kind = |what: &str| failure_kind(engine, what, &relaxation.name);
                // Whether the plan is feasible with the bound at `at`; `None`: no
                // answer (a failed re-solve is a failure of its own).
                let probe = |run: &mut Run, at: f64| match feasible_with(
                    &case.plan, &program, index, at, checker, time_limit,
                ) {
                    Ok(feasible) => {
                        if feasible.is_none() {
                            run.count("relaxations skipped: the re-solve ran out of time");
                        }
                        feasible
                    }
                    Err(error) => {
                        run.fail(
                            &case.generated,
                            kind(&format!(
                                "re-solve on {} failed: {}",
                                checker.name(),
                                error_kind(&error)
                            )),
                            format!("{} at {at}: {error}", relaxation.name),
                        );
                        None
                    }
                };
                let fail = |run: &mut Run, what: &str, at: f64, feasible: bool| {
                    run.fail(
                        &case.generated,
                        kind(what),
                        format!(
                            "{}: {} -> {alone} alone; at {at} the plan is {} on {}",
                            relaxation.name,
                            relaxation.bound,
                            if feasible { "feasible" } else { "infeasible" },
                            checker.name()
                        ),
                    );
                };
                let bound = program.named[index].bound;
                let change = alone - bound;
                let scale = alone.abs().max(1.0);
                // The bound alone makes the plan feasible. It is the edge of the
                // feasible set, found by a solver to its tolerance and printed to
                // 12 digits: one a hair further (1e-6 of its scale, the tolerance
                // every plan is verified to) must be feasible, and is counted.
                match probe(run, alone) {
                    Some(true) => run.count("relaxations feasible at the bound alone"),
                    Some(false) => {
                        let beyond = alone + ALONE_TOLERANCE * scale * change.signum();
                        match probe(run, beyond) {
                            Some(true) => run.count(
                                "relaxations infeasible at the bound alone as printed, \
                                 feasible 1e-6 beyond it",
                            ),
                            Some(false) => fail(
                                run,
                                "the bound alone does not make the plan feasible",
                                beyond,
                                false,
                            ),
                            None => {}
                        }
                    }
                    None => {}
                }
                // A little short of it, between it and the bound as written, the plan
                // is still infeasible.
                if change.abs() > 1e-7 * scale {
                    let short = alone - (1e-4 * scale).min(change.abs() / 2.0) * change.signum();
                    match probe(run, short) {
                        Some(true) => fail(
                            run,
                            "a bound short of the one alone is already feasible",
                            short,
                            true,
                        ),
                        Some(false) => run.count("relaxations infeasible short of the bound alone"),
                        None => {}
                    }
                }
            }
        }
    });
    run.finish();
}

// ---------------------------------------------------------------------------------
// 4. Re-plans (docs/MODEL.md §6).

/// The plan in force a re-plan starts from: the plain optimum's units, each moved
/// by a factor in [0, 2] (whole for integer drivers).
fn plan_in_force(plan: &Plan, optimum: &[Vec<f64>], seed: u64) -> Vec<Vec<f64>> {
    let mut rng = realistic::Rng::new(seed ^ 0x0C0F_FEE0);
    optimum
        .iter()
        .zip(&plan.drivers)
        .map(|(units, driver)| {
            units
                .iter()
                .map(|&u| {
                    let moved = (u * rng.uniform(0.0, 2.0) + rng.uniform(0.0, 1.0)).max(0.0);
                    if driver.integer {
                        moved.round()
                    } else {
                        moved
                    }
                })
                .collect()
        })
        .collect()
}

/// The least money a plan of `replan` can move with its first objective within
/// `hold` (relative) of `optimum`, solved independently of the re-plan's levels: the
/// first objective held by a row, the money moved minimised by `checker`.
fn least_money_moved(
    plan: &Plan,
    optimum: f64,
    hold: f64,
    checker: Backend,
    time_limit: Duration,
) -> Option<f64> {
    let mut program = build_program(plan, SolverChoice::Only(checker)).ok()?;
    let (maximise, first) = tradeoff::solve::first_objective(plan.objective, &program);
    let slack = hold * optimum.abs().max(1.0);
    let (sense, bound) = if maximise {
        (Sense::GreaterEqual, optimum - slack)
    } else {
        (Sense::LessEqual, optimum + slack)
    };
    let row = tradeoff::program::Row::new(first.clone(), sense, bound);
    program.rows.push(row);
    let change = program.replan.as_ref()?.change.clone();
    match optimize_expr(&program, &change, false, Some(time_limit)).ok()? {
        Optimum::Value(value, _) => Some(value),
        _ => None,
    }
}

#[test]
fn replans_are_optimal_and_move_least() {
    let mut run = Run::new("replans_are_optimal_and_move_least");
    let time_limit = run.config.time_limit;
    run.cases(|run, case| {
        if case.mixed_integer() {
            return;
        }
        let options = SolveOptions {
            explain: false,
            time_limit: Some(time_limit),
            ..SolveOptions::default()
        };
        for (engine, checker) in engines() {
            let options = SolveOptions {
                solver: SolverChoice::Only(engine),
                ..options
            };
            let Ok(plain) = solve(&case.plan, &options) else {
                continue;
            };
            if plain.status != Status::Optimal {
                continue;
            }
            let optimum = support::moved::first_total(&plain);
            let units: Vec<Vec<f64>> = plain
                .drivers
                .iter()
                .map(|d| d.periods.iter().map(|p| p.units).collect())
                .collect();
            let periods = case.plan.periods.len();
            let current = plan_in_force(&case.plan, &units, case.generated.seed);
            // Unlocked, and with the first third of the periods locked at the plain
            // optimum's own units: both keep the plain optimum reachable.
            let locked_periods = periods / 3;
            let lock_counts = if locked_periods > 0 {
                vec![0, locked_periods]
            } else {
                vec![0]
            };
            for locks in lock_counts {
                let mut plan = case.plan.clone();
                let mut in_force = current.clone();
                for (force, optimal) in in_force.iter_mut().zip(&units) {
                    force[..locks].copy_from_slice(&optimal[..locks]);
                }
                plan.replan = Some(tradeoff::model::Replan {
                    current: in_force,
                    locked: (0..periods).map(|t| t < locks).collect(),
                    max_change: None,
                    max_objective_loss: 0.0,
                });
                let what = format!("{} locked", if locks > 0 { "some" } else { "none" });
                run.count(format!("re-plans on {}: {what}", engine.name()));
                let report = match solve(&plan, &options) {
                    Ok(report) if report.status == Status::Optimal => report,
                    Ok(report) => {
                        run.fail(
                            &case.generated,
                            format!("{}: re-plan not optimal ({what})", engine.name()),
                            format!("{:?}: {}", report.status, report.message),
                        );
                        continue;
                    }
                    Err(error) => {
                        run.fail(
                            &case.generated,
                            format!(
                                "{}: re-plan failed: {}",
                                engine.name(),
                                error_kind(&error.to_string())
                            ),
                            error.to_string(),
                        );
                        continue;
                    }
                };
                // The first objective is the plain plan's optimum.
                let scale = report.totals.driver_revenue.abs() + report.totals.spend.abs();
                let first = support::moved::first_total(&report);
                if (first - optimum).abs() > 1e-7 * scale.max(optimum.abs()).max(1.0) {
                    run.fail(
                        &case.generated,
                        format!("{}: re-plan loses the optimum ({what})", engine.name()),
                        format!("first objective {first}, plain optimum {optimum}"),
                    );
                }
                // Every constraint holds; the money moved adds up.
                if let Some(broken) = report
                    .constraints
                    .iter()
                    .find(|c| c.slack < -1e-6 * c.bound.abs().max(c.value.abs()).max(1.0))
                {
                    run.fail(
                        &case.generated,
                        format!("{}: re-plan breaks a constraint", engine.name()),
                        format!("{broken:?}"),
                    );
                }
                let moved = report.money_moved.unwrap_or(f64::NAN);
                let by_driver: f64 = report.drivers.iter().filter_map(|d| d.money_moved).sum();
                let money_scale = moved.abs().max(report.totals.spend.abs()).max(1.0);
                if moved.is_nan() || (moved - by_driver).abs() > 1e-9 * money_scale {
                    run.fail(
                        &case.generated,
                        "money moved does not add up",
                        format!("total {moved}, drivers {by_driver}"),
                    );
                }
                // No plan at that optimum moves less (an independent solve). The
                // first objective is held exactly: a hold of even 1e-9 lets the
                // least move trade 0.004 of spend for 4 of money moved (seed
                // 20261223); round-off may need a hair more.
                let least = [0.0, 1e-12, 1e-10]
                    .into_iter()
                    .find_map(|hold| least_money_moved(&plan, optimum, hold, checker, time_limit));
                match least {
                    Some(least) if moved <= least + 1e-6 * money_scale => {}
                    Some(least) => run.fail(
                        &case.generated,
                        format!("{}: re-plan moves more than needed ({what})", engine.name()),
                        format!("moved {moved}, {} finds {least}", checker.name()),
                    ),
                    None => run.fail(
                        &case.generated,
                        format!(
                            "{}: the least money moved could not be found",
                            checker.name()
                        ),
                        String::new(),
                    ),
                }
            }
        }
    });
    run.finish();
}

// ---------------------------------------------------------------------------------
// The generator itself.

/// Same seed, same plan; and over a few hundred seeds every shape the generator
/// promises appears, every plan valid.
#[test]
fn the_generator_covers_realistic_plans() {
    assert_eq!(realistic_plan(7).plan, realistic_plan(7).plan);
    assert_ne!(realistic_plan(7).plan, realistic_plan(8).plan);
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut see = |what: &'static str, yes: bool| {
        if yes {
            *seen.entry(what).or_default() += 1;
        }
    };
    let mut invalid = Vec::new();
    for seed in 0..400 {
        let generated = realistic_plan(seed);
        let wire = &generated.plan;
        let plan = match plan_from_pb(wire, &Limits::default()) {
            Ok(plan) => plan,
            Err(error) => {
                invalid.push(format!("seed {seed}: {error}"));
                continue;
            }
        };
        let periods = plan.periods.len();
        let drivers = plan.drivers.len();
        see("3 periods", periods == 3);
        see("12 periods", periods == 12);
        see("1-2 periods", periods <= 2);
        see("months", wire.periods.iter().any(|p| p.name.contains("-0")));
        see("halves", wire.periods.iter().any(|p| p.name.contains("-H")));
        see("6 drivers", drivers == 6);
        see("35 drivers or more", drivers >= 35);
        see(
            "profiles as long as the horizon",
            periods >= 8
                && plan
                    .drivers
                    .iter()
                    .any(|d| d.return_profile.len() >= periods),
        );
        see(
            "recurring costs",
            plan.drivers.iter().any(|d| d.cost_profile.len() >= 3),
        );
        let money: Vec<f64> = plan
            .drivers
            .iter()
            .map(|d| d.unit_cost)
            .chain(plan.periods.iter().map(|p| p.baseline_revenue))
            .filter(|&x| x > 0.0)
            .collect();
        see(
            "magnitudes 1 to 1e7 in one plan",
            money.contains(&1.0) && money.iter().any(|&x| x >= 1e7),
        );
        see(
            "unit costs above 100k",
            plan.drivers.iter().any(|d| d.unit_cost >= 1e5),
        );
        see(
            "5 segments",
            plan.drivers.iter().any(|d| d.response.len() == 5),
        );
        see(
            "equal rates in a row",
            plan.drivers.iter().any(|d| {
                d.response
                    .windows(2)
                    .any(|w| w[0].revenue_per_unit == w[1].revenue_per_unit)
            }),
        );
        see(
            "seasonality",
            plan.drivers
                .iter()
                .any(|d| d.seasonality.iter().any(|&s| s != 1.0)),
        );
        see("whole units", plan.drivers.iter().any(|d| d.integer));
        see(
            "hiring freezes",
            plan.drivers
                .iter()
                .any(|d| d.max_units.contains(&Some(0.0))),
        );
        see(
            "minimum units",
            plan.drivers
                .iter()
                .any(|d| d.min_units.iter().any(|&m| m > 0.0)),
        );
        see("plan budget cap", plan.budget_cap.is_some());
        see(
            "period budget caps",
            plan.periods.iter().any(|p| p.budget_cap.is_some()),
        );
        see(
            "period margin floors",
            plan.periods.iter().any(|p| p.min_margin.is_some()),
        );
        let r = plan.requirements;
        see("min_margin", r.min_margin.is_some());
        see("min_contribution", r.min_contribution.is_some());
        see("revenue_target", r.revenue_target.is_some());
        see("min_roi", r.min_roi.is_some());
        see(
            "groups by tag",
            wire.groups.iter().any(|g| !g.tag.is_empty()),
        );
        see(
            "groups by ids",
            wire.groups.iter().any(|g| !g.driver_ids.is_empty()),
        );
        see(
            "group spend bounds",
            plan.groups
                .iter()
                .any(|g| g.min_spend.is_some() || g.max_spend.is_some()),
        );
        see(
            "group share bounds",
            plan.groups
                .iter()
                .any(|g| g.min_share.is_some() || g.max_share.is_some()),
        );
        see(
            "attrition",
            plan.drivers
                .iter()
                .any(|d| d.active_profile.len() >= 2 && d.active_profile.iter().any(|&a| a < 1.0)),
        );
        see(
            "existing teams",
            plan.drivers
                .iter()
                .any(|d| d.existing_active.iter().any(|&a| a > 0.0)),
        );
        see(
            "caps in seat",
            plan.drivers
                .iter()
                .any(|d| d.max_active.iter().any(Option::is_some)),
        );
        see(
            "caps in seat by period",
            wire.drivers
                .iter()
                .any(|d| !d.max_active_by_period.is_empty()),
        );
        see(
            "floors in seat",
            plan.drivers
                .iter()
                .any(|d| d.min_active.iter().any(|&m| m > 0.0)),
        );
        let in_seat =
            |l: &&tradeoff::model::Link| l.measure == tradeoff::model::LinkMeasure::Active;
        see(
            "per-period links in seat",
            plan.links.iter().filter(in_seat).any(|l| l.per_period),
        );
        see(
            "horizon links in seat",
            plan.links.iter().filter(in_seat).any(|l| !l.per_period),
        );
        see("per-period links", plan.links.iter().any(|l| l.per_period));
        see("horizon links", plan.links.iter().any(|l| !l.per_period));
        see(
            "segment order",
            (0..drivers).any(|i| plan.needs_segment_order(i)),
        );
        see(
            "maximize revenue",
            plan.objective == tradeoff::model::Objective::MaximizeRevenue,
        );
        see(
            "maximize contribution",
            plan.objective == tradeoff::model::Objective::MaximizeContribution,
        );
        see(
            "minimize spend",
            plan.objective == tradeoff::model::Objective::MinimizeSpend,
        );
        see(
            "meant infeasible",
            matches!(generated.intent, Intent::Infeasible(_)),
        );
        see("meant unbounded", generated.intent == Intent::Unbounded);
    }
    println!("{seen:#?}");
    assert!(invalid.is_empty(), "invalid plans:\n{}", invalid.join("\n"));
    let expected = [
        "3 periods",
        "12 periods",
        "1-2 periods",
        "months",
        "halves",
        "6 drivers",
        "35 drivers or more",
        "profiles as long as the horizon",
        "recurring costs",
        "magnitudes 1 to 1e7 in one plan",
        "unit costs above 100k",
        "5 segments",
        "equal rates in a row",
        "seasonality",
        "whole units",
        "hiring freezes",
        "minimum units",
        "plan budget cap",
        "period budget caps",
        "period margin floors",
        "min_margin",
        "min_contribution",
        "revenue_target",
        "min_roi",
        "groups by tag",
        "groups by ids",
        "group spend bounds",
        "group share bounds",
        "attrition",
        "existing teams",
        "caps in seat",
        "caps in seat by period",
        "floors in seat",
        "per-period links in seat",
        "horizon links in seat",
        "per-period links",
        "horizon links",
        "segment order",
        "maximize revenue",
        "maximize contribution",
        "minimize spend",
        "meant infeasible",
        "meant unbounded",
    ];
    let missing: Vec<&str> = expected
        .into_iter()
        .filter(|what| !seen.contains_key(what))
        .collect();
    assert!(
        missing.is_empty(),
        "never generated: {missing:?} (seen: {seen:?})"
    );
}
