//! The hot path allocates nothing per request, on either I/O path: a run of 20 000
//! requests allocates no more than a run of 1 000 (within a small margin for interval snapshots, which happen
//! once per interval, not per request). Its own binary, because it installs a counting
//! global allocator.

#[allow(dead_code)]
mod util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use util::server::{Behaviour, TestServer};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made while running `n` requests over 4 keep-alive connections. The test
/// server runs in this process too, but allocates nothing per request either (one
/// buffer per connection).
fn allocations_for(server: &TestServer, n: u64, io: engine::IoChoice) -> u64 {
    let scenario = util::closed(server.port, 4, Some(n), Some(Duration::from_secs(60)));
    let options = engine::RunOptions {
        threads: 1,
        interval: Duration::from_secs(60),
        io,
        ..Default::default()
    };
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let summary = engine::run(&scenario, &options, &mut []).unwrap();
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(summary.digest.requests, n);
    let path = match io {
        engine::IoChoice::Uring => engine::IoPath::IoUring,
        _ => engine::IoPath::Epoll,
    };
    assert_eq!(summary.io, path);
    after - before
}

#[test]
fn requests_do_not_allocate() {
    let server = TestServer::start(Behaviour::Pong {
        delay: Duration::ZERO,
    });
    for io in [engine::IoChoice::Epoll, engine::IoChoice::Uring] {
        // Warm up: the first run pays for lazily initialised statics.
        allocations_for(&server, 100, io);
        let small = allocations_for(&server, 1_000, io);
        let large = allocations_for(&server, 20_000, io);
        assert!(
            large <= small + 50,
            "{io:?}: 1 000 requests: {small} allocations; 20 000 requests: {large} allocations"
        );
    }
}
