//! The run's latency distribution in HdrHistogram's percentile-distribution text, the
//! `.hgrm` file wrk2 and HdrHistogram's own tools print: HdrHistogram's online plotter
//! and the scripts people already have read it unchanged, to compare wsgibench's
//! distribution with theirs. Values in milliseconds, as wrk2 writes them.

use std::fmt::Write;
use std::path::Path;

use engine::{Digest, QuantilePoint};

use crate::files::write_atomic;
use crate::OutputError;

/// Writes [`hgrm`] to `path`; returns false, writing nothing, when there were no answers.
pub fn write(path: &Path, points: &[QuantilePoint], digest: &Digest) -> Result<bool, OutputError> {
    match hgrm(points, digest) {
        Some(text) => write_atomic(path, text.as_bytes()).map(|()| true),
        None => Ok(false),
    }
}

/// The distribution `points` of the answers `digest` sums up, or `None` when there
/// were none.
pub fn hgrm(points: &[QuantilePoint], digest: &Digest) -> Option<String> {
    if points.is_empty() {
        return None;
    }
    let ms = |us: f64| us / 1000.0;
    let mut out = String::new();
    let _ = write!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    for p in points {
        let value = ms(p.us as f64);
        if p.q < 1.0 {
            let _ = writeln!(
                out,
                "{value:>12.3} {:>2.12} {:>10} {:>14.2}",
                p.q,
                p.count,
                1.0 / (1.0 - p.q)
            );
        } else {
            // 1/(1-1) is infinite: HdrHistogram leaves the column out on the last line.
            let _ = writeln!(out, "{value:>12.3} {:>2.12} {:>10}", p.q, p.count);
        }
    }
    let l = &digest.latency_us;
    let _ = writeln!(
        out,
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
        ms(l.mean),
        ms(l.stdev)
    );
    let _ = writeln!(
        out,
        "#[Max     = {:>12.3}, Total count    = {:>12}]",
        ms(l.max as f64),
        digest.requests
    );
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use engine::{Recorder, Stats, Summary};

    /// The summary the engine gives for `stats` over one second, so that `hgrm` reads
    /// the distribution the engine computes rather than one built by hand.
    fn one_second_run(stats: Stats) -> Summary {
        Summary {
            digest: Digest::of(&stats, Duration::from_secs(1)),
            generator_cpu_percent: 0.0,
            generator_threads: 1,
            interrupted: false,
            intervals: Vec::new(),
            latency_distribution_us: engine::latency_distribution(&stats.latency),
            tls_failure: None,
            total: stats,
            io: Default::default(),
        }
    }

    #[test]
    fn writes_hdrhistograms_columns_and_footer() {
        let mut recorder = Recorder::default();
        for us in 1..=999 {
            recorder.record_response(200, Duration::from_micros(us));
        }
        let summary = one_second_run(recorder.take());
        let text = hgrm(&summary.latency_distribution_us, &summary.digest).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines.next().unwrap(), "");
        let rows: Vec<Vec<f64>> = lines
            .clone()
            .take_while(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().map(|f| f.parse().unwrap()).collect())
            .collect();
        assert_eq!(rows[0], [0.001, 0.0, 1.0, 1.0]);
        // 1 to 999 µs uniformly: the median is 0.5 ms, reached by half the answers.
        let median = rows.iter().find(|r| r[1] == 0.5).unwrap();
        assert_eq!(median[..], [0.5, 0.5, 500.0, 2.0]);
        assert_eq!(rows.last().unwrap()[..], [0.999, 1.0, 999.0]);
        assert!(rows
            .windows(2)
            .all(|w| w[0][0] <= w[1][0] && w[0][1] < w[1][1]));
        let footer: Vec<&str> = text.lines().filter(|l| l.starts_with("#[")).collect();
        assert_eq!(
            footer,
            [
                "#[Mean    =        0.500, StdDeviation   =        0.288]",
                "#[Max     =        0.999, Total count    =          999]"
            ]
        );
    }

    #[test]
    fn no_answers_no_file() {
        let summary = one_second_run(Stats::default());
        assert!(summary.latency_distribution_us.is_empty());
        assert!(hgrm(&summary.latency_distribution_us, &summary.digest).is_none());
    }
}
