//! `tradeoff evaluate PLAN.json --allocation FILE`: score an allocation someone
//! already has, without optimizing it.

use std::fmt::Write;

use super::{print, read_plan, read_text, table, CliError, ExitStatus, SolveFlags};
use crate::convert::FieldViolation;
use crate::pb;
use crate::planner;

#[derive(Debug, clap::Args)]
pub(super) struct EvaluateArgs {
    /// The plan file (proto3 JSON of tradeoff.v1.Plan).
    plan: String,
    /// The allocation: JSON (`{"drivers": [{"driverId": "ae", "units": [3, 2, 2, 0]}]}`)
    /// or CSV with a `driver_id` column and one column per period, named as the
    /// plan's periods (a one-period plan may call its column `units`).
    #[arg(long)]
    allocation: String,
    // `--time-limit` bounds the search for the optimum the allocation is
    // compared with.
    #[command(flatten)]
    flags: SolveFlags,
}

pub(super) fn run(args: EvaluateArgs) -> Result<ExitStatus, CliError> {
    let plan = read_plan(&args.plan)?;
    let allocation = read_allocation(&args.allocation, &plan)?;
    let request = pb::EvaluateRequest {
        plan: Some(plan),
        allocation: Some(allocation),
        options: Some(args.flags.options(false)),
    };
    let response = args.flags.call(
        request,
        planner::evaluate,
        |mut client, request| async move { client.evaluate(request).await },
    )?;
    let evaluation = response
        .evaluation
        .ok_or_else(|| CliError::Failed("the response carries no evaluation".into()))?;
    print(args.flags.format, &evaluation, render)?;
    Ok(if evaluation.feasible {
        ExitStatus::Success
    } else {
        ExitStatus::Infeasible
    })
}

/// Reads an allocation file: JSON when it starts with `{`, CSV otherwise.
fn read_allocation(path: &str, plan: &pb::Plan) -> Result<pb::Allocation, CliError> {
    let text = read_text(path)?;
    if text.trim_start().starts_with('{') {
        return crate::convert::parse_allocation_json(&text).map_err(|source| CliError::Json {
            path: path.to_string(),
            source,
        });
    }
    allocation_from_csv(&text, plan).map_err(|description| {
        CliError::Invalid(vec![FieldViolation {
            field: "allocation".into(),
            description: format!("{path}: {description}"),
        }])
    })
}

/// A wide CSV: `driver_id` and one column per period (by the plan's period names;
/// `units` for a one-period plan).
pub(super) fn allocation_from_csv(text: &str, plan: &pb::Plan) -> Result<pb::Allocation, String> {
    let periods: Vec<String> = if plan.periods.is_empty() {
        vec![crate::model::WHOLE_HORIZON.into()]
    } else {
        plan.periods
            .iter()
            .map(|period| period.name.clone())
            .collect()
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|error| error.to_string())?.clone();
    let column = |name: &str| headers.iter().position(|header| header == name);
    let id_column = column("driver_id").ok_or("needs a `driver_id` column")?;
    let period_columns: Vec<usize> = periods
        .iter()
        .map(|period| {
            column(period)
                .or_else(|| (periods.len() == 1).then(|| column("units")).flatten())
                .ok_or(format!("needs a column for period `{period}`"))
        })
        .collect::<Result<_, _>>()?;
    let mut drivers = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|error| error.to_string())?;
        let row = line + 2;
        let driver_id = record.get(id_column).unwrap_or_default().to_string();
        let units = period_columns
            .iter()
            .zip(&periods)
            .map(|(&column, period)| {
                let cell = record.get(column).unwrap_or_default();
                if cell.is_empty() {
                    return Ok(0.0);
                }
                cell.parse::<f64>()
                    .map_err(|_| format!("row {row}, period `{period}`: `{cell}` is not a number"))
            })
            .collect::<Result<Vec<f64>, String>>()?;
        drivers.push(pb::DriverAllocation { driver_id, units });
    }
    Ok(pb::Allocation { drivers })
}

/// For people: verdict, broken rules, the given plan's totals against the optimum,
/// and per driver what the optimizer would move.
fn render(evaluation: &pb::Evaluation) -> String {
    let mut out = String::new();
    let given = evaluation.given.as_ref();
    let name = given.map_or("", |given| given.plan_name.as_str());
    let verdict = if evaluation.feasible {
        "meets every constraint".to_string()
    } else {
        format!("breaks {} rule(s)", evaluation.violations.len())
    };
    let _ = writeln!(out, "{name}: the allocation {verdict}");
    if !evaluation.violations.is_empty() {
        let _ = writeln!(out, "\nBroken rules (by how much, in the bound's units)");
        let rows: Vec<Vec<String>> = evaluation
            .violations
            .iter()
            .map(|violation| {
                vec![
                    format!("  {}", violation.name),
                    table::number(violation.amount),
                ]
            })
            .collect();
        out.push_str(&table::layout(&rows, 1, &[]));
    }
    let optimum = evaluation.optimum.as_ref();
    let status = optimum
        .and_then(|optimum| pb::SolveStatus::try_from(optimum.status).ok())
        .map_or("UNKNOWN", |status| {
            status.as_str_name().trim_start_matches("SOLVE_STATUS_")
        });
    let _ = writeln!(out, "\nGiven against the optimum ({status})");
    let mut rows = vec![["", "given", "optimum", "change"]
        .map(String::from)
        .to_vec()];
    if let (Some(given), Some(best)) = (
        given.and_then(|given| given.totals.as_ref()),
        optimum
            .filter(|optimum| optimum.has_solution)
            .and_then(|optimum| optimum.totals.as_ref()),
    ) {
        for (label, a, b) in [
            ("revenue", given.revenue, best.revenue),
            ("spend", given.spend, best.spend),
            ("contribution", given.contribution, best.contribution),
        ] {
            rows.push(vec![
                label.into(),
                table::money(a),
                table::money(b),
                table::money(b - a),
            ]);
        }
        rows.push(vec![
            "margin".into(),
            format!("{:.1} %", given.margin * 100.0),
            format!("{:.1} %", best.margin * 100.0),
            String::new(),
        ]);
        // A re-plan: the money each moves from the plan in force.
        let moved = |result: Option<&pb::PlanResult>| result.and_then(|r| r.money_moved);
        if let (Some(a), Some(b)) = (moved(evaluation.given.as_ref()), moved(optimum)) {
            rows.push(vec![
                "money moved".into(),
                table::money(a),
                table::money(b),
                table::money(b - a),
            ]);
        }
    } else if let Some(given) = given.and_then(|given| given.totals.as_ref()) {
        rows.push(vec![
            "revenue".into(),
            table::money(given.revenue),
            "-".into(),
            String::new(),
        ]);
        rows.push(vec![
            "spend".into(),
            table::money(given.spend),
            "-".into(),
            String::new(),
        ]);
    }
    out.push_str(&table::layout(&rows, 1, &[]));
    if !evaluation.gaps.is_empty() {
        let _ = writeln!(
            out,
            "\nWhat the optimizer would move (units per period, revenue)"
        );
        let periods = given.map(|given| given.periods.clone()).unwrap_or_default();
        let mut header = vec!["driver".to_string()];
        header.extend(periods);
        header.push("revenue".into());
        let mut rows = vec![header];
        for gap in &evaluation.gaps {
            let mut row = vec![gap.driver_id.clone()];
            row.extend(gap.units_change.iter().map(|change| signed_units(*change)));
            row.push(signed_units(gap.revenue_change));
            rows.push(row);
        }
        out.push_str(&table::layout(&rows, 1, &[]));
    }
    out
}

fn signed_units(change: f64) -> String {
    if change.abs() < 0.005 {
        "0".into()
    } else if change > 0.0 {
        format!("+{}", table::number(change))
    } else {
        table::number(change)
    }
}
