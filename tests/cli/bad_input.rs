//! Bad input.

use super::*;

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
