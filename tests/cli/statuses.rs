//! Unbounded and time limit.

use super::*;

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
