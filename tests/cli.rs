//! End-to-end tests of the `tradeoff` binary: plan files in, exit codes, stdout and
//! stderr out, in-process and against a real `tradeoff serve`.
//!
//! Every expected number is worked out by hand from docs/MODEL.md in the comments next to
//! it; none is copied from the program's output.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_tradeoff");

/// Tolerance on money and fractions: the solver works in floating point.
const TOL: f64 = 1e-6;

/// A command for the binary, isolated from settings in the caller's environment.
fn tradeoff() -> Command {
    let mut command = Command::new(BIN);
    command
        .env_remove("TRADEOFF_SERVER")
        .env_remove("TRADEOFF_LISTEN")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    command
}

fn run(args: &[&str]) -> Output {
    tradeoff()
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {BIN}: {error}"))
}

fn code(output: &Output) -> i32 {
    output
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {}", describe(output)))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        stdout(output),
        stderr(output)
    )
}

/// Asserts the exit code, showing both streams when it differs.
fn assert_code(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "expected exit code {expected}; {}",
        describe(output)
    );
}

/// The whole of stdout as one JSON document (fails if anything else is printed).
fn json_stdout(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("stdout is not pure JSON ({error}); {}", describe(output)))
}

/// Asserts a bad-input refusal: exit 2, nothing on stdout, and each needle on stderr.
fn assert_bad_input(output: &Output, needles: &[&str]) {
    assert_code(output, 2);
    assert!(
        output.stdout.is_empty(),
        "bad input must print nothing on stdout; {}",
        describe(output)
    );
    let err = stderr(output);
    for needle in needles {
        assert!(
            err.contains(needle),
            "stderr should mention {needle:?}; {}",
            describe(output)
        );
    }
}

fn write_file(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write plan file");
    path
}

fn write_plan(dir: &TempDir, name: &str, plan: &Value) -> PathBuf {
    write_file(dir, name, &serde_json::to_string_pretty(plan).unwrap())
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

fn number(value: &Value, pointer: &str) -> f64 {
    value
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number at {pointer} in {value:#}"))
}

fn assert_near(value: &Value, pointer: &str, expected: f64) {
    let actual = number(value, pointer);
    assert!(
        (actual - expected).abs() <= TOL * expected.abs().max(1.0),
        "{pointer}: expected {expected}, got {actual}"
    );
}

/// The result's driver with this id.
fn driver<'a>(result: &'a Value, id: &str) -> &'a Value {
    result["drivers"]
        .as_array()
        .expect("drivers is a list")
        .iter()
        .find(|driver| driver["driverId"] == id)
        .unwrap_or_else(|| panic!("no driver {id} in {result:#}"))
}

/// The result's constraint with this name.
fn constraint<'a>(result: &'a Value, name: &str) -> &'a Value {
    result["constraints"]
        .as_array()
        .expect("constraints is a list")
        .iter()
        .find(|constraint| constraint["name"] == name)
        .unwrap_or_else(|| panic!("no constraint {name} in {result:#}"))
}

/// docs/MODEL.md §4: one period, no baseline, budget cap 100, gross margins 0.8,
/// maximise revenue. Driver `a` (unit cost 1): 50 units at 3.0, then unbounded at 1.0;
/// driver `b` (unit cost 1): unbounded at 1.5. `requirements` varies by case.
fn worked_example(requirements: Value) -> Value {
    json!({
        "name": "worked-example",
        "budgetCap": 100,
        "drivers": [
            {
                "id": "a",
                "unitCost": 1,
                "grossMargin": 0.8,
                "response": [
                    {"units": 50, "revenuePerUnit": 3.0},
                    {"revenuePerUnit": 1.0}
                ]
            },
            {
                "id": "b",
                "unitCost": 1,
                "grossMargin": 0.8,
                "response": [{"revenuePerUnit": 1.5}]
            }
        ],
        "requirements": requirements,
        "objective": "MAXIMIZE_REVENUE"
    })
}

fn case1() -> Value {
    worked_example(json!({"minMargin": 0.2}))
}

fn case2() -> Value {
    worked_example(json!({"minMargin": 0.4}))
}

fn case3() -> Value {
    worked_example(json!({"minMargin": 0.2, "revenueTarget": 250}))
}

/// Checks the numbers of §4 case 1 on a JSON result.
fn assert_case1_numbers(result: &Value) {
    assert_eq!(result["status"], "SOLVE_STATUS_OPTIMAL", "{result:#}");
    assert_eq!(result["hasSolution"], true);
    // Best marginal return first: a's first 50 units earn 3.0, then b earns 1.5 (a's
    // second segment only 1.0) until the budget of 100 is spent: a = 50, b = 50.
    assert_near(driver(result, "a"), "/units", 50.0);
    assert_near(driver(result, "b"), "/units", 50.0);
    // a: 50 * 3.0 = 150; b: 50 * 1.5 = 75.
    assert_near(driver(result, "a"), "/revenue", 150.0);
    assert_near(driver(result, "b"), "/revenue", 75.0);
    // Revenue 150 + 75 = 225, spend 100, gross profit 0.8 * 225 = 180,
    // contribution 180 - 100 = 80, margin 80 / 225 = 0.3556 (>= 0.2, not binding).
    assert_near(result, "/totals/revenue", 225.0);
    assert_near(result, "/totals/spend", 100.0);
    assert_near(result, "/totals/grossProfit", 180.0);
    assert_near(result, "/totals/contribution", 80.0);
    assert_near(result, "/totals/margin", 80.0 / 225.0);
    // ROI: driver revenue / driver spend = 225 / 100.
    assert_near(result, "/totals/roi", 2.25);
    assert_eq!(constraint(result, "budget_cap")["binding"], true);
    assert_eq!(
        constraint(result, "requirements.min_margin")["binding"],
        false
    );
}

// ---------------------------------------------------------------------------------
// 1. The worked example, JSON output.

#[test]
fn worked_example_case1_json() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let output = run(&["solve", path_str(&plan), "--format", "json"]);
    assert_code(&output, 0);
    let result = json_stdout(&output);
    assert_case1_numbers(&result);
    // proto3 JSON: camelCase keys, every field emitted.
    assert_eq!(result["planName"], "worked-example");
    assert_eq!(result["currency"], "USD");
    assert_eq!(result["periods"], json!(["total"]));
    assert!(
        result["totals"].get("baselineRevenue").is_some(),
        "{result:#}"
    );
    assert!(result["solver"].get("solveTime").is_some(), "{result:#}");
}

#[test]
fn worked_example_case1_json_from_stdin() {
    let mut child = tradeoff()
        .args(["solve", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tradeoff");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(serde_json::to_string(&case1()).unwrap().as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert_code(&output, 0);
    assert_case1_numbers(&json_stdout(&output));
}

#[test]
fn worked_example_case2_json() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case2.json", &case2());
    let output = run(&["solve", path_str(&plan), "--format", "json"]);
    assert_code(&output, 0);
    let result = json_stdout(&output);
    assert_eq!(result["status"], "SOLVE_STATUS_OPTIMAL", "{result:#}");
    // 0.8 R - S >= 0.4 R  <=>  S <= 0.4 R. a's first 50 units: R = 150, S = 50, fine.
    // Then b: R = 150 + 1.5 x, S = 50 + x; 50 + x <= 60 + 0.6 x  <=>  x <= 25.
    // (a's second segment at 1.0 would allow even less: 50 + x <= 60 + 0.4 x, x <= 16.7,
    // and earns less per unit, so b takes it all.)
    assert_near(driver(&result, "a"), "/units", 50.0);
    assert_near(driver(&result, "b"), "/units", 25.0);
    // Revenue 150 + 37.5 = 187.5, spend 75, contribution 0.8 * 187.5 - 75 = 75,
    // margin 75 / 187.5 = 0.4.
    assert_near(&result, "/totals/revenue", 187.5);
    assert_near(&result, "/totals/spend", 75.0);
    assert_near(&result, "/totals/contribution", 75.0);
    assert_near(&result, "/totals/margin", 0.4);
    let margin = constraint(&result, "requirements.min_margin");
    assert_eq!(margin["binding"], true, "{margin:#}");
    assert_near(margin, "/bound", 0.4);
    let budget = constraint(&result, "budget_cap");
    assert_eq!(budget["binding"], false, "{budget:#}");
    // 100 - 75 = 25 of the budget left.
    assert_near(budget, "/slack", 25.0);
}

#[test]
fn worked_example_case3_is_infeasible() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case3.json", &case3());
    let output = run(&["solve", path_str(&plan), "--format", "json"]);
    // A budget of 100 buys at most 225 of revenue (case 1), short of the target 250.
    assert_code(&output, 3);
    let result = json_stdout(&output);
    assert_eq!(result["status"], "SOLVE_STATUS_INFEASIBLE", "{result:#}");
    assert_eq!(result["hasSolution"], false);
}

// ---------------------------------------------------------------------------------
// 2. The table format.

#[test]
fn worked_example_case1_table() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let output = run(&["solve", path_str(&plan)]);
    assert_code(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("OPTIMAL"), "{out}");
    // One allocation row per driver: id first, and its 50 units (see case 1).
    let allocation = out
        .split("Allocation")
        .nth(1)
        .unwrap_or_else(|| panic!("no allocation section:\n{out}"));
    for id in ["a", "b"] {
        let row = allocation
            .lines()
            .find(|line| line.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no row for driver {id}:\n{out}"));
        assert!(
            row.split_whitespace().any(|cell| cell == "50"),
            "row of {id} should show 50 units: {row}"
        );
    }
    // The budget binds: `budget_cap  100  <=  100`.
    let budget = out
        .lines()
        .find(|line| line.trim_start().starts_with("budget_cap"))
        .unwrap_or_else(|| panic!("no budget_cap line:\n{out}"));
    let cells: Vec<&str> = budget.split_whitespace().collect();
    assert!(cells.contains(&"100") && cells.contains(&"<="), "{budget}");
    // Its price in plain words (docs/MODEL.md §4: one more unit of budget buys 1.5 of
    // revenue through b; that holds until the margin floor binds at 450, and down to
    // 50, below which the money would come out of a's first segment at 3.0).
    assert!(budget.contains("+1 → +1.50 revenue (to 450)"), "{budget}");
    assert!(budget.contains("-1 → -1.50 revenue (to 50)"), "{budget}");
    // Drivers ranked by marginal return: b's next dollar earns 1.5, a's 1.0.
    let ranking = out
        .split("Where the next dollar")
        .nth(1)
        .unwrap_or_else(|| panic!("no ranking:\n{out}"));
    let b_at = ranking.find("\n  b ").unwrap_or(usize::MAX);
    let a_at = ranking.find("\n  a ").unwrap_or(usize::MAX);
    assert!(b_at < a_at && a_at < usize::MAX, "{ranking}");
    // The margin floor does not bind, so it is not among the binding constraints.
    assert!(!out.contains("requirements.min_margin"), "{out}");
    // Totals: revenue 225, spend 100, contribution 80.
    let total = out
        .lines()
        .find(|line| line.split_whitespace().next() == Some("total") && line.contains('%'))
        .unwrap_or_else(|| panic!("no totals row:\n{out}"));
    let cells: Vec<&str> = total.split_whitespace().collect();
    for expected in ["225", "100", "80"] {
        assert!(cells.contains(&expected), "totals row: {total}");
    }
}

// ---------------------------------------------------------------------------------
// 3. Unbounded and time limit.

#[test]
fn unbounded_plan_exits_4() {
    let dir = TempDir::new().unwrap();
    // One driver earning 2.0 per unit costing 1, no cap, no floor: revenue grows
    // without bound.
    let plan = write_plan(
        &dir,
        "unbounded.json",
        &json!({"drivers": [{"id": "x", "response": [{"revenuePerUnit": 2.0}]}]}),
    );
    let output = run(&["solve", path_str(&plan), "--format", "json"]);
    assert_code(&output, 4);
    assert_eq!(json_stdout(&output)["status"], "SOLVE_STATUS_UNBOUNDED");
}

#[test]
fn zero_time_limit_exits_5() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let output = run(&[
        "solve",
        path_str(&plan),
        "--format",
        "json",
        "--time-limit",
        "0s",
    ]);
    assert_code(&output, 5);
    assert_eq!(json_stdout(&output)["status"], "SOLVE_STATUS_TIME_LIMIT");
}

// ---------------------------------------------------------------------------------
// 4. Bad input.

#[test]
fn missing_file_is_named() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("no-such-plan.json");
    let output = run(&["solve", path_str(&missing), "--format", "json"]);
    assert_bad_input(&output, &["no-such-plan.json"]);
}

#[test]
fn malformed_json_gives_line_and_column() {
    let dir = TempDir::new().unwrap();
    // Line 4 is `    {"id": "a",, "response": []}`: 4 spaces (columns 1-4), `{` 5,
    // `"id"` 6-9, `:` 10, space 11, `"a"` 12-14, `,` 15 and the stray `,` at 16.
    let text = "{\n  \"budgetCap\": 100,\n  \"drivers\": [\n    {\"id\": \"a\",, \"response\": []}\n  ]\n}\n";
    let plan = write_file(&dir, "malformed.json", text);
    let output = run(&["solve", path_str(&plan)]);
    assert_bad_input(&output, &["malformed.json", "line 4", "column 16"]);
}

#[test]
fn truncated_json_gives_line_and_column() {
    let dir = TempDir::new().unwrap();
    // The text ends on line 3 after `"drivers": [`.
    let text = "{\n  \"budgetCap\": 100,\n  \"drivers\": [";
    let plan = write_file(&dir, "truncated.json", text);
    let output = run(&["solve", path_str(&plan)]);
    assert_bad_input(&output, &["line 3", "column"]);
}

#[test]
fn unknown_field_is_named() {
    let dir = TempDir::new().unwrap();
    // A misspelt `budgetCap` on line 3.
    let text = "{\n  \"drivers\": [{\"id\": \"a\", \"response\": [{\"revenuePerUnit\": 1}]}],\n  \"budgetCapp\": 100\n}\n";
    let plan = write_file(&dir, "unknown.json", text);
    let output = run(&["solve", path_str(&plan)]);
    assert_bad_input(&output, &["budgetCapp", "line 3"]);
}

#[test]
fn unknown_nested_field_is_named() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(
        &dir,
        "unknown-nested.json",
        &json!({"drivers": [{"id": "a", "unitCosts": 2, "response": [{"revenuePerUnit": 1}]}]}),
    );
    let output = run(&["solve", path_str(&plan)]);
    assert_bad_input(&output, &["drivers[0].unitCosts"]);
}

#[test]
fn repeated_keys_are_refused_with_their_path() {
    let dir = TempDir::new().unwrap();
    // The third driver's first segment names `revenuePerUnit` twice, on line 5; a
    // reader keeping the later value would solve with 4 instead of refusing.
    let text = "{\n  \"drivers\": [\n    {\"id\": \"a\", \"response\": [{\"revenuePerUnit\": 1}]},\n    {\"id\": \"b\", \"response\": [{\"revenuePerUnit\": 2}]},\n    {\"id\": \"c\", \"response\": [{\"revenuePerUnit\": 3, \"revenuePerUnit\": 4}]}\n  ],\n  \"budgetCap\": 100\n}\n";
    let plan = write_file(&dir, "repeated.json", text);
    let output = run(&["solve", path_str(&plan)]);
    assert_bad_input(
        &output,
        &[
            "repeated.json",
            "line 5, column ",
            "drivers[2].response[0].revenuePerUnit",
            "appears twice",
        ],
    );
    // A field under both its names, with an unprefixed enum (the reading path that
    // goes through a JSON value).
    let text = "{\"objective\": \"MAXIMIZE_REVENUE\", \"budget_cap\": 100,\n \"drivers\": [{\"id\": \"a\", \"response\": [{\"revenuePerUnit\": 1}]}],\n \"budgetCap\": 50}\n";
    let plan = write_file(&dir, "both-names.json", text);
    let output = run(&["solve", path_str(&plan)]);
    assert_bad_input(
        &output,
        &["line 3, column ", "budgetCap", "`budget_cap`", "same field"],
    );
    // A driver's units twice in an allocation.
    let plan = write_plan(&dir, "case1.json", &case1());
    let allocation = write_file(
        &dir,
        "allocation.json",
        r#"{"drivers": [{"driverId": "a", "units": [50]}, {"driverId": "b", "units": [50], "units": [90]}]}"#,
    );
    let output = run(&[
        "evaluate",
        path_str(&plan),
        "--allocation",
        path_str(&allocation),
    ]);
    assert_bad_input(
        &output,
        &["allocation.json", "drivers[1].units", "appears twice"],
    );
    // A scenario that scales one driver twice.
    let scenarios = write_file(
        &dir,
        "scenarios.jsonl",
        concat!(
            r#"{"id": "ok", "overrides": {"budgetCap": 80}}"#,
            "\n",
            r#"{"id": "twice", "overrides": {"revenueScale": {"b": 0.5, "b": 2}}}"#,
            "\n",
        ),
    );
    let out = dir.path().join("results.jsonl");
    let output = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
    ]);
    assert_bad_input(
        &output,
        &[
            "scenarios.jsonl, line 2",
            "overrides.revenueScale.b",
            "appears twice",
        ],
    );
}

/// A plan that breaks three rules at once.
fn invalid_plan() -> Value {
    json!({
        "budgetCap": 100,
        "drivers": [
            // unit_cost must be > 0.
            {"id": "a", "unitCost": -1, "response": [{"revenuePerUnit": 2}]},
            // revenue_per_unit must not increase: 2 then 3.
            {"id": "b", "response": [
                {"units": 10, "revenuePerUnit": 2},
                {"revenuePerUnit": 3}
            ]}
        ],
        // Margins lie in [-1, 1).
        "requirements": {"minMargin": 1.5}
    })
}

const INVALID_PLAN_PATHS: [&str; 3] = [
    "drivers[0].unit_cost",
    "drivers[1].response[1].revenue_per_unit",
    "requirements.min_margin",
];

#[test]
fn invalid_plan_lists_every_field_path() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "invalid.json", &invalid_plan());
    let output = run(&["solve", path_str(&plan), "--format", "json"]);
    assert_bad_input(&output, &INVALID_PLAN_PATHS);
    // Exactly the three faults above, each on its own line.
    assert!(
        stderr(&output).contains("3 violations"),
        "{}",
        describe(&output)
    );
}

#[test]
fn nan_is_refused_with_its_field_path() {
    let dir = TempDir::new().unwrap();
    // proto3 JSON spells NaN as a string; docs/MODEL.md refuses non-finite numbers.
    let plan = write_plan(
        &dir,
        "nan.json",
        &json!({"drivers": [{"id": "a", "unitCost": "NaN", "response": [{"revenuePerUnit": 2}]}],
                "budgetCap": 10}),
    );
    let output = run(&["solve", path_str(&plan)]);
    assert_bad_input(&output, &["drivers[0].unit_cost"]);
}

#[test]
fn infinity_is_refused_with_its_field_path() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(
        &dir,
        "inf.json",
        &json!({"drivers": [{"id": "a", "response": [{"revenuePerUnit": 2}]}],
                "budgetCap": "Infinity"}),
    );
    let output = run(&["solve", path_str(&plan)]);
    assert_bad_input(&output, &["budget_cap"]);
}

#[test]
fn unknown_enum_value_is_refused() {
    let dir = TempDir::new().unwrap();
    let mut plan = case1();
    plan["objective"] = json!("MAXIMISE_EVERYTHING");
    let plan = write_plan(&dir, "enum.json", &plan);
    let output = run(&["solve", path_str(&plan)]);
    assert_bad_input(&output, &["objective", "MAXIMISE_EVERYTHING"]);
}

#[test]
fn bad_flags_exit_2() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let output = run(&["solve", path_str(&plan), "--format", "yaml"]);
    assert_bad_input(&output, &["yaml"]);
    let output = run(&["solve", path_str(&plan), "--time-limit", "fast"]);
    assert_bad_input(&output, &["fast"]);
}

/// A plan where the objective and the link's sense both show in the result.
///
/// Budget cap 100, min margin 0.2, gross margins 0.8. Driver `a`: 50 units at 3.0,
/// then 1.0; driver `b`: unbounded at 1.2. Per unit, contribution is
/// 0.8 * 3.0 - 1 = 1.4 for a's first 50, 0.8 * 1.0 - 1 = -0.2 after, and
/// 0.8 * 1.2 - 1 = -0.04 for `b`. A link `b >= 10`.
///
/// Maximising contribution: a = 50 and b at its floor of 10: revenue 150 + 12 = 162,
/// spend 60, contribution 0.8 * 162 - 60 = 69.6 (margin 0.43 >= 0.2).
/// (Maximising revenue would spend the whole budget: a = 50, b = 50, revenue 210;
/// a `LESS_EQUAL` link would leave b = 0 and contribution 70.)
fn enum_plan(objective: &str, sense: &str, snake_case: bool) -> Value {
    if snake_case {
        json!({
            "budget_cap": 100,
            "requirements": {"min_margin": 0.2},
            "drivers": [
                {"id": "a", "unit_cost": 1, "gross_margin": 0.8, "response": [
                    {"units": 50, "revenue_per_unit": 3.0}, {"revenue_per_unit": 1.0}]},
                {"id": "b", "unit_cost": 1, "gross_margin": 0.8,
                 "response": [{"revenue_per_unit": 1.2}]}
            ],
            "links": [{"name": "b_floor", "terms": [{"driver_id": "b", "coefficient": 1}],
                       "sense": sense, "rhs": 10}],
            "objective": objective
        })
    } else {
        json!({
            "budgetCap": 100,
            "requirements": {"minMargin": 0.2},
            "drivers": [
                {"id": "a", "unitCost": 1, "grossMargin": 0.8, "response": [
                    {"units": 50, "revenuePerUnit": 3.0}, {"revenuePerUnit": 1.0}]},
                {"id": "b", "unitCost": 1, "grossMargin": 0.8,
                 "response": [{"revenuePerUnit": 1.2}]}
            ],
            "links": [{"name": "b_floor", "terms": [{"driverId": "b", "coefficient": 1}],
                       "sense": sense, "rhs": 10}],
            "objective": objective
        })
    }
}

fn assert_enum_plan_solution(output: &Output) {
    assert_code(output, 0);
    let result = json_stdout(output);
    assert_eq!(result["status"], "SOLVE_STATUS_OPTIMAL", "{result:#}");
    assert_near(driver(&result, "a"), "/units", 50.0);
    assert_near(driver(&result, "b"), "/units", 10.0);
    assert_near(&result, "/totals/revenue", 162.0);
    assert_near(&result, "/totals/spend", 60.0);
    assert_near(&result, "/totals/contribution", 69.6);
    let link = constraint(&result, "link[b_floor]");
    assert_eq!(link["sense"], "SENSE_GREATER_EQUAL", "{link:#}");
    assert_eq!(link["binding"], true, "{link:#}");
}

#[test]
fn unprefixed_enum_values_are_accepted() {
    let dir = TempDir::new().unwrap();
    for snake_case in [false, true] {
        let plan = write_plan(
            &dir,
            "unprefixed.json",
            &enum_plan("MAXIMIZE_CONTRIBUTION", "GREATER_EQUAL", snake_case),
        );
        assert_enum_plan_solution(&run(&["solve", path_str(&plan), "--format", "json"]));
    }
}

#[test]
fn prefixed_enum_values_are_accepted() {
    let dir = TempDir::new().unwrap();
    for snake_case in [false, true] {
        let plan = write_plan(
            &dir,
            "prefixed.json",
            &enum_plan(
                "OBJECTIVE_MAXIMIZE_CONTRIBUTION",
                "SENSE_GREATER_EQUAL",
                snake_case,
            ),
        );
        assert_enum_plan_solution(&run(&["solve", path_str(&plan), "--format", "json"]));
    }
}

// ---------------------------------------------------------------------------------
// 5. Help.

fn assert_help_mentions_exit_codes_and_example(args: &[&str]) {
    let output = run(args);
    assert_code(&output, 0);
    let out = stdout(&output);
    assert!(out.contains("Exit codes"), "{args:?}:\n{out}");
    for code in ["0", "1", "2", "3", "4", "5"] {
        assert!(
            out.lines()
                .any(|line| line.split_whitespace().next() == Some(code)),
            "{args:?} should explain exit code {code}:\n{out}"
        );
    }
    assert!(out.contains("infeasible"), "{args:?}:\n{out}");
    assert!(out.contains("unbounded"), "{args:?}:\n{out}");
    assert!(out.contains("time limit"), "{args:?}:\n{out}");
    assert!(
        out.contains("Example") && out.contains("tradeoff solve "),
        "{args:?} should show an example command line:\n{out}"
    );
}

#[test]
fn help_mentions_exit_codes_and_an_example() {
    assert_help_mentions_exit_codes_and_example(&["--help"]);
}

#[test]
fn solve_help_mentions_exit_codes_and_an_example() {
    assert_help_mentions_exit_codes_and_example(&["solve", "--help"]);
}

// ---------------------------------------------------------------------------------
// 6. Against a real server.

/// A running `tradeoff serve`, killed on drop so that a failing test leaves nothing
/// behind.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start() -> Server {
        Server::start_with(&[])
    }

    /// A server with extra `serve` flags.
    fn start_with(flags: &[&str]) -> Server {
        let mut child = tradeoff()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tradeoff serve");
        let stderr = child.stderr.take().unwrap();
        let (lines, received) = mpsc::channel();
        // Keeps draining stderr for the server's whole life.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    // Nobody listens any more; keep reading so the pipe never fills.
                    continue;
                }
            }
        });
        let mut server = Server {
            child,
            address: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match received.recv_timeout(left) {
                Ok(line) => {
                    if let Some((_, address)) = line.split_once(" listening on ") {
                        assert!(line.starts_with("tradeoff "), "{line}");
                        server.address = address.trim().to_string();
                        break;
                    }
                }
                Err(error) => panic!("the server did not say it was listening: {error}"),
            }
        }
        server
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A JSON result without its wall-clock time, which differs from run to run.
fn without_solve_time(mut result: Value) -> Value {
    result["solver"]
        .as_object_mut()
        .expect("solver is an object")
        .remove("solveTime");
    result
}

#[test]
fn server_round_trip_and_sigterm() {
    let dir = TempDir::new().unwrap();
    let case1 = write_plan(&dir, "case1.json", &case1());
    let invalid = write_plan(&dir, "invalid.json", &invalid_plan());
    let mut server = Server::start();
    let url = server.url();
    assert!(
        server.address.starts_with("127.0.0.1:"),
        "{}",
        server.address
    );

    // The same plan in-process and on the server: the same result.
    let local = run(&["solve", path_str(&case1), "--format", "json"]);
    assert_code(&local, 0);
    let remote = run(&[
        "solve",
        path_str(&case1),
        "--server",
        &url,
        "--format",
        "json",
    ]);
    assert_code(&remote, 0);
    let remote = json_stdout(&remote);
    assert_case1_numbers(&remote);
    assert_eq!(
        without_solve_time(remote),
        without_solve_time(json_stdout(&local))
    );

    // The server through TRADEOFF_SERVER, the table format.
    let output = tradeoff()
        .args(["solve", path_str(&case1)])
        .env("TRADEOFF_SERVER", &url)
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("budget_cap"),
        "{}",
        describe(&output)
    );

    // An infeasible plan is a result, not an error, on the server too.
    let case3 = write_plan(&dir, "case3.json", &case3());
    let output = run(&[
        "solve",
        path_str(&case3),
        "--server",
        &url,
        "--format",
        "json",
    ]);
    assert_code(&output, 3);
    assert_eq!(json_stdout(&output)["status"], "SOLVE_STATUS_INFEASIBLE");

    // An invalid plan: refused by the server with every field path.
    let output = run(&["solve", path_str(&invalid), "--server", &url]);
    assert_bad_input(&output, &INVALID_PLAN_PATHS);

    // SIGTERM: the server stops cleanly with exit code 0.
    let kill = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success(), "kill -TERM failed: {kill}");
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop within 5 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "server exit: {status}");
}

#[test]
fn unreachable_server_exits_1() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    // A port that was free a moment ago, with nothing listening on it now.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let output = run(&["solve", path_str(&plan), "--server", &url]);
    assert_code(&output, 1);
    assert!(output.stdout.is_empty(), "{}", describe(&output));
    assert!(
        stderr(&output).contains(&format!("127.0.0.1:{port}")),
        "stderr should name the server; {}",
        describe(&output)
    );
}

#[test]
fn version_prints_the_package_version() {
    // Guards the helpers themselves: `--version` exits 0 and prints the version.
    let output = run(&["--version"]);
    assert_eq!(code(&output), 0);
    assert!(stdout(&output).contains(env!("CARGO_PKG_VERSION")));
}

// ---------------------------------------------------------------------------------
// 7. Explanations: shadow prices (docs/MODEL.md §3) on the worked example (§4), the
// diagnosis of its infeasible case, and `--no-explain`.

/// Solves `plan` in-process with the JSON format and `extra` flags; checks the exit
/// code.
fn solve_json(dir: &TempDir, plan: &Value, extra: &[&str], exit: i32) -> Value {
    let path = write_plan(dir, "plan.json", plan);
    let mut args = vec!["solve", path_str(&path), "--format", "json"];
    args.extend_from_slice(extra);
    let output = run(&args);
    assert_code(&output, exit);
    json_stdout(&output)
}

/// Solves `plan` in-process with the table format and `extra` flags; checks the exit
/// code.
fn solve_table(dir: &TempDir, plan: &Value, extra: &[&str], exit: i32) -> String {
    let path = write_plan(dir, "plan.json", plan);
    let mut args = vec!["solve", path_str(&path)];
    args.extend_from_slice(extra);
    let output = run(&args);
    assert_code(&output, exit);
    stdout(&output)
}

/// Checks that `name` was priced at `up` and `down` (per unit increase of its bound).
fn assert_prices(result: &Value, name: &str, up: f64, down: f64) {
    let c = constraint(result, name);
    assert_eq!(c["priced"], true, "{c:#}");
    assert_near(c, "/shadowPriceUp", up);
    assert_near(c, "/shadowPriceDown", down);
}

/// The result's relaxation with this name.
fn relaxation<'a>(result: &'a Value, name: &str) -> &'a Value {
    result["diagnosis"]["relaxations"]
        .as_array()
        .unwrap_or_else(|| panic!("no relaxations in {result:#}"))
        .iter()
        .find(|relaxation| relaxation["name"] == name)
        .unwrap_or_else(|| panic!("no relaxation {name} in {result:#}"))
}

/// The output's lines with runs of spaces collapsed, so that column padding does not
/// matter.
fn squeezed(out: &str) -> Vec<String> {
    out.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn case1_json_prices_the_budget_at_1_5_from_50_to_450() {
    let dir = TempDir::new().unwrap();
    let result = solve_json(&dir, &case1(), &[], 0);
    assert_case1_numbers(&result);
    assert_eq!(
        result["objective"], "OBJECTIVE_MAXIMIZE_REVENUE",
        "{result:#}"
    );
    assert_eq!(result["pricesWithIntegersFixed"], false, "{result:#}");
    assert!(result.get("diagnosis").is_none(), "{result:#}");
    // Budget B: a keeps its first 50 units (3.0), b gets B - 50 at 1.5, so each unit
    // of budget earns 1.5 of revenue, both ways.
    // Up: with b = x, the 0.2 margin floor binds when
    // 0.8 (150 + 1.5 x) - (50 + x) = 0.2 (150 + 1.5 x), i.e. 70 + 0.2 x = 30 + 0.3 x,
    // x = 400: a budget of 50 + 400 = 450. Beyond it more budget buys nothing.
    // Down: below a budget of 50 the money comes out of a's first segment at 3.0.
    assert_prices(&result, "budget_cap", 1.5, 1.5);
    let budget = constraint(&result, "budget_cap");
    assert_near(budget, "/upPriceHoldsTo", 450.0);
    assert_near(budget, "/downPriceHoldsTo", 50.0);
    // The margin floor does not bind (0.356 > 0.2): 0 both ways.
    assert_prices(&result, "requirements.min_margin", 0.0, 0.0);
}

#[test]
fn case2_json_prices_the_margin_floor_at_minus_703_125() {
    let dir = TempDir::new().unwrap();
    let result = solve_json(&dir, &case2(), &[], 0);
    assert_eq!(result["status"], "SOLVE_STATUS_OPTIMAL", "{result:#}");
    // Floor m, a = 50, b = x, the floor binding: (0.8 - m)(150 + 1.5 x) = 50 + x, so
    // x(m) = (70 - 150 m) / (1.5 m - 0.2) (25 at m = 0.4) and
    // dx/dm = -75 / (1.5 m - 0.2)^2 = -75 / 0.16 = -468.75; dR/dm = 1.5 dx/dm =
    // -703.125 per 1.0 of margin, from both sides (smooth at m = 0.4: b > 0 up to
    // m = 0.467, budget slack down to m = 0.356).
    assert_prices(&result, "requirements.min_margin", -703.125, -703.125);
    // 25 of the budget left: 0 both ways.
    assert_prices(&result, "budget_cap", 0.0, 0.0);
}

#[test]
fn case2_table_prices_the_margin_floor_per_point() {
    let dir = TempDir::new().unwrap();
    let out = solve_table(&dir, &case2(), &[], 0);
    // -703.125 per 1.0 of margin is -7.03125 per percentage point: raising the floor
    // from 40 % to 41 % costs 7.03 of revenue, lowering it to 39 % earns 7.03.
    let margin = squeezed(&out)
        .into_iter()
        .find(|line| line.starts_with("requirements.min_margin"))
        .unwrap_or_else(|| panic!("no requirements.min_margin line:\n{out}"));
    assert!(margin.contains("40 % >= 40 %"), "{margin}");
    assert!(margin.contains("+1 pt → -7.03 revenue"), "{margin}");
    assert!(margin.contains("-1 pt → +7.03 revenue"), "{margin}");
    // The budget does not bind, so it is not among the binding constraints.
    assert!(
        !out.lines()
            .any(|line| line.trim_start().starts_with("budget_cap")),
        "{out}"
    );
}

#[test]
fn case3_json_diagnosis_names_what_to_relax() {
    let dir = TempDir::new().unwrap();
    let result = solve_json(&dir, &case3(), &[], 3);
    assert_eq!(result["status"], "SOLVE_STATUS_INFEASIBLE", "{result:#}");
    // The relaxable constraints of this plan: the budget cap and both requirements.
    let mut names: Vec<&str> = result["diagnosis"]["relaxations"]
        .as_array()
        .unwrap_or_else(|| panic!("no relaxations in {result:#}"))
        .iter()
        .map(|relaxation| relaxation["name"].as_str().expect("name"))
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "budget_cap",
            "requirements.min_margin",
            "requirements.revenue_target"
        ],
        "{result:#}"
    );
    // Budget alone: a = 50 (150), b must add 100 at 1.5: b = 66.67, budget 116.67
    // (the floor holds: 0.6 * 250 = 150 >= 116.67).
    let budget = relaxation(&result, "budget_cap");
    assert_near(budget, "/bound", 100.0);
    assert_near(budget, "/aloneBound", 50.0 + 100.0 / 1.5);
    // Target alone: 225, what a budget of 100 buys (case 1).
    let target = relaxation(&result, "requirements.revenue_target");
    assert_near(target, "/bound", 250.0);
    assert_near(target, "/aloneBound", 225.0);
    // The margin floor alone cannot: the budget still caps revenue at 225.
    let margin = relaxation(&result, "requirements.min_margin");
    assert_near(margin, "/bound", 0.2);
    assert!(margin.get("aloneBound").is_none(), "{margin:#}");
    // Combined, least sum of |change| / max(1, |bound|): the target alone costs
    // 25 / 250 = 0.1, the budget alone 16.67 / 100 = 0.167, and a unit of budget
    // (0.01) saves only 1.5 / 250 = 0.006 of target cut. So only the target moves,
    // to 225; no margin moves, so the combined relaxation is exact.
    assert_eq!(result["diagnosis"]["combinedFound"], true, "{result:#}");
    assert_eq!(result["diagnosis"]["combinedExact"], true, "{result:#}");
    assert_near(target, "/combinedBound", 225.0);
    assert_near(budget, "/combinedBound", 100.0);
    assert_near(margin, "/combinedBound", 0.2);
}

#[test]
fn case3_table_says_what_to_relax() {
    let dir = TempDir::new().unwrap();
    let out = solve_table(&dir, &case3(), &[], 3);
    assert!(out.contains("INFEASIBLE"), "{out}");
    let lines = squeezed(&out);
    let alone = lines
        .iter()
        .position(|line| line == "Relax one of these alone:")
        .unwrap_or_else(|| panic!("no 'Relax one of these alone:' section:\n{out}"));
    let combined = lines
        .iter()
        .position(|line| line.starts_with("Or all at once (smallest"))
        .unwrap_or_else(|| panic!("no exact 'Or all at once (smallest ...' section:\n{out}"));
    assert!(alone < combined, "{out}");
    // Same numbers as the JSON (case3_json_diagnosis_names_what_to_relax).
    let alone_section = &lines[alone + 1..combined];
    for expected in [
        "budget_cap 100 → 116.67",
        "requirements.revenue_target 250 → 225",
        "requirements.min_margin cannot alone",
    ] {
        assert!(
            alone_section.iter().any(|line| line == expected),
            "no line {expected:?} among what to relax alone:\n{out}"
        );
    }
    // All at once: only the target moves.
    let combined_section: Vec<&String> = lines[combined + 1..]
        .iter()
        .filter(|line| !line.is_empty())
        .collect();
    assert_eq!(
        combined_section,
        ["requirements.revenue_target 250 → 225"],
        "{out}"
    );
    // No allocation for an infeasible plan.
    assert!(!out.contains("Allocation"), "{out}");
}

#[test]
fn no_explain_leaves_out_prices_and_diagnosis() {
    let dir = TempDir::new().unwrap();
    // Case 1: the same allocation, nothing priced.
    let result = solve_json(&dir, &case1(), &["--no-explain"], 0);
    assert_case1_numbers(&result);
    let constraints = result["constraints"].as_array().expect("constraints");
    assert!(!constraints.is_empty(), "{result:#}");
    for c in constraints {
        assert_eq!(c["priced"], false, "{c:#}");
        for field in [
            "shadowPriceUp",
            "shadowPriceDown",
            "upPriceHoldsTo",
            "downPriceHoldsTo",
        ] {
            assert!(c.get(field).is_none(), "{field} in {c:#}");
        }
    }
    for d in result["drivers"].as_array().expect("drivers") {
        assert!(d.get("breakEvenScale").is_none(), "{d:#}");
    }
    assert!(result.get("diagnosis").is_none(), "{result:#}");

    // Case 3: still infeasible (exit 3), no diagnosis.
    let result = solve_json(&dir, &case3(), &["--no-explain"], 3);
    assert_eq!(result["status"], "SOLVE_STATUS_INFEASIBLE", "{result:#}");
    assert!(result.get("diagnosis").is_none(), "{result:#}");
}

#[test]
fn no_explain_table_has_no_prices_and_no_diagnosis() {
    let dir = TempDir::new().unwrap();
    let out = solve_table(&dir, &case1(), &["--no-explain"], 0);
    // The budget still binds and is listed, without a price.
    let budget = squeezed(&out)
        .into_iter()
        .find(|line| line.starts_with("budget_cap"))
        .unwrap_or_else(|| panic!("no budget_cap line:\n{out}"));
    assert_eq!(budget, "budget_cap 100 <= 100", "{out}");
    assert!(!out.contains('→'), "{out}");

    let out = solve_table(&dir, &case3(), &["--no-explain"], 3);
    assert!(out.contains("INFEASIBLE"), "{out}");
    assert!(!out.contains("Relax one of these alone"), "{out}");
    assert!(!out.contains("Or all at once"), "{out}");
}

#[test]
fn no_explain_reaches_the_server() {
    let dir = TempDir::new().unwrap();
    let case1 = write_plan(&dir, "case1.json", &case1());
    let case3 = write_plan(&dir, "case3.json", &case3());
    let server = Server::start();
    let url = server.url();
    let remote = |plan: &Path, extra: &[&str], exit: i32| {
        let mut args = vec![
            "solve",
            path_str(plan),
            "--server",
            &url,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let output = run(&args);
        assert_code(&output, exit);
        json_stdout(&output)
    };
    // Explained on the server as in-process (case 1 and case 3 above)...
    let result = remote(&case1, &[], 0);
    assert_prices(&result, "budget_cap", 1.5, 1.5);
    let result = remote(&case3, &[], 3);
    assert_near(
        relaxation(&result, "budget_cap"),
        "/aloneBound",
        50.0 + 100.0 / 1.5,
    );
    // ... and not with --no-explain.
    let result = remote(&case1, &["--no-explain"], 0);
    assert_eq!(
        constraint(&result, "budget_cap")["priced"],
        false,
        "{result:#}"
    );
    assert!(
        constraint(&result, "budget_cap")
            .get("shadowPriceUp")
            .is_none(),
        "{result:#}"
    );
    let result = remote(&case3, &["--no-explain"], 3);
    assert!(result.get("diagnosis").is_none(), "{result:#}");
}

#[test]
fn budget_at_the_kink_has_two_prices() {
    let dir = TempDir::new().unwrap();
    let mut plan = case1();
    plan["budgetCap"] = json!(50);
    let result = solve_json(&dir, &plan, &[], 0);
    assert_eq!(result["status"], "SOLVE_STATUS_OPTIMAL", "{result:#}");
    // A budget of 50 buys exactly a's first segment: a = 50, b = 0, revenue 150,
    // margin (120 - 50) / 150 = 0.467 > 0.2.
    assert_near(driver(&result, "a"), "/units", 50.0);
    assert_near(driver(&result, "b"), "/units", 0.0);
    // Raising it funds b at 1.5 (up to 450, as in case 1); lowering it cuts a's
    // first segment at 3.0, down to a budget of 0 (below it no plan).
    assert_prices(&result, "budget_cap", 1.5, 3.0);
    let budget = constraint(&result, "budget_cap");
    assert_near(budget, "/upPriceHoldsTo", 450.0);
    assert_near(budget, "/downPriceHoldsTo", 0.0);
    assert_prices(&result, "requirements.min_margin", 0.0, 0.0);

    // In words: `budget_cap  50  <=  50  +1 → +1.50 revenue (to 450)
    // -1 → -3.00 revenue (to 0)`.
    let out = solve_table(&dir, &plan, &[], 0);
    let budget = squeezed(&out)
        .into_iter()
        .find(|line| line.starts_with("budget_cap"))
        .unwrap_or_else(|| panic!("no budget_cap line:\n{out}"));
    assert!(budget.contains("+1 → +1.50 revenue (to 450)"), "{budget}");
    assert!(budget.contains("-1 → -3.00 revenue (to 0)"), "{budget}");
}

#[test]
fn a_reader_that_goes_away_early_is_not_an_error() {
    // `tradeoff solve plan.json | head -1`: stdout closes before the table is
    // written; the command must neither panic nor fail.
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let mut child = tradeoff()
        .args(["solve", path_str(&plan)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

// ---------------------------------------------------------------------------------
// Frontier and evaluate through the binary.

#[test]
fn frontier_over_the_budget_prints_the_breakpoints() {
    // Case one over budget_cap 0..600: breakpoints at 50 (a's first segment used up)
    // and 450 (the 0.2 margin floor starts to bind; 0.8 (150 + 1.5 x) - (50 + x) =
    // 0.2 (150 + 1.5 x) gives b = 400), revenue 0, 150, 750, 750.
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let output = run(&[
        "frontier",
        path_str(&plan),
        "--over",
        "budget_cap",
        "--from",
        "0",
        "--to",
        "600",
        "--format",
        "json",
    ]);
    assert_code(&output, 0);
    let frontier = json_stdout(&output);
    let bounds: Vec<f64> = frontier["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["bound"].as_f64().unwrap())
        .collect();
    assert_eq!(bounds, vec![0.0, 50.0, 450.0, 600.0]);
    let revenue: Vec<f64> = frontier["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["totals"]["revenue"].as_f64().unwrap())
        .collect();
    assert_eq!(revenue, vec![0.0, 150.0, 750.0, 750.0]);
    assert_eq!(frontier["exact"], true);
    // The table names b as entering at 50.
    let output = run(&[
        "frontier",
        path_str(&plan),
        "--over",
        "budget_cap",
        "--from",
        "0",
        "--to",
        "600",
    ]);
    assert_code(&output, 0);
    let out = stdout(&output);
    let row = out
        .lines()
        .find(|line| line.trim_start().starts_with("50 "))
        .unwrap_or_else(|| panic!("no row for 50:\n{out}"));
    assert!(
        row.contains("1.5000") && row.trim_end().ends_with('b'),
        "{row}"
    );
}

#[test]
fn frontier_refuses_a_backwards_range() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let output = run(&[
        "frontier",
        path_str(&plan),
        "--over",
        "budget_cap",
        "--from",
        "600",
        "--to",
        "0",
    ]);
    assert_code(&output, 2);
    assert!(stderr(&output).contains("to:"), "{}", stderr(&output));
}

#[test]
fn evaluate_scores_a_csv_allocation() {
    // Case one with a = 30 (at 3.0: 90) and b = 90 (at 1.5: 135): revenue 225 for a
    // spend of 120, so budget_cap is broken by 20 (exit 3); the optimum moves a by
    // +20 and b by -40.
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let allocation = dir.path().join("allocation.csv");
    std::fs::write(&allocation, "driver_id,units\na,30\nb,90\n").unwrap();
    let output = run(&[
        "evaluate",
        path_str(&plan),
        "--allocation",
        path_str(&allocation),
        "--format",
        "json",
    ]);
    assert_code(&output, 3);
    let evaluation = json_stdout(&output);
    assert_eq!(evaluation["feasible"], false);
    assert_eq!(evaluation["violations"][0]["name"], "budget_cap");
    assert_eq!(evaluation["violations"][0]["amount"], 20.0);
    assert_eq!(evaluation["given"]["totals"]["revenue"], 225.0);
    assert_eq!(evaluation["given"]["totals"]["spend"], 120.0);
    assert_eq!(evaluation["gaps"][0]["unitsChange"][0], 20.0);
    assert_eq!(evaluation["gaps"][1]["unitsChange"][0], -40.0);
    // The optimum itself (a = 50, b = 50) meets every constraint: exit 0, no gap.
    std::fs::write(&allocation, "driver_id,units\na,50\nb,50\n").unwrap();
    let output = run(&[
        "evaluate",
        path_str(&plan),
        "--allocation",
        path_str(&allocation),
    ]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("meets every constraint"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn evaluate_names_a_bad_allocation_cell() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let allocation = dir.path().join("allocation.csv");
    std::fs::write(&allocation, "driver_id,units\na,thirty\n").unwrap();
    let output = run(&[
        "evaluate",
        path_str(&plan),
        "--allocation",
        path_str(&allocation),
    ]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("row 2") && stderr(&output).contains("thirty"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn plots_are_written_as_svg() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let svg = dir.path().join("frontier.svg");
    let output = run(&[
        "frontier",
        path_str(&plan),
        "--over",
        "budget_cap",
        "--from",
        "0",
        "--to",
        "600",
        "--plot",
        path_str(&svg),
    ]);
    assert_code(&output, 0);
    let text = std::fs::read_to_string(&svg).unwrap();
    // The breakpoint at 50 is labelled with b entering.
    assert!(text.starts_with("<svg") && text.contains("50 +b"), "{text}");
    let bars = dir.path().join("allocation.svg");
    let output = run(&["solve", path_str(&plan), "--plot", path_str(&bars)]);
    assert_code(&output, 0);
    let text = std::fs::read_to_string(&bars).unwrap();
    assert!(
        text.contains("<rect") && text.contains("\na\n") && text.contains("\nb\n"),
        "{text}"
    );
    // Only SVG and PNG are drawn; anything else is refused before solving.
    let pdf = dir.path().join("allocation.pdf");
    let output = run(&["solve", path_str(&plan), "--plot", path_str(&pdf)]);
    assert_bad_input(&output, &["--plot", "allocation.pdf", "SVG or PNG"]);
    assert!(!pdf.exists());
}

/// Width and height from a PNG's IHDR chunk, after checking the signature; then
/// the decoded 8-bit RGB pixels, row by row.
fn png_pixels(path: &Path) -> (u32, u32, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("{path:?}: {error}"));
    assert!(bytes.len() > 33, "{path:?} is {} bytes", bytes.len());
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{path:?}: not a PNG signature"
    );
    // The first chunk: length 13, type IHDR, width and height (big-endian).
    assert_eq!(&bytes[8..16], b"\0\0\0\x0dIHDR", "{path:?}: no IHDR first");
    let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let height = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap_or_else(|error| panic!("{path:?} does not decode: {error}"));
    let mut pixels = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader
        .next_frame(&mut pixels)
        .unwrap_or_else(|error| panic!("{path:?} does not decode: {error}"));
    assert_eq!(
        (info.color_type, info.bit_depth),
        (png::ColorType::Rgb, png::BitDepth::Eight)
    );
    assert_eq!((info.width, info.height), (width, height));
    pixels.truncate(info.buffer_size());
    (width, height, pixels)
}

/// Pixels of exactly `rgb`, in rows `rows` (all columns).
fn count_color(pixels: &[u8], width: u32, rows: std::ops::Range<u32>, rgb: [u8; 3]) -> usize {
    let row = width as usize * 3;
    pixels[rows.start as usize * row..rows.end as usize * row]
        .chunks_exact(3)
        .filter(|pixel| *pixel == rgb)
        .count()
}

/// Dark pixels (text, axes) in rows `rows`.
fn count_dark(pixels: &[u8], width: u32, rows: std::ops::Range<u32>) -> usize {
    let row = width as usize * 3;
    pixels[rows.start as usize * row..rows.end as usize * row]
        .chunks_exact(3)
        .filter(|pixel| pixel.iter().all(|&channel| channel < 100))
        .count()
}

#[test]
fn plots_are_written_as_png() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    // Case one: a = 50 and b = 50, both in the one period: two stacked bars.
    let bars = dir.path().join("allocation.PNG");
    let output = run(&["solve", path_str(&plan), "--plot", path_str(&bars)]);
    assert_code(&output, 0);
    let (width, height, pixels) = png_pixels(&bars);
    assert_eq!((width, height), (1200, 700));
    // The bars, in the first two colours of the palette, are big blocks: each is
    // half of a bar 70 % of the plot wide and about 90 % of it high.
    let a = count_color(&pixels, width, 0..height, [31, 119, 180]);
    let b = count_color(&pixels, width, 0..height, [255, 127, 14]);
    assert!(a > 100_000 && b > 100_000, "bar pixels: a {a}, b {b}");
    // The caption is text in the top 60 rows: some dark pixels, not a solid block.
    let caption = count_dark(&pixels, width, 0..60);
    assert!(
        (200..20_000).contains(&caption),
        "dark pixels in the caption rows: {caption}"
    );

    let curve = dir.path().join("frontier.png");
    let output = run(&[
        "frontier",
        path_str(&plan),
        "--over",
        "budget_cap",
        "--from",
        "0",
        "--to",
        "600",
        "--plot",
        path_str(&curve),
    ]);
    assert_code(&output, 0);
    let (width, height, pixels) = png_pixels(&curve);
    assert_eq!((width, height), (1200, 700));
    // The curve in the palette's first colour, the breakpoints (50 and 450) as
    // red dots, and text: caption, axis labels, breakpoint labels.
    let line = count_color(&pixels, width, 0..height, [31, 119, 180]);
    let dots = count_color(&pixels, width, 0..height, [214, 39, 40]);
    assert!(line > 2_000, "curve pixels: {line}");
    assert!(dots > 2 * 100, "breakpoint pixels: {dots}");
    let caption = count_dark(&pixels, width, 0..60);
    let everything = count_dark(&pixels, width, 0..height);
    assert!(
        caption > 200 && everything > caption + 1_000,
        "dark pixels: {caption} in the caption, {everything} in all"
    );
}

// ---------------------------------------------------------------------------------
// 7. Batches.

/// The results of a JSONL results file, keyed by scenario id; panics on a
/// duplicate id.
fn results_by_id(path: &Path) -> std::collections::BTreeMap<String, Value> {
    let text = std::fs::read_to_string(path).expect("read results");
    let mut results = std::collections::BTreeMap::new();
    for line in text.lines() {
        let result: Value = serde_json::from_str(line)
            .unwrap_or_else(|error| panic!("not a JSON line ({error}): {line}"));
        let id = result["scenarioId"]
            .as_str()
            .expect("scenarioId")
            .to_string();
        assert!(
            results.insert(id.clone(), result).is_none(),
            "scenario {id} appears twice in {}",
            path.display()
        );
    }
    results
}

#[test]
fn batch_in_process_jsonl() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let scenarios = write_file(
        &dir,
        "scenarios.jsonl",
        concat!(
            r#"{"id": "budget-80", "overrides": {"budgetCap": 80}}"#,
            "\n",
            r#"{"id": "no-b", "overrides": {"excludedDrivers": ["b"]}}"#,
            "\n",
            r#"{"id": "quota-250", "overrides": {"revenueTarget": 250}}"#,
            "\n",
        ),
    );
    let out = dir.path().join("results.jsonl");
    let output = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
        "--jobs",
        "2",
    ]);
    assert_code(&output, 0);
    assert!(
        stderr(&output).contains("3 of 3 scenario(s) done"),
        "{}",
        describe(&output)
    );
    let results = results_by_id(&out);
    assert_eq!(results.len(), 3);
    // Budget 80: a's first 50 units (150), then b with the other 30 (45): 195.
    let budget = &results["budget-80"];
    assert_eq!(budget["status"], "SOLVE_STATUS_OPTIMAL");
    assert_near(budget, "/totals/revenue", 195.0);
    assert_near(budget, "/totals/spend", 80.0);
    assert_near(budget, "/drivers/0/units", 50.0);
    assert_near(budget, "/drivers/1/units", 30.0);
    // Without b, a takes all 100: 50 * 3 + 50 * 1 = 200.
    assert_near(&results["no-b"], "/totals/revenue", 200.0);
    assert_near(&results["no-b"], "/drivers/0/units", 100.0);
    // §4 case 3: infeasible is a result, not a failure.
    assert_eq!(results["quota-250"]["status"], "SOLVE_STATUS_INFEASIBLE");

    // The same output again is refused: it would duplicate every scenario.
    let again = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
    ]);
    assert_bad_input(&again, &["--resume"]);
    // With --resume there is nothing left to do.
    let resumed = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
        "--resume",
    ]);
    assert_code(&resumed, 0);
    assert_eq!(results_by_id(&out).len(), 3);
}

#[test]
fn batch_in_process_csv_with_a_failed_scenario() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let scenarios = write_file(
        &dir,
        "scenarios.csv",
        "id,budget_cap,min_margin,revenue_scale.b,max_units.b,excluded\n\
         base,,,,,\n\
         margin-40,,0.4,,,\n\
         b-double,,,2,,\n\
         b-capped,,,,20,\n\
         ghost,,,,,zz\n",
    );
    let out = dir.path().join("results.csv");
    let output = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
    ]);
    // `ghost` excludes a driver the plan does not have: that scenario fails.
    assert_code(&output, 1);
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.remove(0),
        "scenario_id,status,revenue,spend,contribution,margin,error"
    );
    let rows: std::collections::BTreeMap<&str, Vec<&str>> = lines
        .iter()
        .map(|line| {
            let cells: Vec<&str> = line.splitn(7, ',').collect();
            (cells[0], cells)
        })
        .collect();
    assert_eq!(rows.len(), 5);
    let cell = |id: &str, column: usize| -> f64 {
        rows[id][column]
            .parse()
            .unwrap_or_else(|_| panic!("{id}: {:?}", rows[id]))
    };
    // §4 case 1: revenue 225, spend 100, contribution 0.8 * 225 - 100 = 80.
    assert_eq!(rows["base"][1], "OPTIMAL");
    assert!((cell("base", 2) - 225.0).abs() < TOL);
    assert!((cell("base", 3) - 100.0).abs() < TOL);
    assert!((cell("base", 4) - 80.0).abs() < TOL);
    // §4 case 2: revenue 187.5, spend 75, margin exactly 0.4.
    assert!((cell("margin-40", 2) - 187.5).abs() < TOL);
    assert!((cell("margin-40", 5) - 0.4).abs() < TOL);
    // b at 3.0 per unit ties a's first segment: 100 units at 3.0 = 300.
    assert!((cell("b-double", 2) - 300.0).abs() < TOL);
    // b capped at 20: 150 + 30 + a's second segment for the last 30: 210.
    assert!((cell("b-capped", 2) - 210.0).abs() < TOL);
    assert_eq!(rows["ghost"][1], "ERROR");
    assert!(
        rows["ghost"][6].contains("scenarios[4].overrides.excluded_drivers[0]"),
        "{:?}",
        rows["ghost"]
    );
}

#[test]
fn batch_bad_scenario_file_exits_2() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let scenarios = write_file(&dir, "s.csv", "id,budget_cap\na,1\na,2\n");
    let out = dir.path().join("r.csv");
    let output = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
    ]);
    assert_bad_input(&output, &["line 3", "appears twice"]);
}

/// A child process killed on drop, so that a failing test leaves nothing behind.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Lines in a file (0 when it does not exist yet).
fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
}

/// Waits (bounded) until `path` has at least `lines` lines.
fn wait_for_lines(path: &Path, lines: usize, batch: &mut KillOnDrop) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while line_count(path) < lines {
        if let Some(status) = batch.0.try_wait().unwrap() {
            panic!(
                "the batch ended early ({status}) with {} lines",
                line_count(path)
            );
        }
        assert!(Instant::now() < deadline, "no progress to {lines} lines");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn sigkill(pid: u32) {
    let kill = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success(), "kill -KILL failed: {kill}");
}

/// Starts `tradeoff serve` on `address` (which a killed server just left).
fn server_on(address: &str) -> Server {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut child = tradeoff()
            .args(["serve", "--listen", address])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tradeoff serve");
        let mut first = String::new();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let _ = stderr.read_line(&mut first);
        if first.contains(" listening on ") {
            // Keep draining stderr for the server's whole life.
            std::thread::spawn(move || {
                for line in stderr.lines() {
                    if line.is_err() {
                        break;
                    }
                }
            });
            return Server {
                child,
                address: address.to_string(),
            };
        }
        let _ = child.wait();
        assert!(
            Instant::now() < deadline,
            "cannot listen on {address}: {first}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn batch_survives_a_killed_server_and_a_killed_run() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    // 500 scenarios: the §4 plan with budget_cap 0, 0.5, 1, ..., 249.5.
    let count = 500;
    let lines: String = (0..count)
        .map(|i| {
            format!(
                "{{\"id\": \"cap-{i}\", \"overrides\": {{\"budgetCap\": {}}}}}\n",
                f64::from(i) * 0.5
            )
        })
        .collect();
    let scenarios = write_file(&dir, "scenarios.jsonl", &lines);
    let out = dir.path().join("results.jsonl");
    let batch_args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "batch",
            "--plan",
            path_str(&plan),
            path_str(&scenarios),
            "--out",
            path_str(&out),
            "--chunk-size",
            "50",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        args.extend(extra.iter().map(ToString::to_string));
        args
    };

    // The reference: a clean in-process run.
    let reference = dir.path().join("reference.jsonl");
    let clean = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&reference),
    ]);
    assert_code(&clean, 0);
    let reference = results_by_id(&reference);
    assert_eq!(reference.len(), count as usize);

    // A run on server A, which is killed partway; a new server comes up on the
    // same address and the run carries on by itself.
    let server = Server::start();
    let address = server.address.clone();
    let mut batch = KillOnDrop(
        tradeoff()
            .args(batch_args(&["--server", &server.url()]))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn batch"),
    );
    wait_for_lines(&out, 40, &mut batch);
    sigkill(server.pid());
    drop(server);
    let at_kill = line_count(&out);
    assert!(
        at_kill < count as usize,
        "the batch finished before the kill"
    );
    let server = server_on(&address);
    // At most 64 results wait for the file and at most two chunks of 50 are
    // streaming, so 200 more lines need results the killed server never sent:
    // the run went on by itself on the new server (re-sending what a cut stream
    // left unanswered, or on a fresh connection when the kill fell between
    // streams).
    wait_for_lines(&out, at_kill + 200, &mut batch);

    // Then the run itself is killed, and resumed on the new server.
    sigkill(batch.0.id());
    let _ = batch.0.wait();
    let at_second_kill = line_count(&out);
    assert!(
        at_second_kill < count as usize,
        "the batch finished before its kill"
    );
    let resumed = run(&batch_args(&["--server", &server.url(), "--resume"])
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert_code(&resumed, 0);
    assert!(
        stderr(&resumed).contains("already done"),
        "{}",
        describe(&resumed)
    );

    // Every scenario exactly once (results_by_id panics on a duplicate), each as
    // the clean run answered it.
    let results = results_by_id(&out);
    assert_eq!(results.len(), count as usize);
    assert_eq!(results, reference);
}

#[test]
fn batch_spreads_over_servers_and_gives_up_on_none() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    // Budget caps 0, 10, ..., 190: below 50 all of it goes to a at 3.0 per unit.
    let lines: String = (0..20)
        .map(|i| {
            format!(
                "{{\"id\": \"cap-{i}\", \"overrides\": {{\"budgetCap\": {}}}}}\n",
                i * 10
            )
        })
        .collect();
    let scenarios = write_file(&dir, "scenarios.jsonl", &lines);
    // A port that was free a moment ago, with nothing listening on it now.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let server = Server::start();
    let out = dir.path().join("results.jsonl");
    let servers = format!("{dead},{}", server.url());
    let output = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
        "--server",
        &servers,
        "--chunk-size",
        "3",
    ]);
    // The live server answers everything the dead one cannot.
    assert_code(&output, 0);
    let results = results_by_id(&out);
    assert_eq!(results.len(), 20);
    // Budget 30: a's first 30 units at 3.0 = 90.
    assert_near(&results["cap-3"], "/totals/revenue", 90.0);

    // Only a dead server: no result within --give-up-after, exit 1, nothing lost.
    let out = dir.path().join("none.jsonl");
    let output = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
        "--server",
        &dead,
        "--give-up-after",
        "1s",
    ]);
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains("giving up"),
        "{}",
        describe(&output)
    );
}

#[test]
fn batch_gives_up_on_a_server_that_never_answers() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let scenarios = write_file(&dir, "s.jsonl", "{\"id\": \"only\"}\n");
    // Accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let out = dir.path().join("r.jsonl");
    let started = Instant::now();
    let output = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
        "--server",
        &url,
        "--give-up-after",
        "1s",
    ]);
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains("giving up"),
        "{}",
        describe(&output)
    );
    // A silent stream is abandoned after max(1 s, 5 s), then the run gives up.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn load_reports_throughput_latency_and_codes() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    // One worker and no queue for three clients: some calls may be refused.
    let server = Server::start_with(&["--workers", "1", "--queue", "0"]);
    let url = server.url();
    let output = run(&[
        "load",
        path_str(&plan),
        "--server",
        &url,
        "--clients",
        "3",
        "--duration",
        "1s",
        "--no-explain",
        "--format",
        "json",
    ]);
    assert_code(&output, 0);
    let report = json_stdout(&output);
    assert_eq!(report["server"], url.as_str());
    assert_eq!(report["clients"], 3);
    let calls = report["calls"].as_u64().expect("calls");
    let codes = report["codes"].as_object().expect("codes by name");
    let counted: u64 = codes
        .values()
        .map(|code| code["calls"].as_u64().expect("calls per code"))
        .sum();
    assert_eq!(counted, calls, "{report}");
    for code in codes.keys() {
        assert!(
            code == "OK" || code == "RESOURCE_EXHAUSTED",
            "unexpected {code}: {report}"
        );
    }
    let ok = codes["OK"]["calls"].as_u64().expect("OK calls");
    assert!(ok > 0, "{report}");
    let seconds = number(&report, "/seconds");
    assert!((1.0..3.0).contains(&seconds), "{report}");
    assert_near(&report, "/throughput", ok as f64 / seconds);
    let (p50, p99, max) = (
        number(&report, "/latency/p50Ms"),
        number(&report, "/latency/p99Ms"),
        number(&report, "/latency/maxMs"),
    );
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{report}");
    assert!(stderr(&output).contains("loading"), "{}", describe(&output));

    // The table names each code with its latency.
    let output = run(&[
        "load",
        path_str(&plan),
        "--server",
        &url,
        "--clients",
        "1",
        "--duration",
        "200ms",
    ]);
    assert_code(&output, 0);
    let table = stdout(&output);
    assert!(table.contains("OK") && table.contains("p99 ms"), "{table}");
    drop(server);

    // Nobody there: exit 1, naming the server.
    let output = run(&[
        "load",
        path_str(&plan),
        "--server",
        &url,
        "--duration",
        "1s",
    ]);
    assert_code(&output, 1);
    assert!(stderr(&output).contains(&url), "{}", describe(&output));
}

#[test]
fn serve_help_explains_admission_control() {
    let output = run(&["serve", "--help"]);
    assert_code(&output, 0);
    let help = stdout(&output);
    for needle in [
        "--workers",
        "--queue",
        "--max-solve-time",
        "RESOURCE_EXHAUSTED",
        "x-request-id",
    ] {
        assert!(
            help.contains(needle),
            "serve --help lacks {needle}:\n{help}"
        );
    }
    let output = run(&["load", "--help"]);
    assert_code(&output, 0);
    let help = stdout(&output);
    for needle in [
        "Exit codes",
        "Examples",
        "tradeoff load ",
        "RESOURCE_EXHAUSTED",
    ] {
        assert!(help.contains(needle), "load --help lacks {needle}:\n{help}");
    }
    let output = run(&["serve", "--workers", "0"]);
    assert_code(&output, 2);
}

// ---------------------------------------------------------------------------------
// Solver engines.

#[test]
fn version_and_info_name_the_engines() {
    let engines = if cfg!(feature = "highs") {
        "microlp, highs"
    } else {
        "microlp"
    };
    let output = run(&["--version"]);
    assert_code(&output, 0);
    assert_eq!(
        stdout(&output).trim(),
        format!(
            "tradeoff {} (solvers: {engines})",
            env!("CARGO_PKG_VERSION")
        )
    );
    // Subcommands answer --version too.
    let output = run(&["serve", "--version"]);
    assert_code(&output, 0);
    assert!(stdout(&output).contains(engines), "{}", describe(&output));

    let output = run(&["info", "--format", "json", "--max-variables", "777"]);
    assert_code(&output, 0);
    let info = json_stdout(&output);
    let mut expected = vec![json!("SOLVER_MICROLP")];
    if cfg!(feature = "highs") {
        expected.push(json!("SOLVER_HIGHS"));
    }
    assert_eq!(info["availableSolvers"], Value::Array(expected), "{info:#}");
    assert_eq!(info["maxVariables"], json!(777), "{info:#}");
}

#[cfg(not(feature = "highs"))]
#[test]
fn asking_for_highs_without_it_is_bad_input() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let output = run(&["solve", path_str(&plan), "--solver", "highs"]);
    assert_bad_input(&output, &["highs", "not compiled into this build"]);
}

/// docs/MODEL.md §4 case 1 on each engine: revenue 150 + 1.5 * 50 = 225 and the budget
/// priced at 1.5, whichever engine ran, and the engine named in the result.
#[cfg(feature = "highs")]
#[test]
fn solve_names_the_engine_that_ran() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    for engine in ["microlp", "highs"] {
        let output = run(&[
            "solve",
            path_str(&plan),
            "--solver",
            engine,
            "--format",
            "json",
        ]);
        assert_code(&output, 0);
        let result = json_stdout(&output);
        assert_eq!(result["solver"]["name"], json!(engine), "{result:#}");
        assert_near(&result, "/totals/revenue", 225.0);
        assert_near(constraint(&result, "budget_cap"), "/shadowPriceUp", 1.5);
    }
}
