//! Scenario files for `tradeoff batch`: JSONL (one `tradeoff.v1.Scenario` in proto3
//! JSON per line) or CSV (one row per scenario, one column per override).

use std::collections::HashSet;
use std::path::Path;

use super::CliError;
use crate::convert::{parse_scenario_json, JsonError};
use crate::pb;

/// The format of a scenario or result file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileFormat {
    /// One JSON object per line (`.jsonl`, `.ndjson`).
    Jsonl,
    /// Comma-separated with a header row (`.csv`).
    Csv,
}

impl FileFormat {
    /// The format `path`'s extension names, or a bad-input error.
    pub(super) fn of(path: &Path) -> Result<FileFormat, CliError> {
        let extension = path
            .extension()
            .and_then(|extension| extension.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("jsonl" | "ndjson") => Ok(FileFormat::Jsonl),
            Some("csv") => Ok(FileFormat::Csv),
            _ => Err(CliError::Usage(format!(
                "{}: use a .jsonl or .csv file",
                path.display()
            ))),
        }
    }
}

/// Reads every scenario of `path`; ids must be present and unique, since results
/// are matched (and `--resume` skips) by id.
pub(super) fn read(path: &Path) -> Result<Vec<pb::Scenario>, CliError> {
    let format = FileFormat::of(path)?;
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let located = |line: usize, message: String| CliError::Scenarios {
        path: path.display().to_string(),
        line,
        message,
    };
    let scenarios = match format {
        FileFormat::Jsonl => read_jsonl(&text).map_err(|(line, message)| located(line, message))?,
        FileFormat::Csv => read_csv(&text).map_err(|(line, message)| located(line, message))?,
    };
    let mut seen = HashSet::new();
    for (line, scenario) in &scenarios {
        if scenario.id.is_empty() {
            return Err(located(*line, "the scenario has no id".into()));
        }
        if !seen.insert(scenario.id.as_str()) {
            return Err(located(
                *line,
                format!("scenario id {:?} appears twice", scenario.id),
            ));
        }
    }
    Ok(scenarios
        .into_iter()
        .map(|(_, scenario)| scenario)
        .collect())
}

/// Scenarios with the line each came from; errors with their line.
type Parsed = Result<Vec<(usize, pb::Scenario)>, (usize, String)>;

fn read_jsonl(text: &str) -> Parsed {
    let mut scenarios = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let scenario = parse_scenario_json(line).map_err(|error| (number, within_line(&error)))?;
        scenarios.push((number, scenario));
    }
    Ok(scenarios)
}

/// A JSON error of one line of a JSONL file, placed by its column (the line is the
/// file's).
fn within_line(error: &JsonError) -> String {
    match error {
        JsonError::Located {
            column,
            path,
            message,
            ..
        } => {
            let at = if path.is_empty() {
                String::new()
            } else {
                format!("{path}: ")
            };
            format!("column {column}: {at}{message}")
        }
        JsonError::Field { .. } => error.to_string(),
    }
}

/// The proto name of an objective written with or without its prefix.
fn objective_name(name: &str) -> Option<String> {
    [name.to_string(), format!("OBJECTIVE_{name}")]
        .into_iter()
        .find(|candidate| pb::Objective::from_str_name(candidate).is_some())
}

/// What one CSV column sets.
enum Column {
    Id,
    BudgetCap,
    MinMargin,
    MinContribution,
    RevenueTarget,
    MinRoi,
    Objective,
    Excluded,
    PeriodBudgetCap(String),
    RevenueScale(String),
    CostScale(String),
    MinUnits(String),
    MaxUnits(String),
}

impl Column {
    fn parse(header: &str) -> Option<Column> {
        let header = header.trim();
        Some(match header {
            "id" => Column::Id,
            "budget_cap" => Column::BudgetCap,
            "min_margin" => Column::MinMargin,
            "min_contribution" => Column::MinContribution,
            "revenue_target" => Column::RevenueTarget,
            "min_roi" => Column::MinRoi,
            "objective" => Column::Objective,
            "excluded" => Column::Excluded,
            _ => {
                let (kind, key) = header.split_once('.')?;
                let key = key.to_string();
                match kind {
                    "period_budget_cap" => Column::PeriodBudgetCap(key),
                    "revenue_scale" => Column::RevenueScale(key),
                    "cost_scale" => Column::CostScale(key),
                    "min_units" => Column::MinUnits(key),
                    "max_units" => Column::MaxUnits(key),
                    _ => return None,
                }
            }
        })
    }
}

fn read_csv(text: &str) -> Parsed {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|error| (1, error.to_string()))?
        .clone();
    let columns = headers
        .iter()
        .map(|header| {
            Column::parse(header).ok_or_else(|| {
                (
                    1,
                    format!(
                        "unknown column {header:?} (expected id, budget_cap, min_margin, \
                         min_contribution, revenue_target, min_roi, objective, excluded, \
                         or revenue_scale.ID, cost_scale.ID, min_units.ID, max_units.ID, \
                         period_budget_cap.PERIOD)"
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !columns.iter().any(|column| matches!(column, Column::Id)) {
        return Err((1, "the header has no id column".into()));
    }
    let mut scenarios = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| {
            let line = error
                .position()
                .map_or(0, |position| usize::try_from(position.line()).unwrap_or(0));
            (line, error.to_string())
        })?;
        let line = record
            .position()
            .map_or(0, |position| usize::try_from(position.line()).unwrap_or(0));
        let mut scenario = pb::Scenario {
            id: String::new(),
            overrides: Some(pb::ScenarioOverrides::default()),
        };
        let mut overrides = pb::ScenarioOverrides::default();
        for ((column, header), cell) in columns.iter().zip(headers.iter()).zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            let number = || {
                cell.parse::<f64>()
                    .map_err(|_| (line, format!("column {header}: {cell:?} is not a number")))
            };
            match column {
                Column::Id => scenario.id = cell.to_string(),
                Column::BudgetCap => overrides.budget_cap = Some(number()?),
                Column::MinMargin => overrides.min_margin = Some(number()?),
                Column::MinContribution => overrides.min_contribution = Some(number()?),
                Column::RevenueTarget => overrides.revenue_target = Some(number()?),
                Column::MinRoi => overrides.min_roi = Some(number()?),
                Column::Objective => {
                    let name = objective_name(cell).ok_or_else(|| {
                        (
                            line,
                            format!(
                                "column objective: unknown value {cell:?}; expected one of \
                                 MAXIMIZE_REVENUE, MAXIMIZE_CONTRIBUTION, MINIMIZE_SPEND"
                            ),
                        )
                    })?;
                    overrides.objective =
                        pb::Objective::from_str_name(&name).map_or(0, |objective| objective as i32);
                }
                Column::Excluded => overrides
                    .excluded_drivers
                    .extend(cell.split_whitespace().map(String::from)),
                Column::PeriodBudgetCap(key) => {
                    overrides.period_budget_caps.insert(key.clone(), number()?);
                }
                Column::RevenueScale(key) => {
                    overrides.revenue_scale.insert(key.clone(), number()?);
                }
                Column::CostScale(key) => {
                    overrides.cost_scale.insert(key.clone(), number()?);
                }
                Column::MinUnits(key) => {
                    overrides.min_units.insert(key.clone(), number()?);
                }
                Column::MaxUnits(key) => {
                    overrides.max_units.insert(key.clone(), number()?);
                }
            }
        }
        scenario.overrides = Some(overrides);
        scenarios.push((line, scenario));
    }
    Ok(scenarios)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_become_overrides() {
        let text = "id,budget_cap,objective,revenue_scale.b,excluded,period_budget_cap.Q1\n\
                    s1,80,MINIMIZE_SPEND,0.5,a c,10\n\
                    s2,,,,,\n";
        let scenarios = read_csv(text).expect("valid CSV");
        assert_eq!(scenarios.len(), 2);
        let (line, s1) = &scenarios[0];
        assert_eq!(*line, 2);
        assert_eq!(s1.id, "s1");
        let o = s1.overrides.clone().unwrap_or_default();
        assert_eq!(o.budget_cap, Some(80.0));
        assert_eq!(o.objective, pb::Objective::MinimizeSpend as i32);
        assert_eq!(o.revenue_scale.get("b"), Some(&0.5));
        assert_eq!(o.excluded_drivers, ["a", "c"]);
        assert_eq!(o.period_budget_caps.get("Q1"), Some(&10.0));
        assert_eq!(
            scenarios[1].1.overrides,
            Some(pb::ScenarioOverrides::default())
        );
    }

    #[test]
    fn csv_errors_name_line_and_column() {
        let Err((line, message)) = read_csv("id,budget_cap\ns1,lots\n") else {
            panic!("a bad cell");
        };
        assert_eq!(line, 2);
        assert!(message.contains("budget_cap"), "{message}");
        let Err((line, message)) = read_csv("id,colour\n") else {
            panic!("an unknown column");
        };
        assert_eq!(line, 1);
        assert!(message.contains("colour"), "{message}");
    }

    #[test]
    fn jsonl_accepts_unprefixed_objectives_and_skips_blank_lines() {
        let text = "{\"id\": \"s1\", \"overrides\": {\"budgetCap\": 80, \"objective\": \"MAXIMIZE_CONTRIBUTION\", \"revenueScale\": {\"b\": 2}}}\n\n{\"id\": \"s2\"}\n";
        let scenarios = read_jsonl(text).expect("valid JSONL");
        assert_eq!(scenarios.len(), 2);
        assert_eq!(scenarios[1].0, 3);
        let o = scenarios[0].1.overrides.clone().unwrap_or_default();
        assert_eq!(o.budget_cap, Some(80.0));
        assert_eq!(o.objective, pb::Objective::MaximizeContribution as i32);
        assert_eq!(o.revenue_scale.get("b"), Some(&2.0));
        let Err((line, _)) = read_jsonl("{\"id\": \"s1\"}\n{\"id\": \"s2\", \"colour\": 1}\n")
        else {
            panic!("an unknown field");
        };
        assert_eq!(line, 2);
    }

    #[test]
    fn jsonl_refuses_repeated_keys_with_line_and_path() {
        let text = "{\"id\": \"s1\"}\n{\"id\": \"s2\", \"overrides\": {\"revenueScale\": {\"b\": 2, \"b\": 3}}}\n";
        let Err((line, message)) = read_jsonl(text) else {
            panic!("a driver scaled twice");
        };
        assert_eq!(line, 2);
        assert!(
            message.contains("overrides.revenueScale.b: the key `b` appears twice"),
            "{message}"
        );
        let text = "{\"id\": \"s1\", \"overrides\": {\"budgetCap\": 80, \"budget_cap\": 90}}\n";
        let Err((line, message)) = read_jsonl(text) else {
            panic!("a field under both names");
        };
        assert_eq!(line, 1);
        assert!(
            message.contains("overrides.budget_cap: `budget_cap` and `budgetCap`"),
            "{message}"
        );
        let Err((_, message)) = read_jsonl("{\"id\": \"s1\", \"id\": \"s2\"}\n") else {
            panic!("an id given twice");
        };
        assert!(message.starts_with("column "), "{message}");
        // Map keys are driver ids: two that only look like one field's two names are
        // two drivers.
        let text =
            "{\"id\": \"s1\", \"overrides\": {\"cost_scale\": {\"new_ae\": 2, \"newAe\": 3}}}\n";
        let scenarios = read_jsonl(text).expect("two drivers");
        let o = scenarios[0].1.overrides.clone().unwrap_or_default();
        assert_eq!(o.cost_scale.len(), 2);
    }
}
