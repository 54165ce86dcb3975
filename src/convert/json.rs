//! JSON input, one reader for every message a file holds (plans, scenarios,
//! allocations): the proto3 JSON mapping, with enum values also accepted without
//! their proto prefix as docs/MODEL.md writes them (`MAXIMIZE_REVENUE`,
//! `GREATER_EQUAL`), repeated keys refused, and errors with line, column and path.

use serde_json::Value;

use super::{check_unique_keys, RepeatedKey};
use crate::pb;

/// Why a file is not the message it should hold (a plan, a scenario, an
/// allocation), worded so that a planner can find and fix the spot.
///
/// This is about the file's shape only (JSON syntax, field names, value types, enum
/// names); a well-formed plan can still break docs/MODEL.md's rules, which
/// [`super::plan_from_pb`] reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// The error has a place in the text: a syntax error, or a value that does not fit
    /// the message's schema.
    #[error("line {line}, column {column}: {}", with_path(.path, .message))]
    Located {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// JSON path of the offending field (`drivers[0].unitCost`), or empty.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The error was found after enum names were normalised, where only the field's
    /// JSON path is known.
    #[error("{}", with_path(.path, .message))]
    Field {
        /// JSON path of the offending field (`links[2].sense`).
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl From<RepeatedKey> for JsonError {
    fn from(repeated: RepeatedKey) -> Self {
        JsonError::Located {
            line: repeated.line,
            column: repeated.column,
            path: repeated.path,
            message: repeated.message,
        }
    }
}

fn with_path(path: &str, message: &str) -> String {
    if path.is_empty() {
        message.to_string()
    } else {
        format!("{path}: {message}")
    }
}

impl JsonError {
    fn new(path: String, error: &serde_json::Error) -> Self {
        let text = error.to_string();
        let position = format!(" at line {} column {}", error.line(), error.column());
        let message = text.strip_suffix(&position).unwrap_or(&text);
        // pbjson reads numbers through an untagged enum whose own message means nothing
        // to a planner.
        let message = message.replace(
            "data did not match any variant of untagged enum Content",
            "expected a number (or a string such as \"1.5\")",
        );
        if error.line() == 0 {
            JsonError::Field { path, message }
        } else {
            JsonError::Located {
                line: error.line(),
                column: error.column(),
                path,
                message,
            }
        }
    }

    fn from_tracked(error: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = error.path().to_string();
        let path = if path == "." { String::new() } else { path };
        JsonError::new(path, error.inner())
    }
}

/// Reads a plan file, so that the CLI and tests accept what docs/MODEL.md shows: proto3
/// JSON with `camelCase` or `snake_case` field names, and enum values with or without
/// their proto prefix. Unknown fields are refused, since a misspelt optional field
/// would otherwise silently drop a constraint.
///
/// A key given twice in one object, or a field under both its names (`budget_cap`
/// and `budgetCap`), is refused with its path (docs/MODEL.md §1): the later value would
/// otherwise silently replace the earlier one.
pub fn parse_plan_json(text: &str) -> Result<pb::Plan, JsonError> {
    parse_message(text, &[], PLAN_ENUMS)
}

/// Reads one scenario (a line of a JSONL scenario file) as [`parse_plan_json`]
/// reads a plan: the objective of its overrides with or without its prefix, every
/// repeated key refused with its path.
pub fn parse_scenario_json(text: &str) -> Result<pb::Scenario, JsonError> {
    parse_message(text, SCENARIO_MAPS, SCENARIO_ENUMS)
}

/// Reads an allocation file (proto3 JSON of `tradeoff.v1.Allocation`) as
/// [`parse_plan_json`] reads a plan: a driver's `units` given twice is refused
/// instead of keeping the later list.
pub fn parse_allocation_json(text: &str) -> Result<pb::Allocation, JsonError> {
    parse_message(text, &[], &[])
}

/// The proto3 JSON names of `ScenarioOverrides`' map fields, whose keys are driver
/// ids and period names rather than field names (so `newAe` and `new_ae` are two
/// keys there, not one field under two names).
const SCENARIO_MAPS: &[&str] = &[
    "periodBudgetCaps",
    "revenueScale",
    "costScale",
    "minUnits",
    "maxUnits",
];

/// One message of proto3 JSON: repeated keys refused (`maps` name the map fields,
/// whose keys are data), errors with line, column and path, and the enum names at
/// `enums` accepted without their proto prefix.
fn parse_message<T: serde::de::DeserializeOwned>(
    text: &str,
    maps: &[&str],
    enums: EnumPlaces,
) -> Result<T, JsonError> {
    if let Err(repeated) = check_unique_keys(text, maps) {
        return Err(repeated.into());
    }
    // Most files parse as they are, and this path knows the line and column of errors.
    let strict = {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize::<_, T>(&mut de)
            .map_err(|e| JsonError::from_tracked(&e))
            .and_then(|message| {
                de.end().map_err(|e| JsonError::new(String::new(), &e))?;
                Ok(message)
            })
    };
    let strict_error = match strict {
        Ok(message) => return Ok(message),
        Err(error) => error,
    };
    let mut value: Value =
        serde_json::from_str(text).map_err(|e| JsonError::new(String::new(), &e))?;
    match normalise_enums(&mut value, enums) {
        Ok(true) => {}
        Ok(false) => return Err(strict_error),
        Err((path, message)) => {
            // Where the strict pass stopped at this very value, its place is known.
            return Err(match strict_error {
                JsonError::Located {
                    line,
                    column,
                    path: at,
                    ..
                } if at == path => JsonError::Located {
                    line,
                    column,
                    path,
                    message,
                },
                _ => JsonError::Field { path, message },
            });
        }
    }
    serde_path_to_error::deserialize(value).map_err(|e| JsonError::from_tracked(&e))
}

/// The names of one proto enum, for adding the prefix docs/MODEL.md leaves off.
struct EnumNames {
    prefix: &'static str,
    known: fn(&str) -> bool,
    expected: &'static str,
}

const OBJECTIVE: EnumNames = EnumNames {
    prefix: "OBJECTIVE_",
    known: |name| pb::Objective::from_str_name(name).is_some(),
    expected: "MAXIMIZE_REVENUE, MAXIMIZE_CONTRIBUTION, MINIMIZE_SPEND",
};

const SENSE: EnumNames = EnumNames {
    prefix: "SENSE_",
    known: |name| pb::Sense::from_str_name(name).is_some(),
    expected: "LESS_EQUAL, GREATER_EQUAL, EQUAL",
};

const LINK_MEASURE: EnumNames = EnumNames {
    prefix: "LINK_MEASURE_",
    known: |name| pb::LinkMeasure::from_str_name(name).is_some(),
    expected: "COMMITTED, ACTIVE",
};

/// Where a message's enum fields sit: each a path of object keys (`key[]` is every
/// element of the array at `key`), with the enum's names.
type EnumPlaces = &'static [(&'static [&'static str], &'static EnumNames)];

const PLAN_ENUMS: EnumPlaces = &[
    (&["objective"], &OBJECTIVE),
    (&["links[]", "sense"], &SENSE),
    (&["links[]", "measure"], &LINK_MEASURE),
];

const SCENARIO_ENUMS: EnumPlaces = &[(&["overrides", "objective"], &OBJECTIVE)];

/// Adds the proto prefix to unprefixed enum names at `places`. Returns whether
/// anything changed, or the path and description of an unknown name.
fn normalise_enums(message: &mut Value, places: EnumPlaces) -> Result<bool, (String, String)> {
    let mut changed = false;
    for (place, names) in places {
        changed |= normalise_at(message, place, String::new(), names)?;
    }
    Ok(changed)
}

/// [`normalise_enums`] at one place below `value` (found at `path`).
fn normalise_at(
    value: &mut Value,
    place: &[&str],
    path: String,
    names: &EnumNames,
) -> Result<bool, (String, String)> {
    let Some((&step, rest)) = place.split_first() else {
        return add_prefix(value, path, names);
    };
    let (key, every) = match step.strip_suffix("[]") {
        Some(key) => (key, true),
        None => (step, false),
    };
    let Some(child) = value.as_object_mut().and_then(|object| object.get_mut(key)) else {
        return Ok(false);
    };
    let path = if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    };
    if !every {
        return normalise_at(child, rest, path, names);
    }
    let Value::Array(items) = child else {
        // Wrong types are the deserializer's to judge.
        return Ok(false);
    };
    let mut changed = false;
    for (index, item) in items.iter_mut().enumerate() {
        changed |= normalise_at(item, rest, format!("{path}[{index}]"), names)?;
    }
    Ok(changed)
}

fn add_prefix(
    value: &mut Value,
    path: String,
    names: &EnumNames,
) -> Result<bool, (String, String)> {
    let Value::String(name) = value else {
        // Numbers and wrong types are the deserializer's to judge.
        return Ok(false);
    };
    if (names.known)(name) {
        return Ok(false);
    }
    let prefixed = format!("{}{name}", names.prefix);
    if (names.known)(&prefixed) {
        *name = prefixed;
        return Ok(true);
    }
    let message = format!("unknown value {name:?}; expected one of {}", names.expected);
    Err((path, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{plan_from_pb, Limits, PlanError};

    fn parse(text: &str) -> pb::Plan {
        parse_plan_json(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn error(text: &str) -> String {
        match parse_plan_json(text) {
            Ok(plan) => panic!("{text}: parsed as {plan:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn camel_case_with_unprefixed_enums() {
        let plan = parse(
            r#"{
              "budgetCap": 100,
              "baselineGrossMargin": 0.8,
              "objective": "MAXIMIZE_CONTRIBUTION",
              "drivers": [{"id": "a", "unitCost": 2, "minUnitsByPeriod": [1],
                           "response": [{"units": 5, "revenuePerUnit": 3}, {"revenuePerUnit": 1}]}],
              "links": [{"name": "l", "terms": [{"driverId": "a", "coefficient": 1}],
                         "sense": "GREATER_EQUAL", "perPeriod": true}]
            }"#,
        );
        assert_eq!(plan.budget_cap, Some(100.0));
        assert_eq!(plan.baseline_gross_margin, Some(0.8));
        assert_eq!(plan.objective, pb::Objective::MaximizeContribution as i32);
        assert_eq!(plan.drivers[0].unit_cost, Some(2.0));
        assert_eq!(plan.drivers[0].min_units_by_period, [1.0]);
        assert_eq!(plan.drivers[0].response[1].revenue_per_unit, 1.0);
        assert_eq!(plan.links[0].terms[0].driver_id, "a");
        assert_eq!(plan.links[0].sense, pb::Sense::GreaterEqual as i32);
        assert!(plan.links[0].per_period);
    }

    #[test]
    fn snake_case_with_prefixed_enums() {
        let plan = parse(
            r#"{
              "budget_cap": 100,
              "objective": "OBJECTIVE_MINIMIZE_SPEND",
              "requirements": {"revenue_target": 50},
              "drivers": [{"id": "a", "unit_cost": 2, "response": [{"revenue_per_unit": 3}]}],
              "links": [{"name": "l", "terms": [{"driver_id": "a", "coefficient": 1}],
                         "sense": "SENSE_EQUAL", "rhs": 4}]
            }"#,
        );
        assert_eq!(plan.budget_cap, Some(100.0));
        assert_eq!(plan.objective, pb::Objective::MinimizeSpend as i32);
        assert_eq!(plan.requirements.and_then(|r| r.revenue_target), Some(50.0));
        assert_eq!(plan.drivers[0].unit_cost, Some(2.0));
        assert_eq!(plan.links[0].sense, pb::Sense::Equal as i32);
        assert_eq!(plan.links[0].rhs, 4.0);
    }

    #[test]
    fn unknown_field_is_refused_with_its_place() {
        let text = "{\n  \"drivers\": [],\n  \"budgetCapp\": 1\n}";
        let message = error(text);
        assert!(message.starts_with("line 3, column "), "{message}");
        assert!(message.contains("unknown field `budgetCapp`"), "{message}");
    }

    #[test]
    fn unknown_field_next_to_unprefixed_enum_is_refused_with_its_path() {
        let text = r#"{"objective": "MINIMIZE_SPEND", "drivers": [{"id": "a", "colour": 1}]}"#;
        let message = error(text);
        assert!(message.starts_with("drivers[0]"), "{message}");
        assert!(message.contains("unknown field `colour`"), "{message}");
    }

    #[test]
    fn syntax_error_reports_line_and_column() {
        let text = "{\n  \"drivers\": [\n    {\"id\": \"a\",}\n  ]\n}";
        assert_eq!(
            parse_plan_json(text).err().map(|e| match e {
                JsonError::Located { line, column, .. } => (line, column),
                JsonError::Field { .. } => (0, 0),
            }),
            Some((3, 16))
        );
        assert!(error(text).starts_with("line 3, column 16: "));
        assert!(error("{} trailing").starts_with("line 1, column 4: "));
    }

    #[test]
    fn wrong_type_reports_path() {
        let message = error("{\"drivers\": [{\"id\": \"a\", \"unitCost\": true}]}");
        assert_eq!(
            message,
            "line 1, column 42: drivers[0].unitCost: expected a number (or a string such as \"1.5\")"
        );
    }

    #[test]
    fn unknown_enum_names_are_listed() {
        assert_eq!(
            error("{\n\"objective\": \"MAX_REV\"}"),
            "line 2, column 22: objective: unknown value \"MAX_REV\"; \
             expected one of MAXIMIZE_REVENUE, MAXIMIZE_CONTRIBUTION, MINIMIZE_SPEND"
        );
        assert_eq!(
            error(
                r#"{"objective": "MINIMIZE_SPEND", "links": [{"name": "l"}, {"sense": "AT_LEAST"}]}"#
            ),
            "links[1].sense: unknown value \"AT_LEAST\"; \
             expected one of LESS_EQUAL, GREATER_EQUAL, EQUAL"
        );
    }

    #[test]
    fn repeated_key_is_refused_with_its_path_and_place() {
        // The path ends at the repeated key itself, and the line is the key's.
        let text = "{\n  \"drivers\": [{\"id\": \"a\", \"response\": [{\"revenuePerUnit\": 1}]},\n    {\"id\": \"b\", \"response\": [{\"revenuePerUnit\": 2}]},\n    {\"id\": \"c\", \"response\": [{\"revenuePerUnit\": 3, \"revenuePerUnit\": 4}]}]\n}";
        let message = error(text);
        assert!(message.starts_with("line 4, column "), "{message}");
        assert!(
            message.contains(
                ": drivers[2].response[0].revenuePerUnit: the key `revenuePerUnit` appears twice"
            ),
            "{message}"
        );
    }

    #[test]
    fn repeated_key_is_refused_on_every_reading_path() {
        // Through the strict pass (prefixed enums) and through the pass that adds enum
        // prefixes (unprefixed ones), with the earlier value null, a number or a list.
        // Before the check, pbjson refused the repeat on the strict pass unless the
        // earlier value was null, and the `Value` pass kept the later one: a plan
        // with `"objective": "MAXIMIZE_REVENUE"` solved with `budgetCap` 5.
        for objective in ["OBJECTIVE_MAXIMIZE_REVENUE", "MAXIMIZE_REVENUE"] {
            for first in ["null", "1", "[]"] {
                let text = format!(
                    r#"{{"objective": "{objective}", "budgetCap": {first}, "budgetCap": 5,
                        "drivers": [{{"id": "a", "response": [{{"revenuePerUnit": 1}}]}}]}}"#
                );
                let message = error(&text);
                assert!(
                    message.contains("budgetCap: the key `budgetCap` appears twice"),
                    "{message}"
                );
            }
            let text = format!(
                r#"{{"objective": "{objective}", "drivers": [{{"id": "a", "response": []}}],
                    "drivers": [{{"id": "b", "response": []}}]}}"#
            );
            assert!(error(&text).contains(": drivers: the key `drivers` appears twice"));
        }
    }

    #[test]
    fn a_field_under_both_names_is_refused_with_its_path() {
        let message = error(
            r#"{"budget_cap": 100, "drivers": [{"id": "a", "response": [{"revenuePerUnit": 1}]}],
                "budgetCap": 100}"#,
        );
        assert!(message.starts_with("line 2, column "), "{message}");
        assert!(
            message.contains(": budgetCap: `budgetCap` and `budget_cap` are the same field"),
            "{message}"
        );
        let message =
            error(r#"{"drivers": [{"id": "a", "unit_cost": 2, "unitCost": 3, "response": []}]}"#);
        assert!(
            message.contains(": drivers[0].unitCost: `unitCost` and `unit_cost`"),
            "{message}"
        );
        let message = error(
            r#"{"objective": "MINIMIZE_SPEND", "requirements": {"revenueTarget": 1, "revenue_target": 2}}"#,
        );
        assert!(
            message.contains(": requirements.revenue_target: `revenue_target` and `revenueTarget`"),
            "{message}"
        );
    }

    #[test]
    fn non_finite_strings_parse_then_fail_validation() {
        let plan = parse(
            r#"{"budgetCap": "Infinity",
                "drivers": [{"id": "a", "unitCost": "NaN",
                             "response": [{"revenuePerUnit": "-Infinity"}]}]}"#,
        );
        let Err(PlanError::Invalid(violations)) = plan_from_pb(&plan, &Limits::default()) else {
            panic!("expected an invalid plan");
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "budget_cap",
                "drivers[0].unit_cost",
                "drivers[0].response[0].revenue_per_unit"
            ]
        );
    }
}
