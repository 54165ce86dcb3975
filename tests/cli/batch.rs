//! Batches.

use super::*;

/// The results of a JSONL results file, keyed by scenario id; panics on a
/// duplicate id.
fn results_by_id(path: &Path) -> std::collections::BTreeMap<String, Value> {
    let text = std::fs::read_to_string(path).expect("read results");
    let mut results = std::collections::BTreeMap::new();
    for line in text.lines() {
        let mut result: Value = serde_json::from_str(line)
            .unwrap_or_else(|error| panic!("not a JSON line ({error}): {line}"));
        // How a scenario was solved (from an earlier scenario's basis or by the
        // engine) depends on what the run solved before it, not on the scenario.
        if let Some(object) = result.as_object_mut() {
            object.remove("basisReused");
            object.remove("basisPivots");
        }
        let id = result["scenarioId"]
            .as_str()
            .expect("scenarioId")
            .to_string();
        assert!(
            results.insert(id.clone(), result).is_none(),
            "scenario {id} appears twice in {}",
            path.display()
        );
    }
    results
}

#[test]
fn batch_in_process_jsonl() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let scenarios = write_file(
        &dir,
        "scenarios.jsonl",
        concat!(
            r#"{"id": "budget-80", "overrides": {"budgetCap": 80}}"#,
            "\n",
            r#"{"id": "no-b", "overrides": {"excludedDrivers": ["b"]}}"#,
            "\n",
            r#"{"id": "quota-250", "overrides": {"revenueTarget": 250}}"#,
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
        "--jobs",
        "2",
    ]);
    assert_code(&output, 0);
    assert!(
        stderr(&output).contains("3 of 3 scenario(s) done"),
        "{}",
        describe(&output)
    );
    let results = results_by_id(&out);
    assert_eq!(results.len(), 3);
    // Budget 80: a's first 50 units (150), then b with the other 30 (45): 195.
    let budget = &results["budget-80"];
    assert_eq!(budget["status"], "SOLVE_STATUS_OPTIMAL");
    assert_near(budget, "/totals/revenue", 195.0);
    assert_near(budget, "/totals/spend", 80.0);
    assert_near(budget, "/drivers/0/units", 50.0);
    assert_near(budget, "/drivers/1/units", 30.0);
    // Without b, a takes all 100: 50 * 3 + 50 * 1 = 200.
    assert_near(&results["no-b"], "/totals/revenue", 200.0);
    assert_near(&results["no-b"], "/drivers/0/units", 100.0);
    // §4 case 3: infeasible is a result, not a failure.
    assert_eq!(results["quota-250"]["status"], "SOLVE_STATUS_INFEASIBLE");

    // The same output again is refused: it would duplicate every scenario.
    let again = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
    ]);
    assert_bad_input(&again, &["--resume"]);
    // With --resume there is nothing left to do.
    let resumed = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
        "--resume",
    ]);
    assert_code(&resumed, 0);
    assert_eq!(results_by_id(&out).len(), 3);
}

#[test]
fn batch_in_process_csv_with_a_failed_scenario() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let scenarios = write_file(
        &dir,
        "scenarios.csv",
        "id,budget_cap,min_margin,revenue_scale.b,max_units.b,excluded\n\
         base,,,,,\n\
         margin-40,,0.4,,,\n\
         b-double,,,2,,\n\
         b-capped,,,,20,\n\
         ghost,,,,,zz\n",
    );
    let out = dir.path().join("results.csv");
    let output = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
    ]);
    // `ghost` excludes a driver the plan does not have: that scenario fails.
    assert_code(&output, 1);
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.remove(0),
        "scenario_id,status,revenue,spend,contribution,margin,error"
    );
    let rows: std::collections::BTreeMap<&str, Vec<&str>> = lines
        .iter()
        .map(|line| {
            let cells: Vec<&str> = line.splitn(7, ',').collect();
            (cells[0], cells)
        })
        .collect();
    assert_eq!(rows.len(), 5);
    let cell = |id: &str, column: usize| -> f64 {
        rows[id][column]
            .parse()
            .unwrap_or_else(|_| panic!("{id}: {:?}", rows[id]))
    };
    // §4 case 1: revenue 225, spend 100, contribution 0.8 * 225 - 100 = 80.
    assert_eq!(rows["base"][1], "OPTIMAL");
    assert!((cell("base", 2) - 225.0).abs() < TOL);
    assert!((cell("base", 3) - 100.0).abs() < TOL);
    assert!((cell("base", 4) - 80.0).abs() < TOL);
    // §4 case 2: revenue 187.5, spend 75, margin exactly 0.4.
    assert!((cell("margin-40", 2) - 187.5).abs() < TOL);
    assert!((cell("margin-40", 5) - 0.4).abs() < TOL);
    // b at 3.0 per unit ties a's first segment: 100 units at 3.0 = 300.
    assert!((cell("b-double", 2) - 300.0).abs() < TOL);
    // b capped at 20: 150 + 30 + a's second segment for the last 30: 210.
    assert!((cell("b-capped", 2) - 210.0).abs() < TOL);
    assert_eq!(rows["ghost"][1], "ERROR");
    assert!(
        rows["ghost"][6].contains("scenarios[4].overrides.excluded_drivers[0]"),
        "{:?}",
        rows["ghost"]
    );
}

#[test]
fn batch_bad_scenario_file_exits_2() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let scenarios = write_file(&dir, "s.csv", "id,budget_cap\na,1\na,2\n");
    let out = dir.path().join("r.csv");
    let output = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
    ]);
    assert_bad_input(&output, &["line 3", "appears twice"]);
}

/// A child process killed on drop, so that a failing test leaves nothing behind.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Lines in a file (0 when it does not exist yet).
fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
}

/// Waits (bounded) until `path` has at least `lines` lines.
fn wait_for_lines(path: &Path, lines: usize, batch: &mut KillOnDrop) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while line_count(path) < lines {
        if let Some(status) = batch.0.try_wait().unwrap() {
            panic!(
                "the batch ended early ({status}) with {} lines",
                line_count(path)
            );
        }
        assert!(Instant::now() < deadline, "no progress to {lines} lines");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn sigkill(pid: u32) {
    let kill = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success(), "kill -KILL failed: {kill}");
}

/// Starts `tradeoff serve` on `address` (which a killed server just left).
fn server_on(address: &str) -> Server {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut child = tradeoff()
            .args(["serve", "--listen", address])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tradeoff serve");
        let mut first = String::new();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let _ = stderr.read_line(&mut first);
        if first.contains(" listening on ") {
            // Keep draining stderr for the server's whole life.
            std::thread::spawn(move || {
                for line in stderr.lines() {
                    if line.is_err() {
                        break;
                    }
                }
            });
            return Server {
                child,
                address: address.to_string(),
            };
        }
        let _ = child.wait();
        assert!(
            Instant::now() < deadline,
            "cannot listen on {address}: {first}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn batch_survives_a_killed_server_and_a_killed_run() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    // 500 scenarios: the §4 plan with budget_cap 0, 0.5, 1, ..., 249.5.
    let count = 500;
    let lines: String = (0..count)
        .map(|i| {
            format!(
                "{{\"id\": \"cap-{i}\", \"overrides\": {{\"budgetCap\": {}}}}}\n",
                f64::from(i) * 0.5
            )
        })
        .collect();
    let scenarios = write_file(&dir, "scenarios.jsonl", &lines);
    let out = dir.path().join("results.jsonl");
    let batch_args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "batch",
            "--plan",
            path_str(&plan),
            path_str(&scenarios),
            "--out",
            path_str(&out),
            "--chunk-size",
            "50",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        args.extend(extra.iter().map(ToString::to_string));
        args
    };

    // The reference: a clean in-process run.
    let reference = dir.path().join("reference.jsonl");
    let clean = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&reference),
    ]);
    assert_code(&clean, 0);
    let reference = results_by_id(&reference);
    assert_eq!(reference.len(), count as usize);

    // A run on server A, which is killed partway; a new server comes up on the
    // same address and the run carries on by itself.
    let server = Server::start();
    let address = server.address.clone();
    let mut batch = KillOnDrop(
        tradeoff()
            .args(batch_args(&["--server", &server.url()]))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn batch"),
    );
    wait_for_lines(&out, 40, &mut batch);
    sigkill(server.pid());
    drop(server);
    let at_kill = line_count(&out);
    assert!(
        at_kill < count as usize,
        "the batch finished before the kill"
    );
    let server = server_on(&address);
    // At most 64 results wait for the file and at most two chunks of 50 are
    // streaming, so 200 more lines need results the killed server never sent:
    // the run went on by itself on the new server (re-sending what a cut stream
    // left unanswered, or on a fresh connection when the kill fell between
    // streams).
    wait_for_lines(&out, at_kill + 200, &mut batch);

    // Then the run itself is killed, and resumed on the new server.
    sigkill(batch.0.id());
    let _ = batch.0.wait();
    let at_second_kill = line_count(&out);
    assert!(
        at_second_kill < count as usize,
        "the batch finished before its kill"
    );
    let resumed = run(&batch_args(&["--server", &server.url(), "--resume"])
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert_code(&resumed, 0);
    assert!(
        stderr(&resumed).contains("already done"),
        "{}",
        describe(&resumed)
    );

    // Every scenario exactly once (results_by_id panics on a duplicate), each as
    // the clean run answered it.
    let results = results_by_id(&out);
    assert_eq!(results.len(), count as usize);
    assert_eq!(results, reference);
}

#[test]
fn batch_spreads_over_servers_and_gives_up_on_none() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    // Budget caps 0, 10, ..., 190: below 50 all of it goes to a at 3.0 per unit.
    let lines: String = (0..20)
        .map(|i| {
            format!(
                "{{\"id\": \"cap-{i}\", \"overrides\": {{\"budgetCap\": {}}}}}\n",
                i * 10
            )
        })
        .collect();
    let scenarios = write_file(&dir, "scenarios.jsonl", &lines);
    // A port that was free a moment ago, with nothing listening on it now.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let server = Server::start();
    let out = dir.path().join("results.jsonl");
    let servers = format!("{dead},{}", server.url());
    let output = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
        "--server",
        &servers,
        "--chunk-size",
        "3",
    ]);
    // The live server answers everything the dead one cannot.
    assert_code(&output, 0);
    let results = results_by_id(&out);
    assert_eq!(results.len(), 20);
    // Budget 30: a's first 30 units at 3.0 = 90.
    assert_near(&results["cap-3"], "/totals/revenue", 90.0);

    // Only a dead server: no result within --give-up-after, exit 1, nothing lost.
    let out = dir.path().join("none.jsonl");
    let output = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
        "--server",
        &dead,
        "--give-up-after",
        "1s",
    ]);
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains("giving up"),
        "{}",
        describe(&output)
    );
}

#[test]
fn batch_gives_up_on_a_server_that_never_answers() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let scenarios = write_file(&dir, "s.jsonl", "{\"id\": \"only\"}\n");
    // Accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let out = dir.path().join("r.jsonl");
    let started = Instant::now();
    let output = run(&[
        "batch",
        "--plan",
        path_str(&plan),
        path_str(&scenarios),
        "--out",
        path_str(&out),
        "--server",
        &url,
        "--give-up-after",
        "1s",
    ]);
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains("giving up"),
        "{}",
        describe(&output)
    );
    // A silent stream is abandoned after max(1 s, 5 s), then the run gives up.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn load_reports_throughput_latency_and_codes() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    // One worker and no queue for three clients: some calls may be refused.
    let server = Server::start_with(&["--workers", "1", "--queue", "0"]);
    let url = server.url();
    let output = run(&[
        "load",
        path_str(&plan),
        "--server",
        &url,
        "--clients",
        "3",
        "--duration",
        "1s",
        "--no-explain",
        "--format",
        "json",
    ]);
    assert_code(&output, 0);
    let report = json_stdout(&output);
    assert_eq!(report["server"], url.as_str());
    assert_eq!(report["clients"], 3);
    let calls = report["calls"].as_u64().expect("calls");
    let codes = report["codes"].as_object().expect("codes by name");
    let counted: u64 = codes
        .values()
        .map(|code| code["calls"].as_u64().expect("calls per code"))
        .sum();
    assert_eq!(counted, calls, "{report}");
    for code in codes.keys() {
        assert!(
            code == "OK" || code == "RESOURCE_EXHAUSTED",
            "unexpected {code}: {report}"
        );
    }
    let ok = codes["OK"]["calls"].as_u64().expect("OK calls");
    assert!(ok > 0, "{report}");
    let seconds = number(&report, "/seconds");
    assert!((1.0..3.0).contains(&seconds), "{report}");
    assert_near(&report, "/throughput", ok as f64 / seconds);
    let (p50, p99, max) = (
        number(&report, "/latency/p50Ms"),
        number(&report, "/latency/p99Ms"),
        number(&report, "/latency/maxMs"),
    );
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{report}");
    assert!(stderr(&output).contains("loading"), "{}", describe(&output));

    // The table names each code with its latency.
    let output = run(&[
        "load",
        path_str(&plan),
        "--server",
        &url,
        "--clients",
        "1",
        "--duration",
        "200ms",
    ]);
    assert_code(&output, 0);
    let table = stdout(&output);
    assert!(table.contains("OK") && table.contains("p99 ms"), "{table}");
    drop(server);

    // Nobody there: exit 1, naming the server.
    let output = run(&[
        "load",
        path_str(&plan),
        "--server",
        &url,
        "--duration",
        "1s",
    ]);
    assert_code(&output, 1);
    assert!(stderr(&output).contains(&url), "{}", describe(&output));
}

#[test]
fn serve_help_explains_admission_control() {
    let output = run(&["serve", "--help"]);
    assert_code(&output, 0);
    let help = stdout(&output);
    for needle in [
        "--workers",
        "--queue",
        "--max-solve-time",
        "RESOURCE_EXHAUSTED",
        "x-request-id",
    ] {
        assert!(
            help.contains(needle),
            "serve --help lacks {needle}:\n{help}"
        );
    }
    let output = run(&["load", "--help"]);
    assert_code(&output, 0);
    let help = stdout(&output);
    for needle in [
        "Exit codes",
        "Examples",
        "tradeoff load ",
        "RESOURCE_EXHAUSTED",
    ] {
        assert!(help.contains(needle), "load --help lacks {needle}:\n{help}");
    }
    let output = run(&["serve", "--workers", "0"]);
    assert_code(&output, 2);
}
