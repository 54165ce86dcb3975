//! Units in seat (docs/MODEL.md §5) end to end: the hand-computed plans of
//! `tests/plans/active_*.json` on every engine compiled in, with their prices,
//! diagnosis and scenario overrides.

use super::*;

fn active(result: &pb::PlanResult, id: &str) -> Vec<f64> {
    driver(result, id)
        .periods
        .iter()
        .map(|p| p.active)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attrition_with_a_cap_in_seat() {
    // Half of the AEs hired in a quarter leave after it; at most 4 in seat. AEs earn
    // 3 a dollar, SDRs 1.2: max u1 + u2 + u3 = 0.75 u1 + 6 (u2 = 4 - 0.5 u1,
    // u3 = 4 - 0.5 u2), so u = (4, 2, 3), 9 AEs for 90 and 1 SDR for the last 10:
    // revenue 282. One more seat in Q1 is u1 + 1, u2 - 0.5, u3 + 0.25: 0.75 AE for
    // 0.75 SDR, +0.75 * (30 - 12) = 13.5; in Q2 u2 + 1, u3 - 0.5: +9; in Q3 +18.
    let mut server = start().await;
    for solver in engines() {
        let result =
            optimize_with(&mut server, plan_file("active_attrition.json"), on(solver)).await;
        assert_eq!(status(&result), pb::SolveStatus::Optimal, "{solver:?}");
        assert_rel(
            result.totals.as_ref().expect("totals").revenue,
            282.0,
            "revenue",
        );
        let units: Vec<f64> = driver(&result, "ae")
            .periods
            .iter()
            .map(|p| p.units)
            .collect();
        for (got, want) in units.iter().zip([4.0, 2.0, 3.0]) {
            assert_rel(*got, want, "ae units");
        }
        for got in active(&result, "ae") {
            assert_rel(got, 4.0, "ae in seat");
        }
        assert_prices(&result, "driver[ae].max_active[Q1]", 13.5, 13.5);
        assert_prices(&result, "driver[ae].max_active[Q2]", 9.0, 9.0);
        assert_prices(&result, "driver[ae].max_active[Q3]", 18.0, 18.0);
        assert_prices(&result, "budget_cap", 1.2, 1.2);
        let q3 = constraint(&result, "driver[ae].max_active[Q3]");
        assert_eq!(q3.unit, pb::BoundUnit::Units as i32);
        let ae = driver(&result, "ae");
        assert_eq!(ae.periods[2].position, pb::Position::AtMaxActive as i32);
    }
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_team_and_its_cap_in_seat() {
    // Today's 3 AEs shrink to 2 and 1, hires stay, at most 5 in seat: Q3 leaves room
    // for 4 hires (40, revenue 120), SDRs take the other 60 (72): 192. A fifth seat
    // in Q3 moves 10 from an SDR to an AE: +18.
    let mut server = start().await;
    for solver in engines() {
        let result = optimize_with(
            &mut server,
            plan_file("active_existing_team.json"),
            on(solver),
        )
        .await;
        assert_rel(
            result.totals.as_ref().expect("totals").revenue,
            192.0,
            "revenue",
        );
        assert_rel(driver(&result, "ae").units, 4.0, "ae hires");
        assert_rel(active(&result, "ae")[2], 5.0, "ae in seat in Q3");
        assert_prices(&result, "driver[ae].max_active[Q3]", 18.0, 18.0);
    }
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_below_todays_team_is_diagnosed() {
    // 3 AEs sit in Q1 whatever the plan does: a cap of 2 holds only once raised to 3
    // in Q1 (Q2's 2 and Q3's 1 fit); no budget or hire count can help.
    let mut server = start().await;
    let mut plan = plan_file("active_existing_team.json");
    plan.drivers[0].max_active = Some(2.0);
    for solver in engines() {
        let result = optimize_with(&mut server, plan.clone(), on(solver)).await;
        assert_eq!(status(&result), pb::SolveStatus::Infeasible, "{solver:?}");
        let diagnosis = result.diagnosis.as_ref().expect("a diagnosis");
        let alone = |name: &str| {
            diagnosis
                .relaxations
                .iter()
                .find(|r| r.name == name)
                .unwrap_or_else(|| panic!("no relaxation {name}: {diagnosis:?}"))
        };
        assert_some_rel(
            alone("driver[ae].max_active[Q1]").alone_bound,
            3.0,
            "Q1 cap",
        );
        assert_eq!(alone("budget_cap").alone_bound, None, "{diagnosis:?}");
    }
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sdr_in_seat_for_every_two_aes_in_seat() {
    // 4 AEs and 1 SDR in seat today, hires stay, at most 2 AE hires a quarter,
    // budget 90: 1 + S >= 0.5 (4 + A) at the end, so S = 1 + 0.5 A and
    // 10 A + 10 (1 + 0.5 A) = 90: A = 16/3, S = 11/3, revenue 30 A + 5 S = 178.33.
    // A dollar more: dA = 1/15, dS = 1/30, +2 + 1/6 = 2.1667. The Q3 ratio raised
    // by one SDR: 15 dA = -10, so dA = -2/3, dS = 2/3: -20 + 10/3 = -16.667.
    let mut server = start().await;
    for solver in engines() {
        let result =
            optimize_with(&mut server, plan_file("active_ratio_link.json"), on(solver)).await;
        assert_rel(
            result.totals.as_ref().expect("totals").revenue,
            160.0 + 55.0 / 3.0,
            "revenue",
        );
        assert_rel(
            active(&result, "sdr")[2],
            1.0 + 11.0 / 3.0,
            "SDRs in seat in Q3",
        );
        assert_rel(
            active(&result, "ae")[2],
            4.0 + 16.0 / 3.0,
            "AEs in seat in Q3",
        );
        assert_prices(&result, "budget_cap", 2.0 + 1.0 / 6.0, 2.0 + 1.0 / 6.0);
        assert_prices(&result, "link[sdr_per_ae][Q3]", -50.0 / 3.0, -50.0 / 3.0);
    }
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_move_caps_in_seat() {
    // The attrition plan with 5 seats: u = (5, 2.5, 2.5) fits, and the budget (10
    // AEs) binds before the caps: revenue 300. With 2 seats: u1 = 2, u2 = 1,
    // u3 = 1.5 at most 0.75 * 2 + 3 = 4.5 AEs (135) and 5.5 SDRs (66): 201.
    let mut server = start().await;
    let scenarios = vec![
        scenario(
            "five_seats",
            pb::ScenarioOverrides {
                max_active: [("ae".to_string(), 5.0)].into(),
                ..Default::default()
            },
        ),
        scenario(
            "two_seats",
            pb::ScenarioOverrides {
                max_active: [("ae".to_string(), 2.0)].into(),
                ..Default::default()
            },
        ),
        scenario(
            "unknown",
            pb::ScenarioOverrides {
                max_active: [("nobody".to_string(), 2.0)].into(),
                ..Default::default()
            },
        ),
    ];
    let request = scenarios_on(plan_file("active_attrition.json"), scenarios);
    let results = run_scenarios(&mut server, request)
        .await
        .expect("scenarios run");
    let revenue = |id: &str| {
        let result = results.get(id).unwrap_or_else(|| panic!("no result {id}"));
        result.totals.as_ref().map(|t| t.revenue)
    };
    assert_some_rel(revenue("five_seats"), 300.0, "five seats");
    assert_some_rel(revenue("two_seats"), 201.0, "two seats");
    let unknown = &results["unknown"];
    let error = unknown.error.as_ref().expect("an error");
    assert_eq!(error.code, "INVALID_ARGUMENT");
    assert_eq!(
        error.field_violations[0].field,
        "scenarios[2].overrides.max_active[nobody]"
    );
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_active_fields_name_their_paths() {
    let mut server = start().await;
    let mut plan = plan_file("active_existing_team.json");
    plan.drivers[0].active_profile = vec![1.0, 1.5];
    plan.drivers[0].existing_active = vec![1.0];
    plan.drivers[1].min_active = Some(3.0);
    plan.drivers[1].max_active = Some(1.0);
    let status = server
        .client
        .optimize(request(plan))
        .await
        .expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violated_fields(&status);
    for expected in [
        "drivers[0].active_profile[1]",
        "drivers[0].existing_active",
        "drivers[1].min_active",
    ] {
        assert!(
            fields.iter().any(|f| f == expected),
            "{expected}: {fields:?}"
        );
    }
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frontier_over_a_cap_in_seat() {
    // The attrition plan with c seats every quarter hires u = (c, 0.5 c, 0.75 c):
    // 2.25 c AEs; the rest of the 100 goes to SDRs: revenue
    // 30 * 2.25 c + 12 (10 - 2.25 c) = 120 + 40.5 c until the AEs take the whole
    // budget at c = 10 / 2.25 = 40/9, then 300.
    let mut server = start().await;
    for solver in engines() {
        let frontier = server
            .client
            .frontier(pb::FrontierRequest {
                plan: Some(plan_file("active_attrition.json")),
                over: pb::SweptBound::MaxActive as i32,
                driver_id: "ae".into(),
                from: 0.0,
                to: 8.0,
                options: Some(on(solver)),
            })
            .await
            .expect("frontier")
            .into_inner()
            .frontier
            .expect("a frontier");
        assert_eq!(frontier.bound_name, "driver[ae].max_active");
        assert!(frontier.complete, "{frontier:?}");
        for point in &frontier.points {
            let c = point.bound;
            let expected = if c <= 40.0 / 9.0 {
                120.0 + 40.5 * c
            } else {
                300.0
            };
            let revenue = point.totals.as_ref().expect("totals").revenue;
            assert_rel(revenue, expected, &format!("revenue at {c} seats"));
        }
        let kink = frontier
            .points
            .iter()
            .map(|p| p.bound)
            .min_by(|a, b| (a - 40.0 / 9.0).abs().total_cmp(&(b - 40.0 / 9.0).abs()))
            .expect("points");
        assert!(
            (kink - 40.0 / 9.0).abs() < 1e-6,
            "no point at 40/9: {frontier:?}"
        );
    }
    server.stop().await.expect("clean shutdown");
}
