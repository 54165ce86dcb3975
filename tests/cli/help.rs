//! Help.

use super::*;

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
