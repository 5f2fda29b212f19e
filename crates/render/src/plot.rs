//! Every chart wsgibench draws: the report page's inline SVGs, a run's standalone
//! `request-mean` / `request-count` files (`charts.rs`) and the trend site's charts
//! (`trend.rs`) are one drawing in two [`Frame`]s, so they look alike.
//!
//! - The colour-blind-safe palette in the same order, and a marker shape per series,
//!   so no two lines differ by colour alone.
//! - 1-2-5 ticks; latency on a log axis (44 ms and 0.3 ms on one linear axis would
//!   flatten the fast servers into zero); run dates on calendar steps.
//! - Text in DejaVu Sans embedded in the binary, so a PNG needs no system fonts.
//! - The legend where it never covers a line: drawn once by the page for all
//!   cross-server charts, in a column right of the plot in a standalone file, inside
//!   the plot only for per-server charts, whose few lines are not servers.

use std::ops::Range;

pub use crate::style::{colour, css_colour, marker_outline};
use crate::style::{
    date_ticks, font_registered, format_count, format_date, format_number, log_ticks, DateLabel,
    Ticked, FONT,
};

const GRID: RGBColor = RGBColor(228, 228, 228);
const GREY: RGBColor = RGBColor(119, 119, 119);
use plotters::coord::combinators::LogCoord;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::RenderError;

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
    /// Instants, in seconds since 1970-01-01 UTC: the run dates of the trend across
    /// runs. Ticks on round calendar steps, labelled as dates.
    Date,
}

/// Steps a date axis aims at: its labels ("2026-11-25") are wider than numbers.
const DATE_TICKS: f64 = 5.0;

/// What the y axis measures.
#[derive(Clone, Copy, PartialEq)]
pub enum YAxis {
    /// From zero up; `floor` is the least top (100 for CPU %, so one busy CPU reads as
    /// full height only when it is).
    Linear { floor: f64 },
    /// Latency: log scale, 1-2-5 ticks.
    Log,
}

/// Where a chart's legend goes.
#[derive(Clone, Copy, PartialEq)]
pub enum Legend {
    /// Nowhere: the page draws one legend for all its cross-server charts.
    Page,
    /// Inside the plot, top left (per-server charts).
    Inside,
    /// In a column right of the plot, as wide as the longest name (standalone files).
    Column,
}

pub struct Chart<'a> {
    pub title: &'a str,
    pub x: XAxis,
    pub x_desc: &'a str,
    pub y: YAxis,
    pub y_desc: &'a str,
    pub series: Vec<Series>,
    pub legend: Legend,
}

/// The size of a chart and of what is drawn in it.
pub struct Frame {
    pub size: (u32, u32),
    pub title_px: u32,
    pub desc_px: u32,
    pub tick_px: u32,
    pub line_width: u32,
    pub marker_radius: f64,
    /// Steps a linear axis aims at.
    pub ticks: f64,
}

/// A chart in the report page: two per row, scaled by the page to its column.
pub const PAGE: Frame = Frame {
    size: (640, 360),
    title_px: 19,
    desc_px: 14,
    tick_px: 13,
    line_width: 2,
    marker_radius: 4.0,
    ticks: 6.0,
};

/// A standalone image: 16:9, wide enough for a legend column, readable full-screen.
pub const FILE: Frame = Frame {
    size: (1280, 720),
    title_px: 30,
    desc_px: 22,
    tick_px: 18,
    line_width: 3,
    marker_radius: 5.5,
    // One tick per interval in the original's 10 s x 9 run.
    ticks: 10.0,
};

/// Maps a percentile (0 < q < 1) to the x of [`XAxis::Percentile`].
pub fn percentile_x(q: f64) -> f64 {
    (1.0 / (1.0 - q)).log10()
}

/// The chart as an `<svg>` element ready to inline in HTML: the namespace attribute,
/// which only standalone SVG files need, is dropped so the page holds no URL at all.
pub fn svg(chart: &Chart) -> Result<String, RenderError> {
    ensure_font()?;
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, PAGE.size).into_drawing_area();
        draw(root, chart, &PAGE).map_err(|e| RenderError::Chart {
            title: chart.title.to_string(),
            message: e.to_string(),
        })?;
    }
    let buf = buf.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    Ok(buf.replacen(
        "<svg ",
        &format!(
            "<svg role=\"img\" aria-label=\"{}\" ",
            crate::style::escape(chart.title)
        ),
        1,
    ))
}

fn ensure_font() -> Result<(), RenderError> {
    font_registered()
        .then_some(())
        .ok_or_else(|| RenderError::Chart {
            title: "(font)".into(),
            message: "the embedded font assets/DejaVuSans.ttf is not a valid font".into(),
        })
}

pub(crate) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Draws `chart` on `root`, which must be `frame.size`.
pub(crate) fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    chart: &Chart,
    frame: &Frame,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    // Room above the title, which plotters puts flush against the top edge.
    let body = root
        .margin(frame.title_px / 3, 0, 0, 0)
        .titled(chart.title, (FONT, frame.title_px))?;
    let (area, legend_area) = if chart.legend == Legend::Column {
        let legend_w = legend_column_width(&body, chart, frame)?;
        let (plot, legend) = body.split_horizontally(frame.size.0 - legend_w);
        (plot, Some(legend))
    } else {
        (body, None)
    };
    let runs: Vec<Vec<Vec<(f64, f64)>>> = chart.series.iter().map(Series::runs).collect();
    let points = || runs.iter().flatten().flatten();
    let mut date_label = DateLabel::Day;
    let (x_range, x_ticks) = match chart.x {
        XAxis::Time => {
            let max = points().map(|p| p.0).fold(0.0, f64::max);
            let (hi, ticks) = linear_ticks(max, frame.ticks);
            (-hi * 0.02..hi * 1.02, ticks)
        }
        XAxis::Percentile => {
            let hi = points().map(|p| p.0).fold(3.0, f64::max).ceil();
            (
                -0.1..hi + 0.1,
                (0..=hi as usize).map(|i| i as f64).collect(),
            )
        }
        XAxis::Date => {
            let min = points().map(|p| p.0).fold(f64::INFINITY, f64::min);
            let max = points().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
            let (range, ticks, label) = date_ticks(min, max, DATE_TICKS);
            date_label = label;
            (range, ticks)
        }
    };
    let x_label = move |v: f64| match chart.x {
        XAxis::Time => format_number(v),
        XAxis::Percentile => percentile_label(v),
        XAxis::Date => format_date(v, date_label),
    };
    let x = Ticked {
        inner: RangedCoordf64::from(x_range),
        ticks: x_ticks,
    };
    match chart.y {
        YAxis::Linear { floor } => {
            let max = points().map(|p| p.1).fold(floor, f64::max);
            let (hi, ticks) = linear_ticks(max, frame.ticks);
            let inner = RangedCoordf64::from(-hi * 0.02..hi * 1.04);
            draw_plot(
                &area,
                chart,
                frame,
                &runs,
                (x, &x_label),
                Ticked { inner, ticks },
            )?;
        }
        YAxis::Log => {
            let (range, ticks) = log_range(points().map(|p| p.1));
            let inner: LogCoord<f64> = range.log_scale().into();
            draw_plot(
                &area,
                chart,
                frame,
                &runs,
                (x, &x_label),
                Ticked { inner, ticks },
            )?;
        }
    }
    if let Some(legend) = legend_area {
        draw_legend_column(&legend, chart, frame, &runs)?;
    }
    root.present()
}

/// Room for the line-and-marker sample in front of each legend entry, per pixel of
/// the legend's text size.
const LEGEND_SAMPLE_EM: f64 = 3.0;

/// A series without a point is still listed, greyed, so a reader sees it was there.
fn legend_label(series: &Series, runs: &[Vec<(f64, f64)>]) -> String {
    if runs.is_empty() {
        format!("{} (no data)", series.name)
    } else {
        series.name.clone()
    }
}

/// The legend column is as wide as its longest entry, up to a third of the image.
fn legend_column_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart,
    frame: &Frame,
) -> Result<u32, DrawingAreaErrorKind<DB::ErrorType>> {
    let font = TextStyle::from((FONT, frame.tick_px).into_font());
    let mut widest = 0;
    for s in &chart.series {
        let label = legend_label(s, &s.runs());
        widest = widest.max(area.estimate_text_size(&label, &font)?.0);
    }
    let sample = (LEGEND_SAMPLE_EM * f64::from(frame.tick_px)) as u32;
    Ok((widest + sample + 30).min(frame.size.0 / 3))
}

fn draw_legend_column<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart,
    frame: &Frame,
    runs: &[Vec<Vec<(f64, f64)>>],
) -> DrawResult<DB> {
    let row_h = (frame.tick_px * 5 / 3) as i32;
    // Level with the top of the plotting area (the chart's top margin).
    let top = 10 + row_h / 2;
    let sample = (LEGEND_SAMPLE_EM * f64::from(frame.tick_px)) as i32;
    for (i, (series, runs)) in chart.series.iter().zip(runs).enumerate() {
        let colour = series.colour.unwrap_or_else(|| colour(series.style));
        let y = top + row_h * i as i32;
        area.draw(&PathElement::new(
            vec![(4, y), (sample - 8, y)],
            colour.stroke_width(frame.line_width),
        ))?;
        let marker: Vec<(i32, i32)> = marker_outline(series.style, frame.marker_radius)
            .iter()
            .map(|(x, dy)| (sample / 2 - 2 + x.round() as i32, y + dy.round() as i32))
            .collect();
        area.draw(&Polygon::new(marker, colour.filled()))?;
        let label_colour = if runs.is_empty() { &GREY } else { &BLACK };
        let text = TextStyle::from((FONT, frame.tick_px).into_font())
            .color(label_colour)
            .pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(legend_label(series, runs), (sample, y), text))?;
    }
    Ok(())
}

fn draw_plot<DB, X, Y>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart,
    frame: &Frame,
    runs: &[Vec<Vec<(f64, f64)>>],
    (x, x_label): (X, &dyn Fn(f64) -> String),
    y: Y,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut c = ChartBuilder::on(area)
        .margin(10)
        .margin_right(if chart.legend == Legend::Column {
            10
        } else {
            20
        })
        .x_label_area_size(frame.tick_px * 10 / 3)
        .y_label_area_size(frame.tick_px * 5)
        .build_cartesian_2d(x, y)?;
    let is_log = chart.y == YAxis::Log;
    c.configure_mesh()
        .x_desc(chart.x_desc)
        .y_desc(chart.y_desc)
        .x_label_formatter(&|v| x_label(*v))
        .y_label_formatter(&|v| {
            if is_log {
                format_number(*v)
            } else {
                format_count(*v)
            }
        })
        .label_style((FONT, frame.tick_px))
        .axis_desc_style((FONT, frame.desc_px))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .draw()?;

    for (series, runs) in chart.series.iter().zip(runs) {
        let colour = series.colour.unwrap_or_else(|| colour(series.style));
        let style = colour.stroke_width(frame.line_width);
        let outline: Vec<(i32, i32)> = marker_outline(series.style, frame.marker_radius)
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
            if first && chart.legend == Legend::Inside {
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
    if chart.legend == Legend::Inside && runs.iter().any(|r| !r.is_empty()) {
        c.configure_series_labels()
            .label_font((FONT, frame.tick_px))
            .background_style(WHITE.mix(0.85))
            .border_style(GRID)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    if runs.iter().all(|r| r.is_empty()) {
        let (w, h) = c.plotting_area().dim_in_pixel();
        let centre = TextStyle::from((FONT, frame.desc_px).into_font())
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

/// Ticks from 0 to at least `max` in steps of 1, 2 or 5 × 10ⁿ, about `count` steps.
/// An all-zero (or empty) series still gets an axis from 0 to 1.
fn linear_ticks(max: f64, count: f64) -> (f64, Vec<f64>) {
    let max = if max > 0.0 { max } else { 1.0 };
    let raw = max / count;
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
    log_ticks(values.filter(|v| *v > 0.0), 1.15)
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
    fn a_point_without_value_splits_the_line() {
        let s = Series::new(
            "x",
            0,
            vec![
                Some((1.0, 1.0)),
                None,
                None,
                Some((4.0, 2.0)),
                Some((5.0, 3.0)),
            ],
        );
        assert_eq!(
            s.runs(),
            vec![vec![(1.0, 1.0)], vec![(4.0, 2.0), (5.0, 3.0)]]
        );
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(linear_ticks(90.0, 10.0).0, 90.0);
        assert_eq!(linear_ticks(117_000.0, 8.0).0, 120_000.0);
        assert_eq!(linear_ticks(0.0, 8.0).0, 1.0);
        let (_, ticks) = log_range([0.3, 44.0].into_iter());
        assert_eq!(ticks, [0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0]);
        // A constant still gets a range around it.
        let (range, ticks) = log_range([2.0, 2.0].into_iter());
        assert!(range.start < 2.0 && range.end > 2.0);
        assert_eq!(ticks, [1.0, 2.0, 5.0]);
        // Six decades: powers of ten only.
        let (_, ticks) = log_range([0.01, 9000.0].into_iter());
        assert_eq!(ticks, [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0]);
        assert_eq!(format_number(0.05), "0.05");
        assert_eq!(format_number(20.0), "20");
        assert_eq!(format_count(100_000.0), "100k");
        assert_eq!(format_count(12_500.0), "12.5k");
        assert_eq!(format_count(5_000.0), "5000");
    }

    #[test]
    fn percentile_axis_labels() {
        assert_eq!(percentile_label(0.0), "min");
        assert_eq!(percentile_label(1.0), "90%");
        assert_eq!(percentile_label(2.0), "99%");
        assert_eq!(percentile_label(4.0), "99.99%");
        assert!((percentile_x(0.99) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn a_date_axis_is_labelled_with_dates() {
        let day = |d: i64| (crate::style::days_from_civil(2026, 11, 1) + d) as f64 * 86_400.0;
        let chart = Chart {
            title: "req/s",
            x: XAxis::Date,
            x_desc: "run date (UTC)",
            y: YAxis::Linear { floor: 0.0 },
            y_desc: "req/s",
            series: vec![Series::new(
                "a",
                0,
                vec![Some((day(0), 10.0)), None, Some((day(6), 12.0))],
            )],
            legend: Legend::Page,
        };
        let s = svg(&chart).unwrap();
        // Every other day from the first run, at midnight.
        for label in ["2026-11-01", "2026-11-03", "2026-11-05", "2026-11-07"] {
            assert!(s.contains(label), "{label}");
        }
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
            legend: Legend::Inside,
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
