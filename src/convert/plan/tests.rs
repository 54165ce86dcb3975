//! Validation of plans: every rule with its field path, the defaults resolved.

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
            measure: 7,
        }];
    } => ["links[0].terms[0].coefficient", "links[0].rhs", "links[0].measure"];
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
    // docs/MODEL.md §5: profile entries in [0, 1]; existing_active one entry per
    // period, >= 0; active bounds >= 0 with min <= max, scalar or by period.
    active_profile_entries_are_fractions: |p| {
        p.drivers[0].active_profile = vec![1.0, 1.2, -0.1, 0.5];
    } => ["drivers[0].active_profile[1]", "drivers[0].active_profile[2]"];
    existing_active_one_entry_per_period_and_non_negative: |p| {
        p.periods = vec![period("q1"), period("q2")];
        p.drivers[0].existing_active = vec![3.0, -1.0, 2.0];
    } => ["drivers[0].existing_active", "drivers[0].existing_active[1]"];
    active_bounds_non_negative_and_ordered: |p| {
        p.drivers[0].min_active = Some(5.0);
        p.drivers[0].max_active = Some(4.0);
        p.drivers.push(driver("b"));
        p.drivers[1].max_active = Some(-1.0);
    } => ["drivers[0].min_active", "drivers[1].max_active"];
    active_bounds_by_period_ordered: |p| {
        p.periods = vec![period("q1"), period("q2")];
        p.drivers[0].min_active = Some(2.0);
        p.drivers[0].max_active_by_period = vec![5.0, 1.0];
        p.drivers.push(driver("b"));
        p.drivers[1].min_active_by_period = vec![f64::NAN];
    } => [
        "drivers[0].max_active_by_period[1]",
        "drivers[1].min_active_by_period",
        "drivers[1].min_active_by_period[0]",
    ];
    unknown_link_measure: |p| {
        p.links = vec![pb::Link {
            name: "l".into(),
            terms: vec![pb::LinkTerm { driver_id: "a".into(), coefficient: 1.0 }],
            sense: pb::Sense::LessEqual as i32,
            measure: 3,
            ..Default::default()
        }];
    } => ["links[0].measure"];
    // docs/MODEL.md §6: known drivers each once, one entry per period (>= 0, whole
    // for integer drivers), locked periods that exist, max_change >= 0,
    // max_objective_loss in [0, 1).
    replan_fields_checked: |p| {
        p.periods = vec![period("q1"), period("q2")];
        p.drivers.push(pb::Driver { integer: true, ..driver("b") });
        p.replan = Some(pb::Replan {
            current: vec![
                pb::DriverAllocation { driver_id: "a".into(), units: vec![1.0, -1.0] },
                pb::DriverAllocation { driver_id: "nobody".into(), units: vec![1.0, 1.0] },
                pb::DriverAllocation { driver_id: "b".into(), units: vec![1.5] },
                pb::DriverAllocation { driver_id: "a".into(), units: vec![0.0, 0.0] },
            ],
            locked_periods: vec!["q1".into(), "q9".into(), "q1".into()],
            max_change: Some(-1.0),
            max_objective_loss: 1.0,
        });
    } => [
        "replan.current[0].units[1]",
        "replan.current[1].driver_id",
        "replan.current[2].units",
        "replan.current[2].units[0]",
        "replan.current[3].driver_id",
        "replan.locked_periods[1]",
        "replan.locked_periods[2]",
        "replan.max_change",
        "replan.max_objective_loss",
    ];
    // docs/MODEL.md §7: exactly one of samples and ranges; weights and factors
    // >= 0 on known drivers; low <= 1 <= high; counts within the limit; a
    // correlation in [0, 1]; confidence in (0, 1) and only with a revenue target.
    uncertainty_needs_samples_or_ranges: |p| {
        p.uncertainty = Some(pb::Uncertainty::default());
    } => ["uncertainty"];
    uncertainty_samples_checked: |p| {
        p.uncertainty = Some(pb::Uncertainty {
            samples: vec![
                pb::Outcome { weight: -1.0, revenue_scale: [("a".to_string(), -0.5)].into() },
                pb::Outcome { weight: 1.0, revenue_scale: [("nobody".to_string(), 1.0)].into() },
            ],
            sample_count: Some(10),
            confidence: Some(1.0),
            ..Default::default()
        });
    } => [
        "uncertainty.confidence",
        "uncertainty.confidence",
        "uncertainty.sample_count",
        "uncertainty.samples[0].revenue_scale[a]",
        "uncertainty.samples[0].weight",
        "uncertainty.samples[1].revenue_scale[nobody]",
    ];
    uncertainty_ranges_checked: |p| {
        p.drivers.push(driver("b"));
        p.requirements = Some(pb::Requirements { revenue_target: Some(1.0), ..Default::default() });
        p.uncertainty = Some(pb::Uncertainty {
            ranges: vec![
                pb::RevenueRange { driver_id: "a".into(), low: 1.2, high: 0.9 },
                pb::RevenueRange { driver_id: "a".into(), low: 0.5, high: 1.5 },
                pb::RevenueRange { driver_id: "nobody".into(), low: 0.5, high: 1.5 },
            ],
            sample_count: Some(0),
            correlation: 1.5,
            confidence: Some(0.9),
            ..Default::default()
        });
    } => [
        "uncertainty.correlation",
        "uncertainty.ranges[0].high",
        "uncertainty.ranges[0].low",
        "uncertainty.ranges[1].driver_id",
        "uncertainty.ranges[2].driver_id",
        "uncertainty.sample_count",
    ];
    uncertainty_not_both: |p| {
        p.uncertainty = Some(pb::Uncertainty {
            samples: vec![pb::Outcome::default()],
            ranges: vec![pb::RevenueRange { driver_id: "a".into(), low: 0.5, high: 1.5 }],
            ..Default::default()
        });
    } => ["uncertainty.ranges"];
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
                active_profile: vec![1.0],
                existing_active: vec![0.0],
                min_active: vec![0.0],
                max_active: vec![None],
            }],
            baseline_gross_margin: 1.0,
            budget_cap: None,
            requirements: model::Requirements::default(),
            groups: vec![],
            links: vec![],
            objective: model::Objective::MaximizeRevenue,
            replan: None,
            uncertainty: None,
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
            (
                numbers(tame),
                per_period(periods, tame),
                (optional(tame), optional(tame)),
                (per_period(periods, tame), per_period(periods, tame)),
            ),
        )
            .prop_map(|(a, b, c, d, e)| pb::Driver {
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
                active_profile: e.0,
                existing_active: e.1,
                min_active: e.2 .0,
                max_active: e.2 .1,
                min_active_by_period: e.3 .0,
                max_active_by_period: e.3 .1,
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
            (any::<bool>(), enum_value()),
        )
            .prop_map(
                |(name, terms, sense, rhs, (per_period, measure))| pb::Link {
                    name,
                    terms,
                    sense,
                    rhs,
                    per_period,
                    measure,
                },
            )
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
