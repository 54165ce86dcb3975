//! Units in seat (docs/MODEL.md §5) from the command line: the hand-computed plans
//! of `tests/plans/active_*.json` (numbers worked out in `tests/grpc/in_seat.rs`)
//! on every engine compiled in, the table, and caps in seat moved by a batch CSV.

use super::*;

fn plan_path(name: &str) -> String {
    format!("{}/tests/plans/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn solve_reports_units_in_seat_and_their_prices() {
    for engine in engines() {
        let path = plan_path("active_ratio_link.json");
        let output = run(&["solve", &path, "--format", "json", "--solver", engine]);
        assert_code(&output, 0);
        let result = json_stdout(&output);
        // Revenue 30 A + 5 S with A = 16/3 AEs and S = 11/3 SDRs hired.
        assert_near(&result, "/totals/revenue", 160.0 + 55.0 / 3.0);
        // In seat in Q3: today's 1 SDR plus 11/3, today's 4 AEs plus 16/3.
        let sdr = driver(&result, "sdr");
        assert_near(sdr, "/periods/2/active", 1.0 + 11.0 / 3.0);
        let ae = driver(&result, "ae");
        assert_near(ae, "/periods/2/active", 4.0 + 16.0 / 3.0);
        let link = constraint(&result, "link[sdr_per_ae][Q3]");
        assert_near(link, "/shadowPriceUp", -50.0 / 3.0);
        assert_near(link, "/shadowPriceDown", -50.0 / 3.0);
    }
}

#[test]
fn the_table_shows_who_is_in_seat() {
    let output = run(&["solve", &plan_path("active_attrition.json")]);
    assert_code(&output, 0);
    let table = stdout(&output);
    // 4 AEs in seat every quarter (hires 4, 2, 3 with half leaving after a quarter);
    // SDRs stay only the quarter they are hired, so they are not listed.
    let in_seat = table
        .split("In seat (units active per period)")
        .nth(1)
        .unwrap_or_else(|| panic!("no in-seat table:\n{table}"));
    let rows: Vec<&str> = in_seat
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(rows.len(), 2, "{in_seat}");
    let ae: Vec<&str> = rows[1].split_whitespace().collect();
    assert_eq!(ae, ["ae", "head", "4", "4", "4"], "{table}");
    assert!(table.contains("driver[ae].max_active[Q3]"), "{table}");
    assert!(table.contains("at its cap in seat"), "{table}");
}

#[test]
fn batch_csv_moves_caps_in_seat() {
    // Attrition plan: 5 seats give u = (5, 2.5, 2.5) within the budget: 300; 2 seats
    // 4.5 AEs (135) and 5.5 SDRs (66): 201 (tests/grpc/in_seat.rs).
    let dir = TempDir::new().unwrap();
    let scenarios = write_file(
        &dir,
        "scenarios.csv",
        "id,max_active.ae\nfive,5\ntwo,2\nbase,\n",
    );
    let out = dir.path().join("results.jsonl");
    let plan = plan_path("active_attrition.json");
    let output = run(&[
        "batch",
        "--plan",
        &plan,
        path_str(&scenarios),
        "--out",
        path_str(&out),
    ]);
    assert_code(&output, 0);
    let text = std::fs::read_to_string(&out).expect("results");
    let revenue = |id: &str| {
        text.lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("a JSON line"))
            .find(|result| result["scenarioId"] == id)
            .map(|result| number(&result, "/totals/revenue"))
            .unwrap_or_else(|| panic!("no result {id} in {text}"))
    };
    assert!((revenue("five") - 300.0).abs() < TOL, "{text}");
    assert!((revenue("two") - 201.0).abs() < TOL, "{text}");
    assert!((revenue("base") - 282.0).abs() < TOL, "{text}");
}

#[test]
fn frontier_over_a_cap_in_seat() {
    // Revenue 120 + 40.5 c up to c = 40/9 seats, 300 beyond (tests/grpc/in_seat.rs).
    let plan = plan_path("active_attrition.json");
    let args = [
        "frontier",
        &plan,
        "--over",
        "max_active",
        "--from",
        "0",
        "--to",
        "8",
    ];
    let output = run(&[&args[..], &["--driver", "ae", "--format", "json"]].concat());
    assert_code(&output, 0);
    let frontier = json_stdout(&output);
    assert_eq!(
        frontier["boundName"], "driver[ae].max_active",
        "{frontier:#}"
    );
    let points = frontier["points"].as_array().expect("points");
    assert!(points.len() >= 3, "{frontier:#}");
    for point in points {
        let c = point["bound"].as_f64().unwrap_or(0.0);
        let expected = if c <= 40.0 / 9.0 {
            120.0 + 40.5 * c
        } else {
            300.0
        };
        assert_near(point, "/totals/revenue", expected);
    }
    // Without --driver the sweep is refused as bad usage.
    let output = run(&args);
    assert_code(&output, 2);
}
