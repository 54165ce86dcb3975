//! `--plot FILE.svg|FILE.png`: pictures a planner reads at a glance — a frontier
//! with its breakpoints labelled, or a plan's spend per driver per period as
//! stacked bars.
//!
//! Both formats are drawn by the same code on plotters' SVG or bitmap backend. Text
//! is laid out (and, in PNGs, rasterised) with DejaVu Sans compiled into the
//! binary, so that a machine without fonts (a fresh CI runner, a slim container)
//! draws the same picture as a desktop.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::CliError;
use crate::pb;

mod bitmap;

/// Size of a picture in SVG (CSS) pixels.
const SIZE: (u32, u32) = (960, 560);

/// PNGs are drawn at this multiple of [`SIZE`] (1200 × 700), every length and font
/// scaled alike: the same picture as the SVG, sharp enough on a big screen.
const PNG_SCALE: f64 = 1.25;

/// The one font of every picture, registered as plotters' `sans-serif`.
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

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

/// The picture formats `--plot` writes, told by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Svg,
    Png,
}

impl Format {
    fn of(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?;
        if extension.eq_ignore_ascii_case("svg") {
            Some(Format::Svg)
        } else if extension.eq_ignore_ascii_case("png") {
            Some(Format::Png)
        } else {
            None
        }
    }
}

fn plot_error(path: &Path, error: impl std::fmt::Display) -> CliError {
    CliError::Failed(format!("cannot draw {}: {error}", path.display()))
}

/// Checks that `path` names an SVG or PNG file, before any work is done.
pub(super) fn check_path(path: &Path) -> Result<(), CliError> {
    match Format::of(path) {
        Some(_) => Ok(()),
        None => Err(CliError::Invalid(vec![crate::convert::FieldViolation {
            field: "--plot".into(),
            description: format!(
                "{}: plots are written as SVG or PNG; name the file *.svg or *.png",
                path.display()
            ),
        }])),
    }
}

/// The frontier's first objective against the swept bound, each breakpoint marked
/// and labelled with the drivers that enter (+) or leave (-) there.
pub(super) fn frontier(path: &Path, frontier: &pb::Frontier) -> Result<(), CliError> {
    write(path, &FrontierPicture(frontier))
}

/// A plan's spend per period, stacked by driver, with a legend.
pub(super) fn allocation(path: &Path, result: &pb::PlanResult) -> Result<(), CliError> {
    write(path, &AllocationPicture(result))
}

/// Lengths of the SVG in the pixels of the picture being drawn.
#[derive(Debug, Clone, Copy)]
struct Scale(f64);

impl Scale {
    /// `length` SVG pixels, in this picture's pixels.
    fn px(self, length: u32) -> u32 {
        (f64::from(length) * self.0).round() as u32
    }

    /// The same as [`Scale::px`], signed, for offsets.
    fn offset(self, length: i32) -> i32 {
        (f64::from(length) * self.0).round() as i32
    }

    /// A font of `size` SVG pixels.
    fn font(self, size: u32) -> TextStyle<'static> {
        ("sans-serif", f64::from(size) * self.0).into_text_style(&(0u32, 0u32))
    }
}

/// A picture, drawn the same way on any backend.
trait Picture {
    /// Draws on `root` (already white), `scale` times the SVG's size; `path` only
    /// names the file in errors.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        scale: Scale,
        path: &Path,
    ) -> Result<(), CliError>;
}

/// Draws `picture` to `path` as SVG or PNG, by its extension.
fn write(path: &Path, picture: &impl Picture) -> Result<(), CliError> {
    let format = Format::of(path).ok_or_else(|| {
        plot_error(
            path,
            "plots are written as SVG or PNG; name the file *.svg or *.png",
        )
    })?;
    let font = font().map_err(|error| plot_error(path, error))?;
    match format {
        Format::Svg => {
            let root = SVGBackend::new(path, SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(|error| plot_error(path, error))?;
            picture.draw(&root, Scale(1.0), path)?;
            root.present().map_err(|error| plot_error(path, error))
        }
        Format::Png => {
            let scale = Scale(PNG_SCALE);
            let size = (scale.px(SIZE.0), scale.px(SIZE.1));
            let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
            {
                let root = bitmap::Bitmap::new(&mut pixels, size, font).into_drawing_area();
                root.fill(&WHITE).map_err(|error| plot_error(path, error))?;
                picture.draw(&root, scale, path)?;
                root.present().map_err(|error| plot_error(path, error))?;
            }
            write_png(path, size, &pixels).map_err(|error| plot_error(path, error))
        }
    }
}

/// The embedded font, parsed once per process and registered as plotters'
/// `sans-serif`: plotters measures text with it in every picture (SVGs too), and
/// PNGs are set in it.
fn font() -> Result<&'static ab_glyph::FontRef<'static>, &'static str> {
    static FONT_REF: OnceLock<Option<ab_glyph::FontRef<'static>>> = OnceLock::new();
    FONT_REF
        .get_or_init(|| {
            let registered =
                plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok();
            let font = ab_glyph::FontRef::try_from_slice(FONT).ok();
            font.filter(|_| registered)
        })
        .as_ref()
        .ok_or("the embedded font cannot be read")
}

/// Encodes 8-bit RGB `pixels` as a PNG file.
fn write_png(path: &Path, (width, height): (u32, u32), pixels: &[u8]) -> Result<(), String> {
    let file = File::create(path).map_err(|error| error.to_string())?;
    let mut out = BufWriter::new(file);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|error| error.to_string())?;
    writer
        .write_image_data(pixels)
        .map_err(|error| error.to_string())?;
    writer.finish().map_err(|error| error.to_string())?;
    // Dropping a buffered writer would lose a failed flush (a full disk).
    out.into_inner()
        .map(drop)
        .map_err(|error| error.error().to_string())
}

struct FrontierPicture<'a>(&'a pb::Frontier);

impl Picture for FrontierPicture<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        scale: Scale,
        path: &Path,
    ) -> Result<(), CliError> {
        let frontier = self.0;
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
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("{objective} over {}", frontier.bound_name),
                scale.font(24),
            )
            .margin(scale.px(20))
            // Room for the last x label, centred on the right edge.
            .margin_right(scale.px(40))
            .x_label_area_size(scale.px(50))
            .y_label_area_size(scale.px(100))
            .build_cartesian_2d(x_low..x_high, (y_low - pad)..(y_high + pad))
            .map_err(|error| plot_error(path, error))?;
        chart
            .configure_mesh()
            .x_desc(frontier.bound_name.as_str())
            .y_desc(objective)
            .label_style(scale.font(13))
            .axis_desc_style(scale.font(15))
            .x_label_formatter(&|x| super::table::number(*x))
            .y_label_formatter(&|y| super::table::money(*y))
            .draw()
            .map_err(|error| plot_error(path, error))?;
        chart
            .draw_series(LineSeries::new(
                solved.iter().map(|&(x, y, _)| (x, y)),
                PALETTE[0].stroke_width(scale.px(3)),
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
                    .map(|&&(x, y, _)| Circle::new((x, y), scale.px(5), PALETTE[3].filled())),
            )
            .map_err(|error| plot_error(path, error))?;
        // Labels are set in pixels on the whole picture, each where it overlaps no
        // earlier label and stays inside the plot.
        let plot = chart.plotting_area();
        let (columns, rows) = plot.get_pixel_range();
        let area = Region {
            left: columns.start,
            top: rows.start,
            right: columns.end,
            bottom: rows.end,
        };
        let style = scale.font(14).pos(Pos::new(HPos::Left, VPos::Top));
        let mut taken: Vec<Region> = Vec::new();
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
            let size = root
                .estimate_text_size(&label, &style)
                .map_err(|error| plot_error(path, error))?;
            // Labels right of the middle hang to the left of their point, so that
            // long ones stay inside the picture.
            let place = place_label(
                plot.map_coordinate(&(x, y)),
                size,
                x > (x_low + x_high) / 2.0,
                scale.offset(8),
                &taken,
                area,
            );
            taken.push(place);
            root.draw(&Text::new(label, (place.left, place.top), style.clone()))
                .map_err(|error| plot_error(path, error))?;
        }
        Ok(())
    }
}

/// A rectangle in pixels of the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Region {
    left: i32,
    top: i32,
    right: i32,
    bottom: i32,
}

impl Region {
    fn overlaps(&self, other: &Region) -> bool {
        self.left < other.right
            && other.left < self.right
            && self.top < other.bottom
            && other.top < self.bottom
    }

    fn inside(&self, area: &Region) -> bool {
        self.top >= area.top && self.bottom <= area.bottom
    }

    fn moved(self, down: i32) -> Region {
        Region {
            top: self.top + down,
            bottom: self.bottom + down,
            ..self
        }
    }
}

/// Where a label of `size` pixels goes next to its point at `at`: `gap` to its
/// right (or left, with `left`), just below or else just above the point, or
/// further down or up, the nearest place that is inside `area` and overlaps none
/// of the labels `taken`. With no such place, just below the point. Horizontally
/// it is kept inside `area` where it fits.
fn place_label(
    at: (i32, i32),
    (width, height): (u32, u32),
    left: bool,
    gap: i32,
    taken: &[Region],
    area: Region,
) -> Region {
    let (width, height) = (width as i32, height as i32);
    let mut x = if left { at.0 - gap - width } else { at.0 + gap };
    x = x.min(area.right - width).max(area.left);
    let below = Region {
        left: x,
        top: at.1 + gap / 4,
        right: x + width,
        bottom: at.1 + gap / 4 + height,
    };
    let above = below.moved(-(height + gap / 2));
    let step = (height / 2).max(1);
    let free = |place: &Region| place.inside(&area) && !taken.iter().any(|t| t.overlaps(place));
    [below, above]
        .into_iter()
        .chain(
            (1..)
                .map(|k| below.moved(k * step))
                .take_while(|place| place.bottom <= area.bottom),
        )
        .chain(
            (1..)
                .map(|k| above.moved(-k * step))
                .take_while(|place| place.top >= area.top),
        )
        .find(free)
        .unwrap_or(below)
}

struct AllocationPicture<'a>(&'a pb::PlanResult);

impl Picture for AllocationPicture<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        scale: Scale,
        path: &Path,
    ) -> Result<(), CliError> {
        let result = self.0;
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
        let labels = result.periods.clone();
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("{}: spend per period by driver", result.plan_name),
                scale.font(24),
            )
            .margin(scale.px(20))
            .x_label_area_size(scale.px(50))
            .y_label_area_size(scale.px(100))
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
            .label_style(scale.font(13))
            .axis_desc_style(scale.font(15))
            .y_label_formatter(&|y| super::table::money(*y))
            .draw()
            .map_err(|error| plot_error(path, error))?;
        let mut base = vec![0.0; periods];
        let swatch = scale.offset(6);
        for (index, driver) in result.drivers.iter().enumerate() {
            if driver.spend <= 0.0 {
                continue;
            }
            let color = PALETTE[index % PALETTE.len()];
            let bars: Vec<Rectangle<(f64, f64)>> = driver
                .periods
                .iter()
                .enumerate()
                .filter(|(t, period)| period.spend > 0.0 && *t < periods)
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
                .legend(move |(x, y)| {
                    Rectangle::new(
                        [(x, y - swatch), (x + 2 * swatch, y + swatch)],
                        color.filled(),
                    )
                });
        }
        chart
            .configure_series_labels()
            .label_font(scale.font(14))
            .margin(scale.px(10))
            .legend_area_size(scale.px(24))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|error| plot_error(path, error))?;
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const AREA: Region = Region {
        left: 0,
        top: 0,
        right: 1000,
        bottom: 500,
    };

    #[test]
    fn a_label_sits_right_of_and_below_its_point() {
        let place = place_label((100, 200), (80, 16), false, 8, &[], AREA);
        assert_eq!(
            place,
            Region {
                left: 108,
                top: 202,
                right: 188,
                bottom: 218
            }
        );
        // Right of the middle it hangs to the left.
        let place = place_label((900, 200), (80, 16), true, 8, &[], AREA);
        assert_eq!((place.left, place.right), (812, 892));
    }

    #[test]
    fn labels_of_close_points_do_not_overlap() {
        let first = place_label((100, 200), (300, 16), false, 8, &[], AREA);
        let second = place_label((104, 196), (300, 16), false, 8, &[first], AREA);
        assert!(!first.overlaps(&second), "{first:?} {second:?}");
        // The second goes just above its point (a quarter gap, as below), the nearest
        // free place.
        assert_eq!(second.bottom, 196 - 2);
        let third = place_label((108, 200), (300, 16), false, 8, &[first, second], AREA);
        assert!(!third.overlaps(&first) && !third.overlaps(&second));
        assert!(third.inside(&AREA));
    }

    #[test]
    fn a_label_at_the_bottom_goes_above_and_stays_inside() {
        let place = place_label((990, 495), (80, 16), false, 8, &[], AREA);
        assert!(place.inside(&AREA) && place.bottom <= 495, "{place:?}");
        assert_eq!(place.right, 1000);
    }
}
