//! `tradeoff frontier PLAN.json --over budget_cap --from A --to B`: the optimum as a
//! function of one bound, with every breakpoint.

use std::fmt::Write;

use super::replan::ReplanFlags;
use super::{plot, print, read_plan, table, CliError, ExitStatus, SolveFlags};
use crate::pb;
use crate::planner;

/// The bound to sweep, as docs/MODEL.md names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Over {
    /// budget_cap (money)
    #[value(name = "budget_cap")]
    BudgetCap,
    /// requirements.min_margin (a fraction: 0.25 is 25 %)
    #[value(name = "min_margin")]
    MinMargin,
    /// requirements.revenue_target (money)
    #[value(name = "revenue_target")]
    RevenueTarget,
    /// One driver's cap in seat (`--driver`), the same in every period.
    #[value(name = "max_active")]
    MaxActive,
    /// replan.max_change (money moved by a re-plan)
    #[value(name = "max_change")]
    MaxChange,
    /// uncertainty.confidence (the share of outcomes that must make quota)
    #[value(name = "confidence")]
    Confidence,
}

#[derive(Debug, clap::Args)]
pub(super) struct FrontierArgs {
    /// The plan file (proto3 JSON of tradeoff.v1.Plan).
    plan: String,
    /// The bound to sweep.
    #[arg(long, value_enum)]
    over: Over,
    /// With `--over max_active`: the driver whose cap in seat is swept.
    #[arg(long, required_if_eq("over", "max_active"))]
    driver: Option<String>,
    /// Start of the range.
    #[arg(long, allow_negative_numbers = true)]
    from: f64,
    /// End of the range.
    #[arg(long, allow_negative_numbers = true)]
    to: f64,
    /// Also draw the curve, each breakpoint labelled with the drivers that enter or
    /// leave there, to this file: .svg, or .png (1200x700, fonts built in).
    #[arg(long)]
    plot: Option<std::path::PathBuf>,
    // `--time-limit` bounds the whole sweep.
    #[command(flatten)]
    flags: SolveFlags,
    #[command(flatten)]
    replan: ReplanFlags,
}

pub(super) fn run(args: FrontierArgs) -> Result<ExitStatus, CliError> {
    if let Some(path) = &args.plot {
        plot::check_path(path)?;
    }
    let mut plan = read_plan(&args.plan)?;
    args.replan.apply(&mut plan)?;
    let over = match args.over {
        Over::BudgetCap => pb::SweptBound::BudgetCap,
        Over::MinMargin => pb::SweptBound::MinMargin,
        Over::RevenueTarget => pb::SweptBound::RevenueTarget,
        Over::MaxActive => pb::SweptBound::MaxActive,
        Over::MaxChange => pb::SweptBound::MaxChange,
        Over::Confidence => pb::SweptBound::Confidence,
    };
    let request = pb::FrontierRequest {
        plan: Some(plan),
        over: over as i32,
        from: args.from,
        to: args.to,
        options: Some(args.flags.options(false)),
        driver_id: args.driver.unwrap_or_default(),
    };
    let response = args.flags.call(
        request,
        planner::frontier,
        |mut client, request| async move { client.frontier(request).await },
    )?;
    let frontier = response
        .frontier
        .ok_or_else(|| CliError::Failed("the response carries no frontier".into()))?;
    if let Some(path) = &args.plot {
        plot::frontier(path, &frontier)?;
    }
    print(args.flags.format, &frontier, render)?;
    Ok(if frontier.complete {
        ExitStatus::Success
    } else {
        ExitStatus::TimeLimit
    })
}

/// One row per point: bound, status, totals, the slope of the piece that starts
/// there, and the drivers that enter or leave.
fn render(frontier: &pb::Frontier) -> String {
    let mut out = String::new();
    let objective = match pb::Objective::try_from(frontier.objective) {
        Ok(pb::Objective::MaximizeContribution) => "contribution",
        Ok(pb::Objective::MinimizeSpend) => "spend",
        _ => "revenue",
    };
    let _ = writeln!(
        out,
        "Frontier of {objective} over {} ({} points, {}{})",
        frontier.bound_name,
        frontier.points.len(),
        if frontier.exact {
            "exact breakpoints"
        } else {
            "sampled, mix changes located"
        },
        if frontier.complete {
            ""
        } else {
            "; cut short by the time limit"
        }
    );
    let fraction = [pb::SweptBound::MinMargin, pb::SweptBound::Confidence]
        .iter()
        .any(|&over| frontier.over == over as i32);
    let mut rows = vec![[
        "bound",
        "status",
        "revenue",
        "spend",
        "contribution",
        "slope after",
        "enters",
        "leaves",
    ]
    .map(String::from)
    .to_vec()];
    for point in &frontier.points {
        let status = pb::SolveStatus::try_from(point.status).map_or("?", |status| {
            status.as_str_name().trim_start_matches("SOLVE_STATUS_")
        });
        let totals = point.totals.clone().unwrap_or_default();
        let solved = point.status == pb::SolveStatus::Optimal as i32;
        let money = |value: f64| {
            if solved {
                table::money(value)
            } else {
                "-".into()
            }
        };
        rows.push(vec![
            if fraction {
                format!("{:.2} %", point.bound * 100.0)
            } else {
                table::number(point.bound)
            },
            status.to_string(),
            money(totals.revenue),
            money(totals.spend),
            money(totals.contribution),
            point
                .slope_after
                .map_or(String::new(), |slope| format!("{slope:.4}")),
            point.entering.join(" "),
            point.leaving.join(" "),
        ]);
    }
    out.push_str(&table::layout(&rows, 0, &[1, 6, 7]));
    out
}
