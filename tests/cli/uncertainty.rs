//! Returns as ranges (docs/MODEL.md §7) from the command line: the two-outcome plan
//! of `tests/plans/` (numbers worked out in `tests/grpc/uncertainty.rs`).

use super::*;

fn plan_path() -> String {
    format!(
        "{}/tests/plans/uncertain_two_outcomes.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn the_table_gives_the_odds_in_one_line() {
    // q = 0.5: u = 60, outcome revenues 60 and 180: both reach the target of 60.
    let output = run(&["solve", &plan_path()]);
    assert_code(&output, 0);
    let table = stdout(&output);
    assert!(
        table.contains(
            "Over 2 outcomes: revenue P10 60 · P50 60 · P90 180 · mean 120 · quota 60 reached in 100 % of outcomes"
        ),
        "{table}"
    );
}

#[test]
fn json_and_the_confidence_frontier() {
    let output = run(&["solve", &plan_path(), "--format", "json"]);
    assert_code(&output, 0);
    let result = json_stdout(&output);
    assert_near(&result, "/distribution/tailMean", 60.0);
    assert_near(&result, "/totals/spend", 60.0);
    // Spend 60 (1 - q) / (2 - 3q) below q = 0.5, 60 from there.
    let output = run(&[
        "frontier",
        &plan_path(),
        "--over",
        "confidence",
        "--from",
        "0.2",
        "--to",
        "0.8",
        "--format",
        "json",
    ]);
    assert_code(&output, 0);
    let frontier = json_stdout(&output);
    for point in frontier["points"].as_array().expect("points") {
        let q = point["bound"].as_f64().unwrap_or(0.0);
        let spend = if q < 0.5 {
            60.0 * (1.0 - q) / (2.0 - 3.0 * q)
        } else {
            60.0
        };
        assert_near(point, "/totals/spend", spend);
    }
}
