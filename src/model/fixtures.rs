//! Hand-built plans for unit tests, so solver tests do not depend on the wire format.

use super::*;

/// A one-segment-per-entry driver with unit cost 1 and gross margin `gross_margin`,
/// over `periods` periods, every other field at its docs/MODEL.md default.
pub(crate) fn driver(
    id: &str,
    gross_margin: f64,
    segments: &[(Option<f64>, f64)],
    periods: usize,
) -> Driver {
    Driver {
        id: id.into(),
        name: String::new(),
        tags: Vec::new(),
        unit: "USD".into(),
        unit_cost: 1.0,
        gross_margin,
        response: segments
            .iter()
            .map(|&(units, revenue_per_unit)| Segment {
                units,
                revenue_per_unit,
            })
            .collect(),
        min_units: vec![0.0; periods],
        max_units: vec![None; periods],
        seasonality: vec![1.0; periods],
        integer: false,
        return_profile: vec![1.0],
        cost_profile: vec![1.0],
        active_profile: vec![1.0],
        existing_active: vec![0.0; periods],
        min_active: vec![0.0; periods],
        max_active: vec![None; periods],
    }
}

/// A plan over the named periods (no baseline) with these drivers.
pub(crate) fn plan(periods: &[&str], drivers: Vec<Driver>) -> Plan {
    Plan {
        name: "test".into(),
        currency: "USD".into(),
        periods: periods
            .iter()
            .map(|name| Period {
                name: (*name).into(),
                baseline_revenue: 0.0,
                fixed_costs: 0.0,
                budget_cap: None,
                min_margin: None,
            })
            .collect(),
        drivers,
        baseline_gross_margin: 1.0,
        budget_cap: None,
        requirements: Requirements::default(),
        groups: Vec::new(),
        links: Vec::new(),
        objective: Objective::MaximizeRevenue,
        replan: None,
        uncertainty: None,
    }
}

/// docs/MODEL.md §4: one period, budget cap 100, gross margins 0.8, driver `a` (50 units
/// at 3.0, then unbounded at 1.0) and driver `b` (unbounded at 1.5), with the given
/// horizon margin floor.
pub(crate) fn worked_example(min_margin: f64) -> Plan {
    let mut plan = plan(
        &["total"],
        vec![
            driver("a", 0.8, &[(Some(50.0), 3.0), (None, 1.0)], 1),
            driver("b", 0.8, &[(None, 1.5)], 1),
        ],
    );
    plan.budget_cap = Some(100.0);
    plan.requirements.min_margin = Some(min_margin);
    plan
}
