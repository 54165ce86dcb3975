//! The `table` format: a plan result laid out for people.

use std::fmt::Write;

use crate::pb::{
    BoundUnit, ConstraintResult, Diagnosis, DriverResult, Objective, PlanResult, Position, Sense,
    SolveStatus, Totals,
};

/// Renders `result` as plain-text tables: the outcome; for a solved plan the binding
/// constraints with their prices in plain words, drivers ranked by marginal return,
/// the allocation per driver and period and the totals; for an infeasible plan what
/// to relax.
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
        let kind = if solver.mixed_integer {
            " (mixed-integer)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "solver {}: {} variables, {} constraints{kind}, {} stage(s), {seconds:.3} s",
            solver.name, solver.variables, solver.constraints, solver.stages,
        );
    }
    if let Some(gap) = result.relative_gap {
        let _ = writeln!(out, "proven relative gap: {:.4} %", gap * 100.0);
    }
    if let Some(diagnosis) = &result.diagnosis {
        render_diagnosis(&mut out, diagnosis);
    }
    if !result.has_solution {
        return out;
    }
    render_binding(&mut out, result);
    render_marginal_returns(&mut out, result);
    render_allocation(&mut out, result);
    render_replan(&mut out, result);
    render_totals(&mut out, result);
    render_distribution(&mut out, result);
    out
}

/// For a plan with uncertainty (docs/MODEL.md §7), revenue over the outcomes in
/// one line: "revenue P10 31.2M · P50 34.0M · P90 36.1M · quota 33M reached in
/// 83 % of outcomes", then the other floors' odds and the tail's mean.
fn render_distribution(out: &mut String, result: &PlanResult) {
    let Some(d) = &result.distribution else {
        return;
    };
    let mut line = format!(
        "revenue P10 {} · P50 {} · P90 {} · mean {}",
        short_money(d.p10),
        short_money(d.p50),
        short_money(d.p90),
        short_money(d.mean)
    );
    let target = result
        .constraints
        .iter()
        .find(|c| c.name == "requirements.revenue_target")
        .map(|c| c.bound);
    if let (Some(p), Some(target)) = (d.probability_target, target) {
        let _ = write!(
            line,
            " · quota {} reached in {} of outcomes",
            short_money(target),
            percent(p)
        );
    }
    let _ = writeln!(out, "\nOver {} outcomes: {line}", d.outcomes);
    let mut odds = Vec::new();
    if let Some(p) = d.probability_min_margin {
        odds.push(format!("margin floor met in {}", percent(p)));
    }
    if let Some(p) = d.probability_min_contribution {
        odds.push(format!("contribution floor met in {}", percent(p)));
    }
    if let Some(tail) = d.tail_mean {
        odds.push(format!(
            "mean of the worst outcomes (the confidence's tail) {}",
            short_money(tail)
        ));
    }
    if !odds.is_empty() {
        let _ = writeln!(out, "  {}", odds.join(" · "));
    }
}

/// A share as a percentage with no needless decimals ("83 %", "99.5 %").
fn percent(share: f64) -> String {
    let text = format!("{:.1}", share * 100.0);
    format!("{} %", text.trim_end_matches('0').trim_end_matches('.'))
}

/// Money in a few digits: 31.2M, 850k, 912.
fn short_money(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e9 {
        format!("{:.2}B", value / 1e9)
    } else if magnitude >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if magnitude >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else {
        money(value)
    }
}

/// For a re-plan (docs/MODEL.md §6): the money moved, and each driver-period that
/// moves with the binding constraints that move it and what each costs
/// ("paid_search  Q3  -120,000: requirements.min_margin (-1,404,454 per pt),
/// period[Q3].budget_cap (+1.20 per 1)").
fn render_replan(out: &mut String, result: &PlanResult) {
    let Some(moved) = result.money_moved else {
        return;
    };
    let _ = writeln!(out, "\nRe-plan: {} of money moved", money(moved));
    let objective = first_objective(result);
    let mut rows = Vec::new();
    for driver in &result.drivers {
        for (period, name) in driver.periods.iter().zip(&result.periods) {
            let Some(current) = period.current_units else {
                continue;
            };
            if period.change.abs() <= 1e-9 * current.abs().max(1.0) {
                continue;
            }
            let why: Vec<String> = period
                .moved_by
                .iter()
                .map(|constraint| {
                    let price = result
                        .constraints
                        .iter()
                        .find(|c| &c.name == constraint)
                        .and_then(|c| {
                            let rate = c.shadow_price_up.or(c.shadow_price_down)?;
                            Some(if is_fraction(c.unit) {
                                format!(" ({} {objective} per pt)", signed(rate * 0.01))
                            } else {
                                format!(" ({} {objective} per 1)", signed(rate))
                            })
                        })
                        .unwrap_or_default();
                    format!("{constraint}{price}")
                })
                .collect();
            let signed_units = if period.change > 0.0 {
                format!("+{}", number(period.change))
            } else {
                format!("-{}", number(-period.change))
            };
            rows.push(vec![
                format!("  {}", driver.driver_id),
                name.clone(),
                format!("{} → {}", number(current), number(period.units)),
                signed_units,
                if why.is_empty() {
                    String::new()
                } else {
                    format!("moved by {}", why.join(", "))
                },
            ]);
        }
    }
    if rows.is_empty() {
        let _ = writeln!(out, "  nothing moves: the plan in force is already optimal");
        return;
    }
    out.push_str(&layout(&rows, 2, &[4]));
}

/// The total the first objective optimises, in words.
fn first_objective(result: &PlanResult) -> &'static str {
    match Objective::try_from(result.objective) {
        Ok(Objective::MaximizeContribution) => "contribution",
        Ok(Objective::MinimizeSpend) => "spend",
        _ => "revenue",
    }
}

/// Fractions (margins, shares) read better per percentage point.
fn is_fraction(unit: i32) -> bool {
    unit == BoundUnit::Fraction as i32
}

fn sense_symbol(sense: i32) -> &'static str {
    Sense::try_from(sense).map_or("?", |sense| match sense {
        Sense::LessEqual => "<=",
        Sense::GreaterEqual => ">=",
        Sense::Equal => "=",
        Sense::Unspecified => "?",
    })
}

fn render_binding(out: &mut String, result: &PlanResult) {
    let binding: Vec<&ConstraintResult> = result.constraints.iter().filter(|c| c.binding).collect();
    let objective = first_objective(result);
    let _ = writeln!(
        out,
        "\nBinding constraints ({} of {}) and what a change of each bound does to {objective}",
        binding.len(),
        result.constraints.len()
    );
    if binding.is_empty() {
        let _ = writeln!(out, "  none");
        return;
    }
    if result.prices_with_integers_fixed {
        let _ = writeln!(out, "  (prices with whole units held at their values)");
    }
    let mut rows = Vec::new();
    for constraint in binding {
        let (step, per) = if is_fraction(constraint.unit) {
            ("1 pt", 0.01)
        } else {
            ("1", 1.0)
        };
        let effect = |price: Option<f64>, holds_to: Option<f64>, sign: &str| match price {
            None if constraint.priced => format!("{sign}{step} → no feasible plan"),
            None if !constraint.unpriced_reason.is_empty() => "not priced".to_string(),
            None => String::new(),
            Some(price) => {
                let change = price * per * if sign == "+" { 1.0 } else { -1.0 };
                let range = holds_to.map_or(String::new(), |to| {
                    format!(" (to {})", shown(constraint.unit, to))
                });
                format!("{sign}{step} → {} {objective}{range}", signed(change))
            }
        };
        rows.push(vec![
            format!("  {}", constraint.name),
            shown(constraint.unit, constraint.value),
            sense_symbol(constraint.sense).to_string(),
            shown(constraint.unit, constraint.bound),
            effect(
                constraint.shadow_price_up,
                constraint.up_price_holds_to,
                "+",
            ),
            effect(
                constraint.shadow_price_down,
                constraint.down_price_holds_to,
                "-",
            ),
        ]);
    }
    out.push_str(&layout(&rows, 1, &[4, 5]));
    for constraint in &result.constraints {
        if !constraint.unpriced_reason.is_empty() {
            let _ = writeln!(
                out,
                "  {} not priced: {}",
                constraint.name, constraint.unpriced_reason
            );
        }
    }
}

fn render_marginal_returns(out: &mut String, result: &PlanResult) {
    let mut ranked: Vec<(&str, &str, f64, String)> = result
        .drivers
        .iter()
        .filter_map(|driver| {
            let best = driver
                .periods
                .iter()
                .max_by(|a, b| a.marginal_return.total_cmp(&b.marginal_return))?;
            let position = match Position::try_from(best.position) {
                Ok(Position::AtMaxUnits) => "at its maximum".to_string(),
                Ok(Position::AtMaxActive) => "at its cap in seat".to_string(),
                Ok(Position::AtMinUnits) => "at its minimum".to_string(),
                Ok(Position::Unfunded) => "unfunded".to_string(),
                Ok(Position::InSegment) => format!("in segment {}", best.segment),
                Ok(Position::AtSegmentEnd) => format!("at the end of segment {}", best.segment),
                _ => String::new(),
            };
            Some((
                driver.driver_id.as_str(),
                best.period.as_str(),
                best.marginal_return,
                position,
            ))
        })
        .collect();
    ranked.sort_by(|a, b| b.2.total_cmp(&a.2));
    let _ = writeln!(
        out,
        "\nWhere the next dollar earns most (revenue per extra dollar, best period)"
    );
    let mut rows = Vec::new();
    for (driver, period, rate, position) in ranked {
        let scale = result
            .drivers
            .iter()
            .find(|d| d.driver_id == driver)
            .and_then(|d| d.break_even_scale)
            .map_or(String::new(), |scale| {
                if scale > 1.0 {
                    format!("funded once its rates are x{scale:.2}")
                } else {
                    format!("unfunded once its rates fall to x{scale:.2}")
                }
            });
        rows.push(vec![
            format!("  {driver}"),
            format!("{rate:.2}"),
            format!("in {period}"),
            position,
            scale,
        ]);
    }
    out.push_str(&layout(&rows, 1, &[2, 3, 4]));
}

fn render_allocation(out: &mut String, result: &PlanResult) {
    let mut header = vec!["driver".to_string(), "unit".to_string()];
    header.extend(result.periods.iter().cloned());
    header.extend(["units", "spend", "revenue"].map(String::from));
    let mut rows = vec![header];
    for driver in &result.drivers {
        let mut row = vec![driver.driver_id.clone(), driver.unit.clone()];
        row.extend(driver.periods.iter().map(|period| number(period.units)));
        row.push(number(driver.units));
        row.push(money(driver.spend));
        row.push(money(driver.revenue));
        rows.push(row);
    }
    let _ = writeln!(out, "\nAllocation (units committed per period)");
    out.push_str(&layout(&rows, 2, &[]));
    render_in_seat(out, result);
}

/// Units active per period (docs/MODEL.md §5), for the drivers whose units in seat
/// differ from those committed (attrition, a team from before the plan, units that
/// stay): nothing for a plan that uses none of it.
fn render_in_seat(out: &mut String, result: &PlanResult) {
    let differs = |driver: &&DriverResult| {
        driver
            .periods
            .iter()
            .any(|period| (period.active - period.units).abs() > 1e-9)
    };
    let drivers: Vec<&DriverResult> = result.drivers.iter().filter(differs).collect();
    if drivers.is_empty() {
        return;
    }
    let mut header = vec!["driver".to_string(), "unit".to_string()];
    header.extend(result.periods.iter().cloned());
    let mut rows = vec![header];
    for driver in drivers {
        let mut row = vec![driver.driver_id.clone(), driver.unit.clone()];
        row.extend(driver.periods.iter().map(|period| number(period.active)));
        rows.push(row);
    }
    let _ = writeln!(out, "\nIn seat (units active per period)");
    out.push_str(&layout(&rows, 2, &[]));
}

fn render_totals(out: &mut String, result: &PlanResult) {
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
    out.push_str(&layout(&rows, 1, &[]));
}

fn render_diagnosis(out: &mut String, diagnosis: &Diagnosis) {
    let _ = writeln!(out, "\nNo plan meets every constraint.");
    for finding in &diagnosis.audit {
        let _ = writeln!(out, "  ! {finding}");
    }
    let _ = writeln!(out, "\nRelax one of these alone:");
    let mut rows = Vec::new();
    let mut alone_possible = false;
    for relaxation in &diagnosis.relaxations {
        let to = match relaxation.alone_bound {
            Some(bound) => {
                alone_possible = true;
                format!(
                    "{} → {}",
                    shown(relaxation.unit, relaxation.bound),
                    shown(relaxation.unit, bound)
                )
            }
            None if !relaxation.undecided.is_empty() => {
                format!("unknown ({})", relaxation.undecided)
            }
            None => "cannot alone".to_string(),
        };
        rows.push(vec![format!("  {}", relaxation.name), to]);
    }
    out.push_str(&layout(&rows, 2, &[]));
    let undecided = diagnosis
        .relaxations
        .iter()
        .any(|relaxation| !relaxation.undecided.is_empty());
    if !alone_possible && !undecided {
        let _ = writeln!(out, "  (no single bound suffices)");
    }
    if !diagnosis.note.is_empty() {
        let _ = writeln!(out, "  ({})", diagnosis.note);
    }
    if diagnosis.combined_found {
        let kind = if diagnosis.combined_exact {
            "smallest"
        } else {
            "best found"
        };
        let _ = writeln!(
            out,
            "\nOr all at once ({kind}: least total relative change):"
        );
        let mut rows = Vec::new();
        for relaxation in &diagnosis.relaxations {
            if let Some(bound) = relaxation.combined_bound {
                if (bound - relaxation.bound).abs() > 1e-9 * relaxation.bound.abs().max(1.0) {
                    rows.push(vec![
                        format!("  {}", relaxation.name),
                        format!(
                            "{} → {}",
                            shown(relaxation.unit, relaxation.bound),
                            shown(relaxation.unit, bound)
                        ),
                    ]);
                }
            }
        }
        out.push_str(&layout(&rows, 2, &[]));
    }
}

/// A change with its sign, two decimals below 1,000.
fn signed(value: f64) -> String {
    if value.abs() < 0.005 {
        "±0".to_string()
    } else if value.abs() >= 1000.0 {
        format!("{}{}", if value > 0.0 { "+" } else { "" }, money(value))
    } else {
        format!("{value:+.2}")
    }
}

/// A constraint's value or bound: fractions as percentages, the rest as numbers.
fn shown(unit: i32, value: f64) -> String {
    if is_fraction(unit) {
        let text = format!("{:.2}", value * 100.0);
        format!("{} %", text.trim_end_matches('0').trim_end_matches('.'))
    } else {
        number(value)
    }
}

/// Money with thousands separators, no decimals above 1,000.
pub(super) fn money(value: f64) -> String {
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
pub(super) fn number(value: f64) -> String {
    if value.abs() >= 1000.0 {
        return money(value);
    }
    let text = format!("{:.2}", if value.abs() < 0.005 { 0.0 } else { value });
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Columns padded to their widest cell; the first `left` columns and those listed in
/// `also_left` left-aligned, the rest right-aligned.
pub(super) fn layout(rows: &[Vec<String>], left: usize, also_left: &[usize]) -> String {
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
                if column < left || also_left.contains(&column) {
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
