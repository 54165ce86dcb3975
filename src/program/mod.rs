//! A validated plan as a linear program (docs/MODEL.md §2), in a small solver-neutral
//! form.
//!
//! The program is kept as plain data — variables with bounds, rows `expr (sense) rhs`,
//! and the derived expressions (units, revenue, spend, totals) — so that the same
//! program can be handed to any backend, re-checked against a solution independently
//! of the solver, and explained. Every row that comes from a field of the plan carries
//! its docs/MODEL.md §3 name.

mod engine;
mod expr;

pub use engine::Backend;
pub use expr::LinExpr;

use std::sync::Arc;

use crate::model::{Domain, LinkMeasure, Plan, Sense};

/// Index of a variable in [`Program::vars`].
pub type VarId = usize;

/// One variable of the program.
#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    /// Lower bound (finite).
    pub lower: f64,
    /// Upper bound (`f64::INFINITY` when none).
    pub upper: f64,
    /// Whether the variable must take a whole value.
    pub integer: bool,
}

/// How close (relative to [`Row::scale`]) a row's value must be to its
/// right-hand side for the row to count as tight.
pub const TIGHT: f64 = 1e-7;

/// A constraint row `expr (sense) rhs`, with every constant moved to `rhs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Left-hand side, without constant.
    pub expr: LinExpr,
    /// Direction.
    pub sense: Sense,
    /// Right-hand side.
    pub rhs: f64,
}

impl Row {
    /// The row `expr (sense) rhs`, with `expr`'s constant moved to the right.
    pub fn new(expr: LinExpr, sense: Sense, rhs: f64) -> Row {
        let constant = expr.constant;
        Row {
            expr: expr.without_constant(),
            sense,
            rhs: rhs - constant,
        }
    }

    /// How far `values` violate this row, in the row's own units (0 when met).
    pub fn violation(&self, values: &[f64]) -> f64 {
        let lhs = self.expr.eval(values);
        match self.sense {
            Sense::LessEqual => (lhs - self.rhs).max(0.0),
            Sense::GreaterEqual => (self.rhs - lhs).max(0.0),
            Sense::Equal => (lhs - self.rhs).abs(),
        }
    }

    /// The largest coefficient's magnitude (0 for an empty row): rows are scaled
    /// by it wherever a solver or a factorisation would otherwise see money rows
    /// (1e7) beside unit rows (1).
    pub fn largest_coefficient(&self) -> f64 {
        self.expr
            .terms
            .iter()
            .map(|(_, c)| c.abs())
            .fold(0.0, f64::max)
    }

    /// Whether `values` meet this row with equality (an equality row always
    /// does), within [`TIGHT`] of its scale: the rows that bind for shadow
    /// prices.
    pub fn is_tight(&self, values: &[f64]) -> bool {
        self.sense == Sense::Equal
            || (self.expr.eval(values) - self.rhs).abs() <= TIGHT * self.scale(values)
    }

    /// The magnitude against which a violation of this row is judged: its largest
    /// term at `values` or its right-hand side, at least 1.
    pub fn scale(&self, values: &[f64]) -> f64 {
        self.expr.magnitude(values).max(self.rhs.abs()).max(1.0)
    }
}

/// One segment-order binary: `y >= width * z`, and the next segment may fill
/// only where `z` is 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentOrder {
    /// The binary `z`.
    pub full: VarId,
    /// The segment `y` it says is full.
    pub segment: VarId,
    /// The segment's width.
    pub width: f64,
}

/// A face of a program's feasible set: some variables held at a value and some
/// inequality rows held tight. The optimal solutions of a linear program form
/// such a face (complementary slackness), so a later lexicographic level can be
/// solved over exactly the earlier levels' optima, with no objective row and no
/// tolerance.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Face {
    /// Variables held at these values (each on one of its bounds).
    pub fixed: Vec<(VarId, f64)>,
    /// Rows held with equality.
    pub tight: Vec<usize>,
    /// Whether the face is one point: no nonbasic variable or row at the vertex
    /// has a zero reduced cost, so fixing and tightening them leaves the basic
    /// variables one solution. Every later level's optimum is then the vertex.
    pub single_point: bool,
}

/// Which field of the plan a named constraint comes from, so that explanations and
/// scenarios can find the bound to move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintSource {
    /// `budget_cap`
    BudgetCap,
    /// `periods[t].budget_cap`
    PeriodBudgetCap(usize),
    /// `requirements.min_margin`
    MinMargin,
    /// `periods[t].min_margin`
    PeriodMinMargin(usize),
    /// `requirements.min_contribution`
    MinContribution,
    /// `requirements.revenue_target`
    RevenueTarget,
    /// `requirements.min_roi`
    MinRoi,
    /// `groups[g].min_spend`
    GroupMinSpend(usize),
    /// `groups[g].max_spend`
    GroupMaxSpend(usize),
    /// `groups[g].min_share`
    GroupMinShare(usize),
    /// `groups[g].max_share`
    GroupMaxShare(usize),
    /// `links[l]`, over the horizon (`None`) or in period `t`.
    Link(usize, Option<usize>),
    /// Driver `i`'s minimum units in period `t`.
    DriverMinUnits(usize, usize),
    /// Driver `i`'s maximum units in period `t`.
    DriverMaxUnits(usize, usize),
    /// Driver `i`'s minimum active units in period `t` (docs/MODEL.md §5).
    DriverMinActive(usize, usize),
    /// Driver `i`'s maximum active units in period `t`.
    DriverMaxActive(usize, usize),
    /// `replan.max_change`: the money a re-plan may move (docs/MODEL.md §6).
    MaxChange,
}

/// What a constraint's bound counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundUnit {
    /// An amount of money (spend, contribution, revenue, a link's weighted sum).
    Money,
    /// A driver's units in one period.
    Units,
    /// A fraction: a margin or a share (1.0 is 100 %).
    Fraction,
    /// Revenue per unit of money spent (ROI).
    Ratio,
}

/// The facts of each constraint kind, in one place: what its bound counts, the
/// values it may take (docs/MODEL.md §1 validity), whether a diagnosis may relax it.
impl ConstraintSource {
    /// What the bound counts.
    pub fn unit(self) -> BoundUnit {
        use ConstraintSource as Source;
        match self {
            Source::BudgetCap
            | Source::PeriodBudgetCap(_)
            | Source::GroupMinSpend(_)
            | Source::GroupMaxSpend(_)
            | Source::MinContribution
            | Source::RevenueTarget
            | Source::MaxChange
            | Source::Link(..) => BoundUnit::Money,
            Source::DriverMinUnits(..)
            | Source::DriverMaxUnits(..)
            | Source::DriverMinActive(..)
            | Source::DriverMaxActive(..) => BoundUnit::Units,
            Source::MinMargin
            | Source::PeriodMinMargin(_)
            | Source::GroupMinShare(_)
            | Source::GroupMaxShare(_) => BoundUnit::Fraction,
            Source::MinRoi => BoundUnit::Ratio,
        }
    }

    /// The values the bound may take (its validity rule), so that probes,
    /// relaxations and sweeps stay within what a plan could say
    /// (`domain().range()`).
    pub fn domain(self) -> Domain {
        use ConstraintSource as Source;
        match self {
            Source::BudgetCap
            | Source::PeriodBudgetCap(_)
            | Source::GroupMinSpend(_)
            | Source::GroupMaxSpend(_)
            | Source::MinRoi
            | Source::DriverMinUnits(..)
            | Source::DriverMaxUnits(..)
            | Source::DriverMinActive(..)
            | Source::DriverMaxActive(..)
            | Source::MaxChange => Domain::NonNegative,
            Source::MinMargin | Source::PeriodMinMargin(_) => Domain::Margin,
            Source::GroupMinShare(_) | Source::GroupMaxShare(_) => Domain::Fraction,
            Source::MinContribution | Source::RevenueTarget | Source::Link(..) => Domain::Any,
        }
    }

    /// Whether a diagnosis may propose moving the bound. A driver's maximum units
    /// are a fact of the market (seats to hire, partners to sign), not a target;
    /// a cap on units active (headcount in seat) is a policy, and may move.
    pub fn is_relaxable(self) -> bool {
        !matches!(self, ConstraintSource::DriverMaxUnits(..))
    }
}

/// What a named constraint constrains, in the units its bound is written in.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// A linear quantity (money or units): the row is `expr (sense) bound`.
    Linear(LinExpr),
    /// A ratio (a margin, an ROI, a share): the row is
    /// `numerator - bound * denominator (sense) 0`.
    Ratio {
        /// Numerator, e.g. contribution.
        numerator: LinExpr,
        /// Denominator, e.g. revenue.
        denominator: LinExpr,
    },
}

impl Measure {
    /// The row `measure (sense) bound` in linear form.
    pub fn row(&self, sense: Sense, bound: f64) -> Row {
        match self {
            Measure::Linear(expr) => Row::new(expr.clone(), sense, bound),
            Measure::Ratio {
                numerator,
                denominator,
            } => Row::new(
                numerator.clone().plus_scaled(denominator, -bound),
                sense,
                0.0,
            ),
        }
    }

    /// The measured value at `values`; a ratio whose denominator is 0 is 0
    /// (docs/MODEL.md §3).
    pub fn eval(&self, values: &[f64]) -> f64 {
        match self {
            Measure::Linear(expr) => expr.eval(values),
            Measure::Ratio {
                numerator,
                denominator,
            } => ratio(numerator.eval(values), denominator.eval(values)),
        }
    }
}

/// `numerator / denominator`, or 0 when the denominator is 0 (docs/MODEL.md §3).
pub fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator.abs() < 1e-12 {
        0.0
    } else {
        numerator / denominator
    }
}

/// A constraint that comes from a field of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedConstraint {
    /// docs/MODEL.md §3 name, e.g. `period[Q2].budget_cap`.
    pub name: String,
    /// The plan field it comes from.
    pub source: ConstraintSource,
    /// Direction: `measure (sense) bound`.
    pub sense: Sense,
    /// The bound as written in the plan.
    pub bound: f64,
    /// The constrained quantity.
    pub measure: Measure,
    /// Index of its row in [`Program::rows`].
    pub row: usize,
}

/// Money levels of the plan, per period or over the horizon, as expressions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Levels {
    /// Baseline plus driver revenue (`Rev`).
    pub revenue: LinExpr,
    /// Driver revenue alone.
    pub driver_revenue: LinExpr,
    /// Driver spend (`Spend`).
    pub spend: LinExpr,
    /// Gross profit (`GP`).
    pub gross_profit: LinExpr,
    /// Contribution (`Contrib = GP - Spend - fixed_costs`).
    pub contribution: LinExpr,
}

/// The linear program of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    /// All variables.
    pub vars: Vec<Var>,
    /// All rows: named constraints and structural ones (integer units, segment order).
    pub rows: Vec<Row>,
    /// The rows that come from plan fields, in a stable order. Shared, like
    /// the expressions below, by every variant of the program (a level's
    /// optimal face, a moved bound, a scenario's re-solves): a variant copies
    /// its variables and rows, not these.
    pub named: Arc<Vec<NamedConstraint>>,
    /// `y[i][k][t]`: units of segment `k` of driver `i` committed in period `t`.
    pub segment_units: Arc<Vec<Vec<Vec<VarId>>>>,
    /// `u[i][t]`: units of driver `i` committed in period `t`.
    pub units: Arc<Vec<Vec<LinExpr>>>,
    /// `R[i][t]`: revenue of driver `i` realised in period `t`.
    pub revenue: Arc<Vec<Vec<LinExpr>>>,
    /// `S[i][t]`: spend of driver `i` paid in period `t`.
    pub spend: Arc<Vec<Vec<LinExpr>>>,
    /// Levels per period.
    pub period_levels: Arc<Vec<Levels>>,
    /// Levels over the horizon.
    pub levels: Arc<Levels>,
    /// The segment-order binaries (docs/MODEL.md §2): each `z` with the segment `y`
    /// it says is full and that segment's width (`y >= width * z`).
    pub segment_order: Vec<SegmentOrder>,
    /// A re-plan's moves (docs/MODEL.md §6), when the plan is one.
    pub replan: Option<Arc<ReplanTerms>>,
    /// The outcomes' terms (docs/MODEL.md §7), when the plan has uncertainty.
    pub outcomes: Option<Arc<OutcomeTerms>>,
    /// The solver engine for this program and every variant derived from it
    /// (moved bounds, fixed integers), so explanations re-solve with the engine
    /// that found the plan.
    pub backend: Backend,
}

/// What a re-plan adds to the program (docs/MODEL.md §6): per unlocked
/// driver-period the units added `p` and taken away `m` (`u - current = p - m`),
/// and the money they move.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplanTerms {
    /// `(p, m)` per driver and period; `None` in a locked period.
    pub moves: Vec<Vec<Option<(VarId, VarId)>>>,
    /// Money moved per driver: `unit_cost * (p + m)` over its unlocked periods.
    pub by_driver: Vec<LinExpr>,
    /// Money moved in all (`Change`): the lexicographic level a re-plan minimises
    /// second.
    pub change: LinExpr,
}

/// What uncertainty adds to the program (docs/MODEL.md §7).
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeTerms {
    /// Per driver, its revenue over the horizon at the plan's own rates (the
    /// program's are the expected ones): an outcome's revenue is the baseline plus
    /// the sum of these times its factors.
    pub by_driver: Vec<LinExpr>,
    /// Baseline revenue over the horizon.
    pub baseline: f64,
    /// With a confidence on the revenue target: the tail's variables.
    pub tail: Option<TailTerms>,
}

/// The conditional value-at-risk variables of a revenue target met with a
/// confidence (docs/MODEL.md §7).
#[derive(Debug, Clone, PartialEq)]
pub struct TailTerms {
    /// The confidence `q`.
    pub confidence: f64,
    /// `r[i]`: each driver's revenue at the plan's rates, as a variable.
    pub revenue_vars: Vec<VarId>,
    /// `eta`: the value at risk.
    pub eta: VarId,
    /// `l[s]`: each outcome's shortfall below `eta`.
    pub shortfalls: Vec<VarId>,
    /// `eta - sum_s w[s] l[s] / (1 - q)`: what the target bounds.
    pub measure: LinExpr,
}

impl Program {
    /// The same program with named constraint `index` moved to `bound`, for
    /// sensitivity analysis and relaxation. An index out of range changes nothing.
    pub fn with_bound(&self, index: usize, bound: f64) -> Program {
        let mut program = self.clone();
        if let Some(named) = Arc::make_mut(&mut program.named).get_mut(index) {
            named.bound = bound;
            if let Some(row) = program.rows.get_mut(named.row) {
                *row = named.measure.row(named.sense, bound);
            }
        }
        program
    }

    /// The same program restricted to `face`: its variables fixed, its rows
    /// made equalities. Indices out of range change nothing.
    pub fn restricted(&self, face: &Face) -> Program {
        let mut program = self.clone();
        program.restrict(face);
        program
    }

    /// [`Program::restricted`] in place: no copy of a program already owned.
    pub fn restrict(&mut self, face: &Face) {
        for &(var, value) in &face.fixed {
            if let Some(var) = self.vars.get_mut(var) {
                var.lower = value;
                var.upper = value;
            }
        }
        for &row in &face.tight {
            if let Some(row) = self.rows.get_mut(row) {
                row.sense = Sense::Equal;
            }
        }
    }

    /// The same program with every integer variable fixed at its value in `values`:
    /// the linear program whose prices docs/MODEL.md §3 reports for integer plans.
    pub fn with_integers_fixed(&self, values: &[f64]) -> Program {
        let mut program = self.clone();
        for (var, value) in program.vars.iter_mut().zip(values) {
            if var.integer {
                var.integer = false;
                var.lower = *value;
                var.upper = *value;
            }
        }
        program
    }

    /// `values` with every segment-order binary set to 1 where its segment is
    /// full. Both 0 and 1 are feasible there (the segment's row holds either
    /// way, and 1 only lets the next segment fill), so an engine may return
    /// either; 1 is the one that says what the plan is — the segment is full —
    /// and so the one whose fixed-integer prices (docs/MODEL.md §3) let the next unit
    /// go to the next segment.
    pub fn with_full_segments_marked(&self, mut values: Vec<f64>) -> Vec<f64> {
        for order in &self.segment_order {
            let full = values
                .get(order.segment)
                .is_some_and(|&y| y >= order.width - 1e-9 * order.width.max(1.0));
            if full {
                if let Some(z) = values.get_mut(order.full) {
                    *z = 1.0;
                }
            }
        }
        values
    }

    /// Sets the conditional value-at-risk variables (docs/MODEL.md §7) from the
    /// units in `values`: each driver's revenue, the value at risk at its best
    /// (the `1 - q` percentile of the outcomes' revenue) and each shortfall below
    /// it, so that the target's measure is the tail's mean revenue. For scoring a
    /// given allocation; a solve sets them itself.
    pub fn settle_tail(&self, uncertainty: &crate::model::Uncertainty, values: &mut [f64]) {
        let Some((outcomes, tail)) = self
            .outcomes
            .as_ref()
            .and_then(|terms| Some((terms, terms.tail.as_ref()?)))
        else {
            return;
        };
        let revenue: Vec<f64> = outcomes.by_driver.iter().map(|r| r.eval(values)).collect();
        for (&var, &r) in tail.revenue_vars.iter().zip(&revenue) {
            if let Some(value) = values.get_mut(var) {
                *value = r;
            }
        }
        let revenues: Vec<f64> = uncertainty
            .outcomes
            .iter()
            .map(|outcome| outcome.revenue(&revenue, outcomes.baseline))
            .collect();
        let mut sorted: Vec<crate::model::OutcomeTotals> = uncertainty
            .outcomes
            .iter()
            .zip(&revenues)
            .map(|(outcome, &revenue)| crate::model::OutcomeTotals {
                weight: outcome.weight,
                revenue,
                contribution: 0.0,
            })
            .collect();
        sorted.sort_by(|a, b| a.revenue.total_cmp(&b.revenue));
        let eta = crate::model::percentile(&sorted, 1.0 - tail.confidence);
        if let Some(value) = values.get_mut(tail.eta) {
            *value = eta;
        }
        for (&var, r) in tail.shortfalls.iter().zip(revenues) {
            if let Some(value) = values.get_mut(var) {
                *value = (eta - r).max(0.0);
            }
        }
    }

    /// Whether any variable is integer (integer drivers or segment-order binaries), so
    /// that the program is a mixed-integer program.
    pub fn is_mixed_integer(&self) -> bool {
        self.vars.iter().any(|var| var.integer)
    }

    /// Builds the program of a validated plan, exactly as docs/MODEL.md §2 writes it.
    pub fn build(plan: &Plan) -> Program {
        Builder::new(plan).build()
    }
}

struct Builder<'a> {
    plan: &'a Plan,
    periods: usize,
    vars: Vec<Var>,
    rows: Vec<Row>,
    named: Vec<NamedConstraint>,
    segment_order: Vec<SegmentOrder>,
}

impl<'a> Builder<'a> {
    fn new(plan: &'a Plan) -> Self {
        Builder {
            plan,
            periods: plan.periods.len(),
            vars: Vec::new(),
            rows: Vec::new(),
            named: Vec::new(),
            segment_order: Vec::new(),
        }
    }

    fn add_var(&mut self, lower: f64, upper: f64, integer: bool) -> VarId {
        self.vars.push(Var {
            lower,
            upper,
            integer,
        });
        self.vars.len() - 1
    }

    fn add_row(&mut self, expr: LinExpr, sense: Sense, rhs: f64) -> usize {
        self.rows.push(Row::new(expr, sense, rhs));
        self.rows.len() - 1
    }

    fn add_named(
        &mut self,
        name: String,
        source: ConstraintSource,
        sense: Sense,
        bound: f64,
        measure: Measure,
    ) {
        self.rows.push(measure.row(sense, bound));
        self.named.push(NamedConstraint {
            name,
            source,
            sense,
            bound,
            measure,
            row: self.rows.len() - 1,
        });
    }

    fn build(mut self) -> Program {
        let plan = self.plan;
        let periods = self.periods;

        // Variables y[i][k][t], plus the whole-unit count per period of an integer
        // driver with several segments, plus the segment-order binaries.
        let mut segment_units = Vec::with_capacity(plan.drivers.len());
        let mut units = Vec::with_capacity(plan.drivers.len());
        for (i, driver) in plan.drivers.iter().enumerate() {
            let single_segment = driver.response.len() == 1;
            let ys: Vec<Vec<VarId>> = driver
                .response
                .iter()
                .map(|segment| {
                    (0..periods)
                        .map(|_| {
                            let upper = segment.units.unwrap_or(f64::INFINITY);
                            self.add_var(0.0, upper, driver.integer && single_segment)
                        })
                        .collect()
                })
                .collect();
            let mut driver_units = Vec::with_capacity(periods);
            for t in 0..periods {
                let total = LinExpr::sum(ys.iter().map(|y| (y[t], 1.0)));
                if driver.integer && !single_segment {
                    // Whole units across segments: u = n with n integer, and u is
                    // reported (and bounded, and linked) through n itself.
                    let whole = self.add_var(0.0, f64::INFINITY, true);
                    let mut link = total;
                    link.add(whole, -1.0);
                    self.add_row(link, Sense::Equal, 0.0);
                    driver_units.push(LinExpr::sum([(whole, 1.0)]));
                } else {
                    driver_units.push(total);
                }
            }
            if plan.needs_segment_order(i) {
                self.order_segments(i, &ys);
            }
            segment_units.push(ys);
            units.push(driver_units);
        }

        // R[i,t] and S[i,t].
        let mut revenue = Vec::with_capacity(plan.drivers.len());
        let mut spend = Vec::with_capacity(plan.drivers.len());
        for (i, driver) in plan.drivers.iter().enumerate() {
            let ys = &segment_units[i];
            // With uncertainty the program's rates are the expected ones
            // (docs/MODEL.md §7): each times its driver's mean factor.
            let rate = plan
                .uncertainty
                .as_ref()
                .and_then(|u| u.mean_factors.get(i).copied())
                .unwrap_or(1.0);
            let mut driver_revenue = Vec::with_capacity(periods);
            let mut driver_spend = Vec::with_capacity(periods);
            for t in 0..periods {
                let seasonality = driver.seasonality.get(t).copied().unwrap_or(1.0);
                let mut r = LinExpr::default();
                let mut s = LinExpr::default();
                for committed in 0..=t {
                    let lag = t - committed;
                    let return_share = driver.return_profile.get(lag).copied().unwrap_or(0.0);
                    if return_share != 0.0 && seasonality != 0.0 {
                        for (k, segment) in driver.response.iter().enumerate() {
                            let coefficient =
                                rate * seasonality * return_share * segment.revenue_per_unit;
                            r.add(ys[k][committed], coefficient);
                        }
                    }
                    let cost_share = driver.cost_profile.get(lag).copied().unwrap_or(0.0);
                    if cost_share != 0.0 {
                        for y in ys {
                            s.add(y[committed], cost_share * driver.unit_cost);
                        }
                    }
                }
                driver_revenue.push(r.normalized());
                driver_spend.push(s.normalized());
            }
            revenue.push(driver_revenue);
            spend.push(driver_spend);
        }

        // Levels per period and over the horizon.
        let period_levels: Vec<Levels> = (0..periods)
            .map(|t| {
                let period = &plan.periods[t];
                let driver_revenue = LinExpr::sum_exprs(revenue.iter().map(|r| &r[t]));
                let spend_t = LinExpr::sum_exprs(spend.iter().map(|s| &s[t]));
                // One sum, normalized once (not once per driver: quadratic).
                let mut gross_profit = LinExpr::sum_exprs_scaled(
                    plan.drivers
                        .iter()
                        .zip(&revenue)
                        .map(|(driver, revenue)| (&revenue[t], driver.gross_margin)),
                );
                gross_profit.constant += plan.baseline_gross_margin * period.baseline_revenue;
                let mut revenue_t = driver_revenue.clone();
                revenue_t.constant += period.baseline_revenue;
                let mut contribution = gross_profit.clone().plus_scaled(&spend_t, -1.0);
                contribution.constant -= period.fixed_costs;
                Levels {
                    revenue: revenue_t,
                    driver_revenue,
                    spend: spend_t,
                    gross_profit: gross_profit.normalized(),
                    contribution: contribution.normalized(),
                }
            })
            .collect();
        let levels = Levels {
            revenue: LinExpr::sum_exprs(period_levels.iter().map(|l| &l.revenue)),
            driver_revenue: LinExpr::sum_exprs(period_levels.iter().map(|l| &l.driver_revenue)),
            spend: LinExpr::sum_exprs(period_levels.iter().map(|l| &l.spend)),
            gross_profit: LinExpr::sum_exprs(period_levels.iter().map(|l| &l.gross_profit)),
            contribution: LinExpr::sum_exprs(period_levels.iter().map(|l| &l.contribution)),
        };

        let replan = plan
            .replan
            .as_ref()
            .map(|replan| self.add_replan(replan, &units));
        let outcomes = plan
            .uncertainty
            .as_ref()
            .map(|uncertainty| self.add_outcomes(uncertainty, &revenue));
        let target_measure = outcomes
            .as_ref()
            .and_then(|outcomes| outcomes.tail.as_ref())
            .map(|tail| tail.measure.clone());
        self.add_plan_constraints(&units, &spend, &period_levels, &levels, target_measure);
        if let (Some(terms), Some(cap)) = (&replan, plan.replan.as_ref().and_then(|r| r.max_change))
        {
            self.add_named(
                "replan.max_change".into(),
                ConstraintSource::MaxChange,
                Sense::LessEqual,
                cap,
                Measure::Linear(terms.change.clone()),
            );
        }

        Program {
            vars: self.vars,
            rows: self.rows,
            named: Arc::new(self.named),
            segment_units: Arc::new(segment_units),
            units: Arc::new(units),
            revenue: Arc::new(revenue),
            spend: Arc::new(spend),
            period_levels: Arc::new(period_levels),
            levels: Arc::new(levels),
            segment_order: self.segment_order,
            replan: replan.map(Arc::new),
            outcomes: outcomes.map(Arc::new),
            backend: Backend::default(),
        }
    }

    /// The outcomes' terms (docs/MODEL.md §7): each driver's revenue at the plan's
    /// own rates and, with a confidence, the conditional value-at-risk rows:
    /// `r[i]` equal to that revenue, `l[s] >= eta - Rev_s` with
    /// `Rev_s = baseline + sum_i f[s,i] r[i]` (sparse: one term per driver), and
    /// the measure `eta - sum_s w[s] l[s] / (1 - q)` the target then bounds.
    fn add_outcomes(
        &mut self,
        uncertainty: &crate::model::Uncertainty,
        revenue: &[Vec<LinExpr>],
    ) -> OutcomeTerms {
        let plan = self.plan;
        let by_driver: Vec<LinExpr> = revenue
            .iter()
            .zip(&uncertainty.mean_factors)
            .map(|(per_period, &mean)| {
                if mean > 0.0 {
                    LinExpr::sum_exprs_scaled(per_period.iter().map(|r| (r, 1.0 / mean)))
                } else {
                    // Every factor is 0: the driver adds nothing in any outcome.
                    LinExpr::default()
                }
            })
            .collect();
        let baseline: f64 = plan.periods.iter().map(|p| p.baseline_revenue).sum();
        let confidence = uncertainty
            .confidence
            .filter(|_| plan.requirements.revenue_target.is_some());
        let tail = confidence.map(|confidence| {
            let revenue_vars: Vec<VarId> = by_driver
                .iter()
                .map(|expr| {
                    let var = self.add_var(0.0, f64::INFINITY, false);
                    let mut row = expr.clone();
                    row.add(var, -1.0);
                    self.add_row(row, Sense::Equal, 0.0);
                    var
                })
                .collect();
            // The value at risk is a revenue, and every outcome's revenue is >= 0.
            let eta = self.add_var(0.0, f64::INFINITY, false);
            let mut measure = LinExpr::sum([(eta, 1.0)]);
            let shortfalls: Vec<VarId> = uncertainty
                .outcomes
                .iter()
                .map(|outcome| {
                    let shortfall = self.add_var(0.0, f64::INFINITY, false);
                    let mut row = LinExpr::sum(
                        revenue_vars
                            .iter()
                            .zip(&outcome.factors)
                            .filter(|(_, &factor)| factor != 0.0)
                            .map(|(&var, &factor)| (var, factor)),
                    );
                    row.add(shortfall, 1.0);
                    row.add(eta, -1.0);
                    self.add_row(row, Sense::GreaterEqual, -baseline);
                    measure.add(shortfall, -outcome.weight / (1.0 - confidence));
                    shortfall
                })
                .collect();
            TailTerms {
                confidence,
                revenue_vars,
                eta,
                shortfalls,
                measure: measure.normalized(),
            }
        });
        OutcomeTerms {
            by_driver,
            baseline,
            tail,
        }
    }

    /// A re-plan's rows (docs/MODEL.md §6): a locked period's units equal the plan
    /// in force; an unlocked one's differ from it by `p - m`, with `p, m >= 0`, and
    /// move `unit_cost * (p + m)` of money.
    fn add_replan(&mut self, replan: &crate::model::Replan, units: &[Vec<LinExpr>]) -> ReplanTerms {
        let plan = self.plan;
        let mut moves = Vec::with_capacity(plan.drivers.len());
        let mut by_driver = Vec::with_capacity(plan.drivers.len());
        for (i, driver) in plan.drivers.iter().enumerate() {
            let mut driver_moves = Vec::with_capacity(self.periods);
            let mut moved = LinExpr::default();
            for t in 0..self.periods {
                let committed = units
                    .get(i)
                    .and_then(|u| u.get(t))
                    .cloned()
                    .unwrap_or_default();
                let current = replan.current_units(i, t);
                if replan.is_locked(t) {
                    self.add_row(committed, Sense::Equal, current);
                    driver_moves.push(None);
                    continue;
                }
                let added = self.add_var(0.0, f64::INFINITY, false);
                let taken = self.add_var(0.0, f64::INFINITY, false);
                let mut difference = committed;
                difference.add(added, -1.0);
                difference.add(taken, 1.0);
                self.add_row(difference, Sense::Equal, current);
                moved.add(added, driver.unit_cost);
                moved.add(taken, driver.unit_cost);
                driver_moves.push(Some((added, taken)));
            }
            moves.push(driver_moves);
            by_driver.push(moved.normalized());
        }
        let change = LinExpr::sum_exprs(by_driver.iter());
        ReplanTerms {
            moves,
            by_driver,
            change,
        }
    }

    /// Segment order with binaries: `y[k] >= width[k] * z[k]` and
    /// `y[k+1] <= M * z[k]`, so a later segment fills only once the earlier is full.
    fn order_segments(&mut self, i: usize, ys: &[Vec<VarId>]) {
        let plan = self.plan;
        let driver = &plan.drivers[i];
        for t in 0..self.periods {
            // Validation guarantees a finite bound for drivers that need ordering.
            let Some(bound) = plan.unit_bound(i, t) else {
                continue;
            };
            for (k, pair) in ys.windows(2).enumerate() {
                let width = driver
                    .response
                    .get(k)
                    .and_then(|s| s.units)
                    .unwrap_or(bound);
                let z = self.add_var(0.0, 1.0, true);
                self.segment_order.push(SegmentOrder {
                    full: z,
                    segment: pair[0][t],
                    width,
                });
                let mut filled = LinExpr::default();
                filled.add(pair[0][t], 1.0);
                filled.add(z, -width);
                self.add_row(filled, Sense::GreaterEqual, 0.0);
                let mut next = LinExpr::default();
                next.add(pair[1][t], 1.0);
                next.add(z, -bound);
                self.add_row(next, Sense::LessEqual, 0.0);
            }
        }
    }

    fn add_plan_constraints(
        &mut self,
        units: &[Vec<LinExpr>],
        spend: &[Vec<LinExpr>],
        period_levels: &[Levels],
        levels: &Levels,
        target_measure: Option<LinExpr>,
    ) {
        use ConstraintSource as Source;
        let plan = self.plan;

        if let Some(cap) = plan.budget_cap {
            let measure = Measure::Linear(levels.spend.clone());
            self.add_named(
                "budget_cap".into(),
                Source::BudgetCap,
                Sense::LessEqual,
                cap,
                measure,
            );
        }
        for (t, period) in plan.periods.iter().enumerate() {
            if let Some(cap) = period.budget_cap {
                let measure = Measure::Linear(period_levels[t].spend.clone());
                let name = format!("period[{}].budget_cap", period.name);
                self.add_named(
                    name,
                    Source::PeriodBudgetCap(t),
                    Sense::LessEqual,
                    cap,
                    measure,
                );
            }
        }
        let requirements = plan.requirements;
        if let Some(floor) = requirements.min_margin {
            let measure = Measure::Ratio {
                numerator: levels.contribution.clone(),
                denominator: levels.revenue.clone(),
            };
            let name = "requirements.min_margin".into();
            self.add_named(name, Source::MinMargin, Sense::GreaterEqual, floor, measure);
        }
        for (t, period) in plan.periods.iter().enumerate() {
            if let Some(floor) = period.min_margin {
                let measure = Measure::Ratio {
                    numerator: period_levels[t].contribution.clone(),
                    denominator: period_levels[t].revenue.clone(),
                };
                let name = format!("period[{}].min_margin", period.name);
                self.add_named(
                    name,
                    Source::PeriodMinMargin(t),
                    Sense::GreaterEqual,
                    floor,
                    measure,
                );
            }
        }
        if let Some(floor) = requirements.min_contribution {
            let measure = Measure::Linear(levels.contribution.clone());
            let name = "requirements.min_contribution".into();
            self.add_named(
                name,
                Source::MinContribution,
                Sense::GreaterEqual,
                floor,
                measure,
            );
        }
        if let Some(target) = requirements.revenue_target {
            // With a confidence, the target bounds the mean revenue of the worst
            // outcomes (docs/MODEL.md §7), not the expected revenue.
            let measure = Measure::Linear(target_measure.unwrap_or_else(|| levels.revenue.clone()));
            let name = "requirements.revenue_target".into();
            self.add_named(
                name,
                Source::RevenueTarget,
                Sense::GreaterEqual,
                target,
                measure,
            );
        }
        if let Some(floor) = requirements.min_roi {
            let measure = Measure::Ratio {
                numerator: levels.driver_revenue.clone(),
                denominator: levels.spend.clone(),
            };
            let name = "requirements.min_roi".into();
            self.add_named(name, Source::MinRoi, Sense::GreaterEqual, floor, measure);
        }

        for (g, group) in plan.groups.iter().enumerate() {
            let group_spend = LinExpr::sum_exprs(
                group
                    .members
                    .iter()
                    .filter_map(|&i| spend.get(i))
                    .flat_map(|per_period| per_period.iter()),
            );
            let share = || Measure::Ratio {
                numerator: group_spend.clone(),
                denominator: levels.spend.clone(),
            };
            let bounds = [
                (
                    group.min_spend,
                    "min_spend",
                    Source::GroupMinSpend(g),
                    Sense::GreaterEqual,
                    false,
                ),
                (
                    group.max_spend,
                    "max_spend",
                    Source::GroupMaxSpend(g),
                    Sense::LessEqual,
                    false,
                ),
                (
                    group.min_share,
                    "min_share",
                    Source::GroupMinShare(g),
                    Sense::GreaterEqual,
                    true,
                ),
                (
                    group.max_share,
                    "max_share",
                    Source::GroupMaxShare(g),
                    Sense::LessEqual,
                    true,
                ),
            ];
            for (bound, field, source, sense, is_share) in bounds {
                if let Some(bound) = bound {
                    let measure = if is_share {
                        share()
                    } else {
                        Measure::Linear(group_spend.clone())
                    };
                    let name = format!("group[{}].{field}", group.name);
                    self.add_named(name, source, sense, bound, measure);
                }
            }
        }

        for (l, link) in plan.links.iter().enumerate() {
            let in_period = |t: usize| match link.measure {
                LinkMeasure::Committed => {
                    LinExpr::sum_exprs_scaled(link.terms.iter().filter_map(|term| {
                        Some((units.get(term.driver)?.get(t)?, term.coefficient))
                    }))
                }
                LinkMeasure::Active => {
                    let active: Vec<(LinExpr, f64)> = link
                        .terms
                        .iter()
                        .map(|term| (active_units(plan, units, term.driver, t), term.coefficient))
                        .collect();
                    LinExpr::sum_exprs_scaled(active.iter().map(|(expr, c)| (expr, *c)))
                }
            };
            if link.per_period {
                for (t, period) in plan.periods.iter().enumerate() {
                    let name = format!("link[{}][{}]", link.name, period.name);
                    let measure = Measure::Linear(in_period(t));
                    self.add_named(
                        name,
                        Source::Link(l, Some(t)),
                        link.sense,
                        link.rhs,
                        measure,
                    );
                }
            } else {
                let total =
                    LinExpr::sum_exprs((0..self.periods).map(in_period).collect::<Vec<_>>().iter());
                let name = format!("link[{}]", link.name);
                self.add_named(
                    name,
                    Source::Link(l, None),
                    link.sense,
                    link.rhs,
                    Measure::Linear(total),
                );
            }
        }

        for (i, driver) in plan.drivers.iter().enumerate() {
            for (t, period) in plan.periods.iter().enumerate() {
                let committed = &units[i][t];
                let minimum = driver.min_units.get(t).copied().unwrap_or(0.0);
                if minimum > 0.0 {
                    let name = format!("driver[{}].min_units[{}]", driver.id, period.name);
                    let measure = Measure::Linear(committed.clone());
                    self.add_named(
                        name,
                        Source::DriverMinUnits(i, t),
                        Sense::GreaterEqual,
                        minimum,
                        measure,
                    );
                }
                if let Some(maximum) = driver.max_units.get(t).copied().flatten() {
                    let name = format!("driver[{}].max_units[{}]", driver.id, period.name);
                    let measure = Measure::Linear(committed.clone());
                    self.add_named(
                        name,
                        Source::DriverMaxUnits(i, t),
                        Sense::LessEqual,
                        maximum,
                        measure,
                    );
                }
                let minimum = driver.min_active.get(t).copied().unwrap_or(0.0);
                if minimum > 0.0 {
                    let name = format!("driver[{}].min_active[{}]", driver.id, period.name);
                    let measure = Measure::Linear(active_units(plan, units, i, t));
                    self.add_named(
                        name,
                        Source::DriverMinActive(i, t),
                        Sense::GreaterEqual,
                        minimum,
                        measure,
                    );
                }
                if let Some(maximum) = driver.max_active.get(t).copied().flatten() {
                    let name = format!("driver[{}].max_active[{}]", driver.id, period.name);
                    let measure = Measure::Linear(active_units(plan, units, i, t));
                    self.add_named(
                        name,
                        Source::DriverMaxActive(i, t),
                        Sense::LessEqual,
                        maximum,
                        measure,
                    );
                }
            }
        }
    }
}

/// `A[i,t]`: driver `i`'s units active in period `t`, its existing team plus
/// earlier commitments still active by its profile (docs/MODEL.md §5). Built only
/// for the rows that need it: most plans have none.
fn active_units(plan: &Plan, units: &[Vec<LinExpr>], i: usize, t: usize) -> LinExpr {
    let Some((driver, committed)) = plan.drivers.get(i).zip(units.get(i)) else {
        return LinExpr::default();
    };
    let mut active = LinExpr::sum_exprs_scaled(
        committed
            .iter()
            .enumerate()
            .take(t + 1)
            .map(|(s, u)| (u, driver.active_share(s, t)))
            .filter(|&(_, share)| share != 0.0),
    );
    active.constant += driver.existing_active.get(t).copied().unwrap_or(0.0);
    active
}

#[cfg(test)]
mod tests;
