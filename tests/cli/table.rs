//! The table format.

use super::*;

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
