//! Scenario files for `tradeoff batch`: JSONL (one `tradeoff.v1.Scenario` in proto3
//! JSON per line) or CSV (one row per scenario, one column per override).

use std::collections::HashSet;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read};
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

/// A scenario file read one scenario at a time: a batch of any length holds only
/// the scenarios in flight, never the file.
pub(super) struct ScenarioReader<R: Read> {
    inner: Inner<R>,
}

enum Inner<R: Read> {
    Jsonl {
        lines: std::io::Lines<BufReader<R>>,
        number: usize,
    },
    Csv {
        records: csv::StringRecordsIntoIter<R>,
        headers: csv::StringRecord,
        columns: Vec<Column>,
    },
}

/// One scenario with the line it came from, or an error with its line.
type Parsed = Result<(usize, pb::Scenario), (usize, String)>;

impl<R: Read> ScenarioReader<R> {
    /// A reader of `source` in `format`; a CSV header is read (and checked) here.
    fn new(source: R, format: FileFormat) -> Result<Self, (usize, String)> {
        Ok(ScenarioReader {
            inner: match format {
                FileFormat::Jsonl => Inner::Jsonl {
                    lines: BufReader::new(source).lines(),
                    number: 0,
                },
                FileFormat::Csv => {
                    let mut reader = csv::ReaderBuilder::new()
                        .trim(csv::Trim::All)
                        .from_reader(source);
                    let headers = reader
                        .headers()
                        .map_err(|error| (1, error.to_string()))?
                        .clone();
                    let columns = csv_columns(&headers)?;
                    Inner::Csv {
                        records: reader.into_records(),
                        headers,
                        columns,
                    }
                }
            },
        })
    }
}

impl<R: Read> Iterator for ScenarioReader<R> {
    type Item = Parsed;

    fn next(&mut self) -> Option<Parsed> {
        match &mut self.inner {
            Inner::Jsonl { lines, number } => loop {
                let line = lines.next()?;
                *number += 1;
                let line = match line {
                    Ok(line) => line,
                    Err(error) => return Some(Err((*number, error.to_string()))),
                };
                if line.trim().is_empty() {
                    continue;
                }
                return Some(
                    parse_scenario_json(&line)
                        .map(|scenario| (*number, scenario))
                        .map_err(|error| (*number, within_line(&error))),
                );
            },
            Inner::Csv {
                records,
                headers,
                columns,
            } => Some(records.next()?.map_err(csv_error).and_then(|record| {
                let line = record
                    .position()
                    .map_or(0, |position| usize::try_from(position.line()).unwrap_or(0));
                csv_scenario(columns, headers, &record, line).map(|scenario| (line, scenario))
            })),
        }
    }
}

/// Opens the scenario file `path` for reading one scenario at a time.
pub(super) fn open(path: &Path) -> Result<ScenarioReader<File>, CliError> {
    let format = FileFormat::of(path)?;
    let file = File::open(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })?;
    ScenarioReader::new(file, format).map_err(|(line, message)| located(path, line, message))
}

/// An error at `line` of the scenario file `path`.
pub(super) fn located(path: &Path, line: usize, message: String) -> CliError {
    CliError::Scenarios {
        path: path.display().to_string(),
        line,
        message,
    }
}

/// What a first pass over a scenario file found.
pub(super) struct Checked {
    /// Scenarios in the file.
    pub(super) total: usize,
    /// Those whose id is among the given ids (answered by an earlier run).
    pub(super) done: usize,
}

/// Reads every scenario of `path` once, keeping none: each must parse, and ids
/// must be present and unique, since results are matched (and `--resume` skips)
/// by id. A file is refused whole, before any scenario runs. Uniqueness is
/// checked on 64-bit hashes of the ids (8 bytes per scenario; a false "appears
/// twice" is about 1 in 10^8 for a million ids, and names the line to look at).
pub(super) fn check(path: &Path, done: &HashSet<String>) -> Result<Checked, CliError> {
    let mut seen = HashSet::new();
    let mut checked = Checked { total: 0, done: 0 };
    for parsed in open(path)? {
        let (line, scenario) = parsed.map_err(|(line, message)| located(path, line, message))?;
        if scenario.id.is_empty() {
            return Err(located(path, line, "the scenario has no id".into()));
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        scenario.id.hash(&mut hasher);
        if !seen.insert(hasher.finish()) {
            return Err(located(
                path,
                line,
                format!("scenario id {:?} appears twice", scenario.id),
            ));
        }
        checked.total += 1;
        if done.contains(&scenario.id) {
            checked.done += 1;
        }
    }
    Ok(checked)
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
    MaxChange,
    Confidence,
    RangeScale,
    Objective,
    Excluded,
    PeriodBudgetCap(String),
    RevenueScale(String),
    CostScale(String),
    MinUnits(String),
    MaxUnits(String),
    MinActive(String),
    MaxActive(String),
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
            "max_change" => Column::MaxChange,
            "confidence" => Column::Confidence,
            "range_scale" => Column::RangeScale,
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
                    "min_active" => Column::MinActive(key),
                    "max_active" => Column::MaxActive(key),
                    _ => return None,
                }
            }
        })
    }
}

/// The columns a CSV header names, or the header's error.
fn csv_columns(headers: &csv::StringRecord) -> Result<Vec<Column>, (usize, String)> {
    let columns = headers
        .iter()
        .map(|header| {
            Column::parse(header).ok_or_else(|| {
                (
                    1,
                    format!(
                        "unknown column {header:?} (expected id, budget_cap, min_margin, \
                         min_contribution, revenue_target, min_roi, max_change, confidence, \
                         range_scale, objective, excluded, \
                         or revenue_scale.ID, cost_scale.ID, min_units.ID, max_units.ID, \
                         min_active.ID, max_active.ID, period_budget_cap.PERIOD)"
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !columns.iter().any(|column| matches!(column, Column::Id)) {
        return Err((1, "the header has no id column".into()));
    }
    Ok(columns)
}

/// A CSV reading error with its line.
fn csv_error(error: csv::Error) -> (usize, String) {
    let line = error
        .position()
        .map_or(0, |position| usize::try_from(position.line()).unwrap_or(0));
    (line, error.to_string())
}

/// The scenario of one CSV row (at `line`).
fn csv_scenario(
    columns: &[Column],
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
    line: usize,
) -> Result<pb::Scenario, (usize, String)> {
    let mut id = String::new();
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
            Column::Id => id = cell.to_string(),
            Column::BudgetCap => overrides.budget_cap = Some(number()?),
            Column::MinMargin => overrides.min_margin = Some(number()?),
            Column::MinContribution => overrides.min_contribution = Some(number()?),
            Column::RevenueTarget => overrides.revenue_target = Some(number()?),
            Column::MinRoi => overrides.min_roi = Some(number()?),
            Column::MaxChange => overrides.max_change = Some(number()?),
            Column::Confidence => overrides.confidence = Some(number()?),
            Column::RangeScale => overrides.range_scale = Some(number()?),
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
            Column::MinActive(key) => {
                overrides.min_active.insert(key.clone(), number()?);
            }
            Column::MaxActive(key) => {
                overrides.max_active.insert(key.clone(), number()?);
            }
        }
    }
    Ok(pb::Scenario {
        id,
        overrides: Some(overrides),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every scenario of `text`, or the first error.
    fn read(text: &str, format: FileFormat) -> Result<Vec<(usize, pb::Scenario)>, (usize, String)> {
        ScenarioReader::new(text.as_bytes(), format)?.collect()
    }

    fn read_csv(text: &str) -> Result<Vec<(usize, pb::Scenario)>, (usize, String)> {
        read(text, FileFormat::Csv)
    }

    fn read_jsonl(text: &str) -> Result<Vec<(usize, pb::Scenario)>, (usize, String)> {
        read(text, FileFormat::Jsonl)
    }

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
