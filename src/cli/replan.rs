//! `--replan-from RESULT.json` / `--current FILE.csv`, `--lock Q1,Q2`,
//! `--max-change`, `--max-objective-loss`: a plan file turned into a re-plan of the
//! plan in force (docs/MODEL.md §6) from the command line.

use super::evaluate::allocation_from_csv;
use super::{read_text, CliError};
use crate::convert::FieldViolation;
use crate::pb;

/// Re-plan flags shared by `solve` and `frontier`.
#[derive(Debug, Default, clap::Args)]
pub(super) struct ReplanFlags {
    /// Re-plan from an earlier result (`solve --format json` output): its units per
    /// driver and period are the plan in force.
    #[arg(long, value_name = "RESULT.json", conflicts_with = "current")]
    replan_from: Option<String>,
    /// Re-plan from the plan in force as a CSV (`driver_id` and one column per
    /// period, as `evaluate` reads) or an allocation JSON.
    #[arg(long, value_name = "FILE")]
    current: Option<String>,
    /// Periods whose commitments are final (comma-separated names): the re-plan
    /// keeps the plan in force there.
    #[arg(long, value_delimiter = ',', value_name = "PERIODS")]
    lock: Vec<String>,
    /// Cap on the money the re-plan moves (unit cost times units changed, summed
    /// over unlocked periods).
    #[arg(long, value_name = "MONEY")]
    max_change: Option<f64>,
    /// Share of the optimum that may be given up to move less (0.01 = 1 %).
    #[arg(long, value_name = "SHARE")]
    max_objective_loss: Option<f64>,
}

impl ReplanFlags {
    /// `plan` as the re-plan these flags ask for; unchanged without any of them.
    /// Flags override the plan file's own `replan` fields; the checks of
    /// docs/MODEL.md §6 happen where every plan is validated.
    pub(super) fn apply(&self, plan: &mut pb::Plan) -> Result<(), CliError> {
        let current = match (&self.replan_from, &self.current) {
            (Some(path), _) => Some(current_from_result(path)?),
            (None, Some(path)) => Some(current_from_allocation(path, plan)?),
            (None, None) => None,
        };
        let asked = current.is_some()
            || !self.lock.is_empty()
            || self.max_change.is_some()
            || self.max_objective_loss.is_some();
        if !asked {
            return Ok(());
        }
        if current.is_none() && plan.replan.is_none() {
            return Err(CliError::Usage(
                "--lock, --max-change and --max-objective-loss re-plan a plan in force: give it \
                 with --replan-from RESULT.json or --current FILE.csv (or a `replan` in the plan \
                 file)"
                    .into(),
            ));
        }
        let replan = plan.replan.get_or_insert_with(pb::Replan::default);
        if let Some(current) = current {
            replan.current = current;
        }
        if !self.lock.is_empty() {
            replan.locked_periods = self.lock.clone();
        }
        if self.max_change.is_some() {
            replan.max_change = self.max_change;
        }
        if let Some(loss) = self.max_objective_loss {
            replan.max_objective_loss = loss;
        }
        Ok(())
    }
}

/// The units per driver and period of an earlier result.
fn current_from_result(path: &str) -> Result<Vec<pb::DriverAllocation>, CliError> {
    let text = read_text(path)?;
    let result: pb::PlanResult = serde_json::from_str(&text).map_err(|error| {
        CliError::Usage(format!(
            "{path}: not a result of `solve --format json` ({error})"
        ))
    })?;
    if !result.has_solution {
        return Err(CliError::Usage(format!(
            "{path}: the result has no plan to re-plan from (status {})",
            pb::SolveStatus::try_from(result.status)
                .map_or("unknown", |status| status.as_str_name())
        )));
    }
    Ok(result
        .drivers
        .into_iter()
        .map(|driver| pb::DriverAllocation {
            driver_id: driver.driver_id,
            units: driver.periods.iter().map(|period| period.units).collect(),
        })
        .collect())
}

/// The plan in force from a CSV (or allocation JSON) file.
fn current_from_allocation(
    path: &str,
    plan: &pb::Plan,
) -> Result<Vec<pb::DriverAllocation>, CliError> {
    let text = read_text(path)?;
    if text.trim_start().starts_with('{') {
        let allocation =
            crate::convert::parse_allocation_json(&text).map_err(|source| CliError::Json {
                path: path.to_string(),
                source,
            })?;
        return Ok(allocation.drivers);
    }
    allocation_from_csv(&text, plan)
        .map(|allocation| allocation.drivers)
        .map_err(|description| {
            CliError::Invalid(vec![FieldViolation {
                field: "replan.current".into(),
                description: format!("{path}: {description}"),
            }])
        })
}
