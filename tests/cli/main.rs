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

/// Every engine compiled in, as `--solver` names it.
fn engines() -> Vec<&'static str> {
    let mut engines = vec!["microlp"];
    if cfg!(feature = "highs") {
        engines.push("highs");
    }
    engines
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

/// docs/MODEL.md §4 as `examples/` has it: one period, no baseline, budget cap 100,
/// gross margins 0.8, maximise revenue. Driver `a` (unit cost 1): 50 units at 3.0,
/// then unbounded at 1.0; driver `b` (unit cost 1): unbounded at 1.5.
/// `requirements` varies by case.
fn worked_example(requirements: Value) -> Value {
    let mut plan: Value = serde_json::from_str(include_str!(
        "../../examples/worked_example_margin_0_2.json"
    ))
    .expect("the example is JSON");
    plan["requirements"] = requirements;
    plan
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

mod bad_input;
mod batch;
mod engines;
mod explanations;
mod frontier;
mod help;
mod in_seat;
mod replan;
mod server;
mod statuses;
mod table;
mod uncertainty;
mod worked_example;
