//! Clock offsets between controller and agents, measured the way NTP does: the
//! controller sends its time t0, the agent answers with its own t1, the answer arrives
//! at t2; the agent's clock is ahead by `t1 - (t0 + t2) / 2`, give or take half the
//! round trip. Of several exchanges, the one with the shortest round trip is the most
//! precise.
//!
//! The clocks are monotonic (CLOCK_MONOTONIC): a wall clock can step (NTP, a human)
//! during a run; a monotonic one cannot. Each machine's monotonic clock counts from its
//! own boot, so the offset is only meaningful between these two processes, which is all
//! the start instant and the intervals' alignment need.

/// This machine's monotonic clock, ns.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we own; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// An agent's clock relative to the controller's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset {
    /// The agent's clock minus the controller's, ns.
    pub offset_ns: i64,
    /// Half the round trip of the best exchange: the offset is right to within this.
    pub uncertainty_ns: u64,
}

impl Offset {
    /// From exchanges `(t0, t1, t2)`: controller send, agent answer, controller receive.
    pub fn from_exchanges(exchanges: &[(u64, u64, u64)]) -> Option<Offset> {
        exchanges
            .iter()
            .filter(|(t0, _, t2)| t2 >= t0)
            .min_by_key(|(t0, _, t2)| t2 - t0)
            .map(|&(t0, t1, t2)| {
                let mid = t0 as i128 + (t2 - t0) as i128 / 2;
                Offset {
                    offset_ns: (t1 as i128 - mid) as i64,
                    uncertainty_ns: (t2 - t0) / 2,
                }
            })
    }

    /// A controller instant on the agent's clock.
    pub fn to_agent(self, controller_ns: u64) -> u64 {
        (controller_ns as i128 + self.offset_ns as i128).max(0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortest_round_trip_gives_the_offset() {
        // The agent is 1 000 000 ns ahead; the second exchange is the tightest.
        let ahead = 1_000_000;
        let exchanges = [
            (100, 150 + ahead, 400),
            (1000, 1010 + ahead, 1020),
            (2000, 2000 + ahead, 2600),
        ];
        let o = Offset::from_exchanges(&exchanges).unwrap();
        assert_eq!(o.offset_ns, ahead as i64);
        assert_eq!(o.uncertainty_ns, 10);
        assert_eq!(o.to_agent(5), 5 + ahead);
        assert!(Offset::from_exchanges(&[]).is_none());
    }

    #[test]
    fn the_clock_moves_forward() {
        let a = monotonic_ns();
        let b = monotonic_ns();
        assert!(b >= a && a > 0);
    }
}
