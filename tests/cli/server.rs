//! Against a real server.

use super::*;

/// A JSON result without its wall-clock time, which differs from run to run.
fn without_solve_time(mut result: Value) -> Value {
    result["solver"]
        .as_object_mut()
        .expect("solver is an object")
        .remove("solveTime");
    result
}

#[test]
fn server_round_trip_and_sigterm() {
    let dir = TempDir::new().unwrap();
    let case1 = write_plan(&dir, "case1.json", &case1());
    let invalid = write_plan(&dir, "invalid.json", &invalid_plan());
    let mut server = Server::start();
    let url = server.url();
    assert!(
        server.address.starts_with("127.0.0.1:"),
        "{}",
        server.address
    );

    // The same plan in-process and on the server: the same result.
    let local = run(&["solve", path_str(&case1), "--format", "json"]);
    assert_code(&local, 0);
    let remote = run(&[
        "solve",
        path_str(&case1),
        "--server",
        &url,
        "--format",
        "json",
    ]);
    assert_code(&remote, 0);
    let remote = json_stdout(&remote);
    assert_case1_numbers(&remote);
    assert_eq!(
        without_solve_time(remote),
        without_solve_time(json_stdout(&local))
    );

    // The server through TRADEOFF_SERVER, the table format.
    let output = tradeoff()
        .args(["solve", path_str(&case1)])
        .env("TRADEOFF_SERVER", &url)
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("budget_cap"),
        "{}",
        describe(&output)
    );

    // An infeasible plan is a result, not an error, on the server too.
    let case3 = write_plan(&dir, "case3.json", &case3());
    let output = run(&[
        "solve",
        path_str(&case3),
        "--server",
        &url,
        "--format",
        "json",
    ]);
    assert_code(&output, 3);
    assert_eq!(json_stdout(&output)["status"], "SOLVE_STATUS_INFEASIBLE");

    // An invalid plan: refused by the server with every field path.
    let output = run(&["solve", path_str(&invalid), "--server", &url]);
    assert_bad_input(&output, &INVALID_PLAN_PATHS);

    // SIGTERM: the server stops cleanly with exit code 0.
    let kill = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success(), "kill -TERM failed: {kill}");
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop within 5 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "server exit: {status}");
}

#[test]
fn unreachable_server_exits_1() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    // A port that was free a moment ago, with nothing listening on it now.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let output = run(&["solve", path_str(&plan), "--server", &url]);
    assert_code(&output, 1);
    assert!(output.stdout.is_empty(), "{}", describe(&output));
    assert!(
        stderr(&output).contains(&format!("127.0.0.1:{port}")),
        "stderr should name the server; {}",
        describe(&output)
    );
}

#[test]
fn version_prints_the_package_version() {
    // Guards the helpers themselves: `--version` exits 0 and prints the version.
    let output = run(&["--version"]);
    assert_eq!(code(&output), 0);
    assert!(stdout(&output).contains(env!("CARGO_PKG_VERSION")));
}
