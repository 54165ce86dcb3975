//! Validated planning types (docs/MODEL.md §1).
//!
//! Everything here has already passed every validity rule of docs/MODEL.md: defaults are
//! resolved (a driver's `gross_margin`, per-period bounds, seasonality, profiles),
//! names are resolved to indices, and numbers are finite. The only way in from the
//! wire is [`crate::convert`]; code that builds a [`Plan`] by hand should run it
//! through the same rules ([`crate::convert::plan_from_pb`]), since the program
//! builder trusts these invariants.

mod domain;
mod response;
mod uncertainty;

pub use domain::{Domain, MAX_MAGNITUDE, MIN_MAGNITUDE};
pub use response::{marginal_return, position, Position};
pub use uncertainty::{
    distribution, draw, percentile, Distribution, Outcome, OutcomeTotals, Range, Uncertainty,
};

/// Lexicographic objective of a plan: the first total is optimised, then the second
/// holding the first at its optimum, then the third (docs/MODEL.md §2, Objectives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Objective {
    /// Max revenue, then min spend, then max contribution.
    #[default]
    MaximizeRevenue,
    /// Max contribution, then max revenue, then min spend.
    MaximizeContribution,
    /// Min spend, then max revenue, then max contribution.
    MinimizeSpend,
}

/// Direction of a constraint `value (sense) bound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sense {
    /// `value <= bound`
    LessEqual,
    /// `value >= bound`
    GreaterEqual,
    /// `value == bound`
    Equal,
}

impl Sense {
    /// The operator as people write it, for tables and messages.
    pub fn symbol(self) -> &'static str {
        match self {
            Sense::LessEqual => "<=",
            Sense::GreaterEqual => ">=",
            Sense::Equal => "=",
        }
    }
}

/// A validated plan: the budget question to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Label echoed in results.
    pub name: String,
    /// ISO 4217 code, informational.
    pub currency: String,
    /// Planning periods in order; never empty.
    pub periods: Vec<Period>,
    /// The drivers competing for budget; never empty.
    pub drivers: Vec<Driver>,
    /// Gross margin of the baseline revenue.
    pub baseline_gross_margin: f64,
    /// Cap on total driver spend over the horizon.
    pub budget_cap: Option<f64>,
    /// Floors over the whole horizon.
    pub requirements: Requirements,
    /// Spend rules over sets of drivers.
    pub groups: Vec<Group>,
    /// Linear rules over driver units.
    pub links: Vec<Link>,
    /// What to optimise.
    pub objective: Objective,
    /// A re-plan of a running plan (docs/MODEL.md §6), if this is one.
    pub replan: Option<Replan>,
    /// Returns as ranges (docs/MODEL.md §7): the outcomes of the rates.
    pub uncertainty: Option<Uncertainty>,
}

/// A re-plan: the plan in force and how much of it may move (docs/MODEL.md §6).
#[derive(Debug, Clone, PartialEq)]
pub struct Replan {
    /// Units of the plan in force, per driver (plan order) and period; 0 for
    /// drivers the plan in force leaves out.
    pub current: Vec<Vec<f64>>,
    /// Per period: whether its commitments are final (units equal `current`).
    pub locked: Vec<bool>,
    /// Cap on the money moved.
    pub max_change: Option<f64>,
    /// Share of the first objective's optimum that may be given up to move less.
    pub max_objective_loss: f64,
}

impl Replan {
    /// Units of driver `i` in period `t` in the plan in force.
    pub fn current_units(&self, i: usize, t: usize) -> f64 {
        self.current
            .get(i)
            .and_then(|units| units.get(t))
            .copied()
            .unwrap_or(0.0)
    }

    /// Whether period `t` is locked.
    pub fn is_locked(&self, t: usize) -> bool {
        self.locked.get(t).copied().unwrap_or(false)
    }
}

/// The name of the one period a plan without periods has (docs/MODEL.md §1): the
/// whole horizon, as constraint names, results and allocation files call it.
pub const WHOLE_HORIZON: &str = "total";

/// One planning period.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    /// Unique name; appears in constraint names.
    pub name: String,
    /// Revenue the business makes anyway.
    pub baseline_revenue: f64,
    /// Costs no driver changes.
    pub fixed_costs: f64,
    /// Cap on driver spend paid in this period.
    pub budget_cap: Option<f64>,
    /// Contribution margin floor for this period alone.
    pub min_margin: Option<f64>,
}

/// One step of a diminishing-returns curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Width in units; `None` only for the last segment (unbounded).
    pub units: Option<f64>,
    /// Revenue per unit at full productivity; non-increasing along the curve.
    pub revenue_per_unit: f64,
}

/// One growth driver, with every default resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Driver {
    /// Unique id.
    pub id: String,
    /// Label.
    pub name: String,
    /// Tags that groups refer to.
    pub tags: Vec<String>,
    /// What one unit is.
    pub unit: String,
    /// Cost of one unit, > 0.
    pub unit_cost: f64,
    /// Share of the driver's revenue that is gross profit.
    pub gross_margin: f64,
    /// The response curve; never empty.
    pub response: Vec<Segment>,
    /// Minimum units committed, one entry per period.
    pub min_units: Vec<f64>,
    /// Maximum units committed, one entry per period (`None`: no cap).
    pub max_units: Vec<Option<f64>>,
    /// Multiplier on the driver's revenue realised in each period, one per period.
    pub seasonality: Vec<f64>,
    /// Units are whole numbers.
    pub integer: bool,
    /// Share of a unit's revenue realised 0, 1, 2, … periods after commitment; never
    /// empty.
    pub return_profile: Vec<f64>,
    /// Share of a unit's cost paid 0, 1, 2, … periods after commitment; never empty,
    /// first entry > 0.
    pub cost_profile: Vec<f64>,
    /// Share of a unit committed in period `s` still active in `s`, `s+1`, …
    /// (docs/MODEL.md §5); never empty, entries in [0, 1].
    pub active_profile: Vec<f64>,
    /// Units active in each period from commitments made before the plan, one
    /// entry per period.
    pub existing_active: Vec<f64>,
    /// Minimum active units, one entry per period (0: none).
    pub min_active: Vec<f64>,
    /// Maximum active units, one entry per period (`None`: no cap).
    pub max_active: Vec<Option<f64>>,
}

impl Driver {
    /// Share of a unit's full-productivity revenue realised in the horizon when
    /// committed in period `committed` of a plan with `periods` periods, weighted by
    /// seasonality: `sum_{s >= committed} seasonality[s] * return_profile[s - committed]`.
    pub fn realised_return(&self, committed: usize, periods: usize) -> f64 {
        (committed..periods)
            .filter_map(|s| {
                let share = self.return_profile.get(s - committed)?;
                Some(share * self.seasonality.get(s).copied().unwrap_or(1.0))
            })
            .sum()
    }

    /// Cost of one unit committed in period `committed` that is paid within the
    /// horizon: `unit_cost * sum_{s >= committed} cost_profile[s - committed]`.
    pub fn realised_cost(&self, committed: usize, periods: usize) -> f64 {
        let share: f64 = (committed..periods)
            .filter_map(|s| self.cost_profile.get(s - committed))
            .sum();
        self.unit_cost * share
    }

    /// Share of a unit committed in period `committed` still active in period
    /// `period` (0 before it is committed and past the profile).
    pub fn active_share(&self, committed: usize, period: usize) -> f64 {
        period
            .checked_sub(committed)
            .and_then(|lag| self.active_profile.get(lag))
            .copied()
            .unwrap_or(0.0)
    }

    /// Units active in period `period` when `units[s]` are committed in each period
    /// `s`: `existing_active[period] + sum_{s <= period} active_profile[period - s] *
    /// units[s]` (docs/MODEL.md §5).
    pub fn active_units(&self, units: &[f64], period: usize) -> f64 {
        let existing = self.existing_active.get(period).copied().unwrap_or(0.0);
        units
            .iter()
            .enumerate()
            .take(period + 1)
            .map(|(committed, u)| self.active_share(committed, period) * u)
            .sum::<f64>()
            + existing
    }

    /// Sum of the finite segment widths when every segment is finite: the most
    /// units the curve itself allows in one period.
    pub fn curve_capacity(&self) -> Option<f64> {
        self.response.iter().map(|segment| segment.units).sum()
    }
}

/// Floors over the whole horizon.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Requirements {
    /// Contribution margin floor (fraction).
    pub min_margin: Option<f64>,
    /// Contribution floor (money).
    pub min_contribution: Option<f64>,
    /// Total revenue floor (money): the quota.
    pub revenue_target: Option<f64>,
    /// Driver revenue per unit of driver spend.
    pub min_roi: Option<f64>,
}

/// Spend rules over a set of drivers.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Unique name; appears in constraint names.
    pub name: String,
    /// Indices into [`Plan::drivers`], ascending, without repeats; never empty.
    pub members: Vec<usize>,
    /// Minimum spend over the horizon.
    pub min_spend: Option<f64>,
    /// Maximum spend over the horizon.
    pub max_spend: Option<f64>,
    /// Minimum share of total driver spend.
    pub min_share: Option<f64>,
    /// Maximum share of total driver spend.
    pub max_share: Option<f64>,
}

/// One term of a link: `coefficient * units of drivers[driver]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkTerm {
    /// Index into [`Plan::drivers`].
    pub driver: usize,
    /// Coefficient on the driver's units.
    pub coefficient: f64,
}

/// What a link's terms count (docs/MODEL.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkMeasure {
    /// Units committed in a period.
    #[default]
    Committed,
    /// Units active in a period (in seat, running).
    Active,
}

/// A linear rule over driver units.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Unique name; appears in constraint names.
    pub name: String,
    /// Never empty.
    pub terms: Vec<LinkTerm>,
    /// Direction.
    pub sense: Sense,
    /// Right-hand side.
    pub rhs: f64,
    /// Applied in every period instead of over the horizon.
    pub per_period: bool,
    /// Whether the terms count units committed or units active.
    pub measure: LinkMeasure,
}

impl Plan {
    /// The strictest margin floor in force anywhere in the plan (the horizon's or any
    /// period's), if any. A driver whose gross margin is below it needs its segment
    /// order enforced with binaries (docs/MODEL.md §2, segment order).
    pub fn strictest_margin_floor(&self) -> Option<f64> {
        self.requirements
            .min_margin
            .into_iter()
            .chain(self.periods.iter().filter_map(|period| period.min_margin))
            .reduce(f64::max)
    }

    /// Whether driver `index` needs its segments ordered with binaries: two or more
    /// segments and a gross margin below a margin floor in force.
    pub fn needs_segment_order(&self, index: usize) -> bool {
        let Some(driver) = self.drivers.get(index) else {
            return false;
        };
        driver.response.len() >= 2
            && self
                .strictest_margin_floor()
                .is_some_and(|floor| driver.gross_margin < floor)
    }

    /// The tightest finite bound on the units driver `index` can commit in `period`:
    /// from its maximum, the finite width of its whole curve, or the plan's or that
    /// period's budget cap over the cost paid at commitment (docs/MODEL.md §2,
    /// `M[i,t]`).
    pub fn unit_bound(&self, index: usize, period: usize) -> Option<f64> {
        let driver = self.drivers.get(index)?;
        let first_cost = driver.unit_cost * driver.cost_profile.first().copied().unwrap_or(1.0);
        let caps = self
            .budget_cap
            .into_iter()
            .chain(self.periods.get(period).and_then(|p| p.budget_cap))
            .map(|cap| cap / first_cost);
        driver
            .max_units
            .get(period)
            .copied()
            .flatten()
            .into_iter()
            .chain(driver.curve_capacity())
            .chain(caps)
            .reduce(f64::min)
    }
}

#[cfg(test)]
pub(crate) mod fixtures;
