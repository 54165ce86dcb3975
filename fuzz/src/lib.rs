//! What the fuzz targets share: the small limits and short time limit that keep
//! every input quick, the service's call path, and the structured plan builder.
//!
//! Anything other than a panic, an abort or a hang is a pass: refusing a request
//! with an error is exactly what bad input should get.

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use tradeoff::convert::Limits;
use tradeoff::pb;

/// Source paths of the solver engine: the library turns a panic raised there into
/// an error (`tradeoff::solve` contains them), so the fuzzer must not count one as
/// a crash. Any other panic, or one of these that escapes the library, still is.
const SOLVER_CRATES: [&str; 2] = ["/microlp-", "/sprs-"];

/// Keeps libFuzzer's abort-on-panic hook for every panic but the solver's own,
/// which the library contains; each distinct place a contained panic came from is
/// printed once, so that a run's log shows which inputs upset the solver. Call once
/// from the target's `init`.
///
/// With `TRADEOFF_FUZZ_STRICT` set, solver panics are crashes too, so that libFuzzer
/// saves the inputs behind them (to find out what upsets the solver and refuse it
/// up front).
pub fn contain_solver_panics() {
    use std::collections::HashSet;
    use std::sync::Mutex;
    if std::env::var_os("TRADEOFF_FUZZ_STRICT").is_some() {
        return;
    }
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if !SOLVER_CRATES.iter().any(|name| place.contains(name)) {
            return abort(info);
        }
        let mut seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.get_or_insert_with(HashSet::new).insert(place.clone()) {
            eprintln!("contained solver panic at {place}: {info}");
        }
    }));
}

/// Limits small enough that every admitted plan solves in milliseconds, so that the
/// fuzzer spends its time on many inputs rather than on a few large solves.
pub const LIMITS: Limits = Limits {
    max_drivers: 8,
    max_periods: 4,
    max_segments: 4,
    max_variables: 200,
};

/// Wall-clock budget of one call, explanations included (the service passes its
/// `--max-solve-time` the same way). Short, since explanations re-solve many times.
pub const TIME_LIMIT: Duration = Duration::from_millis(100);

/// Which call an input makes, and whether with explanations (the riskiest and
/// slowest code, so half the inputs skip them).
#[derive(Debug, Clone, Copy)]
pub enum Call {
    /// `Optimize`, with or without explanations.
    Optimize { explain: bool },
    /// `Evaluate`: an allocation scored against the optimum.
    Evaluate,
    /// `Frontier`: one bound swept over a range.
    Frontier,
}

impl Call {
    /// The call a selector byte picks: bits 0-1 the call, bit 7 explanations.
    pub fn from_byte(byte: u8) -> Call {
        match byte & 0b11 {
            0 | 1 => Call::Optimize {
                explain: byte & 0x80 != 0,
            },
            2 => Call::Evaluate,
            _ => Call::Frontier,
        }
    }
}

/// Options as the selector wants them: the request's own time limit and solver
/// are kept (they are validated like any field), explanations forced on or off.
fn options(options: Option<pb::SolveOptions>, explain: bool) -> Option<pb::SolveOptions> {
    let mut options = options.unwrap_or_default();
    options.skip_explanations = !explain;
    Some(options)
}

/// A request as the `request` target reads it, in words: the call and the request
/// as proto3 JSON (for crash reports and regression tests), or why it is no request.
pub fn describe(bytes: &[u8]) -> String {
    use prost::Message;
    let Some((&selector, body)) = bytes.split_first() else {
        return "empty input".into();
    };
    let call = Call::from_byte(selector);
    let json = match call {
        Call::Optimize { .. } => pb::OptimizeRequest::decode(body)
            .map_err(|e| e.to_string())
            .and_then(|r| serde_json::to_string_pretty(&r).map_err(|e| e.to_string())),
        Call::Evaluate => pb::EvaluateRequest::decode(body)
            .map_err(|e| e.to_string())
            .and_then(|r| serde_json::to_string_pretty(&r).map_err(|e| e.to_string())),
        Call::Frontier => pb::FrontierRequest::decode(body)
            .map_err(|e| e.to_string())
            .and_then(|r| serde_json::to_string_pretty(&r).map_err(|e| e.to_string())),
    };
    match json {
        Ok(json) => format!("{call:?}\n{json}"),
        Err(error) => format!("{call:?}: not a request: {error}"),
    }
}

/// Runs `call` on a decoded request the way the service does: the planner entry
/// point with the server's limits and its time limit. The answer is dropped; only
/// panics, aborts and hangs are failures.
pub fn run(call: Call, bytes: &[u8]) {
    use prost::Message;
    match call {
        Call::Optimize { explain } => {
            let Ok(mut request) = pb::OptimizeRequest::decode(bytes) else {
                return;
            };
            request.options = options(request.options, explain);
            let _ = tradeoff::planner::optimize(&request, &LIMITS, Some(TIME_LIMIT));
        }
        Call::Evaluate => {
            let Ok(mut request) = pb::EvaluateRequest::decode(bytes) else {
                return;
            };
            request.options = options(request.options, false);
            let _ = tradeoff::planner::evaluate(&request, &LIMITS, Some(TIME_LIMIT));
        }
        Call::Frontier => {
            let Ok(mut request) = pb::FrontierRequest::decode(bytes) else {
                return;
            };
            request.options = options(request.options, false);
            let _ = tradeoff::planner::frontier(&request, &LIMITS, Some(TIME_LIMIT));
        }
    }
}

/// A number as the structured target draws it: mostly plausible plan values, with
/// the edge cases validation must refuse (or survive) mixed in.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Number {
    /// A small multiple of 1/4: 0 to 63.75.
    Small(u8),
    /// A fraction k/100 for k in 0..=255 (margins, shares, profiles, some above 1).
    Percent(u8),
    /// An amount of money: k * 1000.
    Money(u16),
    /// One of [`SPECIAL`].
    Special(u8),
    /// Any bit pattern.
    Raw(f64),
}

/// Values at the edges of what validation allows, and beyond.
pub const SPECIAL: [f64; 18] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    -0.25,
    0.999_999_999_9,
    1e15,
    -1e15,
    1.000_000_000_000_001e15,
    1e-300,
    f64::MIN_POSITIVE,
    5e-324,
    1e300,
    f64::MAX,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e-9,
];

impl Number {
    /// The value drawn.
    pub fn value(self) -> f64 {
        match self {
            Number::Small(k) => f64::from(k) / 4.0,
            Number::Percent(k) => f64::from(k) / 100.0,
            Number::Money(k) => f64::from(k) * 1000.0,
            Number::Special(k) => SPECIAL[usize::from(k) % SPECIAL.len()],
            Number::Raw(x) => x,
        }
    }
}

fn values(numbers: &[Number]) -> Vec<f64> {
    numbers.iter().map(|n| n.value()).collect()
}

/// A per-period list: empty stays empty (the default applies); otherwise one entry
/// per period, the drawn ones repeated, unless `ragged` keeps the drawn length so
/// that the length check is exercised too.
fn per_period(numbers: &[Number], periods: usize, ragged: bool) -> Vec<f64> {
    if ragged || numbers.is_empty() {
        return values(&cut(numbers, periods + 2));
    }
    values(numbers).into_iter().cycle().take(periods).collect()
}

fn optional(number: Option<Number>) -> Option<f64> {
    number.map(Number::value)
}

/// A name: usually one that resolves (`d0`..`d7`, `P0`..`P7`, tags `t0`..`t3`), so that
/// plans get past reference checks; sometimes one that breaks a naming rule.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Name {
    /// The `k % 8`th ordinary name of its kind.
    Index(u8),
    /// One of the names validation refuses.
    Odd(u8),
}

const ODD_NAMES: [&str; 6] = [
    "",
    "has space",
    "ünïcode",
    "x]y[z",
    "a234567890123456789012345678901234567890123456789012345678901234",
    "d0",
];

impl Name {
    fn make(self, prefix: &str) -> String {
        match self {
            Name::Index(k) => format!("{prefix}{}", k % 8),
            Name::Odd(k) => ODD_NAMES[usize::from(k) % ODD_NAMES.len()].to_string(),
        }
    }
}

/// A period.
#[derive(Debug, Clone, Arbitrary)]
pub struct PeriodSpec {
    name: Option<Name>,
    baseline_revenue: Option<Number>,
    fixed_costs: Option<Number>,
    budget_cap: Option<Number>,
    min_margin: Option<Number>,
}

/// A response segment.
#[derive(Debug, Clone, Arbitrary)]
pub struct SegmentSpec {
    units: Option<Number>,
    revenue_per_unit: Number,
}

/// A driver.
#[derive(Debug, Clone, Arbitrary)]
pub struct DriverSpec {
    id: Option<Name>,
    tags: Vec<u8>,
    unit_cost: Option<Number>,
    gross_margin: Option<Number>,
    response: Vec<SegmentSpec>,
    min_units: Option<Number>,
    max_units: Option<Number>,
    min_units_by_period: Vec<Number>,
    max_units_by_period: Vec<Number>,
    seasonality: Vec<Number>,
    integer: bool,
    /// Keep per-period lists at their drawn length instead of one per period.
    ragged: bool,
    return_profile: Vec<Number>,
    cost_profile: Vec<Number>,
}

/// A group.
#[derive(Debug, Clone, Arbitrary)]
pub struct GroupSpec {
    name: Name,
    driver_ids: Vec<Name>,
    tag: Option<u8>,
    min_spend: Option<Number>,
    max_spend: Option<Number>,
    min_share: Option<Number>,
    max_share: Option<Number>,
}

/// A link.
#[derive(Debug, Clone, Arbitrary)]
pub struct LinkSpec {
    name: Name,
    terms: Vec<(Name, Number)>,
    sense: u8,
    rhs: Number,
    per_period: bool,
}

/// A plan whose shape (counts, references, which fields are set) the fuzzer
/// chooses, with numbers from [`Number`].
#[derive(Debug, Clone, Arbitrary)]
pub struct PlanSpec {
    periods: Vec<PeriodSpec>,
    drivers: Vec<DriverSpec>,
    baseline_gross_margin: Option<Number>,
    budget_cap: Option<Number>,
    min_margin: Option<Number>,
    min_contribution: Option<Number>,
    revenue_target: Option<Number>,
    min_roi: Option<Number>,
    groups: Vec<GroupSpec>,
    links: Vec<LinkSpec>,
    objective: u8,
}

/// Lists are cut to a little over the limits, so that the size checks are hit but
/// an input cannot build a huge plan.
fn cut<T: Clone>(list: &[T], most: usize) -> Vec<T> {
    list.iter().take(most).cloned().collect()
}

impl PlanSpec {
    /// The wire plan.
    pub fn plan(&self) -> pb::Plan {
        let periods: Vec<pb::Period> = cut(&self.periods, LIMITS.max_periods + 1)
            .iter()
            .enumerate()
            .map(|(t, p)| pb::Period {
                name: p.name.map_or_else(|| format!("P{t}"), |n| n.make("P")),
                baseline_revenue: p.baseline_revenue.map_or(0.0, Number::value),
                fixed_costs: p.fixed_costs.map_or(0.0, Number::value),
                budget_cap: optional(p.budget_cap),
                min_margin: optional(p.min_margin),
            })
            .collect();
        // An empty list means one period.
        let count = periods.len().max(1);
        let drivers = cut(&self.drivers, LIMITS.max_drivers + 1)
            .iter()
            .enumerate()
            .map(|(i, d)| pb::Driver {
                id: d.id.map_or_else(|| format!("d{i}"), |n| n.make("d")),
                name: String::new(),
                tags: cut(&d.tags, 3)
                    .iter()
                    .map(|k| format!("t{}", k % 4))
                    .collect(),
                unit: String::new(),
                unit_cost: optional(d.unit_cost),
                gross_margin: optional(d.gross_margin),
                response: cut(&d.response, LIMITS.max_segments + 1)
                    .iter()
                    .map(|s| pb::Segment {
                        units: optional(s.units),
                        revenue_per_unit: s.revenue_per_unit.value(),
                    })
                    .collect(),
                min_units: optional(d.min_units),
                max_units: optional(d.max_units),
                min_units_by_period: per_period(&d.min_units_by_period, count, d.ragged),
                max_units_by_period: per_period(&d.max_units_by_period, count, d.ragged),
                seasonality: per_period(&d.seasonality, count, d.ragged),
                integer: d.integer,
                return_profile: values(&cut(&d.return_profile, 6)),
                cost_profile: values(&cut(&d.cost_profile, 6)),
            })
            .collect();
        let groups = cut(&self.groups, 3)
            .iter()
            .map(|g| pb::Group {
                name: g.name.make("g"),
                driver_ids: cut(&g.driver_ids, 4).iter().map(|n| n.make("d")).collect(),
                tag: g.tag.map_or_else(String::new, |k| format!("t{}", k % 4)),
                min_spend: optional(g.min_spend),
                max_spend: optional(g.max_spend),
                min_share: optional(g.min_share),
                max_share: optional(g.max_share),
            })
            .collect();
        let links = cut(&self.links, 3)
            .iter()
            .map(|l| pb::Link {
                name: l.name.make("l"),
                terms: cut(&l.terms, 4)
                    .iter()
                    .map(|(name, coefficient)| pb::LinkTerm {
                        driver_id: name.make("d"),
                        coefficient: coefficient.value(),
                    })
                    .collect(),
                sense: i32::from(l.sense % 5),
                rhs: l.rhs.value(),
                per_period: l.per_period,
            })
            .collect();
        let requirements = [
            self.min_margin,
            self.min_contribution,
            self.revenue_target,
            self.min_roi,
        ]
        .iter()
        .any(Option::is_some)
        .then(|| pb::Requirements {
            min_margin: optional(self.min_margin),
            min_contribution: optional(self.min_contribution),
            revenue_target: optional(self.revenue_target),
            min_roi: optional(self.min_roi),
        });
        pb::Plan {
            name: "fuzz".into(),
            currency: String::new(),
            periods,
            drivers,
            baseline_gross_margin: optional(self.baseline_gross_margin),
            budget_cap: optional(self.budget_cap),
            requirements,
            groups,
            links,
            objective: i32::from(self.objective % 5),
        }
    }
}

/// One structured input: a plan, the call made with it and that call's extras.
#[derive(Debug, Clone, Arbitrary)]
pub struct StructuredInput {
    /// Selector byte, as [`Call::from_byte`] reads it.
    pub call: u8,
    /// The plan.
    pub plan: PlanSpec,
    /// Evaluate: units per listed driver per period (ragged or not).
    pub allocation: Vec<(Name, Vec<Number>, bool)>,
    /// Frontier: the swept bound (0-4, 1-3 valid) and range.
    pub sweep: (u8, Number, Number),
}

impl StructuredInput {
    /// Draws an input from raw fuzzer bytes, as the `plan_structured` target does.
    pub fn from_bytes(bytes: &[u8]) -> arbitrary::Result<Self> {
        StructuredInput::arbitrary_take_rest(Unstructured::new(bytes))
    }

    /// The request this input makes, encoded, as the `request` target reads it
    /// (selector byte first): a structured input is replayed, printed and kept as a
    /// regression in that one form.
    pub fn request(&self) -> Vec<u8> {
        use prost::Message;
        let plan = self.plan.plan();
        let periods = plan.periods.len().max(1);
        let plan = Some(plan);
        let body = match Call::from_byte(self.call) {
            Call::Optimize { explain } => pb::OptimizeRequest {
                plan,
                options: options(None, explain),
            }
            .encode_to_vec(),
            Call::Evaluate => {
                let drivers = cut(&self.allocation, LIMITS.max_drivers + 1)
                    .iter()
                    .map(|(name, units, ragged)| pb::DriverAllocation {
                        driver_id: name.make("d"),
                        units: per_period(units, periods, *ragged),
                    })
                    .collect();
                pb::EvaluateRequest {
                    plan,
                    allocation: Some(pb::Allocation { drivers }),
                    options: options(None, false),
                }
                .encode_to_vec()
            }
            Call::Frontier => {
                let (over, from, to) = self.sweep;
                pb::FrontierRequest {
                    plan,
                    over: i32::from(over % 5),
                    from: from.value(),
                    to: to.value(),
                    options: options(None, false),
                }
                .encode_to_vec()
            }
        };
        let mut bytes = vec![self.call];
        bytes.extend(body);
        bytes
    }

    /// Makes the call, exactly as the `request` target would with [`Self::request`].
    pub fn run(&self) {
        let bytes = self.request();
        if let Some((&selector, body)) = bytes.split_first() {
            run(Call::from_byte(selector), body);
        }
    }
}
