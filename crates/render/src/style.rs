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
    use super::format_number;

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
