//! `pb::Plan` → [`model::Plan`]: size limits, every validity rule of docs/MODEL.md §1
//! with every violation collected under its field path, and the defaults resolved.

use std::collections::{HashMap, HashSet};

use super::{FieldViolation, Limits, PlanError};
use crate::{model, pb};

/// Largest magnitude accepted for any number; beyond it the program's coefficients
/// lose all meaningful precision.
const MAX_MAGNITUDE: f64 = 1e15;

/// Smallest magnitude accepted for a number other than 0. Nothing in a plan is
/// meaningful below it, and tinier coefficients (`revenue_per_unit: 1e-309`, found
/// by fuzzing) overflow the solver's pivot arithmetic: microlp asserts, or a plan
/// that is fine at face value fails.
pub(super) const MIN_MAGNITUDE: f64 = 1e-15;

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
/// enforced.
pub fn count_variables(plan: &model::Plan) -> usize {
    let periods = plan.periods.len();
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
        .fold(0, usize::saturating_add)
}

fn check_sizes(plan: &pb::Plan, limits: &Limits) -> Result<(), PlanError> {
    too_large("drivers", plan.drivers.len(), limits.max_drivers)?;
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

/// What a number must satisfy besides being finite, at most [`MAX_MAGNITUDE`] and 0
/// or at least [`MIN_MAGNITUDE`] in magnitude.
#[derive(Debug, Clone, Copy)]
enum Rule {
    Any,
    NonNegative,
    Positive,
    Fraction,
    Margin,
}

impl Rule {
    fn allows(self, x: f64) -> bool {
        x.is_finite()
            && x.abs() <= MAX_MAGNITUDE
            && (x == 0.0 || x.abs() >= MIN_MAGNITUDE)
            && match self {
                Rule::Any => true,
                Rule::NonNegative => x >= 0.0,
                Rule::Positive => x > 0.0,
                Rule::Fraction => (0.0..=1.0).contains(&x),
                Rule::Margin => (-1.0..1.0).contains(&x),
            }
    }

    fn requirement(self) -> &'static str {
        match self {
            Rule::Any => "must be a finite number",
            Rule::NonNegative => "must be >= 0",
            Rule::Positive => "must be > 0",
            Rule::Fraction => "must be in [0, 1]",
            Rule::Margin => "must be in [-1, 1)",
        }
    }
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

    /// Checks one number; returns it when it passes.
    fn number(&mut self, path: &str, x: f64, rule: Rule) -> Option<f64> {
        if rule.allows(x) {
            return Some(x);
        }
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
    fn optional(&mut self, path: &str, x: Option<f64>, rule: Rule) -> Option<f64> {
        x.and_then(|x| self.number(path, x, rule))
    }

    /// Checks every entry of a list, each under `path[j]`.
    fn list(&mut self, path: &str, xs: &[f64], rule: Rule) {
        for (j, &x) in xs.iter().enumerate() {
            self.number(&format!("{path}[{j}]"), x, rule);
        }
    }

    /// Checks a per-period list: empty (use the default) or one entry per period.
    fn per_period(&mut self, path: &str, xs: &[f64], periods: usize, rule: Rule) {
        if !xs.is_empty() && xs.len() != periods {
            self.add(
                path,
                format!(
                    "{} needs one entry per period ({periods}), got {}",
                    leaf(path),
                    xs.len()
                ),
            );
        }
        self.list(path, xs, rule);
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
        Rule::Fraction,
    );
    v.optional("budget_cap", plan.budget_cap, Rule::NonNegative);

    let periods = periods(plan, v);
    v.names("drivers", "id", plan.drivers.iter().map(|d| d.id.as_str()));
    let drivers = plan
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
    }
}

fn or_default(text: &str, default: &str) -> String {
    if text.is_empty() { default } else { text }.to_string()
}

fn periods(plan: &pb::Plan, v: &mut Violations) -> Vec<model::Period> {
    if plan.periods.is_empty() {
        return vec![model::Period {
            name: "total".into(),
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
                &format!("{path}.baseline_revenue"),
                period.baseline_revenue,
                Rule::NonNegative,
            );
            v.number(
                &format!("{path}.fixed_costs"),
                period.fixed_costs,
                Rule::NonNegative,
            );
            v.optional(
                &format!("{path}.budget_cap"),
                period.budget_cap,
                Rule::NonNegative,
            );
            v.optional(
                &format!("{path}.min_margin"),
                period.min_margin,
                Rule::Margin,
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
    v.number(&format!("{path}.unit_cost"), unit_cost, Rule::Positive);
    v.optional(
        &format!("{path}.gross_margin"),
        d.gross_margin,
        Rule::Fraction,
    );
    let response = response(path, &d.response, v);
    let (min_units, max_units) = unit_bounds(path, d, periods, v);

    v.per_period(
        &format!("{path}.seasonality"),
        &d.seasonality,
        periods,
        Rule::NonNegative,
    );
    let return_profile = profile(&d.return_profile);
    v.list(
        &format!("{path}.return_profile"),
        &d.return_profile,
        Rule::NonNegative,
    );
    let cost_profile = profile(&d.cost_profile);
    for (j, &x) in d.cost_profile.iter().enumerate() {
        // A unit that cost nothing when committed would be free in the last period.
        let rule = if j == 0 {
            Rule::Positive
        } else {
            Rule::NonNegative
        };
        v.number(&format!("{path}.cost_profile[{j}]"), x, rule);
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
    }
}

fn response(path: &str, segments: &[pb::Segment], v: &mut Violations) -> Vec<model::Segment> {
    let path = format!("{path}.response");
    if segments.is_empty() {
        v.add(&path, "a driver needs at least one response segment");
    }
    let mut previous: Option<f64> = None;
    for (k, segment) in segments.iter().enumerate() {
        let units_path = format!("{path}[{k}].units");
        match segment.units {
            Some(units) => {
                v.number(&units_path, units, Rule::Positive);
            }
            None if k + 1 < segments.len() => {
                v.add(units_path, "units may be omitted only on the last segment");
            }
            None => {}
        }
        let rpu_path = format!("{path}[{k}].revenue_per_unit");
        let rpu = v.number(&rpu_path, segment.revenue_per_unit, Rule::NonNegative);
        if let (Some(before), Some(now)) = (previous, rpu) {
            if now > before {
                v.add(
                    rpu_path,
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

/// Checks and resolves a driver's per-period unit bounds (by-period lists replace the
/// scalars), including `min <= max` in every period.
fn unit_bounds(
    path: &str,
    d: &pb::Driver,
    periods: usize,
    v: &mut Violations,
) -> (Vec<f64>, Vec<Option<f64>>) {
    let min_scalar = match d.min_units {
        None => Some(0.0),
        Some(x) => v.number(&format!("{path}.min_units"), x, Rule::NonNegative),
    };
    let max_scalar = v.optional(&format!("{path}.max_units"), d.max_units, Rule::NonNegative);
    let (min_by, max_by) = (&d.min_units_by_period, &d.max_units_by_period);
    v.per_period(
        &format!("{path}.min_units_by_period"),
        min_by,
        periods,
        Rule::NonNegative,
    );
    v.per_period(
        &format!("{path}.max_units_by_period"),
        max_by,
        periods,
        Rule::NonNegative,
    );

    if min_by.is_empty() && max_by.is_empty() {
        v.ordered(
            &format!("{path}.min_units"),
            ("min_units", min_scalar),
            ("max_units", max_scalar),
        );
    } else {
        let at = |list: &[f64], t: usize| {
            list.get(t)
                .copied()
                .filter(|&x| Rule::NonNegative.allows(x))
        };
        for t in 0..periods {
            let min = if min_by.is_empty() {
                ("min_units".to_string(), min_scalar)
            } else {
                (format!("min_units_by_period[{t}]"), at(min_by, t))
            };
            let max = if max_by.is_empty() {
                ("max_units".to_string(), max_scalar)
            } else {
                (format!("max_units_by_period[{t}]"), at(max_by, t))
            };
            let flagged = if min_by.is_empty() { &max.0 } else { &min.0 };
            v.ordered(
                &format!("{path}.{flagged}"),
                (&min.0, min.1),
                (&max.0, max.1),
            );
        }
    }

    let min_units = if min_by.is_empty() {
        vec![d.min_units.unwrap_or(0.0); periods]
    } else {
        min_by.clone()
    };
    let max_units = if max_by.is_empty() {
        vec![d.max_units; periods]
    } else {
        max_by.iter().copied().map(Some).collect()
    };
    (min_units, max_units)
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
    v.optional("requirements.min_margin", r.min_margin, Rule::Margin);
    v.optional(
        "requirements.min_contribution",
        r.min_contribution,
        Rule::Any,
    );
    v.optional("requirements.revenue_target", r.revenue_target, Rule::Any);
    v.optional("requirements.min_roi", r.min_roi, Rule::NonNegative);
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
    let min_spend = v.optional(&field("min_spend"), g.min_spend, Rule::NonNegative);
    let max_spend = v.optional(&field("max_spend"), g.max_spend, Rule::NonNegative);
    let min_share = v.optional(&field("min_share"), g.min_share, Rule::Fraction);
    let max_share = v.optional(&field("max_share"), g.max_share, Rule::Fraction);
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
                &format!("{term_path}.coefficient"),
                term.coefficient,
                Rule::Any,
            );
            model::LinkTerm {
                driver: driver.unwrap_or(0),
                coefficient: term.coefficient,
            }
        })
        .collect();
    v.number(&format!("{path}.rhs"), l.rhs, Rule::Any);
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
    model::Link {
        name: l.name.clone(),
        terms,
        sense,
        rhs: l.rhs,
        per_period: l.per_period,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(units: Option<f64>, revenue_per_unit: f64) -> pb::Segment {
        pb::Segment {
            units,
            revenue_per_unit,
        }
    }

    fn driver(id: &str) -> pb::Driver {
        pb::Driver {
            id: id.into(),
            response: vec![segment(None, 2.0)],
            ..Default::default()
        }
    }

    fn period(name: &str) -> pb::Period {
        pb::Period {
            name: name.into(),
            ..Default::default()
        }
    }

    /// One driver with one unbounded segment: the smallest valid plan.
    fn minimal() -> pb::Plan {
        pb::Plan {
            drivers: vec![driver("a")],
            ..Default::default()
        }
    }

    fn violations(plan: &pb::Plan) -> Vec<FieldViolation> {
        match plan_from_pb(plan, &Limits::default()) {
            Err(PlanError::Invalid(violations)) => violations,
            other => panic!("expected an invalid plan, got {other:?}"),
        }
    }

    fn fields(plan: &pb::Plan) -> Vec<String> {
        let mut fields: Vec<String> = violations(plan).into_iter().map(|v| v.field).collect();
        fields.sort();
        fields
    }

    /// One test per validity rule: `minimal()` edited by `$edit` is refused with
    /// exactly the violations at `$fields`.
    macro_rules! refuses {
        ($($name:ident: |$plan:ident| $edit:block => [$($field:expr),* $(,)?];)*) => {$(
            #[test]
            fn $name() {
                let mut $plan = minimal();
                $edit
                let mut expected: Vec<String> = vec![$($field.to_string()),*];
                expected.sort();
                assert_eq!(fields(&$plan), expected);
            }
        )*};
    }

    refuses! {
        no_drivers: |p| { p.drivers.clear(); } => ["drivers"];
        nan_refused: |p| { p.drivers[0].unit_cost = Some(f64::NAN); } => ["drivers[0].unit_cost"];
        infinity_refused: |p| { p.budget_cap = Some(f64::INFINITY); } => ["budget_cap"];
        huge_refused: |p| {
            p.periods = vec![period("q1")];
            p.periods[0].baseline_revenue = 2e15;
        } => ["periods[0].baseline_revenue"];
        // Fuzzing (`plan_structured`): a subnormal revenue per unit passed validation
        // and made microlp assert in its pivot arithmetic.
        fuzz_tiny_revenue_per_unit_refused: |p| {
            p.drivers[0].response = vec![segment(None, 1.390671161566996e-309)];
            p.drivers[0].min_units = Some(47.25);
        } => ["drivers[0].response[0].revenue_per_unit"];
        tiny_refused_but_zero_allowed: |p| {
            p.budget_cap = Some(0.0);
            p.drivers[0].unit_cost = Some(1e-16);
            p.drivers[0].seasonality = vec![-1e-300];
        } => ["drivers[0].seasonality[0]", "drivers[0].unit_cost"];
        huge_negative_refused: |p| {
            p.requirements = Some(pb::Requirements {
                min_contribution: Some(-2e15),
                ..Default::default()
            });
        } => ["requirements.min_contribution"];
        link_numbers_finite: |p| {
            p.links = vec![pb::Link {
                name: "l".into(),
                terms: vec![pb::LinkTerm { driver_id: "a".into(), coefficient: f64::NAN }],
                sense: pb::Sense::LessEqual as i32,
                rhs: f64::NEG_INFINITY,
                per_period: false,
            }];
        } => ["links[0].terms[0].coefficient", "links[0].rhs"];
        driver_id_pattern: |p| {
            p.drivers = vec![driver("a b"), driver(""), driver(&"x".repeat(65)), driver("ok_1.-Z")];
        } => ["drivers[0].id", "drivers[1].id", "drivers[2].id"];
        driver_id_unique: |p| { p.drivers = vec![driver("a"), driver("b"), driver("a")]; }
            => ["drivers[2].id"];
        period_name_pattern_and_unique: |p| {
            p.periods = vec![period("Q1"), period("Q/2"), period("Q1")];
        } => ["periods[1].name", "periods[2].name"];
        unit_cost_positive: |p| { p.drivers[0].unit_cost = Some(0.0); } => ["drivers[0].unit_cost"];
        gross_margin_fraction: |p| { p.drivers[0].gross_margin = Some(1.5); }
            => ["drivers[0].gross_margin"];
        baseline_gross_margin_fraction: |p| { p.baseline_gross_margin = Some(-0.1); }
            => ["baseline_gross_margin"];
        at_least_one_segment: |p| { p.drivers[0].response.clear(); } => ["drivers[0].response"];
        segment_units_positive: |p| {
            p.drivers[0].response = vec![segment(Some(0.0), 3.0), segment(None, 1.0)];
        } => ["drivers[0].response[0].units"];
        revenue_per_unit_non_negative: |p| {
            p.drivers[0].response = vec![segment(None, -1.0)];
        } => ["drivers[0].response[0].revenue_per_unit"];
        revenue_per_unit_non_increasing: |p| {
            p.drivers[0].response =
                vec![segment(Some(5.0), 3.0), segment(Some(5.0), 4.0), segment(None, 1.0)];
        } => ["drivers[0].response[1].revenue_per_unit"];
        only_last_segment_unbounded: |p| {
            p.drivers[0].response = vec![segment(None, 3.0), segment(None, 1.0)];
        } => ["drivers[0].response[0].units"];
        min_units_non_negative: |p| { p.drivers[0].min_units = Some(-1.0); }
            => ["drivers[0].min_units"];
        max_units_non_negative: |p| { p.drivers[0].max_units = Some(-1.0); }
            => ["drivers[0].max_units"];
        min_units_at_most_max_units: |p| {
            p.drivers[0].min_units = Some(5.0);
            p.drivers[0].max_units = Some(3.0);
        } => ["drivers[0].min_units"];
        min_by_period_at_most_max: |p| {
            p.periods = vec![period("q1"), period("q2")];
            p.drivers[0].min_units_by_period = vec![1.0, 4.0];
            p.drivers[0].max_units = Some(3.0);
        } => ["drivers[0].min_units_by_period[1]"];
        min_at_most_max_by_period: |p| {
            p.periods = vec![period("q1"), period("q2")];
            p.drivers[0].min_units = Some(1.0);
            p.drivers[0].max_units_by_period = vec![5.0, 0.0];
        } => ["drivers[0].max_units_by_period[1]"];
        by_period_one_entry_per_period: |p| {
            p.periods = vec![period("q1"), period("q2")];
            p.drivers[0].min_units_by_period = vec![1.0];
            p.drivers[0].max_units_by_period = vec![1.0, 2.0, 3.0];
        } => ["drivers[0].max_units_by_period", "drivers[0].min_units_by_period"];
        by_period_entries_non_negative: |p| {
            p.drivers[0].min_units_by_period = vec![-1.0];
            p.drivers[0].max_units_by_period = vec![f64::NAN];
        } => ["drivers[0].max_units_by_period[0]", "drivers[0].min_units_by_period[0]"];
        seasonality_one_entry_per_period: |p| { p.drivers[0].seasonality = vec![1.0, 1.0]; }
            => ["drivers[0].seasonality"];
        seasonality_non_negative: |p| { p.drivers[0].seasonality = vec![-0.5]; }
            => ["drivers[0].seasonality[0]"];
        return_profile_non_negative: |p| { p.drivers[0].return_profile = vec![0.0, -0.3]; }
            => ["drivers[0].return_profile[1]"];
        cost_profile_starts_positive: |p| { p.drivers[0].cost_profile = vec![0.0, 1.0, -1.0]; }
            => ["drivers[0].cost_profile[0]", "drivers[0].cost_profile[2]"];
        caps_and_money_non_negative: |p| {
            p.budget_cap = Some(-1.0);
            p.periods = vec![pb::Period {
                name: "q1".into(),
                baseline_revenue: -1.0,
                fixed_costs: -1.0,
                budget_cap: Some(-1.0),
                min_margin: None,
            }];
        } => [
            "budget_cap",
            "periods[0].baseline_revenue",
            "periods[0].budget_cap",
            "periods[0].fixed_costs",
        ];
        margins_in_range: |p| {
            p.periods = vec![pb::Period { min_margin: Some(-1.5), ..period("q1") }];
            p.requirements = Some(pb::Requirements {
                min_margin: Some(1.0),
                ..Default::default()
            });
        } => ["periods[0].min_margin", "requirements.min_margin"];
        min_roi_non_negative: |p| {
            p.requirements = Some(pb::Requirements { min_roi: Some(-0.1), ..Default::default() });
        } => ["requirements.min_roi"];
        group_needs_members: |p| {
            p.groups = vec![pb::Group { name: "g".into(), ..Default::default() }];
        } => ["groups[0].driver_ids"];
        group_ids_exist: |p| {
            p.groups = vec![pb::Group {
                name: "g".into(),
                driver_ids: vec!["a".into(), "nope".into()],
                ..Default::default()
            }];
        } => ["groups[0].driver_ids[1]"];
        group_tag_matches: |p| {
            p.groups = vec![pb::Group {
                name: "g".into(),
                tag: "marketing".into(),
                ..Default::default()
            }];
        } => ["groups[0].tag"];
        group_name_pattern_and_unique: |p| {
            let group = pb::Group {
                name: "g".into(),
                driver_ids: vec!["a".into()],
                ..Default::default()
            };
            p.groups = vec![group.clone(), group.clone(), pb::Group { name: "".into(), ..group }];
        } => ["groups[1].name", "groups[2].name"];
        group_bounds: |p| {
            let group = pb::Group {
                name: "g".into(),
                driver_ids: vec!["a".into()],
                ..Default::default()
            };
            p.groups = vec![
                pb::Group {
                    min_spend: Some(-1.0),
                    min_share: Some(-0.1),
                    max_share: Some(1.2),
                    ..group.clone()
                },
                pb::Group {
                    name: "h".into(),
                    min_spend: Some(10.0),
                    max_spend: Some(5.0),
                    min_share: Some(0.5),
                    max_share: Some(0.4),
                    ..group
                },
            ];
        } => [
            "groups[0].max_share",
            "groups[0].min_share",
            "groups[0].min_spend",
            "groups[1].min_share",
            "groups[1].min_spend",
        ];
        link_needs_terms: |p| {
            p.links = vec![pb::Link {
                name: "l".into(),
                sense: pb::Sense::Equal as i32,
                ..Default::default()
            }];
        } => ["links[0].terms"];
        link_ids_exist_and_sense_given: |p| {
            let term = |id: &str| pb::LinkTerm { driver_id: id.into(), coefficient: 1.0 };
            let link = |name: &str, terms, sense| pb::Link {
                name: name.into(),
                terms,
                sense,
                ..Default::default()
            };
            p.links = vec![
                link("l", vec![term("a"), term("b")], 0),
                link("m", vec![term("a")], 9),
                link("l", vec![term("a")], 1),
            ];
        } => ["links[0].sense", "links[0].terms[1].driver_id", "links[1].sense", "links[2].name"];
        unknown_objective: |p| { p.objective = 7; } => ["objective"];
        minimize_spend_needs_a_floor: |p| { p.objective = pb::Objective::MinimizeSpend as i32; }
            => ["objective"];
        segment_order_needs_a_bound: |p| {
            p.periods = vec![pb::Period { budget_cap: Some(100.0), ..period("q1") }, period("q2")];
            p.requirements = Some(pb::Requirements { min_margin: Some(0.4), ..Default::default() });
            p.drivers[0].gross_margin = Some(0.3);
            p.drivers[0].response = vec![segment(Some(10.0), 3.0), segment(None, 1.0)];
        } => ["drivers[0].max_units"];
    }

    #[test]
    fn descriptions_say_what_was_given_and_what_is_allowed() {
        let mut plan = minimal();
        plan.drivers[0].unit_cost = Some(-3.0);
        plan.budget_cap = Some(f64::NAN);
        plan.drivers[0].gross_margin = Some(1e300);
        plan.drivers[0].response[0].revenue_per_unit = 2e-309;
        let described: Vec<String> = violations(&plan).iter().map(ToString::to_string).collect();
        assert_eq!(
            described,
            [
                "budget_cap: budget_cap must be a finite number, got NaN",
                "drivers[0].unit_cost: unit_cost must be > 0, got -3",
                "drivers[0].gross_margin: gross_margin must be at most 1e15 in magnitude, got 1e300",
                "drivers[0].response[0].revenue_per_unit: revenue_per_unit must be 0 or at \
                 least 1e-15 in magnitude, got 2e-309",
            ]
        );
    }

    #[test]
    fn segment_order_description_names_floor_and_periods() {
        let mut plan = minimal();
        plan.periods = vec![
            period("q1"),
            pb::Period {
                budget_cap: Some(9.0),
                ..period("q2")
            },
        ];
        plan.periods[0].min_margin = Some(0.25);
        plan.drivers[0].gross_margin = Some(0.2);
        plan.drivers[0].response = vec![segment(Some(10.0), 3.0), segment(None, 1.0)];
        let [violation] = violations(&plan).try_into().expect("one violation");
        assert_eq!(violation.field, "drivers[0].max_units");
        assert!(violation
            .description
            .contains("below the margin floor 0.25"));
        assert!(violation.description.contains("(none in q1)"));
    }

    #[test]
    fn segment_order_is_checked_beside_unrelated_violations() {
        let mut plan = minimal();
        plan.drivers.push(pb::Driver {
            unit_cost: Some(-1.0),
            ..driver("b")
        });
        plan.requirements = Some(pb::Requirements {
            min_margin: Some(0.4),
            ..Default::default()
        });
        for driver in &mut plan.drivers {
            driver.gross_margin = Some(0.3);
            driver.response = vec![segment(Some(10.0), 3.0), segment(None, 1.0)];
        }
        plan.links = vec![pb::Link::default()];
        assert_eq!(
            fields(&plan),
            [
                "drivers[0].max_units",
                "drivers[1].unit_cost",
                "links[0].name",
                "links[0].sense",
                "links[0].terms",
            ]
        );
    }

    #[test]
    fn segment_order_with_a_bound_is_valid() {
        let mut plan = minimal();
        plan.budget_cap = Some(100.0);
        plan.requirements = Some(pb::Requirements {
            min_margin: Some(0.4),
            ..Default::default()
        });
        plan.drivers[0].gross_margin = Some(0.3);
        plan.drivers[0].response = vec![segment(Some(10.0), 3.0), segment(None, 1.0)];
        let model = plan_from_pb(&plan, &Limits::default()).expect("valid");
        assert!(model.needs_segment_order(0));
    }

    #[test]
    fn every_violation_is_collected() {
        let mut plan = minimal();
        plan.drivers.push(driver("a"));
        plan.drivers[0].unit_cost = Some(0.0);
        plan.drivers[0].response.clear();
        plan.baseline_gross_margin = Some(2.0);
        plan.objective = pb::Objective::MinimizeSpend as i32;
        plan.links = vec![pb::Link {
            name: "l".into(),
            ..Default::default()
        }];
        assert_eq!(
            fields(&plan),
            [
                "baseline_gross_margin",
                "drivers[0].response",
                "drivers[0].unit_cost",
                "drivers[1].id",
                "links[0].sense",
                "links[0].terms",
                "objective",
            ]
        );
    }

    #[test]
    fn defaults_are_resolved() {
        let model = model::Plan::try_from(minimal()).expect("valid");
        assert_eq!(
            model,
            model::Plan {
                name: String::new(),
                currency: "USD".into(),
                periods: vec![model::Period {
                    name: "total".into(),
                    baseline_revenue: 0.0,
                    fixed_costs: 0.0,
                    budget_cap: None,
                    min_margin: None,
                }],
                drivers: vec![model::Driver {
                    id: "a".into(),
                    name: String::new(),
                    tags: vec![],
                    unit: "USD".into(),
                    unit_cost: 1.0,
                    gross_margin: 1.0,
                    response: vec![model::Segment {
                        units: None,
                        revenue_per_unit: 2.0,
                    }],
                    min_units: vec![0.0],
                    max_units: vec![None],
                    seasonality: vec![1.0],
                    integer: false,
                    return_profile: vec![1.0],
                    cost_profile: vec![1.0],
                }],
                baseline_gross_margin: 1.0,
                budget_cap: None,
                requirements: model::Requirements::default(),
                groups: vec![],
                links: vec![],
                objective: model::Objective::MaximizeRevenue,
            }
        );
    }

    #[test]
    fn per_period_values_and_inherited_margin_are_resolved() {
        let mut plan = minimal();
        plan.periods = vec![period("q1"), period("q2"), period("q3")];
        plan.baseline_gross_margin = Some(0.6);
        plan.drivers[0].min_units = Some(1.0);
        plan.drivers[0].max_units_by_period = vec![5.0, 5.0, 1.0];
        plan.drivers[0].seasonality = vec![1.0, 1.2, 0.8];
        let model = model::Plan::try_from(&plan).expect("valid");
        let driver = &model.drivers[0];
        assert_eq!(driver.gross_margin, 0.6);
        assert_eq!(driver.min_units, [1.0, 1.0, 1.0]);
        assert_eq!(driver.max_units, [Some(5.0), Some(5.0), Some(1.0)]);
        assert_eq!(driver.seasonality, [1.0, 1.2, 0.8]);
    }

    #[test]
    fn group_members_are_listed_ids_and_tagged_drivers() {
        let mut plan = minimal();
        plan.drivers = vec![driver("a"), driver("b"), driver("c"), driver("d")];
        plan.drivers[1].tags = vec!["marketing".into()];
        plan.drivers[3].tags = vec!["marketing".into(), "marketing".into()];
        plan.groups = vec![pb::Group {
            name: "g".into(),
            driver_ids: vec!["d".into(), "a".into(), "a".into()],
            tag: "marketing".into(),
            ..Default::default()
        }];
        let model = model::Plan::try_from(&plan).expect("valid");
        assert_eq!(model.groups[0].members, [0, 1, 3]);
    }

    fn limits() -> Limits {
        Limits {
            max_drivers: 2,
            max_periods: 2,
            max_segments: 2,
            max_variables: 100,
        }
    }

    fn too_large(plan: &pb::Plan, limits: &Limits) -> (&'static str, usize, usize) {
        match plan_from_pb(plan, limits) {
            Err(PlanError::TooLarge {
                what,
                actual,
                limit,
            }) => (what, actual, limit),
            other => panic!("expected too large, got {other:?}"),
        }
    }

    #[test]
    fn too_many_drivers_is_refused_before_validity() {
        let mut plan = minimal();
        plan.drivers = vec![driver(""), driver(""), driver("")];
        assert_eq!(too_large(&plan, &limits()), ("drivers", 3, 2));
    }

    #[test]
    fn too_many_periods_is_refused() {
        let mut plan = minimal();
        plan.periods = vec![period("a"), period("b"), period("c")];
        assert_eq!(too_large(&plan, &limits()), ("periods", 3, 2));
    }

    #[test]
    fn too_many_segments_is_refused() {
        let mut plan = minimal();
        plan.drivers.push(driver("b"));
        plan.drivers[1].response = vec![segment(Some(1.0), 1.0); 5];
        assert_eq!(too_large(&plan, &limits()), ("segments of a driver", 5, 2));
    }

    /// Four periods, a margin floor of 0.3 and three drivers:
    /// - `a`: 3 segments, integer, gross margin 0.2 < 0.3 so its segments are ordered:
    ///   3*4 segment variables + 4 integer totals + (3-1)*4 binaries = 24;
    /// - `b`: 2 segments, gross margin 0.9: 2*4 = 8;
    /// - `c`: 1 segment, integer (the segment variable is the integer): 1*4 = 4.
    ///
    /// Total 24 + 8 + 4 = 36.
    fn counted_plan() -> pb::Plan {
        let curve = |k: usize| {
            let mut segments = vec![segment(Some(10.0), 2.0); k];
            segments.push(segment(None, 1.0));
            segments
        };
        pb::Plan {
            periods: ["q1", "q2", "q3", "q4"].map(period).to_vec(),
            requirements: Some(pb::Requirements {
                min_margin: Some(0.3),
                ..Default::default()
            }),
            drivers: vec![
                pb::Driver {
                    integer: true,
                    gross_margin: Some(0.2),
                    max_units: Some(10.0),
                    response: curve(2),
                    ..driver("a")
                },
                pb::Driver {
                    gross_margin: Some(0.9),
                    response: curve(1),
                    ..driver("b")
                },
                pb::Driver {
                    integer: true,
                    ..driver("c")
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn count_variables_by_hand() {
        let model = model::Plan::try_from(counted_plan()).expect("valid");
        assert_eq!(count_variables(&model), 36);
    }

    #[test]
    fn too_many_variables_is_refused() {
        let limits = Limits {
            max_drivers: 10,
            max_periods: 10,
            max_segments: 10,
            max_variables: 35,
        };
        assert_eq!(too_large(&counted_plan(), &limits), ("variables", 36, 35));
        let limits = Limits {
            max_variables: 36,
            ..limits
        };
        assert!(plan_from_pb(&counted_plan(), &limits).is_ok());
    }

    mod arbitrary {
        use super::*;
        use proptest::collection::vec;
        use proptest::prelude::*;

        /// Mostly valid numbers with every kind of bad one mixed in; a tame plan uses
        /// 0.5 only, which passes every numeric rule, so that valid plans come up too.
        fn number(tame: bool) -> BoxedStrategy<f64> {
            if tame {
                return Just(0.5).boxed();
            }
            prop_oneof![
                12 => 0.0..10.0f64,
                2 => Just(0.0),
                2 => Just(1.0),
                1 => -10.0..0.0f64,
                1 => Just(f64::NAN),
                1 => Just(f64::INFINITY),
                1 => Just(f64::NEG_INFINITY),
                1 => Just(1e300),
                1 => Just(-1e16),
            ]
            .boxed()
        }

        fn optional(tame: bool) -> impl Strategy<Value = Option<f64>> {
            proptest::option::of(number(tame))
        }

        fn numbers(tame: bool) -> impl Strategy<Value = Vec<f64>> {
            vec(number(tame), 0..4)
        }

        fn name() -> impl Strategy<Value = String> {
            prop_oneof![
                8 => proptest::sample::select(vec!["a", "b", "c", "Q1", "x.y-z_9"])
                    .prop_map(String::from),
                1 => Just(String::new()),
                1 => ".{0,70}",
            ]
        }

        fn enum_value() -> impl Strategy<Value = i32> {
            prop_oneof![6 => 0..4i32, 1 => any::<i32>()]
        }

        /// Empty, one entry per period, or (unless tame) any length.
        fn per_period(periods: usize, tame: bool) -> impl Strategy<Value = Vec<f64>> {
            let any_length = if tame { 0..1 } else { 0..6 };
            prop_oneof![
                3 => Just(vec![]),
                3 => vec(number(tame), periods),
                1 => vec(number(tame), any_length),
            ]
        }

        fn period(tame: bool) -> impl Strategy<Value = pb::Period> {
            (
                name(),
                number(tame),
                number(tame),
                optional(tame),
                optional(tame),
            )
                .prop_map(
                    |(name, baseline_revenue, fixed_costs, budget_cap, min_margin)| pb::Period {
                        name,
                        baseline_revenue,
                        fixed_costs,
                        budget_cap,
                        min_margin,
                    },
                )
        }

        fn driver(periods: usize, tame: bool) -> impl Strategy<Value = pb::Driver> {
            let segment =
                (optional(tame), number(tame)).prop_map(|(units, revenue_per_unit)| pb::Segment {
                    units,
                    revenue_per_unit,
                });
            (
                (name(), vec(name(), 0..3), optional(tame), optional(tame)),
                (vec(segment, 0..4), optional(tame), optional(tame)),
                (per_period(periods, tame), per_period(periods, tame)),
                (
                    per_period(periods, tame),
                    any::<bool>(),
                    numbers(tame),
                    numbers(tame),
                ),
            )
                .prop_map(|(a, b, c, d)| pb::Driver {
                    id: a.0,
                    tags: a.1,
                    unit_cost: a.2,
                    gross_margin: a.3,
                    response: b.0,
                    min_units: b.1,
                    max_units: b.2,
                    min_units_by_period: c.0,
                    max_units_by_period: c.1,
                    seasonality: d.0,
                    integer: d.1,
                    return_profile: d.2,
                    cost_profile: d.3,
                    ..Default::default()
                })
        }

        fn group(tame: bool) -> impl Strategy<Value = pb::Group> {
            let bounds = (
                optional(tame),
                optional(tame),
                optional(tame),
                optional(tame),
            );
            (name(), vec(name(), 0..3), name(), bounds).prop_map(
                |(name, driver_ids, tag, (a, b, c, d))| pb::Group {
                    name,
                    driver_ids,
                    tag,
                    min_spend: a,
                    max_spend: b,
                    min_share: c,
                    max_share: d,
                },
            )
        }

        fn link(tame: bool) -> impl Strategy<Value = pb::Link> {
            let term = (name(), number(tame)).prop_map(|(driver_id, coefficient)| pb::LinkTerm {
                driver_id,
                coefficient,
            });
            (
                name(),
                vec(term, 0..3),
                enum_value(),
                number(tame),
                any::<bool>(),
            )
                .prop_map(|(name, terms, sense, rhs, per_period)| pb::Link {
                    name,
                    terms,
                    sense,
                    rhs,
                    per_period,
                })
        }

        /// Makes names unique and references resolvable, so that a tame plan is often
        /// valid.
        fn tame_names(plan: &mut pb::Plan) {
            if plan.drivers.is_empty() {
                plan.drivers.push(super::driver("d"));
            }
            for (i, driver) in plan.drivers.iter_mut().enumerate() {
                driver.id = format!("d{i}");
                let last = driver.response.len().saturating_sub(1);
                for segment in driver.response.iter_mut().take(last) {
                    segment.units = Some(0.5);
                }
                if driver.response.is_empty() {
                    driver.response.push(segment(None, 0.5));
                }
            }
            for (t, period) in plan.periods.iter_mut().enumerate() {
                period.name = format!("p{t}");
            }
            for (g, group) in plan.groups.iter_mut().enumerate() {
                group.name = format!("g{g}");
                group.driver_ids = vec!["d0".into()];
                group.tag.clear();
            }
            for (l, link) in plan.links.iter_mut().enumerate() {
                link.name = format!("l{l}");
                link.sense = link.sense.rem_euclid(3) + 1;
                link.terms = vec![pb::LinkTerm {
                    driver_id: "d0".into(),
                    coefficient: 1.0,
                }];
            }
            plan.objective = plan.objective.rem_euclid(3);
        }

        fn plan() -> impl Strategy<Value = pb::Plan> {
            (any::<bool>(), vec(period(false), 0..4))
                .prop_flat_map(|(tame, periods)| {
                    let horizon = periods.len().max(1);
                    let requirements = (
                        optional(tame),
                        optional(tame),
                        optional(tame),
                        optional(tame),
                    )
                        .prop_map(|(a, b, c, d)| pb::Requirements {
                            min_margin: a,
                            min_contribution: b,
                            revenue_target: c,
                            min_roi: d,
                        });
                    let periods = if tame {
                        vec(period(true), periods.len()).boxed()
                    } else {
                        Just(periods).boxed()
                    };
                    (
                        (Just(tame), periods, vec(driver(horizon, tame), 0..4)),
                        (
                            optional(tame),
                            optional(tame),
                            proptest::option::of(requirements),
                        ),
                        (vec(group(tame), 0..3), vec(link(tame), 0..3), enum_value()),
                    )
                })
                .prop_map(|((tame, periods, drivers), plan_numbers, rules)| {
                    let (baseline_gross_margin, budget_cap, requirements) = plan_numbers;
                    let (groups, links, objective) = rules;
                    let mut plan = pb::Plan {
                        periods,
                        drivers,
                        baseline_gross_margin,
                        budget_cap,
                        requirements,
                        groups,
                        links,
                        objective,
                        ..Default::default()
                    };
                    if tame {
                        tame_names(&mut plan);
                    }
                    plan
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn never_panics_and_valid_plans_cover_every_period(plan in plan()) {
                let periods = plan.periods.len().max(1);
                if let Ok(model) = plan_from_pb(&plan, &Limits::default()) {
                    prop_assert_eq!(model.periods.len(), periods);
                    for driver in &model.drivers {
                        prop_assert_eq!(driver.min_units.len(), periods);
                        prop_assert_eq!(driver.max_units.len(), periods);
                        prop_assert_eq!(driver.seasonality.len(), periods);
                        prop_assert!(!driver.response.is_empty());
                    }
                    for group in &model.groups {
                        prop_assert!(!group.members.is_empty());
                    }
                }
            }
        }
    }
}
