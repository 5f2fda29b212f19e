//! The engine against real sockets on 127.0.0.1. Every run is bounded by a request
//! count or a duration of a few seconds.
//!
//! - load models: exact counts (closed), planned rate and honest latency (open),
//!   sessions (users × loops)
//! - misbehaving servers: each lands in its own error kind and the run finishes
//! - segments: a run split into parts (as over several machines) adds up to the plan
//! - tls: https with certificates made by the test, each refusal counted by kind
//!
//! The first three run on both I/O paths, epoll and io_uring (`epoll::`, `uring::`);
//! https connections take epoll on both.
//!
//! The engine against real Python servers is tested in crates/suite/tests/servers.rs,
//! which provisions them.

mod util;

/// The same tests on one I/O path: `util`'s runs there, and each summary says so.
macro_rules! on_io_path {
    ($name:ident, $choice:expr, $path:expr) => {
        mod $name {
            mod util {
                pub use crate::util::*;

                pub fn options(threads: usize) -> engine::RunOptions {
                    engine::RunOptions {
                        io: $choice,
                        ..crate::util::options(threads)
                    }
                }

                pub fn run(scenario: &scenario::Scenario, threads: usize) -> engine::Summary {
                    let summary =
                        engine::run(scenario, &options(threads), &mut []).expect("run starts");
                    assert_eq!(summary.io, $path, "the run took the path asked for");
                    summary
                }
            }

            mod load_models {
                include!("load_models.rs");
            }
            mod misbehaviour {
                include!("misbehaviour.rs");
            }
            mod tls {
                include!("tls.rs");
            }
        }
    };
}

on_io_path!(epoll, engine::IoChoice::Epoll, engine::IoPath::Epoll);
on_io_path!(uring, engine::IoChoice::Uring, engine::IoPath::IoUring);

mod segments;
