//! The look every chart shares, in the PNG/SVG files and in the HTML report alike, so a
//! server has the same colour and marker everywhere: palette, marker shapes, and the
//! font embedded in the binary (assets/DejaVuSans.ttf), registered once.

use std::sync::OnceLock;

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
