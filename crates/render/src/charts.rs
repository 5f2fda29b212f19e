//! The original benchmark's two charts, one line per server: mean request latency
//! over time (`request-mean`) and requests per interval over time (`request-count`),
//! each written as SVG (for docs, scales cleanly) and PNG (for anything that shows
//! images). They are drawn by [`crate::plot`] in its standalone [`plot::FILE`] frame,
//! with the legend in a column right of the plot, so it never covers a line.

use std::path::{Path, PathBuf};

use engine::Interval;
use plotters::prelude::*;

use crate::plot::{self, Chart, Legend, XAxis, YAxis};
use crate::style::font_registered;

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

const TIME: &str = "time since start (s)";

/// Writes `<path_without_ext>.svg` and `.png`: each server's mean request latency per
/// interval, in ms on a log axis, over the interval's end time. Intervals in which no
/// request finished have no latency and leave a gap in the line.
pub fn request_mean(series: &[Series], path_without_ext: &Path) -> Result<(), ChartError> {
    let lines = series
        .iter()
        .enumerate()
        .map(|(style, s)| {
            let points = s.intervals.iter().map(|i| {
                let ms = i.digest.latency_us.mean / 1000.0;
                (i.digest.requests > 0 && ms > 0.0).then_some((i.t_s, ms))
            });
            plot::Series::new(s.name, style, points.collect())
        })
        .collect();
    render(
        &Chart {
            title: "Request latency, mean per interval",
            x: XAxis::Time,
            x_desc: TIME,
            y: YAxis::Log,
            y_desc: "mean latency (ms, log scale)",
            series: lines,
            legend: Legend::Column,
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
        .enumerate()
        .map(|(style, s)| {
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
            plot::Series::new(s.name, style, kept)
        })
        .collect();
    render(
        &Chart {
            title: if left_out {
                "Requests per interval (a short last interval is not drawn)"
            } else {
                "Requests per interval"
            },
            x: XAxis::Time,
            x_desc: TIME,
            y: YAxis::Linear { floor: 0.0 },
            y_desc: "requests per interval",
            series: lines,
            legend: Legend::Column,
        },
        path_without_ext,
    )
}

fn with_ext(path_without_ext: &Path, ext: &str) -> PathBuf {
    // Not `Path::with_extension`: it would replace anything after a dot in the name.
    let mut p = path_without_ext.as_os_str().to_owned();
    p.push(".");
    p.push(ext);
    PathBuf::from(p)
}

fn render(chart: &Chart, path_without_ext: &Path) -> Result<(), ChartError> {
    font_registered().then_some(()).ok_or(ChartError::Font)?;
    let size = plot::FILE.size;
    let svg = with_ext(path_without_ext, "svg");
    plot::draw(
        SVGBackend::new(&svg, size).into_drawing_area(),
        chart,
        &plot::FILE,
    )
    .map_err(|e| ChartError::Draw {
        path: svg.clone(),
        message: e.to_string(),
    })?;
    let png = with_ext(path_without_ext, "png");
    plot::draw(
        BitMapBackend::new(&png, size).into_drawing_area(),
        chart,
        &plot::FILE,
    )
    .map_err(|e| ChartError::Draw {
        path: png.clone(),
        message: e.to_string(),
    })
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
}
