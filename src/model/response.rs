//! Where a driver stands on its response curve: which segment the next unit falls
//! in, and what it returns per unit of money (docs/MODEL.md §3). Facts of a driver
//! alone, used by reports, explanations and frontiers alike.

use super::Driver;

/// Where a driver's units in one period sit: what stops the next unit, or which
/// segment of the response curve it would fall in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// No units committed (and no minimum forces any).
    Unfunded,
    /// Held at its minimum units (more than 0).
    AtMinUnits,
    /// Held at its maximum units.
    AtMaxUnits,
    /// Held by a cap on its units active (docs/MODEL.md §5): one more unit
    /// committed in this period would put more in seat than `max_active` allows
    /// in this or a later period.
    AtMaxActive,
    /// Inside segment `k` (0-based) of the curve.
    InSegment(usize),
    /// Exactly at the end of segment `k` (0-based): the next unit earns the next
    /// segment's rate.
    AtSegmentEnd(usize),
}

/// Where the units committed in `period` sit for `driver`, `committed` holding its
/// units of every period: on a cap of units committed, held by a cap in seat, or on
/// its curve.
pub fn position(driver: &Driver, committed: &[f64], period: usize) -> Position {
    let units = committed.get(period).copied().unwrap_or(0.0);
    match units_position(driver, units, period) {
        Position::AtMaxUnits => Position::AtMaxUnits,
        _ if held_in_seat(driver, committed, period) => Position::AtMaxActive,
        other => other,
    }
}

/// Whether a cap on units active binds in `period` or a later period that a unit
/// committed in `period` is still active in.
fn held_in_seat(driver: &Driver, committed: &[f64], period: usize) -> bool {
    driver
        .max_active
        .iter()
        .enumerate()
        .skip(period)
        .any(|(t, cap)| {
            cap.is_some_and(|cap| {
                let active = driver.active_units(committed, t);
                driver.active_share(period, t) > 0.0 && active >= cap - 1e-9 * cap.abs().max(1.0)
            })
        })
}

/// Where `units` committed in `period` sit on the driver's unit bounds and curve.
fn units_position(driver: &Driver, units: f64, period: usize) -> Position {
    let near = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    if driver
        .max_units
        .get(period)
        .copied()
        .flatten()
        .is_some_and(|max| near(units, max))
    {
        return Position::AtMaxUnits;
    }
    let minimum = driver.min_units.get(period).copied().unwrap_or(0.0);
    if minimum > 0.0 && near(units, minimum) {
        return Position::AtMinUnits;
    }
    if near(units, 0.0) {
        return Position::Unfunded;
    }
    let mut filled = 0.0;
    for (k, segment) in driver.response.iter().enumerate() {
        let Some(width) = segment.units else {
            return Position::InSegment(k);
        };
        filled += width;
        if near(units, filled) {
            return Position::AtSegmentEnd(k);
        }
        if units < filled {
            return Position::InSegment(k);
        }
    }
    Position::AtSegmentEnd(driver.response.len().saturating_sub(1))
}

/// Revenue per extra unit of money of one more unit committed in `period` after
/// `units` (docs/MODEL.md §3): the next unit's revenue per unit times its
/// seasonality-weighted return realised within the horizon, over its cost realised
/// within the horizon.
pub fn marginal_return(driver: &Driver, units: f64, period: usize, periods: usize) -> f64 {
    let mut filled = 0.0;
    let mut next_rate = 0.0;
    for segment in &driver.response {
        match segment.units {
            Some(width) if units >= filled + width - 1e-9 * width.max(1.0) => filled += width,
            _ => {
                next_rate = segment.revenue_per_unit;
                break;
            }
        }
    }
    let cost = driver.realised_cost(period, periods);
    if cost <= 0.0 {
        return 0.0;
    }
    next_rate * driver.realised_return(period, periods) / cost
}
