//! Re-plans (docs/MODEL.md §6) from the command line: `tests/plans/replan.json`
//! (numbers worked out in `tests/grpc/replan.rs`), a plan in force taken from an
//! earlier result or a CSV, locks, and the disruption frontier.

use super::*;

fn replan_path() -> String {
    format!("{}/tests/plans/replan.json", env!("CARGO_MANIFEST_DIR"))
}

/// The re-plan example without its `replan`, with `budget_cap`.
fn plain_plan(dir: &TempDir, budget: f64) -> PathBuf {
    let text = std::fs::read_to_string(replan_path()).expect("plan");
    let mut plan: Value = serde_json::from_str(&text).expect("JSON");
    let object = plan.as_object_mut().expect("an object");
    object.remove("replan");
    object.insert("budgetCap".into(), json!(budget));
    write_plan(dir, &format!("plain_{budget}.json"), &plan)
}

#[test]
fn the_table_says_what_moves_and_why() {
    let output = run(&["solve", &replan_path()]);
    assert_code(&output, 0);
    let table = stdout(&output);
    // 4 SDRs out and 4 AEs in: 80 moved, each move driven by the budget (+3 a dollar).
    assert!(table.contains("Re-plan: 80 of money moved"), "{table}");
    assert!(
        table.contains("moved by budget_cap (+3.00 revenue per 1)"),
        "{table}"
    );
}

#[test]
fn replan_from_an_earlier_result_with_a_lock() {
    // The plain plan's optimum hires 10 AEs (some split over the quarters, at most 4
    // each). With the budget cut to 80 and Q1 locked, 8 AEs remain: whatever Q1
    // holds, Q2 and Q3 give up 2 units, 20 of money; revenue 240.
    let dir = TempDir::new().unwrap();
    let output = run(&[
        "solve",
        path_str(&plain_plan(&dir, 100.0)),
        "--format",
        "json",
    ]);
    assert_code(&output, 0);
    let earlier = write_file(&dir, "earlier.json", &stdout(&output));
    let output = run(&[
        "solve",
        path_str(&plain_plan(&dir, 80.0)),
        "--replan-from",
        path_str(&earlier),
        "--lock",
        "Q1",
        "--format",
        "json",
    ]);
    assert_code(&output, 0);
    let result = json_stdout(&output);
    assert_near(&result, "/totals/revenue", 240.0);
    assert_near(&result, "/moneyMoved", 20.0);
    let before = json_stdout(&run(&[
        "solve",
        path_str(&plain_plan(&dir, 100.0)),
        "--format",
        "json",
    ]));
    let q1 = number(driver(&before, "ae"), "/periods/0/units");
    assert_near(driver(&result, "ae"), "/periods/0/units", q1);
}

#[test]
fn replan_from_a_csv_with_a_cap_on_the_money_moved() {
    // In force AEs 2, 2, 2 and SDRs 2, 2, 0 (the plan file's own): 20 may move, one
    // swap of an SDR for an AE: 228 + 18 = 246.
    let dir = TempDir::new().unwrap();
    let current = write_file(
        &dir,
        "current.csv",
        "driver_id,Q1,Q2,Q3\nae,2,2,2\nsdr,2,2,0\n",
    );
    let plan = plain_plan(&dir, 100.0);
    for engine in engines() {
        let output = run(&[
            "solve",
            path_str(&plan),
            "--current",
            path_str(&current),
            "--max-change",
            "20",
            "--format",
            "json",
            "--solver",
            engine,
        ]);
        assert_code(&output, 0);
        let result = json_stdout(&output);
        assert_near(&result, "/totals/revenue", 246.0);
        let cap = constraint(&result, "replan.max_change");
        assert_near(cap, "/shadowPriceUp", 0.9);
    }
}

#[test]
fn a_lock_without_a_plan_in_force_is_bad_usage() {
    let dir = TempDir::new().unwrap();
    let output = run(&["solve", path_str(&plain_plan(&dir, 100.0)), "--lock", "Q1"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("--replan-from"),
        "{}",
        describe(&output)
    );
}

#[test]
fn the_disruption_frontier() {
    // Revenue 228 + 0.9 x for x of money moved up to 80, then 300.
    let output = run(&[
        "frontier",
        &replan_path(),
        "--over",
        "max_change",
        "--from",
        "0",
        "--to",
        "120",
        "--format",
        "json",
    ]);
    assert_code(&output, 0);
    let frontier = json_stdout(&output);
    assert_eq!(frontier["exact"], true, "{frontier:#}");
    let points = frontier["points"].as_array().expect("points");
    assert_eq!(points.len(), 3, "{frontier:#}");
    for (point, (bound, revenue)) in
        points
            .iter()
            .zip([(0.0, 228.0), (80.0, 300.0), (120.0, 300.0)])
    {
        assert_near(point, "/bound", bound);
        assert_near(point, "/totals/revenue", revenue);
    }
}
