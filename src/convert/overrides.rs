//! Scenario overrides: a variant of a base plan, made on the wire plan so that the
//! variant goes through the one validation there is ([`crate::convert::plan_from_pb`])
//! exactly like a plan file, and so that violations it finds can be traced back to
//! the override that caused them.

use std::collections::BTreeMap;

use super::FieldViolation;
use crate::pb;

/// A base plan with one scenario's overrides applied, and where each changed plan
/// field came from.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The variant plan, not yet validated.
    pub plan: pb::Plan,
    /// Plan field path (`drivers[1].unit_cost`) → the override that set it
    /// (`scenarios[3].overrides.cost_scale[b]`), for [`Applied::locate`].
    origins: Vec<(String, String)>,
    /// Path of the overrides (`scenarios[3].overrides`), for violations that no
    /// single override explains.
    root: String,
}

impl Applied {
    /// Moves a violation found by validating [`Applied::plan`] onto the override
    /// that caused it, so that the caller sees the field it wrote. The base plan
    /// was valid, so every violation comes from an override; one that no override
    /// set directly (a rule between fields) is reported on the overrides as a whole,
    /// naming the plan field.
    pub fn locate(&self, violation: FieldViolation) -> FieldViolation {
        let field = &violation.field;
        let origin = self.origins.iter().find(|(plan_path, _)| {
            field == plan_path
                || field
                    .strip_prefix(plan_path.as_str())
                    .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
        });
        match origin {
            Some((_, override_path)) => FieldViolation {
                field: override_path.clone(),
                description: violation.description,
            },
            None => FieldViolation {
                field: self.root.clone(),
                description: format!("{}: {}", violation.field, violation.description),
            },
        }
    }
}

/// Applies `overrides` to a copy of `base`. `root` is the overrides' path in the
/// request (`scenarios[3].overrides`); violations are reported under it. Checks
/// here only what validation of the result cannot see: unknown driver and period
/// names, scale factors (finite, >= 0), an unknown objective, and a driver both
/// excluded and given a minimum.
pub fn apply(
    base: &pb::Plan,
    overrides: &pb::ScenarioOverrides,
    root: &str,
) -> Result<Applied, Vec<FieldViolation>> {
    let mut plan = base.clone();
    let mut origins = Vec::new();
    let mut violations = Vec::new();
    let mut violation = |field: String, description: String| {
        violations.push(FieldViolation { field, description });
    };

    if let Some(cap) = overrides.budget_cap {
        plan.budget_cap = Some(cap);
        origins.push(("budget_cap".into(), format!("{root}.budget_cap")));
    }

    // The default single period exists only implicitly; a cap on it makes it real.
    if plan.periods.is_empty() && !overrides.period_budget_caps.is_empty() {
        plan.periods.push(pb::Period {
            name: crate::model::WHOLE_HORIZON.into(),
            ..pb::Period::default()
        });
    }
    for (name, &cap) in &overrides.period_budget_caps {
        let path = format!("{root}.period_budget_caps[{name}]");
        match plan.periods.iter().position(|period| &period.name == name) {
            Some(t) => {
                plan.periods[t].budget_cap = Some(cap);
                origins.push((format!("periods[{t}].budget_cap"), path));
            }
            None => violation(path, format!("the base plan has no period named {name:?}")),
        }
    }

    let requirements = [
        ("min_margin", overrides.min_margin),
        ("min_contribution", overrides.min_contribution),
        ("revenue_target", overrides.revenue_target),
        ("min_roi", overrides.min_roi),
    ];
    for (name, value) in requirements {
        let Some(value) = value else { continue };
        let target = plan.requirements.get_or_insert_with(Default::default);
        let slot = match name {
            "min_margin" => &mut target.min_margin,
            "min_contribution" => &mut target.min_contribution,
            "revenue_target" => &mut target.revenue_target,
            _ => &mut target.min_roi,
        };
        *slot = Some(value);
        origins.push((format!("requirements.{name}"), format!("{root}.{name}")));
    }

    if let Some(cap) = overrides.max_change {
        match plan.replan.as_mut() {
            Some(replan) => {
                replan.max_change = Some(cap);
                origins.push(("replan.max_change".into(), format!("{root}.max_change")));
            }
            None => violation(
                format!("{root}.max_change"),
                "the base plan is not a re-plan (it has no replan): nothing to cap".into(),
            ),
        }
    }

    if let Some(confidence) = overrides.confidence {
        match plan.uncertainty.as_mut() {
            Some(uncertainty) => {
                uncertainty.confidence = Some(confidence);
                origins.push((
                    "uncertainty.confidence".into(),
                    format!("{root}.confidence"),
                ));
            }
            None => violation(
                format!("{root}.confidence"),
                "the base plan has no uncertainty: nothing to be confident about".into(),
            ),
        }
    }
    if let Some(scale) = overrides.range_scale {
        let path = format!("{root}.range_scale");
        match plan.uncertainty.as_mut().filter(|u| !u.ranges.is_empty()) {
            Some(_) if !valid_factor(scale) => violation(path, bad_factor(scale)),
            Some(uncertainty) => {
                for range in &mut uncertainty.ranges {
                    range.low = (1.0 - scale * (1.0 - range.low)).max(0.0);
                    range.high = 1.0 + scale * (range.high - 1.0);
                }
                origins.push(("uncertainty.ranges".into(), path));
            }
            None => violation(
                path,
                "the base plan has no uncertainty ranges to scale".into(),
            ),
        }
    }

    match pb::Objective::try_from(overrides.objective) {
        Ok(pb::Objective::Unspecified) => {}
        Ok(_) => {
            plan.objective = overrides.objective;
            origins.push(("objective".into(), format!("{root}.objective")));
        }
        Err(_) => violation(
            format!("{root}.objective"),
            format!("unknown objective {}", overrides.objective),
        ),
    }

    let mut index = DriverIndex::new(&plan);
    for (id, &factor) in &overrides.revenue_scale {
        let path = format!("{root}.revenue_scale[{id}]");
        let Some(d) = index.find(id, &path, &mut violation) else {
            continue;
        };
        if !valid_factor(factor) {
            violation(path, bad_factor(factor));
            continue;
        }
        for segment in &mut plan.drivers[d].response {
            segment.revenue_per_unit *= factor;
        }
        origins.push((format!("drivers[{d}].response"), path));
    }
    for (id, &factor) in &overrides.cost_scale {
        let path = format!("{root}.cost_scale[{id}]");
        let Some(d) = index.find(id, &path, &mut violation) else {
            continue;
        };
        if !valid_factor(factor) {
            violation(path, bad_factor(factor));
            continue;
        }
        let driver = &mut plan.drivers[d];
        driver.unit_cost = Some(driver.unit_cost.unwrap_or(1.0) * factor);
        origins.push((format!("drivers[{d}].unit_cost"), path));
    }
    // Per-driver bounds: each replaces the scalar and the by-period list.
    let bounds: [(&str, &BTreeMap<String, f64>, BoundFields); 4] = [
        ("min_units", &overrides.min_units, |d| {
            (&mut d.min_units, &mut d.min_units_by_period)
        }),
        ("max_units", &overrides.max_units, |d| {
            (&mut d.max_units, &mut d.max_units_by_period)
        }),
        ("min_active", &overrides.min_active, |d| {
            (&mut d.min_active, &mut d.min_active_by_period)
        }),
        ("max_active", &overrides.max_active, |d| {
            (&mut d.max_active, &mut d.max_active_by_period)
        }),
    ];
    for (field, values, fields) in bounds {
        for (id, &value) in values {
            let path = format!("{root}.{field}[{id}]");
            let Some(d) = index.find(id, &path, &mut violation) else {
                continue;
            };
            let (scalar, by_period) = fields(&mut plan.drivers[d]);
            *scalar = Some(value);
            by_period.clear();
            origins.push((format!("drivers[{d}].{field}"), path.clone()));
            origins.push((format!("drivers[{d}].{field}_by_period"), path));
        }
    }
    for (j, id) in overrides.excluded_drivers.iter().enumerate() {
        let path = format!("{root}.excluded_drivers[{j}]");
        let Some(d) = index.find(id, &path, &mut violation) else {
            continue;
        };
        if overrides.min_units.contains_key(id) {
            violation(
                path,
                format!("driver {id:?} is excluded and also given a min_units override"),
            );
            continue;
        }
        let driver = &mut plan.drivers[d];
        driver.min_units = None;
        driver.min_units_by_period.clear();
        driver.max_units = Some(0.0);
        driver.max_units_by_period.clear();
        origins.push((format!("drivers[{d}].max_units"), path.clone()));
        origins.push((format!("drivers[{d}].min_units"), path));
    }

    if violations.is_empty() {
        Ok(Applied {
            plan,
            origins,
            root: root.into(),
        })
    } else {
        Err(violations)
    }
}

/// A driver's scalar bound and its by-period list, for one kind of bound.
type BoundFields = fn(&mut pb::Driver) -> (&mut Option<f64>, &mut Vec<f64>);

/// A scale factor keeps a curve a curve: finite and not negative.
fn valid_factor(factor: f64) -> bool {
    factor.is_finite() && factor >= 0.0
}

fn bad_factor(factor: f64) -> String {
    format!("a scale factor must be finite and >= 0, got {factor}")
}

/// Driver ids of the base plan → their index, for the map overrides.
struct DriverIndex(BTreeMap<String, usize>);

impl DriverIndex {
    fn new(plan: &pb::Plan) -> Self {
        let mut ids = BTreeMap::new();
        for (d, driver) in plan.drivers.iter().enumerate() {
            // The base plan is valid, so ids are unique; keep the first regardless.
            ids.entry(driver.id.clone()).or_insert(d);
        }
        DriverIndex(ids)
    }

    /// The driver's index, or a violation at `path` naming the unknown id.
    fn find(
        &mut self,
        id: &str,
        path: &str,
        violation: &mut impl FnMut(String, String),
    ) -> Option<usize> {
        let found = self.0.get(id).copied();
        if found.is_none() {
            violation(
                path.to_string(),
                format!("the base plan has no driver {id:?}"),
            );
        }
        found
    }
}

#[cfg(test)]
mod tests;
