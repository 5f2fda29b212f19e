//! The original benchmark's two charts, one line per server: mean request latency
//! over time (`request-mean`) and requests per interval over time (`request-count`),
//! each written as SVG (for docs, scales cleanly) and PNG (for anything that shows
//! images).
//!
//! Choices made here, for a reader comparing up to ~10 servers at a glance:
//! - Colours are Okabe–Ito's colour-blind-safe set plus two of Paul Tol's, and every
//!   series also gets its own marker shape, so two lines never differ by colour alone.
//! - Latency uses a log axis: in the original run gevent sat near 44 ms and bjoern near
//!   0.3 ms, and on a linear axis the fast servers become one flat line at zero.
//! - The legend sits in its own column right of the plot, so it never covers a line
//!   however the data falls.
//! - Text is drawn with DejaVu Sans embedded in the binary (assets/), so the PNG needs
//!   no system fonts and looks the same on every machine; the SVG names the family
//!   `sans-serif`, which every viewer has.

use std::ops::Range;
use std::path::{Path, PathBuf};

use engine::Interval;
use plotters::coord::combinators::LogCoord;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::style::{
    colour, font_registered, format_count, format_number, log_ticks, marker_outline, Ticked, FONT,
};

/// One server's line.
pub struct Series<'a> {
    pub name: &'a str,
    pub intervals: &'a [Interval],
}

/// A chart could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// Drawing or saving failed (an unwritable directory, most likely); the message is
    /// plotters' own.
    #[error("{path}: could not draw the chart: {message}")]
    Draw { path: PathBuf, message: String },
    /// The font compiled into the crate did not parse: the file under assets/ is broken.
    #[error("the embedded chart font (assets/DejaVuSans.ttf) is not a valid font")]
    Font,
}

/// Size of both images, in pixels: 16:9, wide enough for a legend column.
const SIZE: (u32, u32) = (1280, 720);
const TITLE_PX: u32 = 30;
const AXIS_DESC_PX: u32 = 22;
const TICK_PX: u32 = 18;
const LEGEND_PX: u32 = 19;
const LINE_WIDTH: u32 = 3;
const MARKER_RADIUS: f64 = 5.5;

/// A marker centred on a pixel; the caller maps data to pixels, so the marker keeps
/// its size whatever the axes. (plotters' composed elements would do the mapping, but
/// they cannot be boxed into one type without a `'static` backend, and the SVG
/// backend borrows its path.)
fn marker(centre: (i32, i32), style: usize, colour: RGBColor) -> Polygon<(i32, i32)> {
    let (cx, cy) = centre;
    let outline: Vec<(i32, i32)> = marker_outline(style, MARKER_RADIUS)
        .into_iter()
        .map(|(x, y)| (cx + x.round() as i32, cy + y.round() as i32))
        .collect();
    Polygon::new(outline, colour.filled())
}

/// Writes `<path_without_ext>.svg` and `.png`: each server's mean request latency per
/// interval, in ms on a log axis, over the interval's end time. Intervals in which no
/// request finished have no latency and leave a gap in the line.
pub fn request_mean(series: &[Series], path_without_ext: &Path) -> Result<(), ChartError> {
    let lines = series
        .iter()
        .map(|s| {
            Line::new(
                s.name,
                s.intervals.iter().map(|i| {
                    let ms = i.digest.latency_us.mean / 1000.0;
                    (i.digest.requests > 0 && ms > 0.0).then_some((i.t_s, ms))
                }),
            )
        })
        .collect();
    render(
        &Plot {
            title: "Request latency, mean per interval",
            y_desc: "mean latency (ms, log scale)",
            lines,
            log_y: true,
        },
        path_without_ext,
    )
}

/// Writes `<path_without_ext>.svg` and `.png`: requests answered in each interval
/// (the engine's `digest.requests`), on a linear axis from zero, over the interval's
/// end time.
pub fn request_count(series: &[Series], path_without_ext: &Path) -> Result<(), ChartError> {
    // A run that ends early (every user done, or -n reached) has a last interval
    // shorter than the others; its raw count would draw a cliff that is not a slowdown.
    // Such an interval (under half the series' longest) is left out, and the title
    // says so; its requests are still in every total.
    let mut left_out = false;
    let lines = series
        .iter()
        .map(|s| {
            let full = s
                .intervals
                .iter()
                .map(|i| i.digest.duration_s)
                .fold(0.0, f64::max);
            let kept: Vec<_> = s
                .intervals
                .iter()
                .filter(|i| i.digest.duration_s >= full / 2.0)
                .map(|i| Some((i.t_s, i.digest.requests as f64)))
                .collect();
            left_out |= kept.len() < s.intervals.len();
            Line::new(s.name, kept.into_iter())
        })
        .collect();
    render(
        &Plot {
            title: if left_out {
                "Requests per interval (a short last interval is not drawn)"
            } else {
                "Requests per interval"
            },
            y_desc: "requests per interval",
            lines,
            log_y: false,
        },
        path_without_ext,
    )
}

/// What one chart shows, independent of the backend it is drawn on.
struct Plot<'a> {
    title: &'a str,
    y_desc: &'a str,
    lines: Vec<Line<'a>>,
    log_y: bool,
}

/// One series as runs of consecutive points: a missing value ends a run, so the line
/// shows a gap instead of bridging an interval that has no value.
#[cfg_attr(test, derive(Debug))]
struct Line<'a> {
    name: &'a str,
    runs: Vec<Vec<(f64, f64)>>,
}

impl<'a> Line<'a> {
    fn new(name: &'a str, points: impl Iterator<Item = Option<(f64, f64)>>) -> Line<'a> {
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for p in points {
            match p {
                Some((x, y)) if x.is_finite() && y.is_finite() => {
                    runs.last_mut().expect("never empty").push((x, y))
                }
                _ if runs.last().is_some_and(|r| !r.is_empty()) => runs.push(Vec::new()),
                _ => {}
            }
        }
        runs.retain(|r| !r.is_empty());
        Line { name, runs }
    }

    fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.runs.iter().flatten().copied()
    }
}

fn ensure_font() -> Result<(), ChartError> {
    font_registered().then_some(()).ok_or(ChartError::Font)
}

fn with_ext(path_without_ext: &Path, ext: &str) -> PathBuf {
    // Not `Path::with_extension`: it would replace anything after a dot in the name.
    let mut p = path_without_ext.as_os_str().to_owned();
    p.push(".");
    p.push(ext);
    PathBuf::from(p)
}

fn render(plot: &Plot, path_without_ext: &Path) -> Result<(), ChartError> {
    ensure_font()?;
    let svg = with_ext(path_without_ext, "svg");
    draw(SVGBackend::new(&svg, SIZE).into_drawing_area(), plot).map_err(|e| ChartError::Draw {
        path: svg.clone(),
        message: e.to_string(),
    })?;
    let png = with_ext(path_without_ext, "png");
    draw(BitMapBackend::new(&png, SIZE).into_drawing_area(), plot).map_err(|e| ChartError::Draw {
        path: png.clone(),
        message: e.to_string(),
    })
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, plot: &Plot) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    // Room above the title, which plotters puts flush against the top edge.
    let body = root
        .margin(12, 0, 0, 0)
        .titled(plot.title, (FONT, TITLE_PX))?;

    // The legend column is as wide as its longest entry, up to a third of the image.
    let legend_font = TextStyle::from((FONT, LEGEND_PX).into_font());
    let widest = plot
        .lines
        .iter()
        .map(|l| {
            body.estimate_text_size(&legend_label(l), &legend_font)
                .map(|(w, _)| w)
        })
        .try_fold(0, |a, w| w.map(|w| a.max(w)))?;
    let legend_w = (widest + LEGEND_SAMPLE_W + 30).min(SIZE.0 / 3);
    let (plot_area, legend_area) = body.split_horizontally(SIZE.0 - legend_w);

    let (x_range, x_ticks) = x_axis(plot);
    let x = Ticked {
        inner: RangedCoordf64::from(x_range),
        ticks: x_ticks,
    };
    if plot.log_y {
        let (range, ticks) = log_axis(plot);
        let inner: LogCoord<f64> = range.log_scale().into();
        draw_plot(&plot_area, plot, x, Ticked { inner, ticks })?;
    } else {
        let (range, ticks) = linear_axis(plot);
        let inner = RangedCoordf64::from(range);
        draw_plot(&plot_area, plot, x, Ticked { inner, ticks })?;
    }
    draw_legend(&legend_area, plot)?;
    root.present()
}

/// Text that says "nothing here": a legend entry without data, the "no data" note.
const GREY: RGBColor = RGBColor(119, 119, 119);

/// Room for the line-and-marker sample in front of each legend entry.
const LEGEND_SAMPLE_W: u32 = 56;

fn legend_label(line: &Line) -> String {
    if line.runs.is_empty() {
        format!("{} (no data)", line.name)
    } else {
        line.name.to_string()
    }
}

fn style(index: usize) -> (RGBColor, usize) {
    (colour(index), index)
}

fn draw_plot<DB, X, Y>(area: &DrawingArea<DB, Shift>, plot: &Plot, x: X, y: Y) -> DrawResult<DB>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .margin_top(10)
        .margin_left(10)
        .margin_right(10)
        .margin_bottom(10)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(x, y)?;
    let log_y = plot.log_y;
    chart
        .configure_mesh()
        .x_desc("time since start (s)")
        .y_desc(plot.y_desc)
        .x_label_formatter(&|v| format_number(*v))
        .y_label_formatter(&|v| {
            if log_y {
                format_number(*v)
            } else {
                format_count(*v)
            }
        })
        .label_style((FONT, TICK_PX))
        .axis_desc_style((FONT, AXIS_DESC_PX))
        .bold_line_style(RGBColor(220, 220, 220))
        .light_line_style(TRANSPARENT)
        .draw()?;

    for (i, line) in plot.lines.iter().enumerate() {
        let (colour, shape) = style(i);
        for run in &line.runs {
            chart.draw_series(LineSeries::new(
                run.iter().copied(),
                colour.stroke_width(LINE_WIDTH),
            ))?;
            let area = chart.plotting_area();
            let pixels = area.strip_coord_spec();
            let (bx, by) = pixels.get_base_pixel();
            for p in run {
                let (x, y) = area.map_coordinate(p);
                pixels.draw(&marker((x - bx, y - by), shape, colour))?;
            }
        }
    }

    if plot.lines.iter().all(|l| l.runs.is_empty()) {
        let (w, h) = chart.plotting_area().dim_in_pixel();
        let centre = TextStyle::from((FONT, AXIS_DESC_PX).into_font())
            .color(&GREY)
            .pos(Pos::new(HPos::Center, VPos::Center));
        chart.plotting_area().strip_coord_spec().draw(&Text::new(
            "no data",
            (w as i32 / 2, h as i32 / 2),
            centre,
        ))?;
    }
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, plot: &Plot) -> DrawResult<DB> {
    const ROW_H: i32 = 30;
    // Level with the top of the plotting area (the chart's top margin).
    const TOP: i32 = 10 + ROW_H / 2;
    let text = |colour: &'static RGBColor| {
        TextStyle::from((FONT, LEGEND_PX).into_font())
            .color(colour)
            .pos(Pos::new(HPos::Left, VPos::Center))
    };
    for (i, line) in plot.lines.iter().enumerate() {
        let (colour, shape) = style(i);
        let y = TOP + ROW_H * i as i32;
        let sample = LEGEND_SAMPLE_W as i32;
        area.draw(&PathElement::new(
            vec![(4, y), (sample - 8, y)],
            colour.stroke_width(LINE_WIDTH),
        ))?;
        area.draw(&marker((sample / 2 - 2, y), shape, colour))?;
        let label_colour = if line.runs.is_empty() { &GREY } else { &BLACK };
        area.draw(&Text::new(
            legend_label(line),
            (sample, y),
            text(label_colour),
        ))?;
    }
    Ok(())
}

/// The largest x, so both charts of a run share a time axis of round numbers.
fn x_axis(plot: &Plot) -> (Range<f64>, Vec<f64>) {
    let max = plot
        .lines
        .iter()
        .flat_map(Line::points)
        .map(|p| p.0)
        .fold(0.0, f64::max);
    // Aim for ~10 ticks: one per interval in the usual 10 s x 9 run.
    let (hi, ticks) = linear_ticks(max, 10.0);
    // A small margin on both sides so markers at the ends are not cut in half.
    (-hi * 0.02..hi * 1.02, ticks)
}

fn linear_axis(plot: &Plot) -> (Range<f64>, Vec<f64>) {
    let max = plot
        .lines
        .iter()
        .flat_map(Line::points)
        .map(|p| p.1)
        .fold(0.0, f64::max);
    let (hi, ticks) = linear_ticks(max, 8.0);
    (-hi * 0.02..hi * 1.04, ticks)
}

/// Ticks from 0 to at least `max` in steps of 1, 2 or 5 × 10ⁿ, at most `count` steps.
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
    let ticks: Vec<f64> = (0..=n).map(|i| i as f64 * step).collect();
    (n as f64 * step, ticks)
}

/// A log axis from the 1-2-5 value at or below the smallest point to the one at or
/// above the largest, with a tick at each 1-2-5 value (only at powers of ten when the
/// data spans more than four decades, so labels never crowd).
fn log_axis(plot: &Plot) -> (Range<f64>, Vec<f64>) {
    let values = || {
        plot.lines
            .iter()
            .flat_map(Line::points)
            .map(|p| p.1)
            .filter(|v| *v > 0.0)
    };
    // Markers at the extremes keep a little room, as on the linear axes.
    log_ticks(values(), 1.12)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use engine::{Digest, Stats};

    use super::*;

    fn interval(index: u32, mean_ms: f64, requests: u64) -> Interval {
        let mut digest = Digest::of(&Stats::default(), Duration::from_secs(10));
        digest.requests = requests;
        digest.latency_us.mean = mean_ms * 1000.0;
        Interval {
            index,
            t_s: 10.0 * f64::from(index + 1),
            start_s: 10.0 * f64::from(index),
            digest,
            users_active: 0,
            connections_open: 0,
            generator_cpu_percent: 0.0,
        }
    }

    /// Shaped like the original run: nine 10 s intervals, 0.2 ms to 45 ms, up to 100k
    /// requests per interval, one server that never ran.
    fn servers() -> Vec<(String, Vec<Interval>)> {
        let shapes = [
            ("bjoern", 0.3, 100_000),
            ("meinheld", 0.2, 90_000),
            ("uwsgi", 1.2, 40_000),
            ("gunicorn-sync", 2.5, 20_000),
            ("cheroot", 5.0, 9_000),
            ("waitress", 8.0, 6_000),
            ("tornado", 12.0, 4_000),
            ("twisted", 20.0, 2_500),
            ("gunicorn-gevent", 45.0, 1_100),
        ];
        let mut out: Vec<(String, Vec<Interval>)> = shapes
            .iter()
            .map(|&(name, ms, n)| {
                let iv = (0..9).map(|i| interval(i, ms, n)).collect();
                (name.to_string(), iv)
            })
            .collect();
        out.push(("broken <&>".to_string(), Vec::new()));
        out
    }

    fn series(data: &[(String, Vec<Interval>)]) -> Vec<Series<'_>> {
        data.iter()
            .map(|(name, intervals)| Series { name, intervals })
            .collect()
    }

    fn read(dir: &Path, name: &str) -> (String, u64) {
        let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
        let png = std::fs::metadata(dir.join(format!("{name}.png"))).unwrap();
        (svg, png.len())
    }

    #[test]
    fn request_mean_writes_both_files_with_every_name_and_axis_label() {
        let dir = tempfile::tempdir().unwrap();
        let data = servers();
        request_mean(&series(&data), &dir.path().join("request-mean")).unwrap();
        let (svg, png_len) = read(dir.path(), "request-mean");
        assert!(png_len > 20_000, "PNG is only {png_len} bytes");
        assert!(svg.len() > 5_000);
        for (name, _) in &data[..9] {
            assert!(svg.contains(name.as_str()), "{name} missing");
        }
        // Escaped by the SVG backend, marked as having nothing to draw.
        assert!(svg.contains("broken &lt;&amp;&gt; (no data)"));
        assert!(svg.contains("time since start (s)"));
        assert!(svg.contains("mean latency (ms"));
        // The log axis spans both ends of the range with 1-2-5 labels.
        for tick in [">\n0.2\n<", ">\n1\n<", ">\n50\n<"] {
            assert!(svg.contains(tick), "tick {tick:?} missing");
        }
    }

    #[test]
    fn request_count_writes_both_files_with_every_name_and_axis_label() {
        let dir = tempfile::tempdir().unwrap();
        let data = servers();
        request_count(&series(&data), &dir.path().join("request-count")).unwrap();
        let (svg, png_len) = read(dir.path(), "request-count");
        assert!(png_len > 20_000, "PNG is only {png_len} bytes");
        for (name, _) in &data[..9] {
            assert!(svg.contains(name.as_str()), "{name} missing");
        }
        assert!(svg.contains("time since start (s)"));
        assert!(svg.contains("requests per interval"));
        assert!(svg.contains(">\n100k\n<"));
    }

    #[test]
    fn empty_and_all_zero_series_still_draw() {
        let dir = tempfile::tempdir().unwrap();
        let zeros: Vec<Interval> = (0..3).map(|i| interval(i, 0.0, 0)).collect();
        let data = [Series {
            name: "idle",
            intervals: &zeros,
        }];
        // No request answered: no latency at all, so the chart says so.
        request_mean(&data, &dir.path().join("mean")).unwrap();
        let (svg, _) = read(dir.path(), "mean");
        assert!(svg.contains("idle (no data)"));
        assert!(svg.contains(">\nno data\n<"));
        // Zero requests are a value, drawn on an axis from 0 to 1.
        request_count(&data, &dir.path().join("count")).unwrap();
        let (svg, _) = read(dir.path(), "count");
        assert!(svg.contains(">\nidle\n<"));
        // No series at all.
        request_count(&[], &dir.path().join("none")).unwrap();
    }

    #[test]
    fn an_unwritable_path_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("chart");
        let data = servers();
        let err = request_count(&series(&data), &path).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("missing-dir/chart.svg"), "{text}");
    }

    #[test]
    fn an_interval_without_requests_splits_the_latency_line() {
        let line = Line::new(
            "x",
            [
                Some((1.0, 1.0)),
                None,
                None,
                Some((4.0, 2.0)),
                Some((5.0, 3.0)),
            ]
            .into_iter(),
        );
        assert_eq!(
            line.runs,
            vec![vec![(1.0, 1.0)], vec![(4.0, 2.0), (5.0, 3.0)]]
        );
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(linear_ticks(90.0, 10.0).0, 90.0);
        assert_eq!(linear_ticks(117_000.0, 8.0).0, 120_000.0);
        assert_eq!(linear_ticks(0.0, 8.0).0, 1.0);
        let plot = |values: &[f64]| Plot {
            title: "",
            y_desc: "",
            lines: vec![Line::new("x", values.iter().map(|&v| Some((1.0, v))))],
            log_y: true,
        };
        let (_, ticks) = log_axis(&plot(&[0.3, 44.0]));
        assert_eq!(ticks, [0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0]);
        // A constant still gets a range around it.
        let (range, ticks) = log_axis(&plot(&[2.0, 2.0]));
        assert!(range.start < 2.0 && range.end > 2.0);
        assert_eq!(ticks, [1.0, 2.0, 5.0]);
        // Six decades: powers of ten only.
        let (_, ticks) = log_axis(&plot(&[0.01, 9000.0]));
        assert_eq!(ticks, [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0]);
        assert_eq!(format_number(0.05), "0.05");
        assert_eq!(format_number(20.0), "20");
        assert_eq!(format_count(100_000.0), "100k");
        assert_eq!(format_count(12_500.0), "12.5k");
        assert_eq!(format_count(5_000.0), "5000");
    }
}
