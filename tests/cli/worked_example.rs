//! The worked example, JSON output.

use super::*;

#[test]
fn worked_example_case1_json() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let output = run(&["solve", path_str(&plan), "--format", "json"]);
    assert_code(&output, 0);
    let result = json_stdout(&output);
    assert_case1_numbers(&result);
    // proto3 JSON: camelCase keys, every field emitted.
    assert_eq!(result["planName"], case1()["name"]);
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
