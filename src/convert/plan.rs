//! `pb::Plan` → [`model::Plan`]: size limits, every validity rule of docs/MODEL.md §1
//! with every violation collected under its field path, and the defaults resolved.

use std::collections::{HashMap, HashSet};
use std::fmt::Display;

use super::{FieldViolation, Limits, PlanError};
use crate::model::{Domain, MAX_MAGNITUDE, MIN_MAGNITUDE};
use crate::{model, pb};

/// Longest id or name: they appear inside constraint names.
const MAX_NAME_LEN: usize = 64;

/// Turns a wire plan into a validated plan, so that everything downstream (program
/// builder, solver, reports) can trust docs/MODEL.md's invariants without checking them.
///
/// Oversized plans are refused first, before any per-field work, so that one request
/// cannot take the memory or the solver time of all others. Otherwise every broken
/// rule is reported at once, each with its field path, so that a planner can fix a
/// plan in one round trip.
pub fn plan_from_pb(plan: &pb::Plan, limits: &Limits) -> Result<model::Plan, PlanError> {
    check_sizes(plan, limits)?;
    let mut violations = Violations::default();
    let model = assemble(plan, &mut violations);
    check_segment_order(&model, &mut violations);
    if !violations.0.is_empty() {
        return Err(PlanError::Invalid(violations.0));
    }
    too_large("variables", count_variables(&model), limits.max_variables)?;
    Ok(model)
}

impl TryFrom<&pb::Plan> for model::Plan {
    type Error = PlanError;

    /// Validates with the default [`Limits`], for callers without a configuration of
    /// their own (tests, tools, embedding).
    fn try_from(plan: &pb::Plan) -> Result<Self, Self::Error> {
        plan_from_pb(plan, &Limits::default())
    }
}

impl TryFrom<pb::Plan> for model::Plan {
    type Error = PlanError;

    /// Validates with the default [`Limits`], for callers without a configuration of
    /// their own (tests, tools, embedding).
    fn try_from(plan: pb::Plan) -> Result<Self, Self::Error> {
        plan_from_pb(&plan, &Limits::default())
    }
}

/// The number of variables of the plan's program (docs/MODEL.md §2), known before it is
/// built so that [`Limits::max_variables`] can refuse a plan cheaply.
///
/// Per driver with `K` segments over `T` periods: `K*T` segment variables, `T` integer
/// unit totals when the driver is integer with `K > 1` (with one segment the segment
/// variable itself is integer), and `(K-1)*T` binaries when its segment order is
/// enforced; a re-plan adds two (units added and units taken away) per driver and
/// unlocked period, a confidence one per driver and outcome and one more.
pub fn count_variables(plan: &model::Plan) -> usize {
    let periods = plan.periods.len();
    let moves = plan.replan.as_ref().map_or(0, |replan| {
        let unlocked = (0..periods).filter(|&t| !replan.is_locked(t)).count();
        unlocked
            .saturating_mul(2)
            .saturating_mul(plan.drivers.len())
    });
    // A confidence adds each driver's revenue, the value at risk and one
    // shortfall per outcome (docs/MODEL.md §7).
    let tail = plan
        .uncertainty
        .as_ref()
        .filter(|u| u.confidence.is_some())
        .map_or(0, |u| plan.drivers.len() + 1 + u.outcomes.len());
    let moves = moves.saturating_add(tail);
    plan.drivers
        .iter()
        .enumerate()
        .map(|(index, driver)| {
            let segments = driver.response.len();
            let integer = usize::from(driver.integer && segments > 1);
            let order = if plan.needs_segment_order(index) {
                segments.saturating_sub(1)
            } else {
                0
            };
            (segments + integer + order).saturating_mul(periods)
        })
        .fold(moves, usize::saturating_add)
}

fn check_sizes(plan: &pb::Plan, limits: &Limits) -> Result<(), PlanError> {
    too_large("drivers", plan.drivers.len(), limits.max_drivers)?;
    if let Some(u) = &plan.uncertainty {
        // Refused before any draw: outcomes cost a factor per driver each.
        too_large(
            "outcomes (uncertainty.samples)",
            u.samples.len(),
            MAX_OUTCOMES,
        )?;
        let drawn = u.sample_count.map_or(0, |count| count as usize);
        too_large("outcomes (uncertainty.sample_count)", drawn, MAX_OUTCOMES)?;
    }
    too_large("periods", plan.periods.len(), limits.max_periods)?;
    let segments = plan.drivers.iter().map(|d| d.response.len()).max();
    too_large(
        "segments of a driver",
        segments.unwrap_or(0),
        limits.max_segments,
    )
}

fn too_large(what: &'static str, actual: usize, limit: usize) -> Result<(), PlanError> {
    if actual > limit {
        return Err(PlanError::TooLarge {
            what,
            actual,
            limit,
        });
    }
    Ok(())
}

/// The violations found so far, with one checking helper per kind of rule.
#[derive(Debug, Default)]
struct Violations(Vec<FieldViolation>);

impl Violations {
    fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// Checks one number; returns it when it passes. The path is written out
    /// only for a violation: a valid plan's thousands of numbers (every
    /// scenario of a batch checks its whole plan) format none.
    fn number(&mut self, path: impl Display, x: f64, rule: Domain) -> Option<f64> {
        if rule.allows(x) {
            return Some(x);
        }
        let path = path.to_string();
        let path = path.as_str();
        let problem = if !x.is_finite() {
            "must be a finite number"
        } else if x.abs() > MAX_MAGNITUDE {
            "must be at most 1e15 in magnitude"
        } else if x != 0.0 && x.abs() < MIN_MAGNITUDE {
            "must be 0 or at least 1e-15 in magnitude"
        } else {
            rule.requirement()
        };
        self.add(path, format!("{} {problem}, got {}", leaf(path), show(x)));
        None
    }

    /// Checks an optional number; returns it when it is set and passes.
    fn optional(&mut self, path: impl Display, x: Option<f64>, rule: Domain) -> Option<f64> {
        x.and_then(|x| self.number(path, x, rule))
    }

    /// Checks every entry of a list, each under `path[j]`.
    fn list(&mut self, path: impl Display, xs: &[f64], rule: Domain) {
        for (j, &x) in xs.iter().enumerate() {
            self.number(format_args!("{path}[{j}]"), x, rule);
        }
    }

    /// Checks a per-period list: empty (use the default) or one entry per period.
    fn per_period(&mut self, path: impl Display, xs: &[f64], periods: usize, rule: Domain) {
        if !xs.is_empty() && xs.len() != periods {
            let path = path.to_string();
            let description = format!(
                "{} needs one entry per period ({periods}), got {}",
                leaf(&path),
                xs.len()
            );
            self.add(path, description);
        }
        self.list(&path, xs, rule);
    }

    /// Checks `min <= max` where both are known valid; flags the field at `path`.
    fn ordered(&mut self, path: &str, min: (&str, Option<f64>), max: (&str, Option<f64>)) {
        if let ((min_name, Some(lo)), (max_name, Some(hi))) = (min, max) {
            if lo > hi {
                self.add(
                    path,
                    format!("{min_name} {} must be <= {max_name} {}", show(lo), show(hi)),
                );
            }
        }
    }

    /// Checks each name against `[A-Za-z0-9_.-]{1,64}` and flags later duplicates.
    fn names<'a>(&mut self, list: &str, field: &str, names: impl IntoIterator<Item = &'a str>) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, name) in names.into_iter().enumerate() {
            let path = format!("{list}[{index}].{field}");
            if !self.name(&path, name) {
                continue;
            }
            if let Some(first) = seen.get(name) {
                self.add(
                    path,
                    format!("{field} {} is already used by {list}[{first}]", quote(name)),
                );
            } else {
                seen.insert(name, index);
            }
        }
    }

    fn name(&mut self, path: &str, name: &str) -> bool {
        let field = leaf(path);
        let problem = if name.is_empty() {
            format!("{field} is required: 1 to {MAX_NAME_LEN} of A-Z a-z 0-9 _ . -")
        } else if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            format!(
                "{field} may only use A-Z a-z 0-9 _ . -, got {}",
                quote(name)
            )
        } else if name.len() > MAX_NAME_LEN {
            // Only ASCII is left, so bytes are characters.
            format!(
                "{field} must be at most {MAX_NAME_LEN} characters, got {}",
                name.len()
            )
        } else {
            return true;
        };
        self.add(path, problem);
        false
    }
}

/// The last component of a field path, to name the field in its description.
fn leaf(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// A number as a planner would write it in a plan file.
fn show(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if x != 0.0 && !(1e-6..1e15).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// A string echoed in a message, quoted and cut short so that a huge input cannot
/// make a huge error.
fn quote(text: &str) -> String {
    let cut: String = text.chars().take(MAX_NAME_LEN).collect();
    if cut.len() < text.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

/// Builds the model plan from the wire plan, recording every violation on the way;
/// the result is only meaningful when none was recorded.
fn assemble(plan: &pb::Plan, v: &mut Violations) -> model::Plan {
    if plan.drivers.is_empty() {
        v.add("drivers", "a plan needs at least one driver");
    }
    let baseline_gross_margin = plan.baseline_gross_margin.unwrap_or(1.0);
    v.number(
        "baseline_gross_margin",
        baseline_gross_margin,
        Domain::Fraction,
    );
    v.optional("budget_cap", plan.budget_cap, Domain::NonNegative);

    let periods = periods(plan, v);
    v.names("drivers", "id", plan.drivers.iter().map(|d| d.id.as_str()));
    let drivers: Vec<model::Driver> = plan
        .drivers
        .iter()
        .enumerate()
        .map(|(i, d)| {
            driver(
                &format!("drivers[{i}]"),
                d,
                periods.len(),
                baseline_gross_margin,
                v,
            )
        })
        .collect();
    let requirements = requirements(plan.requirements.unwrap_or_default(), v);
    let objective = objective(plan, v);

    let index = DriverIndex::new(&plan.drivers);
    v.names(
        "groups",
        "name",
        plan.groups.iter().map(|g| g.name.as_str()),
    );
    let groups = plan
        .groups
        .iter()
        .enumerate()
        .map(|(g, group)| self::group(&format!("groups[{g}]"), group, &index, v))
        .collect();
    v.names("links", "name", plan.links.iter().map(|l| l.name.as_str()));
    let links = plan
        .links
        .iter()
        .enumerate()
        .map(|(l, link)| self::link(&format!("links[{l}]"), link, &index, v))
        .collect();

    let replan = plan
        .replan
        .as_ref()
        .map(|r| self::replan(r, &index, &periods, &drivers, v));
    let uncertainty = plan
        .uncertainty
        .as_ref()
        .map(|u| uncertainty::uncertainty(u, &index, &drivers, requirements.revenue_target, v));

    model::Plan {
        name: plan.name.clone(),
        currency: or_default(&plan.currency, "USD"),
        periods,
        drivers,
        baseline_gross_margin,
        budget_cap: plan.budget_cap,
        requirements,
        groups,
        links,
        objective,
        replan,
        uncertainty,
    }
}

fn or_default(text: &str, default: &str) -> String {
    if text.is_empty() { default } else { text }.to_string()
}

fn periods(plan: &pb::Plan, v: &mut Violations) -> Vec<model::Period> {
    if plan.periods.is_empty() {
        return vec![model::Period {
            name: model::WHOLE_HORIZON.into(),
            baseline_revenue: 0.0,
            fixed_costs: 0.0,
            budget_cap: None,
            min_margin: None,
        }];
    }
    v.names(
        "periods",
        "name",
        plan.periods.iter().map(|p| p.name.as_str()),
    );
    plan.periods
        .iter()
        .enumerate()
        .map(|(t, period)| {
            let path = format!("periods[{t}]");
            v.number(
                format_args!("{path}.baseline_revenue"),
                period.baseline_revenue,
                Domain::NonNegative,
            );
            v.number(
                format_args!("{path}.fixed_costs"),
                period.fixed_costs,
                Domain::NonNegative,
            );
            v.optional(
                format_args!("{path}.budget_cap"),
                period.budget_cap,
                Domain::NonNegative,
            );
            v.optional(
                format_args!("{path}.min_margin"),
                period.min_margin,
                Domain::Margin,
            );
            model::Period {
                name: period.name.clone(),
                baseline_revenue: period.baseline_revenue,
                fixed_costs: period.fixed_costs,
                budget_cap: period.budget_cap,
                min_margin: period.min_margin,
            }
        })
        .collect()
}

fn driver(
    path: &str,
    d: &pb::Driver,
    periods: usize,
    baseline_gross_margin: f64,
    v: &mut Violations,
) -> model::Driver {
    let unit_cost = d.unit_cost.unwrap_or(1.0);
    v.number(
        format_args!("{path}.unit_cost"),
        unit_cost,
        Domain::Positive,
    );
    v.optional(
        format_args!("{path}.gross_margin"),
        d.gross_margin,
        Domain::Fraction,
    );
    let response = response(path, &d.response, v);
    let (min_units, max_units) = period_bounds(path, PeriodBounds::units(d), periods, v);
    let (min_active, max_active) = period_bounds(path, PeriodBounds::active(d), periods, v);
    v.per_period(
        format_args!("{path}.existing_active"),
        &d.existing_active,
        periods,
        Domain::NonNegative,
    );
    v.list(
        format_args!("{path}.active_profile"),
        &d.active_profile,
        Domain::Fraction,
    );

    v.per_period(
        format_args!("{path}.seasonality"),
        &d.seasonality,
        periods,
        Domain::NonNegative,
    );
    let return_profile = profile(&d.return_profile);
    v.list(
        format_args!("{path}.return_profile"),
        &d.return_profile,
        Domain::NonNegative,
    );
    let cost_profile = profile(&d.cost_profile);
    for (j, &x) in d.cost_profile.iter().enumerate() {
        // A unit that cost nothing when committed would be free in the last period.
        let rule = if j == 0 {
            Domain::Positive
        } else {
            Domain::NonNegative
        };
        v.number(format_args!("{path}.cost_profile[{j}]"), x, rule);
    }

    model::Driver {
        id: d.id.clone(),
        name: d.name.clone(),
        tags: d.tags.clone(),
        unit: or_default(&d.unit, "USD"),
        unit_cost,
        gross_margin: d.gross_margin.unwrap_or(baseline_gross_margin),
        response,
        min_units,
        max_units,
        seasonality: per_period_or(&d.seasonality, periods, 1.0),
        integer: d.integer,
        return_profile,
        cost_profile,
        active_profile: profile(&d.active_profile),
        existing_active: per_period_or(&d.existing_active, periods, 0.0),
        min_active,
        max_active,
    }
}

fn response(path: &str, segments: &[pb::Segment], v: &mut Violations) -> Vec<model::Segment> {
    let path = format!("{path}.response");
    if segments.is_empty() {
        v.add(&path, "a driver needs at least one response segment");
    }
    let mut previous: Option<f64> = None;
    for (k, segment) in segments.iter().enumerate() {
        match segment.units {
            Some(units) => {
                v.number(format_args!("{path}[{k}].units"), units, Domain::Positive);
            }
            None if k + 1 < segments.len() => {
                v.add(
                    format!("{path}[{k}].units"),
                    "units may be omitted only on the last segment",
                );
            }
            None => {}
        }
        let rpu = v.number(
            format_args!("{path}[{k}].revenue_per_unit"),
            segment.revenue_per_unit,
            Domain::NonNegative,
        );
        if let (Some(before), Some(now)) = (previous, rpu) {
            if now > before {
                v.add(
                    format!("{path}[{k}].revenue_per_unit"),
                    format!(
                        "revenue_per_unit {} is above the previous segment's {}: \
                         returns must not increase",
                        show(now),
                        show(before)
                    ),
                );
            }
        }
        previous = rpu.or(previous);
    }
    segments
        .iter()
        .map(|s| model::Segment {
            units: s.units,
            revenue_per_unit: s.revenue_per_unit,
        })
        .collect()
}

/// The four fields that bound one quantity of a driver in every period: a scalar
/// minimum and maximum and their by-period lists (`min_units`, `max_units`,
/// `min_units_by_period`, `max_units_by_period`, or the same for `active`).
struct PeriodBounds<'a> {
    /// The quantity's name in the fields: `units` or `active`.
    what: &'static str,
    min: Option<f64>,
    max: Option<f64>,
    min_by: &'a [f64],
    max_by: &'a [f64],
}

impl PeriodBounds<'_> {
    fn units(d: &pb::Driver) -> PeriodBounds<'_> {
        PeriodBounds {
            what: "units",
            min: d.min_units,
            max: d.max_units,
            min_by: &d.min_units_by_period,
            max_by: &d.max_units_by_period,
        }
    }

    fn active(d: &pb::Driver) -> PeriodBounds<'_> {
        PeriodBounds {
            what: "active",
            min: d.min_active,
            max: d.max_active,
            min_by: &d.min_active_by_period,
            max_by: &d.max_active_by_period,
        }
    }
}

/// Checks and resolves a driver's per-period bounds on one quantity (by-period
/// lists replace the scalars), including `min <= max` in every period. An unset
/// minimum is 0.
fn period_bounds(
    path: &str,
    bounds: PeriodBounds,
    periods: usize,
    v: &mut Violations,
) -> (Vec<f64>, Vec<Option<f64>>) {
    let what = bounds.what;
    let (min_field, max_field) = (format!("min_{what}"), format!("max_{what}"));
    let min_scalar = match bounds.min {
        None => Some(0.0),
        Some(x) => v.number(format_args!("{path}.{min_field}"), x, Domain::NonNegative),
    };
    let max_scalar = v.optional(
        format_args!("{path}.{max_field}"),
        bounds.max,
        Domain::NonNegative,
    );
    let (min_by, max_by) = (bounds.min_by, bounds.max_by);
    v.per_period(
        format_args!("{path}.{min_field}_by_period"),
        min_by,
        periods,
        Domain::NonNegative,
    );
    v.per_period(
        format_args!("{path}.{max_field}_by_period"),
        max_by,
        periods,
        Domain::NonNegative,
    );

    if min_by.is_empty() && max_by.is_empty() {
        v.ordered(
            &format!("{path}.{min_field}"),
            (&min_field, min_scalar),
            (&max_field, max_scalar),
        );
    } else {
        let at = |list: &[f64], t: usize| {
            list.get(t)
                .copied()
                .filter(|&x| Domain::NonNegative.allows(x))
        };
        for t in 0..periods {
            // Names are written out only for a period whose bounds cross.
            let lowest = if min_by.is_empty() {
                min_scalar
            } else {
                at(min_by, t)
            };
            let highest = if max_by.is_empty() {
                max_scalar
            } else {
                at(max_by, t)
            };
            if !matches!((lowest, highest), (Some(lo), Some(hi)) if lo > hi) {
                continue;
            }
            let min = if min_by.is_empty() {
                (min_field.clone(), min_scalar)
            } else {
                (format!("{min_field}_by_period[{t}]"), at(min_by, t))
            };
            let max = if max_by.is_empty() {
                (max_field.clone(), max_scalar)
            } else {
                (format!("{max_field}_by_period[{t}]"), at(max_by, t))
            };
            let flagged = if min_by.is_empty() { &max.0 } else { &min.0 };
            v.ordered(
                &format!("{path}.{flagged}"),
                (&min.0, min.1),
                (&max.0, max.1),
            );
        }
    }

    let minimum = if min_by.is_empty() {
        vec![bounds.min.unwrap_or(0.0); periods]
    } else {
        min_by.to_vec()
    };
    let maximum = if max_by.is_empty() {
        vec![bounds.max; periods]
    } else {
        max_by.iter().copied().map(Some).collect()
    };
    (minimum, maximum)
}

/// A per-period list as given, or `default` in every period when it is empty.
fn per_period_or(list: &[f64], periods: usize, default: f64) -> Vec<f64> {
    if list.is_empty() {
        vec![default; periods]
    } else {
        list.to_vec()
    }
}

/// A return or cost profile as given, or `[1]` (all at commitment) when empty.
fn profile(list: &[f64]) -> Vec<f64> {
    if list.is_empty() {
        vec![1.0]
    } else {
        list.to_vec()
    }
}

fn requirements(r: pb::Requirements, v: &mut Violations) -> model::Requirements {
    v.optional("requirements.min_margin", r.min_margin, Domain::Margin);
    v.optional(
        "requirements.min_contribution",
        r.min_contribution,
        Domain::Any,
    );
    v.optional("requirements.revenue_target", r.revenue_target, Domain::Any);
    v.optional("requirements.min_roi", r.min_roi, Domain::NonNegative);
    model::Requirements {
        min_margin: r.min_margin,
        min_contribution: r.min_contribution,
        revenue_target: r.revenue_target,
        min_roi: r.min_roi,
    }
}

fn objective(plan: &pb::Plan, v: &mut Violations) -> model::Objective {
    let objective = match pb::Objective::try_from(plan.objective) {
        Ok(pb::Objective::Unspecified | pb::Objective::MaximizeRevenue) => {
            model::Objective::MaximizeRevenue
        }
        Ok(pb::Objective::MaximizeContribution) => model::Objective::MaximizeContribution,
        Ok(pb::Objective::MinimizeSpend) => model::Objective::MinimizeSpend,
        Err(_) => {
            v.add(
                "objective",
                format!(
                    "unknown objective {}; expected MAXIMIZE_REVENUE (1), \
                     MAXIMIZE_CONTRIBUTION (2) or MINIMIZE_SPEND (3)",
                    plan.objective
                ),
            );
            model::Objective::default()
        }
    };
    let floors = plan.requirements.unwrap_or_default();
    if objective == model::Objective::MinimizeSpend
        && floors.revenue_target.is_none()
        && floors.min_contribution.is_none()
    {
        v.add(
            "objective",
            "MINIMIZE_SPEND needs requirements.revenue_target or requirements.min_contribution; \
             without a floor the least spend is zero",
        );
    }
    objective
}

/// Driver ids and tags resolved to indices, so that groups and links resolve their
/// references in constant time each.
struct DriverIndex<'a> {
    by_id: HashMap<&'a str, usize>,
    by_tag: HashMap<&'a str, Vec<usize>>,
}

impl<'a> DriverIndex<'a> {
    fn new(drivers: &'a [pb::Driver]) -> Self {
        let mut by_id = HashMap::new();
        let mut by_tag: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, driver) in drivers.iter().enumerate() {
            by_id.entry(driver.id.as_str()).or_insert(i);
            for tag in &driver.tags {
                by_tag.entry(tag.as_str()).or_default().push(i);
            }
        }
        DriverIndex { by_id, by_tag }
    }

    /// The index of driver `id`, or a violation at `path`.
    fn resolve(&self, path: &str, id: &str, v: &mut Violations) -> Option<usize> {
        let index = self.by_id.get(id).copied();
        if index.is_none() {
            v.add(path, format!("no driver has id {}", quote(id)));
        }
        index
    }
}

fn group(path: &str, g: &pb::Group, index: &DriverIndex, v: &mut Violations) -> model::Group {
    if g.driver_ids.is_empty() && g.tag.is_empty() {
        v.add(
            format!("{path}.driver_ids"),
            "a group needs driver_ids or a tag to have members",
        );
    }
    let mut members: Vec<usize> = g
        .driver_ids
        .iter()
        .enumerate()
        .filter_map(|(j, id)| index.resolve(&format!("{path}.driver_ids[{j}]"), id, v))
        .collect();
    if !g.tag.is_empty() {
        match index.by_tag.get(g.tag.as_str()) {
            Some(tagged) => members.extend(tagged),
            None => v.add(
                format!("{path}.tag"),
                format!("no driver carries tag {}", quote(&g.tag)),
            ),
        }
    }
    members.sort_unstable();
    members.dedup();

    let field = |name: &str| format!("{path}.{name}");
    let [min_spend, max_spend, min_share, max_share] = [
        ("min_spend", g.min_spend, Domain::NonNegative),
        ("max_spend", g.max_spend, Domain::NonNegative),
        ("min_share", g.min_share, Domain::Fraction),
        ("max_share", g.max_share, Domain::Fraction),
    ]
    .map(|(name, x, rule)| v.optional(format_args!("{path}.{name}"), x, rule));
    v.ordered(
        &field("min_spend"),
        ("min_spend", min_spend),
        ("max_spend", max_spend),
    );
    v.ordered(
        &field("min_share"),
        ("min_share", min_share),
        ("max_share", max_share),
    );

    model::Group {
        name: g.name.clone(),
        members,
        min_spend: g.min_spend,
        max_spend: g.max_spend,
        min_share: g.min_share,
        max_share: g.max_share,
    }
}

fn link(path: &str, l: &pb::Link, index: &DriverIndex, v: &mut Violations) -> model::Link {
    if l.terms.is_empty() {
        v.add(format!("{path}.terms"), "a link needs at least one term");
    }
    let terms = l
        .terms
        .iter()
        .enumerate()
        .map(|(j, term)| {
            let term_path = format!("{path}.terms[{j}]");
            let driver = index.resolve(&format!("{term_path}.driver_id"), &term.driver_id, v);
            v.number(
                format_args!("{term_path}.coefficient"),
                term.coefficient,
                Domain::Any,
            );
            model::LinkTerm {
                driver: driver.unwrap_or(0),
                coefficient: term.coefficient,
            }
        })
        .collect();
    v.number(format_args!("{path}.rhs"), l.rhs, Domain::Any);
    const SENSES: &str = "LESS_EQUAL (1), GREATER_EQUAL (2) or EQUAL (3)";
    let sense = match pb::Sense::try_from(l.sense) {
        Ok(pb::Sense::LessEqual) => model::Sense::LessEqual,
        Ok(pb::Sense::GreaterEqual) => model::Sense::GreaterEqual,
        Ok(pb::Sense::Equal) => model::Sense::Equal,
        Ok(pb::Sense::Unspecified) => {
            v.add(
                format!("{path}.sense"),
                format!("sense is required: {SENSES}"),
            );
            model::Sense::LessEqual
        }
        Err(_) => {
            v.add(
                format!("{path}.sense"),
                format!("unknown sense {}; expected {SENSES}", l.sense),
            );
            model::Sense::LessEqual
        }
    };
    let measure = match pb::LinkMeasure::try_from(l.measure) {
        Ok(pb::LinkMeasure::Unspecified | pb::LinkMeasure::Committed) => {
            model::LinkMeasure::Committed
        }
        Ok(pb::LinkMeasure::Active) => model::LinkMeasure::Active,
        Err(_) => {
            v.add(
                format!("{path}.measure"),
                format!(
                    "unknown measure {}; expected COMMITTED (1) or ACTIVE (2)",
                    l.measure
                ),
            );
            model::LinkMeasure::Committed
        }
    };
    model::Link {
        name: l.name.clone(),
        terms,
        sense,
        rhs: l.rhs,
        per_period: l.per_period,
        measure,
    }
}

/// docs/MODEL.md §6: the plan in force (known drivers, each once, one entry per
/// period, >= 0, whole for integer drivers), locked periods that exist (each once),
/// `max_change >= 0` and `max_objective_loss` in [0, 1). A locked value outside the
/// driver's bounds is no error: the plan is then infeasible, and diagnosed.
fn replan(
    r: &pb::Replan,
    index: &DriverIndex,
    periods: &[model::Period],
    drivers: &[model::Driver],
    v: &mut Violations,
) -> model::Replan {
    let mut current = vec![vec![0.0; periods.len()]; drivers.len()];
    let mut seen: HashMap<usize, usize> = HashMap::new();
    for (j, entry) in r.current.iter().enumerate() {
        let path = format!("replan.current[{j}]");
        let driver = index.resolve(&format!("{path}.driver_id"), &entry.driver_id, v);
        if let Some(i) = driver {
            if let Some(first) = seen.insert(i, j) {
                v.add(
                    format!("{path}.driver_id"),
                    format!(
                        "driver {} is listed twice (also replan.current[{first}])",
                        quote(&entry.driver_id)
                    ),
                );
            }
        }
        let units_path = format!("{path}.units");
        if entry.units.len() != periods.len() {
            v.add(
                &units_path,
                format!(
                    "units needs one entry per period ({}), got {}",
                    periods.len(),
                    entry.units.len()
                ),
            );
        }
        for (t, &units) in entry.units.iter().enumerate() {
            let Some(units) = v.number(
                format_args!("{units_path}[{t}]"),
                units,
                Domain::NonNegative,
            ) else {
                continue;
            };
            let whole = driver
                .and_then(|i| drivers.get(i))
                .is_none_or(|d| !d.integer);
            if !whole && units.fract() != 0.0 {
                v.add(
                    format!("{units_path}[{t}]"),
                    format!(
                        "driver {} has whole units; got {}",
                        quote(&entry.driver_id),
                        show(units)
                    ),
                );
            }
            if let Some(slot) = driver
                .and_then(|i| current.get_mut(i))
                .and_then(|u| u.get_mut(t))
            {
                *slot = units;
            }
        }
    }
    let mut locked = vec![false; periods.len()];
    for (k, name) in r.locked_periods.iter().enumerate() {
        let path = format!("replan.locked_periods[{k}]");
        match periods.iter().position(|period| &period.name == name) {
            Some(t) if locked[t] => v.add(path, format!("period {} is locked twice", quote(name))),
            Some(t) => locked[t] = true,
            None => v.add(path, format!("no period is named {}", quote(name))),
        }
    }
    v.optional("replan.max_change", r.max_change, Domain::NonNegative);
    if v.number(
        "replan.max_objective_loss",
        r.max_objective_loss,
        Domain::Fraction,
    )
    .is_some_and(|loss| loss >= 1.0)
    {
        v.add(
            "replan.max_objective_loss",
            "max_objective_loss must be below 1 (1 would give up the whole objective)",
        );
    }
    model::Replan {
        current,
        locked,
        max_change: r.max_change,
        max_objective_loss: r.max_objective_loss,
    }
}

/// docs/MODEL.md §2, segment order: a driver whose segments must be ordered with
/// binaries needs a finite big-M in every period.
///
/// The rule reads the assembled plan (resolved margins, bounds and caps), so it is
/// checked only where every field it reads passed: the plan's margin floors, caps and
/// default gross margin, and the driver's own fields.
fn check_segment_order(plan: &model::Plan, v: &mut Violations) {
    let Some(floor) = plan.strictest_margin_floor() else {
        return;
    };
    let plan_fields = [
        "baseline_gross_margin",
        "budget_cap",
        "periods",
        "requirements",
    ];
    if v.0
        .iter()
        .any(|x| plan_fields.iter().any(|f| x.field.starts_with(f)))
    {
        return;
    }
    let flagged: HashSet<usize> =
        v.0.iter()
            .filter_map(|x| {
                x.field
                    .strip_prefix("drivers[")?
                    .split(']')
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
    let mut found = Vec::new();
    for (i, driver) in plan.drivers.iter().enumerate() {
        if flagged.contains(&i) || !plan.needs_segment_order(i) {
            continue;
        }
        let unbounded: Vec<&str> = plan
            .periods
            .iter()
            .enumerate()
            .filter(|&(t, _)| !plan.unit_bound(i, t).is_some_and(f64::is_finite))
            .map(|(_, period)| period.name.as_str())
            .collect();
        if !unbounded.is_empty() {
            found.push((
                format!("drivers[{i}].max_units"),
                format!(
                    "gross margin {} is below the margin floor {}, so its segments are ordered \
                     with binaries that need a finite bound on its units in every period \
                     (none in {}): set max_units, finite segment widths or a budget cap",
                    show(driver.gross_margin),
                    show(floor),
                    unbounded.join(", ")
                ),
            ));
        }
    }
    for (field, description) in found {
        v.add(field, description);
    }
}

mod uncertainty;

pub use uncertainty::{DEFAULT_SAMPLE_COUNT, MAX_OUTCOMES};

#[cfg(test)]
mod tests;
