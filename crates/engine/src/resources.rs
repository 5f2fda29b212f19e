//! What the machine allows a run: open files and source ports. Both are checked once,
//! before the first connect, so a run that cannot hold its connections says why and
//! what to do instead of failing connection by connection.
//!
//! - **Open files.** Every connection is a file descriptor. The soft `RLIMIT_NOFILE`
//!   (often 1024) is raised to the hard one, which any process may do; a run whose
//!   connections plus [`fd_margin`] exceed the hard limit is refused
//!   ([`LimitError::OpenFiles`]): only root or the service manager can raise that.
//! - **Source ports.** A connection to one server takes a port of its source address,
//!   and an address has only the ports of `net.ipv4.ip_local_port_range` (28 232 by
//!   default), of which the first half opens fast (see `PORT_SHARE_DEN`). Loopback
//!   has 16 million addresses, so past what one address holds the connections are
//!   spread over 127.0.0.1, 127.0.0.2, ... ([`SourceAddrs`], planned once per run;
//!   connection `i` binds `addrs[i / per_address]`). ::1 is one address: there, more
//!   connections than ports is an error that says what to do.
//!
//! The plan is data handed to the workers, and `Connection::open` does the binding, so
//! a process that runs only a share of a larger load (an agent) plans its own share
//! the same way.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Where the kernel publishes the ephemeral port range (one per network namespace).
const PORT_RANGE_FILE: &str = "/proc/sys/net/ipv4/ip_local_port_range";

/// The share of an address's ports a run plans to use. Linux gives connect() the
/// even ports of the range first and scans all of them before it tries an odd one,
/// so past half the range every connect pays a scan of ~14 000 ports: 19 000
/// connections from one address took over 30 s to open (docs/benchmarks.md, "Many
/// connections"), where two addresses open them in about two. Of that half, 7/8 are
/// planned; the rest is left to the machine's other sockets towards the same server.
const PORT_SHARE_NUM: u64 = 7;
const PORT_SHARE_DEN: u64 = 16;

/// Source addresses a run may spread over: 127.0.0.1 to 127.0.0.254.
const MAX_SOURCE_ADDRS: u64 = 254;

/// Descriptors a run needs besides its connections: the standard streams, output
/// files, and per worker a tokio runtime (epoll, waker) and the open model's timerfd.
pub fn fd_margin(threads: usize) -> u64 {
    64 + 4 * threads as u64
}

/// Why a run cannot hold its connections on this machine. Each says how to get there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// More descriptors than the hard `RLIMIT_NOFILE`, which only root can raise.
    #[error(
        "{connections} connections need {needed} open files ({margin} more for the process itself), \
         over the hard limit of {hard} (ulimit -Hn): raise it (as root `ulimit -Hn {needed}`, \
         `LimitNOFILE={needed}` in a systemd unit, `nofile` in /etc/security/limits.conf) \
         or split the load over several wsgibench processes"
    )]
    OpenFiles {
        connections: u64,
        needed: u64,
        margin: u64,
        hard: u64,
    },
    /// More connections than source ports, to a target whose source cannot be spread.
    #[error(
        "{connections} connections to {target} need more source ports than one address has \
         ({ports}: ip_local_port_range {low}-{high}): use an IPv4 loopback target such as \
         127.0.0.1, where connections are spread over 127.0.0.x, widen the range \
         (`sysctl net.ipv4.ip_local_port_range=\"1024 65535\"`) or split the load over \
         several wsgibench processes"
    )]
    Ports {
        connections: u64,
        target: IpAddr,
        ports: u64,
        low: u16,
        high: u16,
    },
    /// So many connections that even 254 loopback source addresses do not hold them.
    #[error(
        "{connections} connections need more than {MAX_SOURCE_ADDRS} source addresses of \
         {per_address} ports each: split the load over several wsgibench processes"
    )]
    SourceAddrs { connections: u64, per_address: u64 },
}

/// The process's open-file limits after [`raise_open_files`]; `u64::MAX` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFiles {
    pub soft: u64,
    pub hard: u64,
}

impl OpenFiles {
    /// Refuses `connections` (with `threads` workers) when they cannot fit under the
    /// hard limit.
    pub fn check(&self, connections: u64, threads: usize) -> Result<(), LimitError> {
        let margin = fd_margin(threads);
        let needed = connections.saturating_add(margin);
        if needed > self.hard {
            return Err(LimitError::OpenFiles {
                connections,
                needed,
                margin,
                hard: self.hard,
            });
        }
        Ok(())
    }
}

// rlim_t is 32 bits wide on some targets.
#[allow(clippy::unnecessary_cast)]
fn as_limit(v: libc::rlim_t) -> u64 {
    if v == libc::RLIM_INFINITY {
        u64::MAX
    } else {
        v as u64
    }
}

/// Raises the soft open-files limit to the hard one (bounded by the kernel's
/// `fs.nr_open` when the hard limit is unlimited) and returns the limits in force.
pub fn raise_open_files() -> io::Result<OpenFiles> {
    // SAFETY: getrlimit and setrlimit only read and write the struct we own.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut target = lim.rlim_max;
    if target == libc::RLIM_INFINITY {
        // An unlimited soft limit is refused for open files; nr_open is the real ceiling.
        target = std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1 << 20);
    }
    if lim.rlim_cur != libc::RLIM_INFINITY && lim.rlim_cur < target {
        let raised = libc::rlimit {
            rlim_cur: target,
            rlim_max: lim.rlim_max,
        };
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim.rlim_cur = target;
        }
    }
    Ok(OpenFiles {
        soft: as_limit(lim.rlim_cur),
        hard: as_limit(lim.rlim_max),
    })
}

/// The ephemeral port range connections take their source ports from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub low: u16,
    pub high: u16,
}

impl PortRange {
    /// This network namespace's range, or `None` where /proc does not say.
    pub fn read() -> Option<PortRange> {
        PortRange::parse(&std::fs::read_to_string(PORT_RANGE_FILE).ok()?)
    }

    /// Parses the file's `LOW<tab>HIGH`.
    pub fn parse(text: &str) -> Option<PortRange> {
        let mut it = text.split_whitespace().map(|w| w.parse::<u16>().ok());
        let (low, high) = (it.next()??, it.next()??);
        (low <= high).then_some(PortRange { low, high })
    }

    /// How many ports the range holds.
    pub fn ports(&self) -> u64 {
        u64::from(self.high - self.low) + 1
    }
}

/// The source addresses of a run's connections: empty (the kernel picks, as for any
/// client) unless the connections exceed what one address's ports hold. Planned once
/// per run from the connection count; connection `i` binds
/// `addrs[(i / per_address) % addrs.len()]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceAddrs {
    addrs: Vec<Ipv4Addr>,
    per_address: u64,
}

impl SourceAddrs {
    /// Plans the source addresses of `connections` connections to `targets`, with
    /// `range` the ephemeral ports (`None`: unknown, no plan). Spreads over
    /// 127.0.0.1.. when the target has an IPv4 loopback address; refuses a count that
    /// cannot fit otherwise.
    pub fn plan(
        targets: &[SocketAddr],
        connections: u64,
        range: Option<PortRange>,
    ) -> Result<SourceAddrs, LimitError> {
        let Some(range) = range else {
            return Ok(SourceAddrs::default());
        };
        let ports = range.ports();
        let per_address = (ports * PORT_SHARE_NUM / PORT_SHARE_DEN).max(1);
        if connections <= per_address {
            return Ok(SourceAddrs::default());
        }
        let spreadable = targets
            .iter()
            .any(|t| matches!(t.ip(), IpAddr::V4(v4) if v4.is_loopback()));
        if !spreadable {
            if connections > ports {
                return Err(LimitError::Ports {
                    connections,
                    target: targets
                        .first()
                        .map_or(IpAddr::from([0, 0, 0, 0]), |t| t.ip()),
                    ports,
                    low: range.low,
                    high: range.high,
                });
            }
            return Ok(SourceAddrs::default());
        }
        let count = connections.div_ceil(per_address);
        if count > MAX_SOURCE_ADDRS {
            return Err(LimitError::SourceAddrs {
                connections,
                per_address,
            });
        }
        Ok(SourceAddrs {
            addrs: (1..=count as u8)
                .map(|k| Ipv4Addr::new(127, 0, 0, k))
                .collect(),
            per_address,
        })
    }

    /// The source address connection `i` binds, or `None` to let the kernel choose.
    pub fn for_connection(&self, i: u64) -> Option<IpAddr> {
        if self.addrs.is_empty() {
            return None;
        }
        let k = (i / self.per_address) % self.addrs.len() as u64;
        Some(IpAddr::V4(self.addrs[k as usize]))
    }

    /// The planned addresses; empty when the kernel chooses.
    pub fn addrs(&self) -> &[Ipv4Addr] {
        &self.addrs
    }

    /// Connections planned per source address (0 without a plan).
    pub fn per_address(&self) -> u64 {
        self.per_address
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn v6(port: u16) -> SocketAddr {
        SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port))
    }

    const DEFAULT: PortRange = PortRange {
        low: 32768,
        high: 60999,
    };

    #[test]
    fn the_port_range_file_parses_as_the_kernel_writes_it() {
        assert_eq!(PortRange::parse("32768\t60999\n"), Some(DEFAULT));
        assert_eq!(DEFAULT.ports(), 28_232);
        assert_eq!(PortRange::parse("40000 40049").unwrap().ports(), 50);
        assert_eq!(PortRange::parse("5 4"), None);
        assert_eq!(PortRange::parse("x"), None);
        assert_eq!(PortRange::parse(""), None);
    }

    #[test]
    fn connections_that_fit_one_address_bind_nothing() {
        let plan = SourceAddrs::plan(&[v4(80)], 12_000, Some(DEFAULT)).unwrap();
        assert_eq!(plan, SourceAddrs::default());
        assert_eq!(plan.for_connection(11_999), None);
        assert_eq!(
            SourceAddrs::plan(&[v4(80)], 1_000_000, None).unwrap(),
            SourceAddrs::default()
        );
    }

    #[test]
    fn more_connections_spread_over_loopback_addresses_in_blocks() {
        let range = PortRange::parse("40000 40049");
        let plan = SourceAddrs::plan(&[v4(80)], 120, range).unwrap();
        // 7/16 of 50 ports: 21 per address, so 120 connections take 6 addresses.
        assert_eq!(plan.per_address(), 21);
        let expected: Vec<Ipv4Addr> = (1..=6).map(|k| Ipv4Addr::new(127, 0, 0, k)).collect();
        assert_eq!(plan.addrs(), expected);
        let at = |i| plan.for_connection(i).unwrap().to_string();
        assert_eq!(at(0), "127.0.0.1");
        assert_eq!(at(20), "127.0.0.1");
        assert_eq!(at(21), "127.0.0.2");
        assert_eq!(at(119), "127.0.0.6");
        // Past the plan (sessions number users without end) the blocks wrap around.
        assert_eq!(at(126), "127.0.0.1");
        // The default range plans 12 351 per address: 19 000 connections take two.
        let big = SourceAddrs::plan(&[v4(80), v6(80)], 19_000, Some(DEFAULT)).unwrap();
        assert_eq!((big.per_address(), big.addrs().len()), (12_351, 2));
        assert_eq!(
            SourceAddrs::plan(&[v4(80)], 12_351, Some(DEFAULT)).unwrap(),
            SourceAddrs::default()
        );
    }

    #[test]
    fn v6_loopback_cannot_spread_and_says_what_to_do() {
        let range = PortRange::parse("40000 40049");
        assert_eq!(
            SourceAddrs::plan(&[v6(80)], 48, range).unwrap(),
            SourceAddrs::default()
        );
        let e = SourceAddrs::plan(&[v6(80)], 51, range).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("51 connections to ::1"), "{text}");
        assert!(text.contains("40000-40049"), "{text}");
        assert!(text.contains("127.0.0.1"), "{text}");
        let e = SourceAddrs::plan(&[v4(80)], 50 * 254, range).unwrap_err();
        assert!(matches!(e, LimitError::SourceAddrs { .. }), "{e}");
    }

    #[test]
    fn open_files_beyond_the_hard_limit_are_refused_with_the_way_out() {
        let limits = OpenFiles {
            soft: 1024,
            hard: 20_000,
        };
        assert!(limits.check(19_000, 2).is_ok());
        let e = limits.check(19_990, 2).unwrap_err();
        let text = e.to_string();
        for part in [
            "19990 connections",
            "20062 open files",
            "20000",
            "ulimit -Hn",
            "LimitNOFILE=",
        ] {
            assert!(text.contains(part), "{part:?} missing from {text}");
        }
        let unlimited = OpenFiles {
            soft: u64::MAX,
            hard: u64::MAX,
        };
        assert!(unlimited.check(u64::MAX, 1).is_ok());
    }

    #[test]
    fn raising_the_soft_limit_reaches_the_hard_one() {
        let limits = raise_open_files().unwrap();
        assert!(limits.soft <= limits.hard);
        let again = raise_open_files().unwrap();
        assert_eq!(again, limits);
        if limits.hard != u64::MAX {
            assert_eq!(limits.soft, limits.hard);
        }
    }
}
