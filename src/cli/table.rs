//! The `table` format: a plan result laid out for people.

use std::fmt::Write;

use crate::pb::{PlanResult, Sense, SolveStatus, Totals};

/// Renders `result` as plain-text tables: outcome, allocation per driver and period,
/// totals, and the constraints that bind.
pub(super) fn render(result: &PlanResult) -> String {
    let mut out = String::new();
    let status = SolveStatus::try_from(result.status)
        .map(|status| status.as_str_name().trim_start_matches("SOLVE_STATUS_"))
        .unwrap_or("UNKNOWN");
    let name = if result.plan_name.is_empty() {
        "(unnamed plan)"
    } else {
        &result.plan_name
    };
    let _ = writeln!(
        out,
        "{name} ({}): {status}: {}",
        result.currency, result.message
    );
    if let Some(solver) = &result.solver {
        let seconds = solver.solve_time.as_ref().map_or(0.0, |time| {
            time.seconds as f64 + f64::from(time.nanos) / 1e9
        });
        let _ = writeln!(
            out,
            "solver {}: {} variables, {} constraints{}, {} stage(s), {:.3} s",
            solver.name,
            solver.variables,
            solver.constraints,
            if solver.mixed_integer {
                " (mixed-integer)"
            } else {
                ""
            },
            solver.stages,
            seconds
        );
    }
    if let Some(gap) = result.relative_gap {
        let _ = writeln!(out, "proven relative gap: {:.4} %", gap * 100.0);
    }
    if !result.has_solution {
        return out;
    }

    // Allocation: units per period, then horizon units, spend, revenue, and the best
    // marginal return of one more unit over the periods (MODEL.md §3: bounds such as
    // max_units or a binding cap may keep that unit from being bought).
    let mut header = vec!["driver".to_string(), "unit".to_string()];
    header.extend(result.periods.iter().cloned());
    header.extend(["units", "spend", "revenue", "next $ earns"].map(String::from));
    let mut rows = vec![header];
    for driver in &result.drivers {
        let mut row = vec![driver.driver_id.clone(), driver.unit.clone()];
        row.extend(driver.periods.iter().map(|period| number(period.units)));
        row.push(number(driver.units));
        row.push(money(driver.spend));
        row.push(money(driver.revenue));
        let best = driver
            .periods
            .iter()
            .map(|period| period.marginal_return)
            .fold(0.0, f64::max);
        row.push(format!("{best:.2}"));
        rows.push(row);
    }
    let _ = writeln!(out, "\nAllocation (units committed per period)");
    out.push_str(&layout(&rows, 2));

    let mut rows = vec![[
        "period",
        "revenue",
        "spend",
        "gross profit",
        "contribution",
        "margin",
        "ROI",
    ]
    .map(String::from)
    .to_vec()];
    let totals_row = |label: &str, totals: &Totals| {
        vec![
            label.to_string(),
            money(totals.revenue),
            money(totals.spend),
            money(totals.gross_profit),
            money(totals.contribution),
            format!("{:.1} %", totals.margin * 100.0),
            format!("{:.2}", totals.roi),
        ]
    };
    if result.period_totals.len() > 1 {
        for totals in &result.period_totals {
            rows.push(totals_row(&totals.period, totals));
        }
    }
    if let Some(totals) = &result.totals {
        rows.push(totals_row("total", totals));
    }
    let _ = writeln!(out, "\nTotals");
    out.push_str(&layout(&rows, 1));

    let binding: Vec<_> = result.constraints.iter().filter(|c| c.binding).collect();
    let _ = writeln!(
        out,
        "\nBinding constraints ({} of {})",
        binding.len(),
        result.constraints.len()
    );
    if binding.is_empty() {
        let _ = writeln!(out, "  none");
    }
    let mut rows = Vec::new();
    for constraint in binding {
        let sense = Sense::try_from(constraint.sense).map_or("?", |sense| match sense {
            Sense::LessEqual => "<=",
            Sense::GreaterEqual => ">=",
            Sense::Equal => "=",
            Sense::Unspecified => "?",
        });
        rows.push(vec![
            format!("  {}", constraint.name),
            number(constraint.value),
            sense.to_string(),
            number(constraint.bound),
        ]);
    }
    out.push_str(&layout(&rows, 1));
    out
}

/// Money with thousands separators, no decimals above 1,000.
fn money(value: f64) -> String {
    if value.abs() >= 1000.0 {
        let rounded = format!("{:.0}", value.abs());
        let mut grouped = String::new();
        for (index, digit) in rounded.chars().enumerate() {
            if index > 0 && (rounded.len() - index) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        if value < 0.0 {
            grouped.insert(0, '-');
        }
        grouped
    } else {
        number(value)
    }
}

/// Up to two decimals, trailing zeros dropped; large values grouped like money.
fn number(value: f64) -> String {
    if value.abs() >= 1000.0 {
        return money(value);
    }
    let text = format!("{:.2}", if value.abs() < 0.005 { 0.0 } else { value });
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Columns padded to their widest cell; the first `left` columns left-aligned, the
/// rest right-aligned.
fn layout(rows: &[Vec<String>], left: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(column, (cell, &width))| {
                if column < left {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(1234567.4), "1,234,567");
        assert_eq!(money(-1500.0), "-1,500");
        assert_eq!(money(187.5), "187.5");
        assert_eq!(number(50.0), "50");
        assert_eq!(number(0.001), "0");
        assert_eq!(number(0.356), "0.36");
    }
}
