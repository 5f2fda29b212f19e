//! A one-shot timer with nanosecond resolution, for open-model send instants.
//!
//! tokio's timer wheel has a 1 ms tick and rounds every deadline up to it, so a request
//! planned at t went out at t + 0..2 ms; since open-model latency counts from the
//! planned instant, that lag was added to every sample (a 0.1 ms server measured ~1 ms).
//! A Linux timerfd, armed for the exact remaining time and awaited through tokio's
//! reactor, wakes within microseconds. Each open-model connection owns one, created
//! once; closed runs and sessions never use it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::time::Instant;

pub struct PreciseTimer {
    fd: AsyncFd<OwnedFd>,
}

impl PreciseTimer {
    /// Must be called inside the worker's runtime (the fd registers with its reactor).
    pub fn new() -> io::Result<PreciseTimer> {
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
    pub async fn sleep_until(&self, at: Instant) -> io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn wakes_on_time_not_on_the_next_millisecond() {
        let timer = PreciseTimer::new().unwrap();
        let mut worst = Duration::ZERO;
        for _ in 0..20 {
            let at = Instant::now() + Duration::from_micros(1500);
            timer.sleep_until(at).await.unwrap();
            let late = Instant::now() - at;
            worst = worst.max(late);
        }
        // tokio's own timer would be up to 1-2 ms late here; allow a loaded machine.
        assert!(
            worst < Duration::from_micros(900),
            "worst lateness {worst:?}"
        );
    }
}
