//! Returns as ranges (docs/MODEL.md §7) end to end: `tests/plans/uncertain_two_outcomes.json`
//! (one driver earning 2 a unit at cost 1; two equally likely outcomes of its rate,
//! factors 0.5 and 1.5, so outcome revenues u and 3u; spend minimised for a
//! revenue target of 60) worked out by hand, and drawn ranges checked against an
//! independent Monte Carlo.

use super::*;

fn two_outcomes(confidence: Option<f64>) -> pb::Plan {
    let mut plan = plan_file("uncertain_two_outcomes.json");
    if let Some(uncertainty) = plan.uncertainty.as_mut() {
        uncertainty.confidence = confidence;
    }
    plan
}

fn distribution(result: &pb::PlanResult) -> &pb::RevenueDistribution {
    result.distribution.as_ref().expect("a distribution")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tail_constraint_by_hand() {
    // No confidence: 2u >= 60, u = 30 (a dollar of target costs 0.5). q = 0.5: the
    // worst half is the first outcome, u >= 60 (1 a dollar of target). q = 0.25: the
    // worst 75 % is (0.5 u + 0.25 * 3u) / 0.75 = 5u/3 >= 60: u = 36 (0.6 a dollar).
    let mut server = start().await;
    for solver in engines() {
        for (confidence, spend, price) in [
            (None, 30.0, 0.5),
            (Some(0.5), 60.0, 1.0),
            (Some(0.25), 36.0, 0.6),
        ] {
            let result = optimize_with(&mut server, two_outcomes(confidence), on(solver)).await;
            let totals = result.totals.as_ref().expect("totals");
            assert_rel(totals.spend, spend, "spend");
            assert_prices(&result, "requirements.revenue_target", price, price);
            // Outcome revenues u and 3u: P10 = P50 = u, P90 = 3u, mean 2u.
            let d = distribution(&result);
            assert_eq!(d.outcomes, 2);
            assert_rel(d.p10, spend, "P10");
            assert_rel(d.p50, spend, "P50");
            assert_rel(d.p90, 3.0 * spend, "P90");
            assert_rel(d.mean, 2.0 * spend, "mean");
            // At u = 30 only the second outcome (90) reaches 60: half the weight.
            let reached = if spend < 60.0 { 0.5 } else { 1.0 };
            assert_some_rel(d.probability_target, reached, "P(target)");
        }
    }
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluate_reports_the_odds_of_a_given_plan() {
    // 30 units: revenues 30 and 90; at q = 0.5 the tail (the first outcome) is 30,
    // 30 short of the target.
    let mut server = start().await;
    let evaluation = server
        .client
        .evaluate(pb::EvaluateRequest {
            plan: Some(two_outcomes(Some(0.5))),
            allocation: Some(pb::Allocation {
                drivers: vec![pb::DriverAllocation {
                    driver_id: "a".into(),
                    units: vec![30.0],
                }],
            }),
            options: None,
        })
        .await
        .expect("evaluate")
        .into_inner()
        .evaluation
        .expect("an evaluation");
    let given = evaluation.given.as_ref().expect("given");
    let d = distribution(given);
    assert_some_rel(d.probability_target, 0.5, "P(target)");
    assert_some_rel(d.tail_mean, 30.0, "tail");
    let broken = evaluation
        .violations
        .iter()
        .find(|v| v.name == "requirements.revenue_target")
        .expect("the tail misses the target");
    assert_rel(broken.amount, 30.0, "shortfall");
    server.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_and_the_confidence_frontier() {
    // range_scale does not apply to explicit samples; confidence 0.25 gives u = 36.
    // The frontier over q in [0.1, 0.9]: u = 60 (1 - q) / (2 - 3q) below 0.5 (the
    // tail takes part of the second outcome), 60 from 0.5 on.
    let mut server = start().await;
    let request = scenarios_on(
        two_outcomes(Some(0.5)),
        vec![
            scenario(
                "quarter",
                pb::ScenarioOverrides {
                    confidence: Some(0.25),
                    ..Default::default()
                },
            ),
            scenario(
                "scaled",
                pb::ScenarioOverrides {
                    range_scale: Some(2.0),
                    ..Default::default()
                },
            ),
        ],
    );
    let results = run_scenarios(&mut server, request)
        .await
        .expect("scenarios");
    assert_some_rel(
        results["quarter"].totals.as_ref().map(|t| t.spend),
        36.0,
        "confidence 0.25",
    );
    let error = results["scaled"]
        .error
        .as_ref()
        .expect("no ranges to scale");
    assert_eq!(
        error.field_violations[0].field,
        "scenarios[1].overrides.range_scale"
    );
    for solver in engines() {
        let frontier = server
            .client
            .frontier(pb::FrontierRequest {
                plan: Some(two_outcomes(Some(0.5))),
                over: pb::SweptBound::Confidence as i32,
                from: 0.1,
                to: 0.9,
                options: Some(on(solver)),
                ..Default::default()
            })
            .await
            .expect("frontier")
            .into_inner()
            .frontier
            .expect("a frontier");
        assert_eq!(frontier.bound_name, "uncertainty.confidence");
        for point in &frontier.points {
            let q = point.bound;
            let units = if q < 0.5 {
                60.0 * (1.0 - q) / (2.0 - 3.0 * q)
            } else {
                60.0
            };
            let spend = point.totals.as_ref().expect("totals").spend;
            assert_rel(spend, units, &format!("spend at confidence {q}"));
        }
    }
    server.stop().await.expect("clean shutdown");
}

/// P(revenue >= target) of `units` of two drivers with triangular ranges and a
/// common-factor Gaussian copula, by 100,000 draws of an independent generator
/// (xorshift64*, Box-Muller with std's functions, the normal CDF by
/// Abramowitz-Stegun 26.2.17, the triangular inverse written out again).
fn monte_carlo(revenue: [f64; 2], ranges: [(f64, f64); 2], rho: f64, target: f64) -> f64 {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut unit = || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        ((state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut normal = || {
        let (a, b) = (unit(), unit());
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    };
    let cdf = |z: f64| {
        let t = 1.0 / (1.0 + 0.231_641_9 * z.abs());
        let poly = t
            * (0.319_381_530
                + t * (-0.356_563_782
                    + t * (1.781_477_937 + t * (-1.821_255_978 + t * 1.330_274_429))));
        let tail = (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt() * poly;
        if z >= 0.0 {
            1.0 - tail
        } else {
            tail
        }
    };
    let triangular = |u: f64, (low, high): (f64, f64)| {
        let c = (1.0 - low) / (high - low);
        if u < c {
            low + (u * (high - low) * (1.0 - low)).sqrt()
        } else {
            high - ((1.0 - u) * (high - low) * (high - 1.0)).sqrt()
        }
    };
    let draws = 100_000;
    let mut reached = 0usize;
    for _ in 0..draws {
        let common = normal();
        let mut total = 0.0;
        for (r, range) in revenue.iter().zip(ranges) {
            let z = rho.sqrt() * common + (1.0 - rho).sqrt() * normal();
            total += triangular(cdf(z), range) * r;
        }
        if total >= target {
            reached += 1;
        }
    }
    reached as f64 / draws as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drawn_odds_agree_with_an_independent_monte_carlo() {
    // Two drivers: a (rate 3, range [0.5, 1.4]) and b (rate 2, range [0.8, 1.2]),
    // at most 10 units each, budget 15, correlation 0.4, 2,000 draws. The plan's
    // reported P(revenue >= 30) agrees with 100,000 independent draws at its
    // units within 3 standard errors of the two estimates.
    let ranges = [(0.5, 1.4), (0.8, 1.2)];
    let plan = pb::Plan {
        name: "ranges".into(),
        budget_cap: Some(15.0),
        requirements: Some(pb::Requirements {
            revenue_target: Some(30.0),
            ..Default::default()
        }),
        drivers: [("a", 3.0), ("b", 2.0)]
            .map(|(id, rate)| pb::Driver {
                id: id.into(),
                max_units: Some(10.0),
                response: vec![segment(None, rate)],
                ..Default::default()
            })
            .to_vec(),
        uncertainty: Some(pb::Uncertainty {
            ranges: ["a", "b"]
                .into_iter()
                .zip(ranges)
                .map(|(id, (low, high))| pb::RevenueRange {
                    driver_id: id.into(),
                    low,
                    high,
                })
                .collect(),
            sample_count: Some(2_000),
            seed: 11,
            correlation: 0.4,
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut server = start().await;
    let result = optimize(&mut server, plan).await;
    let p = distribution(&result).probability_target.expect("a target");
    // Units at the plan's own rates: revenue per driver over mean factor.
    let revenue = ["a", "b"].map(|id| {
        let d = driver(&result, id);
        let rate = if id == "a" { 3.0 } else { 2.0 };
        d.units * rate
    });
    let independent = monte_carlo(revenue, ranges, 0.4, 30.0);
    let variance = independent * (1.0 - independent);
    let error = (variance / 2_000.0 + variance / 100_000.0).sqrt();
    assert!(
        (p - independent).abs() <= 3.0 * error.max(1e-3),
        "reported {p}, independent {independent} (standard error {error})"
    );
    server.stop().await.expect("clean shutdown");
}
