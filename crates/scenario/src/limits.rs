//! The ceiling on every number a user gives, in one place.
//!
//! Flags, suite TOML files and Tsung XML all pass their numbers through these checks, so
//! the same number means the same thing (and is refused the same way) whichever front
//! end it came from. The bounds are generous for any real load test and small enough
//! that nothing downstream can overflow: a duration of 30 days still adds to an
//! `Instant`, a rate of 0.001/s still gives a gap a `Duration` holds, and a loop of
//! 10^12 passes is a counter, never a list. The README's "Limits" table repeats them.
//!
//! Each check returns [`OutOfRange`], which says what was expected and what was given;
//! the front end adds where (`--rate`, or `file:line:col`).

use std::fmt;
use std::time::Duration;

/// The longest duration accepted anywhere (run length, phase, think time, timeouts,
/// interval): 30 days.
pub const MAX_SECONDS: f64 = 30.0 * 86_400.0;
/// Requests or users per second: at least one per 1 000 000 s (Tsung's own examples
/// give 2 users an hour), at most ten million a second.
pub const MIN_RATE: f64 = 0.000_001;
pub const MAX_RATE: f64 = 10_000_000.0;
/// Keep-alive connections of one run (the open-file limit usually binds first).
pub const MAX_CONNECTIONS: u64 = 1_000_000;
/// A request budget (`-n`).
pub const MAX_REQUESTS: u64 = 1_000_000_000_000_000;
/// Worker threads of one run.
pub const MAX_THREADS: u64 = 1024;
/// Passes of one loop (`<for>`, a suite's `loop`): a counter, whatever its size.
pub const MAX_LOOP: u64 = 1_000_000_000_000;

/// Loops or restarts one `<match>` allows (`max_loop`, `max_restart`): the engine
/// counts them in a `u32`.
pub const MAX_MATCH_REPEATS: u64 = u32::MAX as u64;
/// The longest random string a `<setdynvars>` draws.
pub const MAX_RANDOM_STRING: u64 = 1024 * 1024;
/// Users of a phase or at once (`maxnumber`, `maxusers`, `max_users`).
pub const MAX_USERS: u64 = 1_000_000_000_000;
/// Extra passes over the arrival phases (Tsung's `<load loop>`), which copies them.
pub const MAX_PHASE_REPEATS: u64 = 1000;
/// Arrival phases of one run, `<load loop>` copies included: the loop's bound alone
/// still let a 1.6 MB file of 20 000 phases with `loop="1000"` take 800 MB.
pub const MAX_PHASES: u64 = 100_000;
/// A session's weight relative to the others (Tsung's weights and probabilities are
/// far below it); bounded so that their sum stays finite.
pub const MAX_WEIGHT: f64 = 1_000_000.0;
/// Repetitions of each case in a suite run (`--repeat`).
pub const MAX_REPEAT: u64 = 100;
/// The PEM text of the extra trusted roots (`--cacert`), all files together: a bundle
/// of every public root is about 200 KiB, so 4 MiB is room for any real use while a
/// scenario sent to an agent stays small.
pub const MAX_ROOTS_PEM_BYTES: usize = 4 * 1024 * 1024;

/// A number outside what the tool accepts, or not a number at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, got {got}")]
pub struct OutOfRange {
    /// The allowed range, in words and figures.
    pub expected: String,
    /// The value as given.
    pub got: String,
}

fn out_of_range(expected: impl fmt::Display, got: impl fmt::Display) -> OutOfRange {
    OutOfRange {
        expected: expected.to_string(),
        got: got.to_string(),
    }
}

/// A duration in seconds, above zero and at most [`MAX_SECONDS`].
pub fn seconds(value: f64) -> Result<Duration, OutOfRange> {
    if value.is_finite() && value > 0.0 && value <= MAX_SECONDS {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(out_of_range(
            format!("a duration above 0 and at most {MAX_SECONDS} s (30 days)"),
            format_seconds(value),
        ))
    }
}

/// A duration in seconds that may be zero (a think time), at most [`MAX_SECONDS`].
pub fn seconds_or_zero(value: f64) -> Result<Duration, OutOfRange> {
    if value == 0.0 {
        return Ok(Duration::ZERO);
    }
    if value.is_finite() && value > 0.0 && value <= MAX_SECONDS {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(out_of_range(
            format!("a duration of 0 to {MAX_SECONDS} s (30 days)"),
            format_seconds(value),
        ))
    }
}

fn format_seconds(value: f64) -> String {
    if value.is_finite() {
        format!("{} s", show(value))
    } else {
        show(value)
    }
}

/// A number as a person reads it: 1e300 and 1e-30 stay short (Rust's `{}` would print
/// every digit).
pub fn show(value: f64) -> String {
    let magnitude = value.abs();
    if value.is_finite() && magnitude != 0.0 && !(1e-4..1e9).contains(&magnitude) {
        format!("{value:e}")
    } else {
        value.to_string()
    }
}

/// Events per second (requests, users): [`MIN_RATE`] to [`MAX_RATE`].
pub fn rate(value: f64, per: &str) -> Result<f64, OutOfRange> {
    if value.is_finite() && (MIN_RATE..=MAX_RATE).contains(&value) {
        Ok(value)
    } else {
        Err(out_of_range(
            format!("{per} per second from {MIN_RATE} to {MAX_RATE}"),
            show(value),
        ))
    }
}

/// A session's weight: above 0 and at most [`MAX_WEIGHT`].
pub fn weight(value: f64) -> Result<f64, OutOfRange> {
    if value.is_finite() && value > 0.0 && value <= MAX_WEIGHT {
        Ok(value)
    } else {
        Err(out_of_range(
            format!("a weight above 0 and at most {MAX_WEIGHT}"),
            show(value),
        ))
    }
}

/// A whole number of `what` from `min` to `max`.
pub fn count(value: u64, min: u64, max: u64, what: &str) -> Result<u64, OutOfRange> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(out_of_range(
            format!("a whole number of {what} from {min} to {max}"),
            value,
        ))
    }
}

/// Parses text as a whole number of `what` from `min` to `max`; anything else (a
/// fraction, a sign, nan, 1e300, a word) is refused with the range.
pub fn parse_count(text: &str, min: u64, max: u64, what: &str) -> Result<u64, OutOfRange> {
    let refuse = || {
        out_of_range(
            format!("a whole number of {what} from {min} to {max}"),
            format!("{text:?}"),
        )
    };
    let value: u64 = text.trim().parse().map_err(|_| refuse())?;
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(refuse())
    }
}

/// Parses text as a number; `nan`, `inf` and words are refused (then range-checked by
/// the caller with [`seconds`] or [`rate`]).
pub fn parse_number(text: &str, expected: &str) -> Result<f64, OutOfRange> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(out_of_range(expected, format!("{text:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_have_a_floor_and_a_ceiling() {
        assert_eq!(seconds(1.5).unwrap(), Duration::from_millis(1500));
        assert_eq!(
            seconds(MAX_SECONDS).unwrap(),
            Duration::from_secs(2_592_000)
        );
        for bad in [
            0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            1e300,
            MAX_SECONDS * 1.01,
        ] {
            let e = seconds(bad).unwrap_err();
            assert!(e.expected.contains("30 days"), "{e}");
        }
        assert_eq!(seconds_or_zero(0.0).unwrap(), Duration::ZERO);
        assert!(seconds_or_zero(-0.5).is_err());
        assert!(seconds_or_zero(1e30).is_err());
    }

    #[test]
    fn rates_and_counts_name_their_range() {
        assert_eq!(rate(5.0, "users").unwrap(), 5.0);
        let e = rate(1e-30, "requests").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected requests per second from 0.000001 to 10000000, got 1e-30"
        );
        assert!(rate(f64::NAN, "users").is_err());
        assert_eq!(parse_count("12", 1, 100, "threads").unwrap(), 12);
        for bad in ["0", "101", "-1", "1.5", "nan", "1e300", ""] {
            let e = parse_count(bad, 1, 100, "threads").unwrap_err();
            assert!(e.expected.contains("from 1 to 100"), "{bad}: {e}");
        }
        assert!(count(MAX_LOOP + 1, 1, MAX_LOOP, "passes").is_err());
        assert_eq!(seconds(1e300).unwrap_err().got, "1e300 s");
    }

    #[test]
    fn the_largest_numbers_still_fit_the_engine_arithmetic() {
        // The engine adds durations to Instants and divides by rates: the ceilings must
        // leave that arithmetic far from overflow.
        let longest = seconds(MAX_SECONDS).unwrap();
        let slowest_gap = Duration::from_secs_f64(MAX_THREADS as f64 / MIN_RATE);
        let now = std::time::Instant::now();
        assert!(now.checked_add(longest * 100).is_some());
        assert!(now.checked_add(slowest_gap * 100).is_some());
        // An exponential draw is at most ~37 means (-ln of the smallest f64 above 0).
        assert!(now.checked_add(longest.mul_f64(40.0)).is_some());
    }
}
