//! The original benchmark's two charts, one line per server: mean request latency
//! over time (`request-mean`) and requests per interval over time (`request-count`).
//! One spec each, drawn twice: as files beside the results ([`write_files`]) and inline
//! in report.html (which adds its own charts beside them).

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use results::{Case, Interval, RunFolder};

use crate::plot::{self, Chart, Legend, XAxis, YAxis};
use crate::style::font_registered;
use crate::RenderError;

const TIME: &str = "time since the load started (s)";

/// The mean request latency per interval, in ms on a log axis, over the interval's end
/// time; one line per case that measured anything, styled by its place in `cases`.
/// Intervals in which no request finished have no latency and leave a gap.
pub fn request_mean(cases: &[Case], legend: Legend) -> Chart<'static> {
    let series = cases
        .iter()
        .enumerate()
        .filter_map(|(style, c)| {
            let m = c.measured.as_ref()?;
            let points = m.intervals.iter().map(|i| {
                let ms = i.digest.latency_us.mean / 1000.0;
                (i.digest.requests > 0 && ms > 0.0).then_some((i.t_s, ms))
            });
            Some(plot::Series::new(&c.name, style, points.collect()))
        })
        .collect();
    Chart {
        title: "Mean latency per interval",
        x: XAxis::Time,
        x_desc: TIME,
        y: YAxis::Log,
        y_desc: "mean latency (ms, log scale)",
        series,
        legend,
    }
}

/// Requests answered in each interval, on a linear axis from zero, without a short
/// last interval ([`full_intervals`]); the title says when one was left out.
pub fn request_count(cases: &[Case], legend: Legend) -> Chart<'static> {
    let mut left_out = false;
    let series = cases
        .iter()
        .enumerate()
        .filter_map(|(style, c)| {
            let m = c.measured.as_ref()?;
            let points: Vec<_> = full_intervals(&m.intervals)
                .map(|i| Some((i.t_s, i.digest.requests as f64)))
                .collect();
            left_out |= points.len() < m.intervals.len();
            Some(plot::Series::new(&c.name, style, points))
        })
        .collect();
    Chart {
        title: if left_out {
            "Requests per interval (a short last interval is not drawn)"
        } else {
            "Requests per interval"
        },
        x: XAxis::Time,
        x_desc: TIME,
        y: YAxis::Linear { floor: 0.0 },
        y_desc: "requests per interval",
        series,
        legend,
    }
}

/// The intervals worth drawing as counts. A run that ends early (every user done,
/// or -n reached) has a last interval shorter than the others; its raw count would
/// draw a cliff that is not a slowdown. Such an interval (under half the series'
/// longest) is left out of count charts; its requests are still in every total.
pub fn full_intervals(intervals: &[Interval]) -> impl Iterator<Item = &Interval> {
    let full = intervals
        .iter()
        .map(|i| i.digest.duration_s)
        .fold(0.0, f64::max);
    intervals
        .iter()
        .filter(move |i| i.digest.duration_s >= full / 2.0)
}

/// Draws the original benchmark's two charts into `folder`, each as SVG (for docs,
/// scales cleanly) and PNG (for anything that shows images), in [`plot::FILE`]'s
/// frame with the legend in a column right of the plot, so it never covers a line.
pub fn write_files(cases: &[Case], folder: &RunFolder) -> Result<[PathBuf; 2], RenderError> {
    // One pair of charts per app: the original's app (or the first) under the
    // original's names, every other app's as `request-mean@json`; a chart mixing apps
    // would compare a server with itself.
    let mut apps: Vec<Option<&str>> = Vec::new();
    for c in cases {
        if !apps.contains(&c.app.as_deref()) {
            apps.push(c.app.as_deref());
        }
    }
    let first = apps
        .iter()
        .copied()
        .find(Option::is_none)
        .unwrap_or(apps.first().copied().flatten());
    let mut written = None;
    for app in apps {
        let of_app: Vec<Case> = cases
            .iter()
            .filter(|c| c.app.as_deref() == app)
            .cloned()
            .collect();
        let suffix = match app == first {
            true => String::new(),
            false => format!(
                "{}{}",
                results::folder::APP_SEPARATOR,
                app.unwrap_or_default()
            ),
        };
        let files = write_pair(&of_app, folder, &suffix)?;
        if app == first {
            written = Some(files);
        }
    }
    match written {
        Some(files) => Ok(files),
        None => write_pair(cases, folder, ""),
    }
}

/// The two charts of `cases`, named with `suffix` after the original's names.
fn write_pair(
    cases: &[Case],
    folder: &RunFolder,
    suffix: &str,
) -> Result<[PathBuf; 2], RenderError> {
    let mean = folder.path(&format!("{}{suffix}", results::folder::CHART_REQUEST_MEAN));
    let count = folder.path(&format!("{}{suffix}", results::folder::CHART_REQUEST_COUNT));
    draw_files(&request_mean(cases, Legend::Column), &mean)?;
    draw_files(&request_count(cases, Legend::Column), &count)?;
    Ok([with_ext(&mean, "png"), with_ext(&count, "png")])
}

fn with_ext(path_without_ext: &Path, ext: &str) -> PathBuf {
    // Not `Path::with_extension`: it would replace anything after a dot in the name.
    let mut p = path_without_ext.as_os_str().to_owned();
    p.push(".");
    p.push(ext);
    PathBuf::from(p)
}

fn draw_files(chart: &Chart, path_without_ext: &Path) -> Result<(), RenderError> {
    font_registered().then_some(()).ok_or(RenderError::Font)?;
    let size = plot::FILE.size;
    let svg = with_ext(path_without_ext, "svg");
    plot::draw(
        SVGBackend::new(&svg, size).into_drawing_area(),
        chart,
        &plot::FILE,
    )
    .map_err(|e| RenderError::Draw {
        path: svg.clone(),
        message: e.to_string(),
    })?;
    let png = with_ext(path_without_ext, "png");
    plot::draw(
        BitMapBackend::new(&png, size).into_drawing_area(),
        chart,
        &plot::FILE,
    )
    .map_err(|e| RenderError::Draw {
        path: png.clone(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use results::{CaseStatus, Digest, Measured};

    use super::*;

    fn interval(index: u32, mean_ms: f64, requests: u64) -> Interval {
        let mut digest = Digest {
            requests,
            duration_s: 10.0,
            ..Digest::default()
        };
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

    fn cases(data: &[(String, Vec<Interval>)]) -> Vec<Case> {
        data.iter()
            .map(|(name, intervals)| {
                let mut c = Case::new(name, CaseStatus::Ok);
                c.measured = Some(Measured {
                    intervals: intervals.clone(),
                    ..Measured::default()
                });
                c
            })
            .collect()
    }

    fn draw(chart: Chart, dir: &Path, name: &str) -> Result<(), RenderError> {
        draw_files(&chart, &dir.join(name))
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
        draw(
            request_mean(&cases(&data), Legend::Column),
            dir.path(),
            "request-mean",
        )
        .unwrap();
        let (svg, png_len) = read(dir.path(), "request-mean");
        assert!(png_len > 20_000, "PNG is only {png_len} bytes");
        assert!(svg.len() > 5_000);
        for (name, _) in &data[..9] {
            assert!(svg.contains(name.as_str()), "{name} missing");
        }
        // Escaped by the SVG backend, marked as having nothing to draw.
        assert!(svg.contains("broken &lt;&amp;&gt; (no data)"));
        assert!(svg.contains("time since the load started (s)"));
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
        draw(
            request_count(&cases(&data), Legend::Column),
            dir.path(),
            "request-count",
        )
        .unwrap();
        let (svg, png_len) = read(dir.path(), "request-count");
        assert!(png_len > 20_000, "PNG is only {png_len} bytes");
        for (name, _) in &data[..9] {
            assert!(svg.contains(name.as_str()), "{name} missing");
        }
        assert!(svg.contains("time since the load started (s)"));
        assert!(svg.contains("requests per interval"));
        assert!(svg.contains(">\n100k\n<"));
    }

    #[test]
    fn empty_and_all_zero_series_still_draw() {
        let dir = tempfile::tempdir().unwrap();
        let zeros: Vec<Interval> = (0..3).map(|i| interval(i, 0.0, 0)).collect();
        let data = cases(&[("idle".to_string(), zeros)]);
        // No request answered: no latency at all, so the chart says so.
        draw(request_mean(&data, Legend::Column), dir.path(), "mean").unwrap();
        let (svg, _) = read(dir.path(), "mean");
        assert!(svg.contains("idle (no data)"));
        assert!(svg.contains(">\nno data\n<"));
        // Zero requests are a value, drawn on an axis from 0 to 1.
        draw(request_count(&data, Legend::Column), dir.path(), "count").unwrap();
        let (svg, _) = read(dir.path(), "count");
        assert!(svg.contains(">\nidle\n<"));
        // No series at all.
        draw(request_count(&[], Legend::Column), dir.path(), "none").unwrap();
    }

    #[test]
    fn a_short_last_interval_is_left_out_of_counts_only() {
        let mut intervals: Vec<Interval> = (0..3).map(|i| interval(i, 1.0, 1000)).collect();
        intervals[2].digest.duration_s = 2.0;
        let data = cases(&[("a".to_string(), intervals)]);
        let count = request_count(&data, Legend::Column);
        assert_eq!(count.series[0].points.len(), 2);
        assert!(count.title.contains("short last interval"));
        assert_eq!(
            request_mean(&data, Legend::Column).series[0].points.len(),
            3
        );
    }

    #[test]
    fn an_unwritable_path_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let data = servers();
        let chart = request_count(&cases(&data), Legend::Column);
        let err = draw(chart, &dir.path().join("missing-dir"), "chart").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("missing-dir/chart.svg"), "{text}");
    }
}
