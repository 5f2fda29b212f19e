//! The report's charts, drawn by plotters' SVG backend into strings that the page
//! inlines, so the report is one file that needs nothing from the network.
//!
//! They follow `charts.rs` (the PNG/SVG files of a run) so the two look alike: the same
//! colour-blind-safe palette in the same order, a marker shape per series so no two
//! lines differ by colour alone, 1-2-5 ticks, and latency on a log axis (44 ms and
//! 0.3 ms on one linear axis would flatten the fast servers into zero). They differ in
//! size (two per row in a page) and in the legend, which the page draws once in HTML
//! for all cross-server charts instead of repeating it in each.

use std::ops::Range;

pub use crate::style::{colour, css_colour, marker_outline};
use crate::style::{font_registered, format_count, format_number, log_ticks, Ticked, FONT};

const GRID: RGBColor = RGBColor(228, 228, 228);
const GREY: RGBColor = RGBColor(119, 119, 119);
use plotters::coord::combinators::LogCoord;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::load::ReportError;

/// A small inline SVG of the series' line and marker, for legends in the page.
pub fn swatch(style: usize) -> String {
    let points: Vec<String> = marker_outline(style, 4.5)
        .iter()
        .map(|(x, y)| format!("{:.1},{:.1}", x + 14.0, y + 8.0))
        .collect();
    let c = css_colour(style);
    format!(
        "<svg class=\"swatch\" width=\"28\" height=\"16\" viewBox=\"0 0 28 16\" aria-hidden=\"true\">\
         <line x1=\"1\" y1=\"8\" x2=\"27\" y2=\"8\" stroke=\"{c}\" stroke-width=\"2\"/>\
         <polygon points=\"{}\" fill=\"{c}\"/></svg>",
        points.join(" ")
    )
}

/// How a line is drawn.
#[derive(Clone, Copy, PartialEq)]
pub enum Stroke {
    Solid,
    Dashed,
}

/// One line: points in order, `None` for an interval without a value (no request
/// finished), which leaves a gap rather than a bridge.
pub struct Series {
    pub name: String,
    /// Index into the palette and the marker shapes.
    pub style: usize,
    /// Overrides the palette colour (a grey for "max" in a per-server chart).
    pub colour: Option<RGBColor>,
    pub stroke: Stroke,
    pub points: Vec<Option<(f64, f64)>>,
    /// Least distance along x between two markers: a line of a hundred points
    /// would otherwise be a row of overlapping shapes. 0 marks every point.
    pub marker_spacing: f64,
}

impl Series {
    pub fn new(name: &str, style: usize, points: Vec<Option<(f64, f64)>>) -> Series {
        Series {
            name: name.to_string(),
            style,
            colour: None,
            stroke: Stroke::Solid,
            points,
            marker_spacing: 0.0,
        }
    }

    fn runs(&self) -> Vec<Vec<(f64, f64)>> {
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for p in &self.points {
            match p {
                Some((x, y)) if x.is_finite() && y.is_finite() => {
                    runs.last_mut().expect("never empty").push((*x, *y))
                }
                _ if runs.last().is_some_and(|r| !r.is_empty()) => runs.push(Vec::new()),
                _ => {}
            }
        }
        runs.retain(|r| !r.is_empty());
        runs
    }
}

/// What the x axis measures.
#[derive(Clone, Copy, PartialEq)]
pub enum XAxis {
    /// Seconds, linear, from zero.
    Time,
    /// HdrHistogram's percentile axis: x = log10(1 / (1 - q)), so 0 is the minimum,
    /// 1 is p90, 2 is p99, 3 is p99.9; each step right is ten times rarer.
    Percentile,
}

/// What the y axis measures.
#[derive(Clone, Copy, PartialEq)]
pub enum YAxis {
    /// From zero up; `floor` is the least top (100 for CPU %, so one busy CPU reads as
    /// full height only when it is).
    Linear { floor: f64 },
    /// Latency: log scale, 1-2-5 ticks.
    Log,
}

pub struct Chart<'a> {
    pub title: &'a str,
    pub x: XAxis,
    pub x_desc: &'a str,
    pub y: YAxis,
    pub y_desc: &'a str,
    pub series: Vec<Series>,
    /// Draw a legend inside the plot (per-server charts, whose lines are not servers).
    pub legend: bool,
}

/// Width and height of every chart, in SVG units; the page scales them to its column.
pub const SIZE: (u32, u32) = (640, 360);

/// Maps a percentile (0 < q < 1) to the x of [`XAxis::Percentile`].
pub fn percentile_x(q: f64) -> f64 {
    (1.0 / (1.0 - q)).log10()
}

/// The chart as an `<svg>` element ready to inline in HTML: the namespace attribute,
/// which only standalone SVG files need, is dropped so the page holds no URL at all.
pub fn svg(chart: &Chart) -> Result<String, ReportError> {
    ensure_font()?;
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, SIZE).into_drawing_area();
        draw(root, chart).map_err(|e| ReportError::Chart {
            title: chart.title.to_string(),
            message: e.to_string(),
        })?;
    }
    let buf = buf.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    Ok(buf.replacen(
        "<svg ",
        &format!(
            "<svg role=\"img\" aria-label=\"{}\" ",
            super::escape(chart.title)
        ),
        1,
    ))
}

fn ensure_font() -> Result<(), ReportError> {
    font_registered()
        .then_some(())
        .ok_or_else(|| ReportError::Chart {
            title: "(font)".into(),
            message: "the embedded font assets/DejaVuSans.ttf is not a valid font".into(),
        })
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, chart: &Chart) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let area = root.titled(chart.title, (FONT, 19))?;
    let runs: Vec<Vec<Vec<(f64, f64)>>> = chart.series.iter().map(Series::runs).collect();
    let points = || runs.iter().flatten().flatten();
    let (x_range, x_ticks) = match chart.x {
        XAxis::Time => {
            let (hi, ticks) = linear_ticks(points().map(|p| p.0).fold(0.0, f64::max));
            (-hi * 0.02..hi * 1.02, ticks)
        }
        XAxis::Percentile => {
            let hi = points().map(|p| p.0).fold(3.0, f64::max).ceil();
            (
                -0.1..hi + 0.1,
                (0..=hi as usize).map(|i| i as f64).collect(),
            )
        }
    };
    let x = Ticked {
        inner: RangedCoordf64::from(x_range),
        ticks: x_ticks,
    };
    match chart.y {
        YAxis::Linear { floor } => {
            let (hi, ticks) = linear_ticks(points().map(|p| p.1).fold(floor, f64::max));
            let inner = RangedCoordf64::from(-hi * 0.02..hi * 1.04);
            draw_plot(&area, chart, &runs, x, Ticked { inner, ticks })?;
        }
        YAxis::Log => {
            let (range, ticks) = log_range(points().map(|p| p.1));
            let inner: LogCoord<f64> = range.log_scale().into();
            draw_plot(&area, chart, &runs, x, Ticked { inner, ticks })?;
        }
    }
    root.present()
}

fn draw_plot<DB, X, Y>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart,
    runs: &[Vec<Vec<(f64, f64)>>],
    x: X,
    y: Y,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut c = ChartBuilder::on(area)
        .margin(10)
        .margin_right(20)
        .x_label_area_size(44)
        .y_label_area_size(62)
        .build_cartesian_2d(x, y)?;
    let is_log = chart.y == YAxis::Log;
    let x_kind = chart.x;
    c.configure_mesh()
        .x_desc(chart.x_desc)
        .y_desc(chart.y_desc)
        .x_label_formatter(&|v| match x_kind {
            XAxis::Time => format_number(*v),
            XAxis::Percentile => percentile_label(*v),
        })
        .y_label_formatter(&|v| {
            if is_log {
                format_number(*v)
            } else {
                format_count(*v)
            }
        })
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .draw()?;

    for (series, runs) in chart.series.iter().zip(runs) {
        let colour = series.colour.unwrap_or_else(|| colour(series.style));
        let style = colour.stroke_width(2);
        let outline: Vec<(i32, i32)> = marker_outline(series.style, 4.0)
            .iter()
            .map(|(x, y)| (x.round() as i32, y.round() as i32))
            .collect();
        let mut first = true;
        for run in runs {
            let line = match series.stroke {
                Stroke::Solid => c.draw_series(LineSeries::new(run.iter().copied(), style))?,
                Stroke::Dashed => {
                    c.draw_series(DashedLineSeries::new(run.iter().copied(), 6, 4, style))?
                }
            };
            if first && chart.legend {
                let dashed = series.stroke == Stroke::Dashed;
                // Offsets from the legend entry's left end; a dashed line is two dashes.
                let (first_dash, second_dash) = if dashed {
                    (vec![(0, 0), (7, 0)], vec![(13, 0), (20, 0)])
                } else {
                    (vec![(0, 0), (20, 0)], vec![(20, 0), (20, 0)])
                };
                let shifted: Vec<(i32, i32)> = outline.iter().map(|(x, y)| (x + 10, *y)).collect();
                line.label(series.name.clone()).legend(move |at| {
                    EmptyElement::at(at)
                        + PathElement::new(first_dash.clone(), style)
                        + PathElement::new(second_dash.clone(), style)
                        + Polygon::new(shifted.clone(), colour.filled())
                });
                first = false;
            }
            let mut last_marked = f64::NEG_INFINITY;
            let marked = run.iter().filter(|(x, _)| {
                let far_enough = x - last_marked >= series.marker_spacing;
                if far_enough {
                    last_marked = *x;
                }
                far_enough
            });
            c.draw_series(
                marked
                    .map(|&p| EmptyElement::at(p) + Polygon::new(outline.clone(), colour.filled())),
            )?;
        }
    }
    if chart.legend && runs.iter().any(|r| !r.is_empty()) {
        c.configure_series_labels()
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(GRID)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    if runs.iter().all(|r| r.is_empty()) {
        let (w, h) = c.plotting_area().dim_in_pixel();
        let centre = TextStyle::from((FONT, 15).into_font())
            .color(&GREY)
            .pos(Pos::new(HPos::Center, VPos::Center));
        c.plotting_area().strip_coord_spec().draw(&Text::new(
            "no data",
            (w as i32 / 2, h as i32 / 2),
            centre,
        ))?;
    }
    Ok(())
}

/// Ticks from 0 to at least `max` in steps of 1, 2 or 5 × 10ⁿ, five to ten of them.
fn linear_ticks(max: f64) -> (f64, Vec<f64>) {
    let max = if max > 0.0 { max } else { 1.0 };
    let raw = max / 6.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let n = (max / step - 1e-9).ceil().max(1.0) as usize;
    (n as f64 * step, (0..=n).map(|i| i as f64 * step).collect())
}

/// A log range from the 1-2-5 value at or below the smallest value to the one at or
/// above the largest, with ticks at 1-2-5 (only at powers of ten past four decades).
fn log_range(values: impl Iterator<Item = f64>) -> (Range<f64>, Vec<f64>) {
    log_ticks(values, 1.15)
}

/// The label of x = n on the percentile axis: 0 → "min", 1 → "90%", 3 → "99.9%".
fn percentile_label(x: f64) -> String {
    let n = x.round() as i32;
    if n <= 0 {
        return "min".into();
    }
    let q = 100.0 * (1.0 - 10f64.powi(-n));
    let places = (n - 2).max(0) as usize;
    format!("{q:.places$}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_axis_labels() {
        assert_eq!(percentile_label(0.0), "min");
        assert_eq!(percentile_label(1.0), "90%");
        assert_eq!(percentile_label(2.0), "99%");
        assert_eq!(percentile_label(4.0), "99.99%");
        assert!((percentile_x(0.99) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn svg_is_inline_ready_and_has_no_url() {
        let chart = Chart {
            title: "t <1>",
            x: XAxis::Time,
            x_desc: "s",
            y: YAxis::Log,
            y_desc: "ms",
            series: vec![Series::new(
                "a",
                0,
                vec![Some((1.0, 0.3)), None, Some((3.0, 44.0))],
            )],
            legend: true,
        };
        let s = svg(&chart).unwrap();
        assert!(
            s.starts_with("<svg role=\"img\" aria-label=\"t &lt;1&gt;\" "),
            "{}",
            &s[..80]
        );
        assert!(!s.contains("http"));
        assert_eq!(s.matches("<svg").count(), s.matches("</svg>").count());
    }
}
