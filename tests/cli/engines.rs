//! Solver engines.

use super::*;

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
