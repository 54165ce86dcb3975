//! Explanations: shadow prices (docs/MODEL.md §3) on the worked example (§4), the
//! diagnosis of its infeasible case, and `--no-explain`.

use super::*;

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
