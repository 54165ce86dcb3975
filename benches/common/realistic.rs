//! Realistic random plans: the shape of real B2B sales plans, from a seed.
//!
//! Shared by the benches (`common::realistic`) and the property tests
//! (`tests/realistic.rs` includes this file with `#[path]`). [`realistic_plan`]
//! turns one `u64` seed into one plan, with a small hand-rolled PRNG, so a seed
//! reproduces its plan on any machine and any version of the dependencies.
//!
//! What a plan holds (docs/MODEL.md §1–§2), calibrated on
//! `../shared/plans/realistic/` and stretched beyond it:
//!
//! - 3–12 periods of one cadence (months `2026-01`, quarters `FY26-Q1`, halves
//!   `FY26-H1`), now and then 1–2 or none (one period `total`); baseline revenue of
//!   1e5–1e8 a period with seasonality and growth, fixed costs beside it;
//! - 6–35 drivers (now and then 2–5 or up to 50) of the usual kinds: account
//!   executives (SMB, mid-market, enterprise), SDRs, sales engineers, customer
//!   success, sales leaders (up to 250k a head), channel partners, paid and demand
//!   programs bought in USD (millions of units at 1 USD), events, enablement, and
//!   low-margin resale; each with 1–5 response segments of non-increasing revenue
//!   per unit (ties included), ramps (`return_profile`) and recurring costs
//!   (`cost_profile`) as long as the horizon, seasonality, whole units, maximum and
//!   minimum units, by-period lists with hiring freezes; drivers copied across
//!   regions with the same numbers (degenerate optima);
//! - budget caps on the plan and on periods, the four requirements, groups by tag
//!   and by ids (spend and share bounds), links (SDRs per AE, SE coverage, CSM
//!   coverage, recruiting capacity, balanced hiring; per period and over the
//!   horizon), margin floors above some drivers' gross margins so that segment
//!   order applies (with the finite unit bounds validity then asks for), all three
//!   objectives;
//! - a share of plans meant to be infeasible (a quota or a contribution out of
//!   reach, minimums above the budget, a link that cannot hold) and of plans meant
//!   to be unbounded (no cap on a profitable driver).
//!
//! Every plan is meant to be valid (`tradeoff::convert::plan_from_pb` accepts it): a
//! plan it refuses is a bug of this generator. The [`Intent`] says what the
//! generator aimed at; the solve decides the status.
#![allow(dead_code)]

use tradeoff::pb;

/// A small PRNG (SplitMix64): the same seed gives the same numbers everywhere.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [low, high).
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    /// Log-uniform in [low, high) (both > 0).
    pub fn log_uniform(&mut self, low: f64, high: f64) -> f64 {
        (low.ln() + (high.ln() - low.ln()) * self.unit()).exp()
    }

    /// Uniform in `low..=high`.
    pub fn int(&mut self, low: usize, high: usize) -> usize {
        low + (self.next_u64() % (high - low + 1) as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.int(0, items.len() - 1)]
    }

    /// An index drawn with the given weights (not all 0).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (index, &weight) in weights.iter().enumerate() {
            if x < weight {
                return index;
            }
            x -= weight;
        }
        weights.len() - 1
    }

    /// `count` distinct indices below `n`, in random order.
    pub fn sample(&mut self, n: usize, count: usize) -> Vec<usize> {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..count.min(n) {
            let j = self.int(i, n - 1);
            all.swap(i, j);
        }
        all.truncate(count.min(n));
        all
    }
}

/// `x` rounded to `digits` significant digits, as planners write numbers.
pub fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let magnitude = x.abs().log10().floor() as i32;
    let power = digits - 1 - magnitude;
    if power >= 0 {
        let factor = 10f64.powi(power);
        (x * factor).round() / factor
    } else {
        let factor = 10f64.powi(-power);
        (x / factor).round() * factor
    }
}

/// What the generator aimed at; the solve decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// An ordinary plan, bounded by its caps (feasible more often than not).
    Solvable,
    /// A plan built to be infeasible: the mechanism is named.
    Infeasible(&'static str),
    /// A plan built to be unbounded: no cap on a profitable driver.
    Unbounded,
}

/// One generated plan.
#[derive(Debug, Clone)]
pub struct Realistic {
    /// The seed that made it.
    pub seed: u64,
    /// What the generator aimed at.
    pub intent: Intent,
    /// The plan, as a client would send it.
    pub plan: pb::Plan,
}

/// Period lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cadence {
    Month,
    Quarter,
    Half,
}

impl Cadence {
    /// Length in quarters: money per period scales with it.
    fn quarters(self) -> f64 {
        match self {
            Cadence::Month => 1.0 / 3.0,
            Cadence::Quarter => 1.0,
            Cadence::Half => 2.0,
        }
    }

    /// Periods in a year.
    fn per_year(self) -> usize {
        match self {
            Cadence::Month => 12,
            Cadence::Quarter => 4,
            Cadence::Half => 2,
        }
    }

    /// The name of period `t` of a plan starting in fiscal year `year`.
    fn name(self, year: usize, t: usize) -> String {
        let (y, k) = (year + t / self.per_year(), t % self.per_year() + 1);
        match self {
            Cadence::Month => format!("20{y:02}-{k:02}"),
            Cadence::Quarter => format!("FY{y:02}-Q{k}"),
            Cadence::Half => format!("FY{y:02}-H{k}"),
        }
    }

    /// The quarter of the year (0..4) period `t` falls in.
    fn quarter_of_year(self, t: usize) -> usize {
        match self {
            Cadence::Month => (t % 12) / 3,
            Cadence::Quarter => t % 4,
            Cadence::Half => (t % 2) * 2 + 1,
        }
    }
}

/// Kinds of driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    AccountExecutive,
    Sdr,
    SalesEngineer,
    Csm,
    Leader,
    Partner,
    Paid,
    Event,
    Enablement,
    Resale,
}

const REGIONS: [&str; 10] = [
    "na", "emea", "dach", "uki", "nordics", "apac", "japan", "anz", "latam", "france",
];
const SEGMENTS: [&str; 3] = ["smb", "mm", "ent"];
const PROGRAMS: [&str; 8] = [
    "paid_search",
    "paid_social",
    "content",
    "seo",
    "retargeting",
    "webinars",
    "field",
    "intent_data",
];

/// A driver in the making, with what the generator knows about it.
#[derive(Debug, Clone)]
struct Draft {
    driver: pb::Driver,
    kind: Kind,
    region: &'static str,
    /// Units a period the plan would typically commit (for reference spend).
    typical_units: f64,
    /// Whether it may appear in links and groups that bound it (not the star of
    /// an unbounded plan).
    free: bool,
}

/// What a kind of driver is like, drawn for one driver.
struct Spec {
    id: String,
    name: String,
    unit: &'static str,
    unit_cost: f64,
    /// Revenue per unit per period at full productivity, first segment.
    rate: f64,
    margin: Option<f64>,
    tags: Vec<&'static str>,
    /// Units a period the plan would typically commit.
    typical: f64,
}

struct Builder {
    rng: Rng,
    cadence: Cadence,
    /// Number of periods of the program (1 when the plan lists none).
    periods: usize,
    /// Money scale of the company (1: a mid-size company).
    size: f64,
    /// Seasonality of the business by quarter of the year.
    season: [f64; 4],
    /// Periods of the fiscal year before the plan starts.
    start: usize,
    separator: &'static str,
}

/// The plan for `seed`: [`realistic_plan_before_active_units`] with people in seat
/// (docs/MODEL.md §5) on a share of plans.
pub fn realistic_plan(seed: u64) -> Realistic {
    let mut generated = realistic_plan_before_active_units(seed);
    people_in_seat(&mut generated.plan, seed);
    generated
}

/// The plan for `seed` as the generator made it before active units
/// (docs/MODEL.md §5) existed: the plans the regression seeds found then are these.
pub fn realistic_plan_before_active_units(seed: u64) -> Realistic {
    let mut rng = Rng::new(seed);
    // The intent cycles with the seed, so that any 17 consecutive seeds hold three
    // plans meant to be infeasible and one meant to be unbounded.
    let intent = match seed % 17 {
        2 | 8 | 13 => Intent::Infeasible(""),
        5 => Intent::Unbounded,
        _ => Intent::Solvable,
    };
    let cadence = *rng.pick(&[
        Cadence::Quarter,
        Cadence::Quarter,
        Cadence::Month,
        Cadence::Half,
    ]);
    let shape = rng.unit();
    let periods = if shape < 0.04 {
        rng.int(1, 2)
    } else {
        match cadence {
            Cadence::Half => rng.int(3, 6),
            _ => rng.int(3, 12),
        }
    };
    let size = rng.log_uniform(0.1, 12.0);
    let season = [
        rng.uniform(0.85, 0.98),
        rng.uniform(0.95, 1.02),
        rng.uniform(0.95, 1.05),
        rng.uniform(1.05, 1.25),
    ];
    let separator = *rng.pick(&["_", "_", "-", "."]);
    let start = rng.int(0, cadence.per_year() - 1) * rng.int(0, 1);
    let mut builder = Builder {
        rng,
        cadence,
        periods,
        size,
        season,
        start,
        separator,
    };
    let (plan, intent) = builder.plan(seed, intent, shape < 0.02);
    Realistic { seed, intent, plan }
}

impl Builder {
    fn money(&self, quarterly: f64) -> f64 {
        quarterly * self.cadence.quarters()
    }

    /// Periods (as many as ramps take) of `quarters` quarters, at least 1.
    fn periods_of(&self, quarters: f64) -> usize {
        ((quarters / self.cadence.quarters()).round() as usize).max(1)
    }

    fn id(&self, parts: &[&str]) -> String {
        parts.join(self.separator)
    }

    fn plan(&mut self, seed: u64, intent: Intent, no_periods: bool) -> (pb::Plan, Intent) {
        let t_count = self.periods;
        let year = self.rng.int(25, 27);
        // The baseline: revenue the business makes anyway, growing, seasonal.
        let level = self.rng.uniform(0.7, 1.4);
        let base = self.money(8e6 * self.size * level);
        let growth = self.rng.uniform(0.0, 0.04) * self.cadence.quarters();
        let fixed_share = self.rng.uniform(0.3, 0.7);
        let baseline_gross_margin = round_sig(self.rng.uniform(0.55, 0.9), 3);
        let mut periods: Vec<pb::Period> = (0..t_count)
            .map(|t| {
                let q = self.cadence.quarter_of_year(self.start + t);
                let revenue = base * (1.0 + growth).powi(t as i32) * self.season[q];
                let fixed = base * fixed_share * (1.0 + 0.3 * growth).powi(t as i32);
                pb::Period {
                    name: self.cadence.name(year, self.start + t),
                    baseline_revenue: round_sig(revenue, 4),
                    fixed_costs: round_sig(fixed, 3),
                    ..Default::default()
                }
            })
            .collect();
        if self.rng.chance(0.05) {
            // A plan of drivers alone: no baseline.
            for period in &mut periods {
                period.baseline_revenue = 0.0;
                period.fixed_costs = 0.0;
            }
        }

        // Drivers.
        let count = match self.rng.unit() {
            x if x < 0.04 => self.rng.int(2, 5),
            x if x < 0.10 => self.rng.int(36, 50),
            _ => self.rng.int(6, 35),
        };
        let region_count = self.rng.int(1, 4).min(REGIONS.len());
        let regions: Vec<&'static str> = self
            .rng
            .sample(REGIONS.len(), region_count)
            .into_iter()
            .map(|i| REGIONS[i])
            .collect();
        let whole_units = self.rng.chance(0.3);
        let mut drafts: Vec<Draft> = Vec::new();
        while drafts.len() < count {
            let kind = match self
                .rng
                .weighted(&[5.0, 2.5, 1.5, 1.5, 0.4, 1.5, 2.5, 1.0, 0.8, 0.5])
            {
                0 => Kind::AccountExecutive,
                1 => Kind::Sdr,
                2 => Kind::SalesEngineer,
                3 => Kind::Csm,
                4 => Kind::Leader,
                5 => Kind::Partner,
                6 => Kind::Paid,
                7 => Kind::Event,
                8 => Kind::Enablement,
                _ => Kind::Resale,
            };
            let region = *self.rng.pick(&regions);
            let draft = self.driver(kind, region, whole_units);
            if drafts.len() + 1 < count && self.rng.chance(0.08) {
                // The same driver in another region, with the same numbers: ties.
                let other = *self.rng.pick(&REGIONS);
                let mut twin = draft.clone();
                twin.region = other;
                twin.driver.tags.retain(|tag| tag != region);
                twin.driver.tags.push(other.into());
                twin.driver.id = format!("{}{}{other}", draft.driver.id, self.separator);
                drafts.push(twin);
            }
            drafts.push(draft);
        }
        // Ids unique: a number after a repeated one.
        for i in 0..drafts.len() {
            let id = drafts[i].driver.id.clone();
            if drafts[..i].iter().any(|d| d.driver.id == id) {
                drafts[i].driver.id = unique_id(&drafts[..i], id);
            }
        }

        let mut intent = intent;
        let star = if intent == Intent::Unbounded {
            // A profitable program with no limit on its last segment.
            let mut star = self.driver(Kind::Paid, regions[0], false);
            star.driver.id = unique_id(&drafts, self.id(&["paid", "growth", regions[0]]));
            star.driver.tags = vec!["growth".into()];
            star.driver.max_units = None;
            star.driver.max_units_by_period.clear();
            star.driver.min_units = None;
            star.driver.min_units_by_period.clear();
            star.driver.gross_margin = Some(0.8);
            let first = star.driver.response[0].revenue_per_unit.max(3.0);
            star.driver.response = vec![
                pb::Segment {
                    units: Some(round_sig(self.money(2e5 * self.size), 3)),
                    revenue_per_unit: round_sig(first * 1.5, 3),
                },
                pb::Segment {
                    units: None,
                    revenue_per_unit: round_sig(first, 3),
                },
            ];
            star.driver.return_profile = vec![0.4, 0.4, 0.2];
            star.driver.seasonality.clear();
            star.free = false;
            let at = self.rng.int(0, drafts.len());
            drafts.insert(at, star);
            Some(at)
        } else {
            None
        };

        // Reference spend and revenue: every driver at its typical units in every
        // period.
        let (reference_spend, reference_revenue) = self.reference(&drafts);
        let baseline_revenue: f64 = periods.iter().map(|p| p.baseline_revenue).sum();
        let fixed_costs: f64 = periods.iter().map(|p| p.fixed_costs).sum();
        let baseline_margin = if baseline_revenue > 0.0 {
            (baseline_gross_margin * baseline_revenue - fixed_costs) / baseline_revenue
        } else {
            0.3
        };

        // The objective.
        let objective = match self.rng.weighted(&[0.45, 0.35, 0.2]) {
            0 => pb::Objective::MaximizeRevenue,
            1 => pb::Objective::MaximizeContribution,
            _ => pb::Objective::MinimizeSpend,
        };

        // Caps.
        let mut budget_cap = None;
        let spend_scale = reference_spend.max(1.0);
        if intent != Intent::Unbounded {
            match self.rng.unit() {
                x if x < 0.8 => {
                    budget_cap = Some(round_sig(spend_scale * self.rng.uniform(0.2, 1.1), 3));
                }
                x if x < 0.9 => {
                    // Caps on every period instead of the plan.
                    for period in &mut periods {
                        period.budget_cap = Some(round_sig(
                            spend_scale / t_count as f64 * self.rng.uniform(0.3, 1.3),
                            3,
                        ));
                    }
                }
                _ => {
                    // No cap: every driver bounded by its own units instead.
                    for draft in &mut drafts {
                        if !has_finite_bound(&draft.driver, None) {
                            let max = self.max_units_for(draft);
                            draft.driver.max_units = Some(max);
                            draft.driver.max_units_by_period.clear();
                        }
                    }
                }
            }
            if budget_cap.is_some() && self.rng.chance(0.3) {
                for period in &mut periods {
                    if self.rng.chance(0.7) {
                        period.budget_cap = Some(round_sig(
                            spend_scale / t_count as f64 * self.rng.uniform(0.25, 1.6),
                            3,
                        ));
                    }
                }
            }
        }

        // Requirements.
        let mut requirements = pb::Requirements::default();
        if self.rng.chance(0.45) {
            requirements.revenue_target = Some(round_sig(
                baseline_revenue + reference_revenue * self.rng.uniform(0.02, 0.6),
                4,
            ));
        }
        if self.rng.chance(0.35) {
            let floor = (baseline_margin + self.rng.uniform(-0.12, 0.03)).clamp(-0.5, 0.7);
            requirements.min_margin = Some(round_sig(floor, 3));
        }
        if self.rng.chance(0.15) {
            let contribution = baseline_gross_margin * baseline_revenue - fixed_costs;
            requirements.min_contribution = Some(round_sig(
                contribution + reference_revenue * self.rng.uniform(-0.1, 0.15),
                3,
            ));
        }
        if self.rng.chance(0.15) {
            requirements.min_roi = Some(round_sig(self.rng.uniform(1.0, 4.0), 3));
        }
        if self.rng.chance(0.12) {
            for period in &mut periods {
                if self.rng.chance(0.5) {
                    let own = if period.baseline_revenue > 0.0 {
                        (baseline_gross_margin * period.baseline_revenue - period.fixed_costs)
                            / period.baseline_revenue
                    } else {
                        0.2
                    };
                    let floor = (own + self.rng.uniform(-0.15, 0.0)).clamp(-0.5, 0.7);
                    period.min_margin = Some(round_sig(floor, 3));
                }
            }
        }
        // Margin floors above some drivers' gross margins: segment order applies.
        let floor = requirements
            .min_margin
            .into_iter()
            .chain(periods.iter().filter_map(|p| p.min_margin))
            .reduce(f64::max);
        if let Some(floor) = floor {
            if floor > 0.1 && self.rng.chance(0.5) {
                let multi: Vec<usize> = (0..drafts.len())
                    .filter(|&i| drafts[i].free && drafts[i].driver.response.len() >= 2)
                    .collect();
                let chosen = self.rng.int(1, 3).min(multi.len());
                for pick in self.rng.sample(multi.len(), chosen) {
                    let margin = (floor - self.rng.uniform(0.01, 0.3)).max(0.02);
                    drafts[multi[pick]].driver.gross_margin = Some(round_sig(margin, 3));
                }
            }
        }

        // Groups and links.
        let groups = self.groups(&drafts, spend_scale);
        let links = self.links(&drafts);

        let mut plan = pb::Plan {
            name: format!(
                "FY{year:02} sales plan (realistic, seed {seed}, {} {} periods)",
                t_count,
                match self.cadence {
                    Cadence::Month => "monthly",
                    Cadence::Quarter => "quarterly",
                    Cadence::Half => "half-year",
                }
            ),
            currency: self.rng.pick(&["USD", "USD", "EUR", "GBP"]).to_string(),
            periods,
            drivers: Vec::new(),
            baseline_gross_margin: (!self.rng.chance(0.05)).then_some(baseline_gross_margin),
            budget_cap,
            requirements: Some(requirements),
            groups,
            links,
            objective: objective as i32,
            ..Default::default()
        };

        // Intent: break the plan on purpose.
        if let Intent::Infeasible(_) = intent {
            intent = Intent::Infeasible(self.break_plan(
                &mut plan,
                &mut drafts,
                spend_scale,
                reference_revenue,
                baseline_revenue,
            ));
        }
        if let Some(star) = star {
            // Nothing may bound the star: no caps, no share or spend bound on a
            // group holding it, no ratio rule it could break; an objective that
            // grows with it.
            plan.budget_cap = None;
            for period in &mut plan.periods {
                period.budget_cap = None;
                period.min_margin = None;
            }
            let star_id = drafts[star].driver.id.clone();
            plan.groups.retain(|group| {
                group.min_share.is_none()
                    && group.max_share.is_none()
                    && !(group.driver_ids.contains(&star_id) || group.tag == "growth")
            });
            let requirements = plan.requirements.get_or_insert_with(Default::default);
            requirements.min_roi = requirements.min_roi.map(|roi| roi.min(1.5));
            requirements.min_margin = requirements.min_margin.map(|m| m.min(0.2));
            if plan.objective == pb::Objective::MinimizeSpend as i32 {
                plan.objective = pb::Objective::MaximizeRevenue as i32;
            }
        }

        // Segment order needs a finite bound on every driver below a floor.
        let floor = plan
            .requirements
            .as_ref()
            .and_then(|r| r.min_margin)
            .into_iter()
            .chain(plan.periods.iter().filter_map(|p| p.min_margin))
            .reduce(f64::max);
        if let Some(floor) = floor {
            for t in 0..t_count {
                let period_cap = plan.periods[t].budget_cap;
                for draft in &mut drafts {
                    let driver = &draft.driver;
                    let margin = driver
                        .gross_margin
                        .or(plan.baseline_gross_margin)
                        .unwrap_or(1.0);
                    if driver.response.len() >= 2
                        && margin < floor
                        && !has_finite_bound(driver, plan.budget_cap.or(period_cap))
                    {
                        let max = self.max_units_for(draft);
                        let driver = &mut draft.driver;
                        if driver.max_units_by_period.is_empty() {
                            driver.max_units = Some(max);
                        } else {
                            driver.max_units_by_period[t] = max;
                        }
                    }
                }
            }
        }

        // MINIMIZE_SPEND needs a quota or a contribution floor.
        if plan.objective == pb::Objective::MinimizeSpend as i32 {
            let requirements = plan.requirements.get_or_insert_with(Default::default);
            if requirements.revenue_target.is_none() && requirements.min_contribution.is_none() {
                requirements.revenue_target = Some(round_sig(
                    baseline_revenue + reference_revenue * self.rng.uniform(0.05, 0.5),
                    4,
                ));
            }
        }

        plan.drivers = drafts.into_iter().map(|draft| draft.driver).collect();
        if no_periods && plan.periods.len() == 1 {
            // The default single period `total`: every per-period field of the
            // period moves to the plan or goes.
            let period = plan.periods.remove(0);
            if plan.budget_cap.is_none() {
                plan.budget_cap = period.budget_cap;
            }
            if period.baseline_revenue > 0.0 || period.fixed_costs > 0.0 {
                // Keep the baseline: one named period after all.
                plan.periods.push(pb::Period {
                    name: "total".into(),
                    budget_cap: None,
                    ..period
                });
            }
        }
        (plan, intent)
    }

    /// What a driver of `kind` in `region` is like.
    fn spec(&mut self, kind: Kind, region: &'static str, segment: &'static str) -> Spec {
        let heads = (self.size.sqrt() * self.rng.uniform(0.5, 2.0)).max(0.3);
        let regional = self.rng.uniform(0.6, 1.3);
        let quarters = self.cadence.quarters();
        // People: a salary a period, revenue a period a multiple of it.
        let person = |builder: &mut Builder,
                      parts: &[&str],
                      name: String,
                      quarterly_cost: f64,
                      multiple: f64,
                      margin: (f64, f64),
                      tags: Vec<&'static str>,
                      typical: f64| {
            let unit_cost = round_sig(builder.money(quarterly_cost), 3);
            Spec {
                id: builder.id(parts),
                name,
                unit: "head",
                unit_cost,
                rate: unit_cost * multiple,
                margin: Some(builder.rng.uniform(margin.0, margin.1)),
                tags,
                typical,
            }
        };
        match kind {
            Kind::AccountExecutive => {
                let (cost, multiple) = match segment {
                    "smb" => (self.rng.uniform(25e3, 35e3), self.rng.uniform(2.5, 5.0)),
                    "mm" => (self.rng.uniform(35e3, 45e3), self.rng.uniform(3.0, 6.0)),
                    _ => (self.rng.uniform(45e3, 62e3), self.rng.uniform(3.0, 7.0)),
                };
                person(
                    self,
                    &["ae", segment, region],
                    format!("AE {} {region}", segment.to_uppercase()),
                    cost * regional,
                    multiple,
                    (0.74, 0.9),
                    vec!["sales", "headcount", region, segment],
                    2.0 * heads,
                )
            }
            Kind::Sdr => {
                let (cost, multiple) = (self.rng.uniform(15e3, 25e3), self.rng.uniform(2.0, 4.5));
                person(
                    self,
                    &["sdr", region],
                    format!("SDR {region}"),
                    cost * regional,
                    multiple,
                    (0.72, 0.88),
                    vec!["sales", "headcount", "pipeline", region],
                    2.0 * heads,
                )
            }
            Kind::SalesEngineer => {
                let (cost, multiple) = (self.rng.uniform(35e3, 50e3), self.rng.uniform(1.4, 3.2));
                person(
                    self,
                    &["se", region],
                    format!("SE {region}"),
                    cost * regional,
                    multiple,
                    (0.68, 0.88),
                    vec!["sales", "headcount", "presales", region],
                    heads,
                )
            }
            Kind::Csm => {
                let (cost, multiple) = (self.rng.uniform(25e3, 35e3), self.rng.uniform(1.8, 3.5));
                person(
                    self,
                    &["csm", region],
                    format!("CSM {region}"),
                    cost * regional,
                    multiple,
                    (0.72, 0.88),
                    vec!["customer_success", "headcount", region],
                    heads,
                )
            }
            Kind::Leader => {
                let (cost, multiple) = (self.rng.uniform(90e3, 125e3), self.rng.uniform(1.5, 4.0));
                person(
                    self,
                    &["rvp", region],
                    format!("Regional VP {region}"),
                    cost,
                    multiple,
                    (0.75, 0.9),
                    vec!["sales", "headcount", "leadership", region],
                    0.3,
                )
            }
            Kind::Partner => {
                // Recruited once; revenue a quarter a multiple of the recruiting cost.
                let program = *self.rng.pick(&["var", "msp", "si", "referral"]);
                let unit_cost = round_sig(self.rng.uniform(8e3, 30e3), 3);
                Spec {
                    id: self.id(&["partner", program, region]),
                    name: format!("{} partners {region}", program.to_uppercase()),
                    unit: "partner",
                    unit_cost,
                    rate: unit_cost * self.rng.uniform(2.0, 9.0) * quarters,
                    margin: Some(self.rng.uniform(0.45, 0.66)),
                    tags: vec!["channel", "partners", region],
                    typical: 2.0 * heads,
                }
            }
            Kind::Paid | Kind::Resale => {
                // Bought in USD; each USD returns over a few periods.
                let resale = kind == Kind::Resale;
                let program = if resale {
                    "resale"
                } else {
                    *self.rng.pick(&PROGRAMS)
                };
                let global = !resale && self.rng.chance(0.5);
                let mut tags = if resale {
                    vec!["resale"]
                } else {
                    vec!["marketing", "demand_gen"]
                };
                let id = if global {
                    self.id(&["dg", program])
                } else {
                    tags.push(region);
                    self.id(&[if resale { "bundle" } else { "dg" }, program, region])
                };
                Spec {
                    id,
                    name: if resale {
                        format!("Bundle resale {region}")
                    } else {
                        format!("Demand generation: {program}")
                    },
                    unit: "USD",
                    unit_cost: 1.0,
                    rate: if resale {
                        self.rng.uniform(1.05, 1.6)
                    } else {
                        self.rng.uniform(1.3, 6.0)
                    },
                    margin: if resale {
                        Some(self.rng.uniform(0.08, 0.35))
                    } else {
                        self.rng.chance(0.6).then(|| self.rng.uniform(0.7, 0.88))
                    },
                    tags,
                    typical: self.money(if resale { 1e5 } else { 2e5 })
                        * self.size
                        * self.rng.uniform(0.3, 2.0),
                }
            }
            Kind::Event => {
                // Paid once, returns once (over a few periods).
                let event = *self
                    .rng
                    .pick(&["trade_shows", "roadshow", "user_conference"]);
                let unit_cost = round_sig(self.rng.log_uniform(2e4, 2.5e5), 3);
                Spec {
                    id: self.id(&["events", event, region]),
                    name: format!("Events: {event} {region}"),
                    unit: "program",
                    unit_cost,
                    rate: unit_cost * self.rng.uniform(1.5, 5.0),
                    margin: self.rng.chance(0.5).then(|| self.rng.uniform(0.7, 0.85)),
                    tags: vec!["marketing", "events", region],
                    typical: 1.0,
                }
            }
            Kind::Enablement => {
                // Paid once, lifts the team a little every quarter after.
                let topic = *self.rng.pick(&["value_selling", "onboarding", "coaching"]);
                let unit_cost = round_sig(self.rng.log_uniform(1.5e4, 1.2e5), 3);
                Spec {
                    id: self.id(&["enable", topic]),
                    name: format!("Enablement: {topic}"),
                    unit: "program",
                    unit_cost,
                    rate: unit_cost * self.rng.uniform(0.2, 0.9) * quarters,
                    margin: None,
                    tags: vec!["enablement"],
                    typical: 1.0,
                }
            }
        }
    }

    /// A driver of `kind` in `region`.
    fn driver(&mut self, kind: Kind, region: &'static str, whole_units: bool) -> Draft {
        let t_count = self.periods;
        let segment = *self.rng.pick(&SEGMENTS);
        let Spec {
            id,
            name,
            unit,
            unit_cost,
            rate: first_rate,
            margin,
            tags,
            typical,
        } = self.spec(kind, region, segment);
        let money_driver = unit == "USD";

        // Segments: widths growing, rates falling (now and then equal).
        let segments = 1 + self.rng.weighted(&[0.25, 0.27, 0.22, 0.13, 0.13]);
        let mut response = Vec::with_capacity(segments);
        let mut rate = first_rate;
        let mut width =
            (typical * self.rng.uniform(0.3, 1.0)).max(if money_driver { 1e3 } else { 1.0 });
        for k in 0..segments {
            let last = k + 1 == segments;
            let units = if money_driver {
                round_sig(width, 3)
            } else {
                width.round().max(1.0)
            };
            response.push(pb::Segment {
                units: (!last || self.rng.chance(0.55)).then_some(units),
                revenue_per_unit: round_sig(rate, 3),
            });
            width *= self.rng.uniform(1.0, 2.2);
            if !self.rng.chance(0.12) {
                rate *= self.rng.uniform(0.45, 0.97);
            }
        }
        if segments >= 2 && response[segments - 1].units.is_none() && self.rng.chance(0.5) {
            // A long, low tail.
            response[segments - 1].revenue_per_unit =
                round_sig(first_rate * self.rng.uniform(0.05, 0.3), 3);
        }
        for k in 1..segments {
            // Rounding must not make a later rate higher.
            let previous = response[k - 1].revenue_per_unit;
            if response[k].revenue_per_unit > previous {
                response[k].revenue_per_unit = previous;
            }
        }

        // Ramps and recurring costs as long as the horizon.
        let horizon = t_count + self.rng.int(0, 2);
        let (return_profile, cost_profile) = match kind {
            Kind::Paid | Kind::Resale => {
                let profile = match self.cadence {
                    Cadence::Month => vec![0.1, 0.2, 0.25, 0.2, 0.15, 0.1],
                    Cadence::Quarter => vec![0.2, 0.5, 0.3],
                    Cadence::Half => vec![0.6, 0.4],
                };
                let cost = if self.rng.chance(0.2) {
                    vec![0.6, 0.4]
                } else {
                    Vec::new()
                };
                (jitter_profile(&mut self.rng, &profile), cost)
            }
            Kind::Event => (
                jitter_profile(&mut self.rng, &[0.1, 0.4, 0.3, 0.2]),
                if self.rng.chance(0.5) {
                    vec![0.3, 0.7]
                } else {
                    vec![1.0]
                },
            ),
            _ => {
                let ramp_quarters = match kind {
                    Kind::AccountExecutive => match segment {
                        "smb" => 1.0,
                        "mm" => 2.0,
                        _ => 3.0,
                    },
                    Kind::Sdr | Kind::Csm => 1.0,
                    Kind::SalesEngineer => 2.0,
                    Kind::Leader => 2.0,
                    Kind::Partner => 4.0,
                    _ => 1.0,
                };
                let ramp = self.periods_of(ramp_quarters);
                let start = if self.rng.chance(0.7) { 0.0 } else { 0.1 };
                let attrition = if self.rng.chance(0.2) {
                    self.rng.uniform(0.9, 0.99)
                } else {
                    1.0
                };
                let returns: Vec<f64> = (0..horizon)
                    .map(|s| {
                        let level = if s < ramp {
                            start + (1.0 - start) * s as f64 / ramp as f64
                        } else {
                            attrition.powi((s - ramp) as i32)
                        };
                        round_sig(level, 2)
                    })
                    .collect();
                let onboarding = round_sig(self.rng.uniform(1.0, 1.3), 3);
                let recurring = if kind == Kind::Partner {
                    round_sig(self.rng.uniform(0.08, 0.25), 2)
                } else {
                    1.0
                };
                let raise = self.rng.chance(0.2).then(|| self.periods_of(4.0));
                let costs: Vec<f64> = (0..horizon)
                    .map(|s| match (s, raise) {
                        (0, _) => onboarding,
                        (s, Some(after)) if s >= after => round_sig(recurring * 1.04, 3),
                        _ => recurring,
                    })
                    .collect();
                let returns = if kind == Kind::Enablement {
                    // Enablement lifts the team for the rest of the horizon.
                    (0..horizon)
                        .map(|s| if s == 0 { 0.0 } else { 1.0 })
                        .collect()
                } else {
                    returns
                };
                (returns, costs)
            }
        };

        // Seasonality: marketing and events follow the buying season, with a dark
        // period now and then.
        let seasonal = matches!(kind, Kind::Paid | Kind::Event) || self.rng.chance(0.1);
        let seasonality = if seasonal && t_count > 1 {
            let dark =
                (kind == Kind::Event && self.rng.chance(0.3)).then(|| self.rng.int(0, t_count - 1));
            (0..t_count)
                .map(|t| {
                    if Some(t) == dark {
                        0.0
                    } else {
                        let q = self.cadence.quarter_of_year(self.start + t);
                        round_sig(self.season[q] * self.rng.uniform(0.9, 1.1), 2)
                    }
                })
                .collect()
        } else {
            Vec::new()
        };

        let integer = whole_units
            && matches!(
                kind,
                Kind::AccountExecutive
                    | Kind::Sdr
                    | Kind::SalesEngineer
                    | Kind::Csm
                    | Kind::Leader
                    | Kind::Partner
                    | Kind::Event
                    | Kind::Enablement
            )
            && self.rng.chance(0.6);

        let mut driver = pb::Driver {
            id,
            name,
            tags: tags.into_iter().map(String::from).collect(),
            unit: if money_driver && self.rng.chance(0.2) {
                String::new()
            } else {
                unit.into()
            },
            unit_cost: (!(money_driver && self.rng.chance(0.5))).then_some(unit_cost),
            gross_margin: margin.map(|m| round_sig(m, 3)),
            response,
            seasonality,
            integer,
            return_profile,
            cost_profile,
            ..Default::default()
        };

        // Bounds: hiring capacity, freezes, backfills, committed spend.
        let whole = |x: f64| {
            if money_driver {
                round_sig(x, 3)
            } else {
                x.round()
            }
        };
        let mut draft = Draft {
            driver: pb::Driver::default(),
            kind,
            region,
            typical_units: typical,
            free: true,
        };
        let bounded = match kind {
            Kind::Leader => 1.0,
            Kind::Event | Kind::Enablement => 0.8,
            Kind::Paid | Kind::Resale => 0.45,
            _ => 0.55,
        };
        if self.rng.chance(bounded) {
            let max = match kind {
                Kind::Leader => 1.0,
                _ => whole(typical * self.rng.uniform(0.8, 4.0)).max(1.0),
            };
            if t_count > 1 && self.rng.chance(0.2) {
                // A hiring freeze (or a dark period) somewhere in the horizon.
                let start = self.rng.int(0, t_count - 1);
                let length = self.rng.int(1, (t_count - start).min(3));
                driver.max_units_by_period = (0..t_count)
                    .map(|t| {
                        if (start..start + length).contains(&t) {
                            0.0
                        } else {
                            max
                        }
                    })
                    .collect();
            } else {
                driver.max_units = Some(max);
            }
        }
        if self.rng.chance(0.1) {
            // Backfills or committed spend.
            let min = whole(typical * self.rng.uniform(0.1, 0.6)).max(if money_driver {
                1e3
            } else {
                1.0
            });
            let min = match driver.max_units {
                Some(max) => min.min(max),
                None => min,
            };
            if !driver.max_units_by_period.is_empty() || (t_count > 1 && self.rng.chance(0.4)) {
                let from = self.rng.int(0, t_count - 1);
                driver.min_units_by_period = (0..t_count)
                    .map(|t| {
                        let cap = driver
                            .max_units_by_period
                            .get(t)
                            .copied()
                            .or(driver.max_units)
                            .unwrap_or(f64::INFINITY);
                        if t >= from {
                            min.min(cap)
                        } else {
                            0.0
                        }
                    })
                    .collect();
            } else {
                driver.min_units = Some(min);
            }
        }
        draft.driver = driver;
        draft
    }

    /// A maximum for `draft` when one is needed.
    fn max_units_for(&mut self, draft: &Draft) -> f64 {
        let raw = draft.typical_units * self.rng.uniform(1.0, 5.0);
        let max = if draft.driver.unit == "head" || draft.driver.integer {
            raw.round().max(1.0)
        } else {
            round_sig(raw, 3)
        };
        // Not below any minimum.
        let min = draft
            .driver
            .min_units
            .into_iter()
            .chain(draft.driver.min_units_by_period.iter().copied())
            .fold(0.0, f64::max);
        max.max(min)
    }

    /// Spend and revenue with every driver at its typical units in every period.
    fn reference(&self, drafts: &[Draft]) -> (f64, f64) {
        let t_count = self.periods;
        let mut spend = 0.0;
        let mut revenue = 0.0;
        for draft in drafts {
            let driver = &draft.driver;
            let units = draft.typical_units;
            let unit_cost = driver.unit_cost.unwrap_or(1.0);
            // Average rate of the first `units` units of the curve.
            let mut left = units;
            let mut earned = 0.0;
            for segment in &driver.response {
                let take = segment.units.map_or(left, |width| width.min(left));
                earned += take * segment.revenue_per_unit;
                left -= take;
                if left <= 0.0 {
                    break;
                }
            }
            for t in 0..t_count {
                let cost: f64 = profile(&driver.cost_profile).iter().take(t_count - t).sum();
                spend += units * unit_cost * cost;
                let realised: f64 = profile(&driver.return_profile)
                    .iter()
                    .enumerate()
                    .take(t_count - t)
                    .map(|(s, share)| share * driver.seasonality.get(t + s).copied().unwrap_or(1.0))
                    .sum();
                revenue += earned * realised;
            }
        }
        (spend, revenue)
    }

    fn groups(&mut self, drafts: &[Draft], spend: f64) -> Vec<pb::Group> {
        let mut groups = Vec::new();
        let has_tag = |tag: &str| {
            drafts
                .iter()
                .any(|d| d.driver.tags.iter().any(|t| t == tag))
        };
        let add = |groups: &mut Vec<pb::Group>, group: pb::Group| {
            if !groups.iter().any(|g: &pb::Group| g.name == group.name) {
                groups.push(group);
            }
        };
        if has_tag("marketing") && self.rng.chance(0.55) {
            let max_share = round_sig(self.rng.uniform(0.15, 0.5), 2);
            let min_share = self
                .rng
                .chance(0.4)
                .then(|| round_sig(self.rng.uniform(0.02, 0.14), 2));
            add(
                &mut groups,
                pb::Group {
                    name: "marketing".into(),
                    tag: "marketing".into(),
                    min_share,
                    max_share: Some(max_share),
                    ..Default::default()
                },
            );
        }
        if has_tag("partners") && self.rng.chance(0.4) {
            add(
                &mut groups,
                pb::Group {
                    name: "channel".into(),
                    tag: "partners".into(),
                    max_spend: Some(round_sig(spend * self.rng.uniform(0.05, 0.4), 2)),
                    ..Default::default()
                },
            );
        }
        if has_tag("headcount") && self.rng.chance(0.3) {
            add(
                &mut groups,
                pb::Group {
                    name: "people".into(),
                    tag: "headcount".into(),
                    min_share: Some(round_sig(self.rng.uniform(0.15, 0.5), 2)),
                    ..Default::default()
                },
            );
        }
        if self.rng.chance(0.3) {
            let region = drafts[self.rng.int(0, drafts.len() - 1)].region;
            if has_tag(region) {
                add(
                    &mut groups,
                    pb::Group {
                        name: format!("region_{region}"),
                        tag: region.into(),
                        max_spend: Some(round_sig(spend * self.rng.uniform(0.1, 0.6), 2)),
                        ..Default::default()
                    },
                );
            }
        }
        if self.rng.chance(0.35) {
            let members = self.rng.int(1, 4);
            let free: Vec<usize> = (0..drafts.len()).filter(|&i| drafts[i].free).collect();
            let ids: Vec<String> = self
                .rng
                .sample(free.len(), members)
                .into_iter()
                .map(|i| drafts[free[i]].driver.id.clone())
                .collect();
            if !ids.is_empty() {
                let min_spend = self
                    .rng
                    .chance(0.5)
                    .then(|| round_sig(spend * self.rng.uniform(0.01, 0.15), 2));
                let max_spend = (min_spend.is_none() || self.rng.chance(0.5))
                    .then(|| round_sig(spend * self.rng.uniform(0.15, 0.8), 2));
                add(
                    &mut groups,
                    pb::Group {
                        name: "strategic_bets".into(),
                        driver_ids: ids,
                        min_spend,
                        max_spend,
                        ..Default::default()
                    },
                );
            }
        }
        if self.rng.chance(0.2) {
            // Ids and a tag together.
            let anchor = &drafts[self.rng.int(0, drafts.len() - 1)];
            let tag = anchor.driver.tags[self.rng.int(0, anchor.driver.tags.len() - 1)].clone();
            let ids: Vec<String> = self
                .rng
                .sample(drafts.len(), 2)
                .into_iter()
                .filter(|&i| drafts[i].free)
                .map(|i| drafts[i].driver.id.clone())
                .collect();
            let low = round_sig(self.rng.uniform(0.0, 0.15), 2);
            let high = round_sig(self.rng.uniform(0.3, 0.75), 2);
            add(
                &mut groups,
                pb::Group {
                    name: format!("{tag}_plus"),
                    driver_ids: ids,
                    tag,
                    min_share: Some(low),
                    max_share: Some(high),
                    ..Default::default()
                },
            );
        }
        groups
    }

    fn links(&mut self, drafts: &[Draft]) -> Vec<pb::Link> {
        let mut links = Vec::new();
        let in_region = |kind: Kind, region: &str| -> Vec<String> {
            drafts
                .iter()
                .filter(|d| d.free && d.kind == kind && d.region == region)
                .map(|d| d.driver.id.clone())
                .collect()
        };
        let mut regions: Vec<&'static str> = drafts.iter().map(|d| d.region).collect();
        regions.sort_unstable();
        regions.dedup();
        let term = |id: &String, coefficient: f64| pb::LinkTerm {
            driver_id: id.clone(),
            coefficient,
        };
        for region in regions {
            let aes = in_region(Kind::AccountExecutive, region);
            if aes.is_empty() {
                continue;
            }
            let sdrs = in_region(Kind::Sdr, region);
            if let Some(sdr) = sdrs.first() {
                if self.rng.chance(0.6) {
                    let ratio = round_sig(self.rng.uniform(0.2, 0.6), 2);
                    let mut terms = vec![term(sdr, 1.0)];
                    terms.extend(aes.iter().map(|ae| term(ae, -ratio)));
                    links.push(pb::Link {
                        name: format!("sdr_per_ae_{region}"),
                        terms,
                        sense: pb::Sense::GreaterEqual as i32,
                        rhs: 0.0,
                        per_period: self.rng.chance(0.8),
                        ..Default::default()
                    });
                }
            }
            let ses = in_region(Kind::SalesEngineer, region);
            if let Some(se) = ses.first() {
                if self.rng.chance(0.5) {
                    let mut terms = vec![term(se, 2.0)];
                    terms.extend(aes.iter().map(|ae| term(ae, -1.0)));
                    links.push(pb::Link {
                        name: format!("se_coverage_{region}"),
                        terms,
                        sense: pb::Sense::LessEqual as i32,
                        rhs: 0.0,
                        per_period: true,
                        ..Default::default()
                    });
                }
            }
            let csms = in_region(Kind::Csm, region);
            if let Some(csm) = csms.first() {
                if self.rng.chance(0.5) {
                    let mut terms = vec![term(csm, 1.0)];
                    terms.extend(aes.iter().map(|ae| term(ae, -0.2)));
                    links.push(pb::Link {
                        name: format!("csm_coverage_{region}"),
                        terms,
                        sense: pb::Sense::GreaterEqual as i32,
                        rhs: 0.0,
                        per_period: false,
                        ..Default::default()
                    });
                }
            }
            if aes.len() >= 2 && self.rng.chance(0.15) {
                links.push(pb::Link {
                    name: format!("balanced_hiring_{region}"),
                    terms: vec![term(&aes[0], 1.0), term(&aes[1], -1.0)],
                    sense: pb::Sense::Equal as i32,
                    rhs: 0.0,
                    per_period: true,
                    ..Default::default()
                });
            }
        }
        let heads: Vec<String> = drafts
            .iter()
            .filter(|d| d.free && d.driver.unit == "head")
            .map(|d| d.driver.id.clone())
            .collect();
        if heads.len() >= 2 && self.rng.chance(0.35) {
            let members = self.rng.int(2, heads.len().min(9));
            let chosen = self.rng.sample(heads.len(), members);
            let per_period = self.rng.chance(0.7);
            let capacity = (self.size.sqrt() * self.rng.uniform(3.0, 12.0))
                .round()
                .max(2.0);
            let capacity = if per_period {
                capacity
            } else {
                capacity * self.periods as f64
            };
            links.push(pb::Link {
                name: "recruiting_capacity".into(),
                terms: chosen.iter().map(|&i| term(&heads[i], 1.0)).collect(),
                sense: pb::Sense::LessEqual as i32,
                rhs: capacity,
                per_period,
                ..Default::default()
            });
        }
        if heads.len() >= 2 && self.rng.chance(0.1) {
            // A hiring commitment over the horizon.
            let chosen = self.rng.sample(heads.len(), 2);
            links.push(pb::Link {
                name: "committed_hires".into(),
                terms: chosen.iter().map(|&i| term(&heads[i], 1.0)).collect(),
                sense: pb::Sense::GreaterEqual as i32,
                rhs: self.rng.int(1, 4) as f64,
                per_period: false,
                ..Default::default()
            });
        }
        links
    }

    /// Makes `plan` infeasible on purpose; names how.
    fn break_plan(
        &mut self,
        plan: &mut pb::Plan,
        drafts: &mut [Draft],
        spend: f64,
        reference_revenue: f64,
        baseline_revenue: f64,
    ) -> &'static str {
        let requirements = plan.requirements.get_or_insert_with(Default::default);
        match self.rng.int(0, 4) {
            0 => {
                // A quota far out of reach of the budget.
                if plan.budget_cap.is_none() {
                    plan.budget_cap = Some(round_sig(spend * 0.5, 3));
                }
                requirements.revenue_target = Some(round_sig(
                    baseline_revenue + reference_revenue * self.rng.uniform(3.0, 20.0) + 1e6,
                    4,
                ));
                "quota out of reach"
            }
            1 => {
                // Driver minimums that cost more than the budget.
                let cap = plan.budget_cap.unwrap_or(spend).max(1.0);
                let i = self.rng.int(0, drafts.len() - 1);
                let driver = &mut drafts[i].driver;
                let cost = driver.unit_cost.unwrap_or(1.0)
                    * driver.cost_profile.first().copied().unwrap_or(1.0);
                let need = (cap * self.rng.uniform(1.2, 3.0) / cost).ceil();
                driver.min_units_by_period.clear();
                driver.max_units_by_period.clear();
                driver.min_units = Some(need);
                driver.max_units = driver.max_units.map(|max| max.max(need));
                plan.budget_cap = Some(cap);
                "minimums above the budget"
            }
            2 => {
                // A contribution no mix of drivers reaches.
                requirements.min_contribution = Some(round_sig(
                    reference_revenue * self.rng.uniform(5.0, 30.0) + baseline_revenue + 1e6,
                    3,
                ));
                if plan.budget_cap.is_none() {
                    plan.budget_cap = Some(round_sig(spend, 3));
                }
                "contribution out of reach"
            }
            3 => {
                // A group that must spend more than the whole budget.
                let cap = plan.budget_cap.unwrap_or(spend).max(1.0);
                plan.budget_cap = Some(cap);
                let i = self.rng.int(0, drafts.len() - 1);
                plan.groups.push(pb::Group {
                    name: "must_spend".into(),
                    driver_ids: vec![drafts[i].driver.id.clone()],
                    min_spend: Some(round_sig(cap * self.rng.uniform(1.1, 2.0), 3)),
                    ..Default::default()
                });
                "group minimum above the budget"
            }
            _ => {
                // Hires of one driver committed while a link forbids them.
                let i = self.rng.int(0, drafts.len() - 1);
                let j = (i + 1) % drafts.len();
                let need = if drafts[i].driver.unit == "USD" {
                    1e4
                } else {
                    2.0
                };
                let driver = &mut drafts[i].driver;
                driver.min_units_by_period.clear();
                driver.max_units_by_period.clear();
                driver.min_units = Some(need);
                driver.max_units = driver.max_units.map(|max| max.max(need));
                let other = drafts[j].driver.id.clone();
                let first = drafts[i].driver.id.clone();
                plan.links.push(pb::Link {
                    name: "blocked".into(),
                    terms: if other == first {
                        vec![pb::LinkTerm {
                            driver_id: first,
                            coefficient: 1.0,
                        }]
                    } else {
                        vec![
                            pb::LinkTerm {
                                driver_id: first,
                                coefficient: 1.0,
                            },
                            pb::LinkTerm {
                                driver_id: other,
                                coefficient: 1.0,
                            },
                        ]
                    },
                    sense: pb::Sense::LessEqual as i32,
                    rhs: need * 0.5,
                    per_period: true,
                    ..Default::default()
                });
                "a link the minimums break"
            }
        }
    }
}

/// People in seat (docs/MODEL.md §5) on about two plans in five, drawn from a stream
/// of their own so that the rest of the plan stays what the seed made before: head
/// drivers get attrition (`active_profile`), today's team (`existing_active`),
/// headcount caps and floors in seat (scalar or by period), and the SDR and CSM
/// coverage links count people in seat now and then (per period, or unit-periods
/// over the horizon).
fn people_in_seat(plan: &mut pb::Plan, seed: u64) {
    let mut rng = Rng::new(seed ^ 0x5EA7_ED00_A771_7105);
    if !rng.chance(0.4) {
        return;
    }
    let periods = plan.periods.len().max(1);
    let mut touched = Vec::new();
    for driver in &mut plan.drivers {
        if driver.unit != "head" || !rng.chance(0.7) {
            continue;
        }
        let retention = rng.uniform(0.9, 0.995);
        driver.active_profile = if rng.chance(0.15) {
            // Contractors: in seat for a fixed number of periods.
            vec![1.0; rng.int(1, periods)]
        } else {
            let length = periods + rng.int(0, 2);
            (0..length)
                .map(|lag| round_sig(retention.powi(lag as i32), 3))
                .collect()
        };
        if rng.chance(0.7) {
            let team = rng.int(1, 40) as f64;
            driver.existing_active = (0..periods)
                .map(|t| round_sig(team * retention.powi(t as i32 + 1), 3))
                .collect();
        }
        // The most units in seat the driver's own minimums force.
        let minimum = |t: usize| {
            driver
                .min_units_by_period
                .get(t)
                .copied()
                .or(driver.min_units)
                .unwrap_or(0.0)
        };
        let active_share = |lag: usize| {
            if driver.active_profile.is_empty() {
                f64::from(u8::from(lag == 0))
            } else {
                driver.active_profile.get(lag).copied().unwrap_or(0.0)
            }
        };
        let forced: Vec<f64> = (0..periods)
            .map(|t| {
                let existing = driver.existing_active.get(t).copied().unwrap_or(0.0);
                existing
                    + (0..=t)
                        .map(|s| active_share(t - s) * minimum(s))
                        .sum::<f64>()
            })
            .collect();
        let most_forced = forced.iter().copied().fold(0.0, f64::max);
        if rng.chance(0.35) {
            let cap = (most_forced + rng.int(1, 12) as f64).ceil();
            if periods > 1 && rng.chance(0.3) {
                let step = rng.int(0, 3) as f64;
                driver.max_active_by_period = (0..periods)
                    .map(|t| (cap + step * t as f64).max(forced[t].ceil()))
                    .collect();
            } else {
                driver.max_active = Some(cap);
            }
        }
        if rng.chance(0.08) {
            // Backfill: keep the team near today's size.
            let today = driver.existing_active.first().copied().unwrap_or(2.0);
            let floor = (today * rng.uniform(0.6, 0.95)).round().max(1.0);
            let cap = driver
                .max_active
                .into_iter()
                .chain(driver.max_active_by_period.iter().copied())
                .fold(f64::INFINITY, f64::min);
            driver.min_active = Some(floor.min(cap));
        }
        touched.push(driver.id.clone());
    }
    for l in 0..plan.links.len() {
        let link = &plan.links[l];
        let coverage = link.name.starts_with("sdr_per_ae") || link.name.starts_with("csm_coverage");
        let in_seat = link
            .terms
            .iter()
            .any(|term| touched.contains(&term.driver_id));
        if coverage && in_seat && rng.chance(0.6) {
            plan.links[l].measure = pb::LinkMeasure::Active as i32;
            staff_for_coverage(plan, l, periods);
        }
    }
}

/// Today's teams meet a coverage link counted in seat (`covered >= ratio * AEs`):
/// the first term's team grows where today's would break it, as a company's policy
/// holds for the team it has.
fn staff_for_coverage(plan: &mut pb::Plan, l: usize, periods: usize) {
    let link = plan.links[l].clone();
    let Some(first) = link.terms.first() else {
        return;
    };
    let team = |plan: &pb::Plan, id: &str, t: usize| {
        plan.drivers
            .iter()
            .find(|d| d.id == id)
            .and_then(|d| d.existing_active.get(t).copied())
            .unwrap_or(0.0)
    };
    let values: Vec<f64> = (0..periods)
        .map(|t| {
            link.terms
                .iter()
                .map(|term| term.coefficient * team(plan, &term.driver_id, t))
                .sum()
        })
        .collect();
    let per_period_need: Vec<f64> = values
        .iter()
        .map(|value| ((link.rhs - value) / first.coefficient).max(0.0))
        .collect();
    let need: Vec<f64> = if link.per_period {
        per_period_need
    } else {
        // Over the horizon: the shortfall of the sum, spread evenly.
        let total: f64 = values.iter().sum();
        let short = ((link.rhs - total) / first.coefficient).max(0.0);
        vec![short / periods as f64; periods]
    };
    if first.coefficient <= 0.0 || need.iter().all(|&n| n == 0.0) {
        return;
    }
    let Some(driver) = plan.drivers.iter_mut().find(|d| d.id == first.driver_id) else {
        return;
    };
    if driver.existing_active.is_empty() {
        driver.existing_active = vec![0.0; periods];
    }
    for (team, extra) in driver.existing_active.iter_mut().zip(need) {
        *team = ((*team + extra) * 100.0).ceil() / 100.0;
    }
}

/// `id`, or `id` with a number appended, unused in `drafts`.
fn unique_id(drafts: &[Draft], id: String) -> String {
    if !drafts.iter().any(|d| d.driver.id == id) {
        return id;
    }
    (2..)
        .map(|n| format!("{id}{n}"))
        .find(|candidate| !drafts.iter().any(|d| &d.driver.id == candidate))
        .expect("some number is free")
}

/// A profile as the model reads it: empty means `[1]`.
fn profile(entries: &[f64]) -> Vec<f64> {
    if entries.is_empty() {
        vec![1.0]
    } else {
        entries.to_vec()
    }
}

/// `profile` with each share moved a little, rounded to two digits.
fn jitter_profile(rng: &mut Rng, profile: &[f64]) -> Vec<f64> {
    profile
        .iter()
        .map(|share| round_sig(share * rng.uniform(0.85, 1.15), 2))
        .collect()
}

/// Whether `driver` has a finite bound on its units in a period (docs/MODEL.md §2,
/// `M[i,t]`), counting a budget cap `cap` of the plan or the period.
fn has_finite_bound(driver: &pb::Driver, cap: Option<f64>) -> bool {
    cap.is_some()
        || driver.response.iter().all(|s| s.units.is_some())
        || !driver.max_units_by_period.is_empty()
        || driver.max_units.is_some()
}
