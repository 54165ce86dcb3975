//! Synthetic plans shared by the benches.
//!
//! Each plan has four quarters and drivers with two response segments (8 variables
//! per driver), ramping returns and recurring costs, a budget cap, a margin floor, a
//! marketing share cap and a per-quarter SDR link — the shape of a real plan, scaled.

use tradeoff::pb;

/// The allocator of the `tradeoff` binary (src/main.rs says why), so that the
/// benches time what the binary runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Realistic random plans from a seed (also the plans of `tests/realistic.rs`).
pub mod realistic;

/// A plan with `drivers` drivers over four quarters: `drivers * 2 * 4` variables.
pub fn synthetic_plan(drivers: usize) -> pb::Plan {
    let periods: Vec<pb::Period> = (1..=4)
        .map(|q| pb::Period {
            name: format!("Q{q}"),
            baseline_revenue: 1_000_000.0,
            fixed_costs: 400_000.0,
            ..Default::default()
        })
        .collect();
    let drivers: Vec<pb::Driver> = (0..drivers)
        .map(|i| {
            // Spread the rates so the optimum funds some drivers and not others.
            let quality = 1.0 + (i * 37 % 101) as f64 / 50.0;
            pb::Driver {
                id: format!("d{i}"),
                tags: if i % 3 == 0 {
                    vec!["marketing".into()]
                } else {
                    Vec::new()
                },
                unit_cost: Some(1_000.0 + (i % 7) as f64 * 250.0),
                gross_margin: Some(0.7 + (i % 4) as f64 * 0.05),
                response: vec![
                    pb::Segment {
                        units: Some(5.0 + (i % 5) as f64),
                        revenue_per_unit: 1_500.0 * quality,
                    },
                    pb::Segment {
                        units: None,
                        revenue_per_unit: 700.0 * quality,
                    },
                ],
                max_units: Some(40.0),
                return_profile: vec![0.2, 0.6, 1.0],
                cost_profile: vec![1.0, 0.5],
                ..Default::default()
            }
        })
        .collect();
    let link = pb::Link {
        name: "d1_per_d0".into(),
        terms: vec![
            pb::LinkTerm {
                driver_id: "d1".into(),
                coefficient: 1.0,
            },
            pb::LinkTerm {
                driver_id: "d0".into(),
                coefficient: -0.5,
            },
        ],
        sense: pb::Sense::GreaterEqual as i32,
        rhs: 0.0,
        per_period: true,
        ..Default::default()
    };
    pb::Plan {
        name: format!("synthetic-{}", drivers.len()),
        periods,
        budget_cap: Some(150.0 * drivers.len() as f64 * 1_000.0),
        requirements: Some(pb::Requirements {
            min_margin: Some(0.3),
            ..Default::default()
        }),
        groups: vec![pb::Group {
            name: "marketing".into(),
            tag: "marketing".into(),
            max_share: Some(0.4),
            ..Default::default()
        }],
        links: vec![link],
        drivers,
        ..Default::default()
    }
}
