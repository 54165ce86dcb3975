//! `--plot FILE.svg`: pictures a planner reads at a glance — a frontier with its
//! breakpoints labelled, or a plan's spend per driver per period as stacked bars.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::CliError;
use crate::pb;

const SIZE: (u32, u32) = (960, 560);
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn plot_error(path: &Path, error: impl std::fmt::Display) -> CliError {
    CliError::Failed(format!("cannot draw {}: {error}", path.display()))
}

/// Checks that `path` names an SVG file, before any work is done.
pub(super) fn check_path(path: &Path) -> Result<(), CliError> {
    match path.extension().and_then(|extension| extension.to_str()) {
        Some(extension) if extension.eq_ignore_ascii_case("svg") => Ok(()),
        _ => Err(CliError::Invalid(vec![crate::convert::FieldViolation {
            field: "--plot".into(),
            description: format!(
                "{}: plots are written as SVG; name the file *.svg",
                path.display()
            ),
        }])),
    }
}

/// The frontier's first objective against the swept bound, each breakpoint marked
/// and labelled with the drivers that enter (+) or leave (-) there.
pub(super) fn frontier(path: &Path, frontier: &pb::Frontier) -> Result<(), CliError> {
    let objective = match pb::Objective::try_from(frontier.objective) {
        Ok(pb::Objective::MaximizeContribution) => "contribution",
        Ok(pb::Objective::MinimizeSpend) => "spend",
        _ => "revenue",
    };
    let value = |point: &pb::FrontierPoint| {
        let totals = point.totals.clone().unwrap_or_default();
        match objective {
            "contribution" => totals.contribution,
            "spend" => totals.spend,
            _ => totals.revenue,
        }
    };
    let solved: Vec<(f64, f64, &pb::FrontierPoint)> = frontier
        .points
        .iter()
        .filter(|point| point.status == pb::SolveStatus::Optimal as i32)
        .map(|point| (point.bound, value(point), point))
        .collect();
    let (x_low, x_high) = bounds(frontier.points.iter().map(|point| point.bound));
    let (y_low, y_high) = bounds(solved.iter().map(|&(_, y, _)| y));
    let pad = (y_high - y_low) * 0.08;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|error| plot_error(path, error))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{objective} over {}", frontier.bound_name),
            ("sans-serif", 24),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(x_low..x_high, (y_low - pad)..(y_high + pad))
        .map_err(|error| plot_error(path, error))?;
    chart
        .configure_mesh()
        .x_desc(frontier.bound_name.as_str())
        .y_desc(objective)
        .x_label_formatter(&|x| super::table::number(*x))
        .y_label_formatter(&|y| super::table::money(*y))
        .draw()
        .map_err(|error| plot_error(path, error))?;
    chart
        .draw_series(LineSeries::new(
            solved.iter().map(|&(x, y, _)| (x, y)),
            PALETTE[0].stroke_width(3),
        ))
        .map_err(|error| plot_error(path, error))?;
    let breakpoints: Vec<&(f64, f64, &pb::FrontierPoint)> = solved
        .iter()
        .filter(|(_, _, point)| {
            frontier.exact || !point.entering.is_empty() || !point.leaving.is_empty()
        })
        .collect();
    chart
        .draw_series(
            breakpoints
                .iter()
                .map(|&&(x, y, _)| Circle::new((x, y), 5, PALETTE[3].filled())),
        )
        .map_err(|error| plot_error(path, error))?;
    for &&(x, y, point) in &breakpoints {
        let changes: Vec<String> = point
            .entering
            .iter()
            .map(|id| format!("+{id}"))
            .chain(point.leaving.iter().map(|id| format!("-{id}")))
            .collect();
        let label = if changes.is_empty() {
            super::table::number(x)
        } else {
            format!("{} {}", super::table::number(x), changes.join(" "))
        };
        // Labels right of the middle hang to the left of their point, so they stay
        // inside the picture.
        let anchor = if x > (x_low + x_high) / 2.0 {
            Pos::new(HPos::Right, VPos::Top)
        } else {
            Pos::new(HPos::Left, VPos::Top)
        };
        let style = TextStyle::from(("sans-serif", 14).into_font()).pos(anchor);
        chart
            .draw_series(std::iter::once(Text::new(label, (x, y), style)))
            .map_err(|error| plot_error(path, error))?;
    }
    root.present().map_err(|error| plot_error(path, error))
}

/// A plan's spend per period, stacked by driver, with a legend.
pub(super) fn allocation(path: &Path, result: &pb::PlanResult) -> Result<(), CliError> {
    let periods = result.periods.len().max(1);
    let per_period: Vec<f64> = (0..periods)
        .map(|t| {
            result
                .drivers
                .iter()
                .filter_map(|driver| driver.periods.get(t))
                .map(|period| period.spend.max(0.0))
                .sum()
        })
        .collect();
    let (_, top) = bounds(per_period.iter().copied().chain([0.0]));
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|error| plot_error(path, error))?;
    let labels = result.periods.clone();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{}: spend per period by driver", result.plan_name),
            ("sans-serif", 24),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(-0.5f64..periods as f64 - 0.5, 0.0..top * 1.1)
        .map_err(|error| plot_error(path, error))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(periods)
        .x_label_formatter(&|x| {
            let index = x.round();
            if (x - index).abs() < 1e-6 && index >= 0.0 {
                labels.get(index as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(format!("spend ({})", result.currency))
        .y_label_formatter(&|y| super::table::money(*y))
        .draw()
        .map_err(|error| plot_error(path, error))?;
    let mut base = vec![0.0; periods];
    for (index, driver) in result.drivers.iter().enumerate() {
        if driver.spend <= 0.0 {
            continue;
        }
        let color = PALETTE[index % PALETTE.len()];
        let bars: Vec<Rectangle<(f64, f64)>> = driver
            .periods
            .iter()
            .enumerate()
            .filter(|(_, period)| period.spend > 0.0)
            .map(|(t, period)| {
                let bottom = base[t];
                base[t] += period.spend;
                Rectangle::new(
                    [(t as f64 - 0.35, bottom), (t as f64 + 0.35, base[t])],
                    color.filled(),
                )
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(|error| plot_error(path, error))?
            .label(driver.driver_id.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|error| plot_error(path, error))?;
    root.present().map_err(|error| plot_error(path, error))
}

/// The range of `values`, widened when it is a single point.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|value| value.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), value| {
            (low.min(value), high.max(value))
        });
    if !low.is_finite() || !high.is_finite() {
        return (0.0, 1.0);
    }
    if high - low < 1e-12 {
        (low - 1.0, high + 1.0)
    } else {
        (low, high)
    }
}
