//! The look every chart shares, in the PNG/SVG files and in the HTML report alike, so a
//! server has the same colour and marker everywhere: palette, marker shapes, and the
//! font embedded in the binary (assets/DejaVuSans.ttf), registered once.

use std::sync::OnceLock;

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::style::{register_font, FontStyle, RGBColor};

/// plotters looks fonts up by family name in one global table; the SVG names the
/// family, which every browser maps to its own sans-serif.
pub const FONT: &str = "sans-serif";

/// Okabe & Ito (2008) in an order that keeps neighbours far apart, then Tol's wine and
/// grey for series 9 and 10. The yellow is last: on white it is the weakest.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(136, 34, 85),   // Tol's wine
    RGBColor(119, 119, 119), // Tol's grey
    RGBColor(220, 200, 40),  // Okabe–Ito yellow, darkened a little to show on white
];

/// Seven shapes against ten colours: colour and shape together stay unique for 70
/// series, and neighbours in a legend never share a shape.
pub const SHAPES: usize = 7;

pub fn colour(style: usize) -> RGBColor {
    PALETTE[style % PALETTE.len()]
}

/// `#rrggbb`, for HTML around the charts.
pub fn css_colour(style: usize) -> String {
    let RGBColor(r, g, b) = colour(style);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The marker of series `style` as a polygon around (0, 0), radius `r` pixels. Every
/// shape is a polygon so one element type draws them all, in charts and legends.
pub fn marker_outline(style: usize, r: f64) -> Vec<(f64, f64)> {
    let regular = |n: usize, start_deg: f64, radius: f64| -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| {
                let a = (start_deg + 360.0 * i as f64 / n as f64).to_radians();
                (radius * a.cos(), radius * a.sin())
            })
            .collect()
    };
    let plus = |turn: bool| -> Vec<(f64, f64)> {
        let (a, w) = (r * 1.15, r * 0.4);
        let corners = [
            (w, -a),
            (w, -w),
            (a, -w),
            (a, w),
            (w, w),
            (w, a),
            (-w, a),
            (-w, w),
            (-a, w),
            (-a, -w),
            (-w, -w),
            (-w, -a),
        ];
        let s = std::f64::consts::FRAC_1_SQRT_2;
        corners
            .iter()
            .map(|&(x, y)| {
                if turn {
                    ((x - y) * s, (x + y) * s)
                } else {
                    (x, y)
                }
            })
            .collect()
    };
    match style % SHAPES {
        0 => regular(16, 0.0, r),
        1 => regular(4, 45.0, r * 1.2),
        // Triangles look smaller than circles of the same radius.
        2 => regular(3, -90.0, r * 1.35),
        3 => regular(4, 0.0, r * 1.3),
        4 => regular(3, 90.0, r * 1.35),
        5 => plus(false),
        _ => plus(true),
    }
}

/// Registers the embedded font once per process; `false` if it does not parse.
pub fn font_registered() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("../assets/DejaVuSans.ttf"),
        )
        .is_ok()
    })
}

/// An axis with the ticks chosen here (round 1-2-5 steps, padded range) instead of
/// plotters' own, whose log axis labels only powers of ten. plotters' `WithKeyPoints`
/// does the same but cannot be labelled on a plain f64 axis in 0.3.
pub struct Ticked<R> {
    pub inner: R,
    pub ticks: Vec<f64>,
}

impl<R: Ranged<ValueType = f64>> Ranged for Ticked<R> {
    type ValueType = f64;
    // Labels come from the mesh's formatters; this only satisfies `draw`'s bound.
    type FormatOption = DefaultFormatting;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // No light (minor) grid lines: the 1-2-5 lines are dense enough.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }

    fn axis_pixel_range(&self, limit: (i32, i32)) -> Range<i32> {
        self.inner.axis_pixel_range(limit)
    }
}

/// Values 1, 2 and 5 × 10ⁿ between `lo` and `hi`: ticks a reader can read off a log axis.
pub fn one_two_five(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut exp = lo.log10().floor() as i32;
    while 10f64.powi(exp) <= hi * (1.0 + 1e-9) {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powi(exp);
            if v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                out.push(v);
            }
        }
        exp += 1;
    }
    out
}

/// A tick value with as many decimals as it needs and no more: 0.05, 0.2, 1, 2.5, 50.
pub fn format_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    // Two places past the first significant digit cover every 1-2-5 or half step.
    let places = 2 + if v.abs() >= 1.0 {
        0
    } else {
        (-v.abs().log10().floor()) as usize
    };
    let text = format!("{v:.places$}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Counts with a thousands suffix so 100000 reads as "100k" in a narrow label column.
pub fn format_count(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        let k = v / 1000.0;
        if (k - k.round()).abs() < 1e-9 {
            format!("{k:.0}k")
        } else {
            format!("{k:.1}k")
        }
    } else {
        format_number(v)
    }
}

/// A log axis over the positive `values`: bounds on 1-2-5 values around them (one step
/// wider when all are equal), ticks on every 1-2-5 value up to four decades and on
/// powers of ten beyond, and `margin` (a factor) of room so end markers are not cut.
pub fn log_ticks(values: impl Iterator<Item = f64>, margin: f64) -> (Range<f64>, Vec<f64>) {
    let (mut min, mut max) = (f64::INFINITY, 0.0f64);
    for v in values.filter(|v| *v > 0.0) {
        min = min.min(v);
        max = max.max(v);
    }
    if !min.is_finite() {
        (min, max) = (0.1, 10.0);
    }
    let all = one_two_five(min / 10.0, max * 10.0);
    let lo = all
        .iter()
        .rev()
        .find(|v| **v <= min * (1.0 + 1e-9))
        .copied()
        .unwrap_or(min);
    let mut hi = all
        .iter()
        .find(|v| **v >= max * (1.0 - 1e-9))
        .copied()
        .unwrap_or(max);
    if hi <= lo {
        // One constant value: widen to the neighbouring 1-2-5 values.
        hi = all.iter().find(|v| **v > lo).copied().unwrap_or(lo * 2.0);
    }
    let lo = all
        .iter()
        .rev()
        .find(|v| **v < lo)
        .copied()
        .filter(|_| min == max)
        .unwrap_or(lo);
    let decades = (hi / lo).log10();
    let is_power_of_ten = |v: f64| (v.log10() - v.log10().round()).abs() < 1e-9;
    let ticks = one_two_five(lo, hi)
        .into_iter()
        .filter(|v| decades <= 4.0 || is_power_of_ten(*v))
        .collect();
    (lo / margin..hi * margin, ticks)
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar (Howard
/// Hinnant's `days_from_civil`): dates without a date crate, for the trend's axis.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day counted from 1970-01-01: [`days_from_civil`] undone.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

const DAY_S: f64 = 86_400.0;

/// How the ticks of a date axis are labelled: as precisely as their step needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateLabel {
    /// `11-25 06:00`: steps under a day.
    Minute,
    /// `2026-11-25`.
    Day,
    /// `2026-11`: steps of whole months.
    Month,
    /// `2026`.
    Year,
}

/// `secs` (seconds since 1970-01-01 UTC) as its tick label.
pub fn format_date(secs: f64, label: DateLabel) -> String {
    let days = (secs / DAY_S).floor();
    let (y, m, d) = civil_from_days(days as i64);
    let minute = ((secs - days * DAY_S) / 60.0).round() as i64;
    match label {
        DateLabel::Minute => format!("{m:02}-{d:02} {:02}:{:02}", minute / 60, minute % 60),
        DateLabel::Day => format!("{y}-{m:02}-{d:02}"),
        DateLabel::Month => format!("{y}-{m:02}"),
        DateLabel::Year => format!("{y}"),
    }
}

/// A date axis over instants `min..=max` (seconds since 1970-01-01 UTC): the range
/// with a little room at both ends, ticks on round calendar steps (minutes, hours,
/// days, Mondays, first of the month, first of the year), at most `count` steps over
/// the range, and how to label them. One instant gets a day around it.
pub fn date_ticks(min: f64, max: f64, count: f64) -> (Range<f64>, Vec<f64>, DateLabel) {
    let (lo, hi) = if !(min.is_finite() && max.is_finite()) {
        (0.0, DAY_S)
    } else if max - min < 60.0 {
        (min - DAY_S / 2.0, max + DAY_S / 2.0)
    } else {
        let pad = (max - min) * 0.04;
        (min - pad, max + pad)
    };
    let span = hi - lo;
    // Three- and four-day steps fill the gap between two days and a week, which would
    // leave a fortnight of runs with two ticks.
    const FIXED: [f64; 17] = [
        60.0,
        120.0,
        300.0,
        600.0,
        900.0,
        1800.0,
        3600.0,
        7200.0,
        10_800.0,
        21_600.0,
        43_200.0,
        DAY_S,
        2.0 * DAY_S,
        3.0 * DAY_S,
        4.0 * DAY_S,
        7.0 * DAY_S,
        14.0 * DAY_S,
    ];
    if let Some(&step) = FIXED.iter().find(|&&s| span / s <= count) {
        // Weeks start on Monday: 1970-01-05 was one.
        let offset = if step >= 7.0 * DAY_S {
            4.0 * DAY_S
        } else {
            0.0
        };
        let first = ((lo - offset) / step).ceil() * step + offset;
        let ticks = (0..)
            .map(|i| first + f64::from(i) * step)
            .take_while(|t| *t <= hi)
            .collect();
        let label = if step < DAY_S {
            DateLabel::Minute
        } else {
            DateLabel::Day
        };
        return (lo..hi, ticks, label);
    }
    // Whole months, then whole years in 1-2-5 steps: calendar steps, not fixed lengths.
    let months_of = |secs: f64| {
        let (y, m, _) = civil_from_days((secs / DAY_S).floor() as i64);
        y * 12 + i64::from(m) - 1
    };
    let month_start = |index: i64| {
        days_from_civil(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1) as f64 * DAY_S
    };
    let mean_month = 365.2425 / 12.0 * DAY_S;
    let mut step_months = [1_i64, 2, 3, 6]
        .into_iter()
        .find(|&n| span / (n as f64 * mean_month) <= count);
    let mut years = 1_i64;
    while step_months.is_none() {
        if span / (years as f64 * 12.0 * mean_month) <= count {
            step_months = Some(years * 12);
        } else {
            // 1, 2, 5, 10, 20, 50, ...
            years = match years.to_string().as_bytes()[0] {
                b'2' => years / 2 * 5,
                _ => years * 2,
            };
        }
    }
    let step = step_months.expect("set above");
    let first = months_of(lo);
    let first = first + (step - first.rem_euclid(step)) % step;
    let ticks = (0..)
        .map(|i| month_start(first + i * step))
        .skip_while(|t| *t < lo)
        .take_while(|t| *t <= hi)
        .collect();
    let label = if step < 12 {
        DateLabel::Month
    } else {
        DateLabel::Year
    };
    (lo..hi, ticks, label)
}

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        let t = days_from_civil(2026, 11, 25) as f64 * 86_400.0 + 12.0 * 3600.0 + 23.0 * 60.0;
        assert_eq!(format_date(t, DateLabel::Minute), "11-25 12:23");
        assert_eq!(format_date(t, DateLabel::Day), "2026-11-25");
        assert_eq!(format_date(t, DateLabel::Month), "2026-11");
        assert_eq!(format_date(t, DateLabel::Year), "2026");
    }

    #[test]
    fn date_ticks_fall_on_calendar_steps() {
        let day = |y, m, d| days_from_civil(y, m, d) as f64 * 86_400.0;
        // A week of daily runs: a tick every two days, at midnight.
        let (range, ticks, label) = date_ticks(day(2026, 11, 1), day(2026, 11, 8), 5.0);
        assert_eq!(label, DateLabel::Day);
        assert!(range.start < day(2026, 11, 1) && range.end > day(2026, 11, 8));
        assert_eq!(ticks.len(), 4, "{ticks:?}");
        assert!(ticks.iter().all(|t| t % 86_400.0 == 0.0));
        // Ten days, and a fortnight: never fewer than three ticks.
        for (from, to) in [
            (day(2026, 11, 25), day(2026, 12, 5)),
            (day(2026, 11, 1), day(2026, 11, 14)),
        ] {
            let (_, ticks, label) = date_ticks(from, to, 5.0);
            assert_eq!(label, DateLabel::Day);
            assert!((3..=6).contains(&ticks.len()), "{ticks:?}");
        }
        // One run: a day around it, in hours.
        let (range, ticks, label) = date_ticks(day(2026, 11, 1), day(2026, 11, 1), 5.0);
        assert_eq!(label, DateLabel::Minute);
        assert_eq!(range.end - range.start, 86_400.0);
        assert!(ticks.contains(&day(2026, 11, 1)), "{ticks:?}");
        // Two years: months, on the first of the month.
        let (_, ticks, label) = date_ticks(day(2025, 1, 10), day(2026, 12, 20), 5.0);
        assert_eq!(label, DateLabel::Month);
        assert!(ticks.len() <= 6 && ticks.len() >= 3, "{ticks:?}");
        for t in &ticks {
            let (_, _, d) = civil_from_days((t / 86_400.0) as i64);
            assert_eq!(d, 1);
        }
        // Decades: years, labelled as years.
        let (_, ticks, label) = date_ticks(day(1990, 6, 1), day(2026, 6, 1), 5.0);
        assert_eq!(label, DateLabel::Year);
        assert!(ticks.len() <= 6 && ticks.len() >= 3, "{ticks:?}");
        // Nothing to place: still an axis.
        let (_, ticks, _) = date_ticks(f64::INFINITY, f64::NEG_INFINITY, 5.0);
        assert!(!ticks.is_empty());
    }

    #[test]
    fn tick_labels_keep_the_fraction_they_need() {
        let labels: Vec<String> = [0.0, 0.05, 0.2, 0.5, 1.0, 1.5, 2.5, 10.0, 50.0, 100.0]
            .into_iter()
            .map(format_number)
            .collect();
        assert_eq!(
            labels,
            ["0", "0.05", "0.2", "0.5", "1", "1.5", "2.5", "10", "50", "100"]
        );
    }
}
