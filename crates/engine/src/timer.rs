//! A one-shot timer with nanosecond resolution, for open-model send instants.
//!
//! tokio's timer wheel has a 1 ms tick and rounds every deadline up to it, so a request
//! planned at t went out at t + 0..2 ms; since open-model latency counts from the
//! planned instant, that lag was added to every sample (a 0.1 ms server measured ~1 ms).
//! A Linux timerfd, armed for the exact remaining time and awaited through tokio's
//! reactor, wakes within microseconds.
//!
//! A timerfd is a file descriptor, and 10 000 connections with one each would need
//! twice the descriptors (a test hit the 20 000 limit). So each open-model worker owns
//! one [`PreciseClock`]: waiters first sleep on tokio's wheel (free for any number of
//! them) until a few milliseconds before their instant, then take turns on the
//! worker's one timerfd for the rest. The schedule hands instants out in order, so the
//! turns come in the order of the instants. Closed runs and sessions never use it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::time::Instant;

/// How long before its instant a waiter leaves tokio's wheel for the timerfd: more
/// than the wheel's worst lateness (1 ms tick, rounded up, plus the park timeout).
const COARSE_MARGIN: Duration = Duration::from_millis(3);

/// A waiter this close to its instant returns at once, a little early, instead of
/// arming the timerfd (two syscalls and a reactor wake) or spinning: at high rates the
/// next instant is always this close, and spinning took a whole core at 50 000 req/s.
/// The caller measures latency from the send when it is early (see `exchange`), so
/// sending early shifts the load by at most this much and no latency is shortened.
const SEND_EARLY_WITHIN: Duration = Duration::from_micros(50);

/// One worker's precise clock; see the module docs.
pub struct PreciseClock {
    timer: PreciseTimer,
    turn: tokio::sync::Mutex<()>,
}

impl PreciseClock {
    /// Must be called inside the worker's runtime.
    pub fn new() -> io::Result<PreciseClock> {
        Ok(PreciseClock {
            timer: PreciseTimer::new()?,
            turn: tokio::sync::Mutex::new(()),
        })
    }

    /// Returns at `at`, to within the scheduler's wake-up, or up to
    /// [`SEND_EARLY_WITHIN`] before it; falls back to tokio's timer if the timerfd fails.
    pub async fn sleep_until(&self, at: Instant) {
        if let Some(early) = at.checked_sub(COARSE_MARGIN) {
            if early > Instant::now() {
                tokio::time::sleep_until(early).await;
            }
        }
        let _turn = self.turn.lock().await;
        if at.saturating_duration_since(Instant::now()) >= SEND_EARLY_WITHIN
            && self.timer.sleep_until(at).await.is_err()
        {
            tokio::time::sleep_until(at).await;
        }
    }
}

struct PreciseTimer {
    fd: AsyncFd<OwnedFd>,
}

impl PreciseTimer {
    /// Must be called inside the worker's runtime (the fd registers with its reactor).
    fn new() -> io::Result<PreciseTimer> {
        // SAFETY: timerfd_create has no memory arguments; the fd is owned right away.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a new descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: the OwnedFd is moved into the AsyncFd, which keeps it open (and the same
        // descriptor) until it is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE)? };
        Ok(PreciseTimer { fd })
    }

    /// Returns at `at` (or at once if it has passed), to within the scheduler's wake-up.
    async fn sleep_until(&self, at: Instant) -> io::Result<()> {
        let now = Instant::now();
        if at <= now {
            return Ok(());
        }
        let left = at - now;
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: left.as_secs() as libc::time_t,
                tv_nsec: left.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: `spec` outlives the call; the old value is not asked for.
        if unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) }
            != 0
        {
            return Err(io::Error::last_os_error());
        }
        loop {
            let mut ready = self.fd.readable().await?;
            let mut expirations = [0u8; 8];
            // SAFETY: reads at most 8 bytes into a buffer of 8.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), expirations.as_mut_ptr().cast(), 8) };
            if n == 8 {
                // The read drained the timer; forgetting the readiness now saves the
                // next wait a read that would only say EAGAIN.
                ready.clear_ready();
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::WouldBlock {
                return Err(e);
            }
            ready.clear_ready();
        }
    }
}

/// Lateness of `PreciseTimer` and of tokio's own sleep over the same waits, for the
/// precision benchmark (`cargo run --release -p wsgibench-engine --example timer_precision`).
/// Unit tests assert only what holds on a loaded machine; figures belong in benchmarks.
#[doc(hidden)]
pub async fn lateness_sample(
    waits: usize,
    ahead: Duration,
) -> io::Result<(Vec<Duration>, Vec<Duration>)> {
    let timer = PreciseTimer::new()?;
    let mut precise = Vec::with_capacity(waits);
    let mut coarse = Vec::with_capacity(waits);
    for _ in 0..waits {
        let at = Instant::now() + ahead;
        timer.sleep_until(at).await?;
        precise.push(Instant::now() - at);
        let at = Instant::now() + ahead;
        tokio::time::sleep_until(at).await;
        coarse.push(Instant::now() - at);
    }
    Ok((precise, coarse))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the timer promises whatever the load: it never wakes before its instant, and it
    /// does wake. How *precisely* it wakes is a figure of the machine's load, measured by
    /// the `timer_precision` example, not asserted here (a 0.9 ms bound failed on a busy CI).
    #[tokio::test]
    async fn wakes_at_its_instant_never_before() {
        let timer = PreciseTimer::new().unwrap();
        for _ in 0..20 {
            let at = Instant::now() + Duration::from_micros(1500);
            tokio::time::timeout(Duration::from_secs(10), timer.sleep_until(at))
                .await
                .expect("the timerfd never fired")
                .unwrap();
            assert!(Instant::now() >= at, "woke before its instant");
        }
    }

    #[tokio::test]
    async fn an_instant_already_past_returns_at_once() {
        let timer = PreciseTimer::new().unwrap();
        let past = Instant::now() - Duration::from_millis(5);
        tokio::time::timeout(Duration::from_secs(10), timer.sleep_until(past))
            .await
            .expect("a past instant must not wait")
            .unwrap();
    }

    /// Waiters take turns on the one timerfd: every one returns, none earlier than its
    /// instant minus the send-early window.
    #[tokio::test]
    async fn a_clock_serves_many_waiters_none_early() {
        let clock = std::rc::Rc::new(PreciseClock::new().unwrap());
        let start = Instant::now() + Duration::from_millis(5);
        let returned = std::rc::Rc::new(std::cell::Cell::new(0));
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let waiters: Vec<_> = (0..50u64)
                    .map(|i| {
                        let clock = clock.clone();
                        let returned = returned.clone();
                        let at = start + Duration::from_micros(200 * i);
                        tokio::task::spawn_local(async move {
                            clock.sleep_until(at).await;
                            assert!(
                                Instant::now() + SEND_EARLY_WITHIN >= at,
                                "waiter {i} returned more than the early window before its instant"
                            );
                            returned.set(returned.get() + 1);
                        })
                    })
                    .collect();
                for w in waiters {
                    tokio::time::timeout(Duration::from_secs(30), w)
                        .await
                        .expect("a waiter never returned")
                        .unwrap();
                }
            })
            .await;
        assert_eq!(returned.get(), 50);
    }
}
