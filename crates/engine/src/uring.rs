//! The io_uring I/O path: a worker's connections send and receive through one ring.
//!
//! Tokio stays the worker's executor and timer; only the socket I/O of plain HTTP
//! connections moves. A request is two linked entries: a `send` that must write every
//! byte (`MSG_WAITALL`) and posts nothing when it succeeds (`CQE_SKIP_SUCCESS`), then a
//! `recv` that arms poll at once (`RECVSEND_POLL_FIRST`: the answer cannot be there
//! yet) and picks a buffer from the worker's provided-buffer ring when the answer comes.
//! So a request costs no syscall of its own:
//!
//! - entries are queued by the connections as they run, and submitted together by one
//!   `io_uring_enter` just before the worker's runtime parks ([`submit_pending`], the
//!   runtime's `on_thread_park` hook);
//! - the ring's descriptor sits in the runtime's epoll like a socket, and one task (the
//!   reaper, [`Ring::reap_forever`]) takes every completion in the queue each time it
//!   is readable, and wakes the connections they belong to.
//!
//! A loop turn therefore costs `io_uring_enter` plus `epoll_wait`, whatever the number
//! of requests it carries, where the epoll path pays `sendto` and `recvfrom` for each.
//!
//! Buffers: answers are read into buffers the worker owns and the kernel picks
//! ([`ProvidedBuffers`]); a connection copies out only an unparsed tail
//! ([`crate::inbox`]) and gives its buffer back at once. When all are taken the `recv`
//! fails with `ENOBUFS` and is asked again, after the connections holding them have run.
//!
//! Connecting, TLS and closing stay on tokio's epoll: they are not per request. A new
//! plain connection is connected there, then handed to the ring ([`UringConnection`]).
//!
//! Safety: the kernel writes only into the provided buffers, which live as long as the
//! ring and are unregistered before it closes. A `send` reads the request bytes the
//! connection lent it; a connection dropped while one is in flight shuts its socket
//! down first, so the kernel's retry of that send fails instead of reading on.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use io_uring::types::{BufRingEntry, Fd};
use io_uring::{cqueue, opcode, squeue, IoUring};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::time::{Instant, Sleep};

use crate::connection::{classify_errno, Connection};
use crate::dynamic::Capture;
use crate::inbox::{Inbox, Traffic};
use crate::recorder::ErrorKind;
use crate::response::Complete;

/// Submission queue entries; the completion queue is twice this. A connection has at
/// most two entries queued and one completion pending, and the kernel keeps
/// completions past a full queue (`IORING_FEAT_NODROP`), so this bounds nothing.
const ENTRIES: u32 = 1024;

/// Provided buffers per worker, and their size: 128 × 32 KiB = 4 MiB per worker,
/// whatever its connections. A 64 KiB body takes two reads.
const BUFFERS: u16 = 128;
const BUFFER_SIZE: usize = 32 * 1024;
const BUFFER_GROUP: u16 = 0;

/// `IORING_RECVSEND_POLL_FIRST` (linux/io_uring.h), which the crate does not re-export.
const RECVSEND_POLL_FIRST: u16 = 1;

/// Marks a `send`'s user data; a `recv`'s is the operation's index alone.
const SEND: u64 = 1 << 32;

/// The I/O path a run's workers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IoPath {
    #[default]
    Epoll,
    IoUring,
}

impl IoPath {
    pub fn is_epoll(&self) -> bool {
        *self == IoPath::Epoll
    }

    pub fn name(self) -> &'static str {
        match self {
            IoPath::Epoll => "epoll",
            IoPath::IoUring => "io_uring",
        }
    }
}

/// Whether a ring like the workers' can be made here: io_uring enabled, not blocked by
/// seccomp, and a kernel with provided-buffer rings (5.19). The error says why not.
pub fn probe() -> io::Result<()> {
    Ring::new().map(drop)
}

/// What a completed operation reported.
#[derive(Debug, Clone, Copy)]
struct Completion {
    result: i32,
    flags: u32,
    /// The linked send's error (negative errno), when it failed.
    send_error: i32,
}

#[derive(Default)]
struct Op {
    waker: Option<Waker>,
    done: Option<(i32, u32)>,
    send_error: i32,
    /// Its connection is gone: the completion only frees the slot and the buffer.
    orphan: bool,
}

/// One worker's ring, its operations and its buffers. Used by one thread only.
pub struct Ring {
    state: RefCell<State>,
    fd: RawFd,
}

struct State {
    // Dropped in this order, after `Drop for Ring` has unregistered the buffers: the
    // ring closes before the memory it read from is freed.
    ring: IoUring,
    buffers: ProvidedBuffers,
    ops: Vec<Op>,
    free: Vec<u32>,
}

thread_local! {
    /// The ring of the worker running on this thread, for the runtime's park hook.
    static CURRENT: RefCell<Option<Rc<Ring>>> = const { RefCell::new(None) };
}

/// Submits what this thread's ring has queued: the runtime's `on_thread_park` hook, so
/// every entry queued during a loop turn goes in one `io_uring_enter`.
pub fn submit_pending() {
    CURRENT.with(|current| {
        if let Some(ring) = current.borrow().as_ref() {
            ring.submit();
        }
    });
}

impl Ring {
    pub fn new() -> io::Result<Ring> {
        // COOP_TASKRUN: a completion's work waits for the worker's next syscall (or
        // wakes it from epoll_wait) instead of interrupting it with an IPI; 1.5× the
        // requests per CPU-second of the default at 50 connections (docs/engine.md).
        // DEFER_TASKRUN would run it only inside io_uring_enter, which this worker
        // does not wait in: it waits in tokio's epoll_wait, and there the ring never
        // became readable (no request completed).
        let ring = IoUring::builder()
            .setup_single_issuer()
            .setup_coop_taskrun()
            .setup_taskrun_flag()
            .setup_cqsize(ENTRIES * 2)
            .build(ENTRIES)?;
        let buffers = ProvidedBuffers::new(BUFFERS, BUFFER_SIZE)?;
        // SAFETY: the entries and the buffers they point to live in `buffers`, which
        // is unregistered (by dropping the ring, after it) before being freed.
        unsafe {
            ring.submitter().register_buf_ring_with_flags(
                buffers.ring_addr(),
                BUFFERS,
                BUFFER_GROUP,
                0,
            )?;
        }
        let fd = ring.as_raw_fd();
        Ok(Ring {
            state: RefCell::new(State {
                ring,
                buffers,
                ops: Vec::new(),
                free: Vec::new(),
            }),
            fd,
        })
    }

    /// Makes this ring the thread's own, for [`submit_pending`].
    pub fn install(self: &Rc<Ring>) {
        CURRENT.with(|current| *current.borrow_mut() = Some(self.clone()));
    }

    /// Undoes [`Ring::install`], at the worker's end.
    pub fn uninstall() {
        CURRENT.with(|current| current.borrow_mut().take());
    }

    fn submit(&self) {
        let mut state = self.state.borrow_mut();
        let waiting = {
            let sq = state.ring.submission();
            !sq.is_empty() || sq.cq_overflow() || sq.taskrun()
        };
        if waiting {
            // An error here (EINTR, EBUSY while completions overflow) leaves the entries
            // queued: the next park submits them.
            let _ = state.ring.submit();
        }
    }

    /// Takes every completion each time the ring is readable and wakes its connection.
    /// Runs as a task for the worker's life.
    pub async fn reap_forever(self: Rc<Ring>) {
        // SAFETY: the descriptor is the ring's, which this task keeps open (it holds
        // the ring) for as long as the AsyncFd lives.
        let registered =
            unsafe { AsyncFd::register_with_interest(RingFd(self.fd), Interest::READABLE) };
        let Ok(fd) = registered else {
            return;
        };
        loop {
            let Ok(mut ready) = fd.readable().await else {
                return;
            };
            self.reap();
            ready.clear_ready();
        }
    }

    fn reap(&self) {
        let mut state = self.state.borrow_mut();
        let State {
            ring,
            ops,
            free,
            buffers,
        } = &mut *state;
        for cqe in ring.completion() {
            let data = cqe.user_data();
            let index = (data & 0xffff_ffff) as usize;
            let Some(op) = ops.get_mut(index) else {
                continue;
            };
            if data & SEND != 0 {
                op.send_error = cqe.result();
                continue;
            }
            if op.orphan {
                if let Some(id) = cqueue::buffer_select(cqe.flags()) {
                    buffers.give_back(id);
                }
                *op = Op::default();
                free.push(index as u32);
                continue;
            }
            op.done = Some((cqe.result(), cqe.flags()));
            if let Some(waker) = op.waker.take() {
                waker.wake();
            }
        }
    }

    fn new_op(state: &mut State) -> u32 {
        match state.free.pop() {
            Some(index) => index,
            None => {
                state.ops.push(Op::default());
                (state.ops.len() - 1) as u32
            }
        }
    }

    /// Queues `entries` for operation `index`; if the queue stays full even after a
    /// submit, the operation fails at once (`EBUSY`) instead of waiting forever.
    fn push(state: &mut State, index: u32, entries: &[squeue::Entry]) {
        for _ in 0..3 {
            // SAFETY: the entries point to memory that outlives them: the request bytes
            // (see the module's safety note) and nothing else; receives use the
            // provided buffers.
            if unsafe { state.ring.submission().push_multiple(entries) }.is_ok() {
                return;
            }
            // The queue is full: submit what it holds now. An error (EBUSY while
            // completions overflow, EINTR) leaves it full: tried again.
            let _ = state.ring.submit();
        }
        state.ops[index as usize].done = Some((-libc::EBUSY, 0));
    }

    /// Queues a request's send and the receive of its answer, linked.
    fn send_then_recv(&self, fd: RawFd, bytes: &[u8]) -> u32 {
        let mut state = self.state.borrow_mut();
        let index = Self::new_op(&mut state);
        let send = opcode::Send::new(Fd(fd), bytes.as_ptr(), bytes.len() as u32)
            .flags(libc::MSG_WAITALL | libc::MSG_NOSIGNAL)
            .build()
            .flags(squeue::Flags::IO_LINK | squeue::Flags::SKIP_SUCCESS)
            .user_data(SEND | u64::from(index));
        let recv = Self::recv_entry(fd, index, true);
        Self::push(&mut state, index, &[send, recv]);
        index
    }

    /// Queues one more receive: for the rest of an answer.
    fn recv(&self, fd: RawFd) -> u32 {
        let mut state = self.state.borrow_mut();
        let index = Self::new_op(&mut state);
        let recv = Self::recv_entry(fd, index, false);
        Self::push(&mut state, index, &[recv]);
        index
    }

    fn recv_entry(fd: RawFd, index: u32, poll_first: bool) -> squeue::Entry {
        let ioprio = if poll_first { RECVSEND_POLL_FIRST } else { 0 };
        opcode::Recv::new(Fd(fd), std::ptr::null_mut(), BUFFER_SIZE as u32)
            .buf_group(BUFFER_GROUP)
            .ioprio(ioprio)
            .build()
            .flags(squeue::Flags::BUFFER_SELECT)
            .user_data(u64::from(index))
    }

    /// The operation's completion, once the reaper has it; frees its slot.
    fn poll_op(&self, index: u32, waker: &Waker) -> Poll<Completion> {
        let mut state = self.state.borrow_mut();
        let State { ops, free, .. } = &mut *state;
        let op = &mut ops[index as usize];
        match op.done.take() {
            Some((result, flags)) => {
                let send_error = op.send_error;
                *op = Op::default();
                free.push(index);
                Poll::Ready(Completion {
                    result,
                    flags,
                    send_error,
                })
            }
            None => {
                if !op.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    op.waker = Some(waker.clone());
                }
                Poll::Pending
            }
        }
    }

    /// The connection of an operation still in flight is gone.
    fn orphan(&self, index: u32) {
        let mut state = self.state.borrow_mut();
        let State {
            ops, free, buffers, ..
        } = &mut *state;
        let op = &mut ops[index as usize];
        match op.done.take() {
            Some((_, flags)) => {
                if let Some(id) = cqueue::buffer_select(flags) {
                    buffers.give_back(id);
                }
                *op = Op::default();
                free.push(index);
            }
            None => {
                op.waker = None;
                op.orphan = true;
            }
        }
    }

    /// Runs `read` over the first `len` bytes of provided buffer `id`, then gives it back.
    fn with_buffer<R>(&self, id: u16, len: usize, read: impl FnOnce(&[u8]) -> R) -> R {
        let mut state = self.state.borrow_mut();
        let out = read(&state.buffers.get(id)[..len]);
        state.buffers.give_back(id);
        out
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // Unregistered before the memory goes: no receive can pick a buffer after this.
        let state = self.state.get_mut();
        let _ = state.ring.submitter().unregister_buf_ring(BUFFER_GROUP);
    }
}

struct RingFd(RawFd);

impl AsRawFd for RingFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// A provided-buffer ring: `count` buffers of `size` bytes the kernel picks from, and
/// the page-aligned ring of entries that offers them.
struct ProvidedBuffers {
    entries: *mut BufRingEntry,
    entries_layout: std::alloc::Layout,
    memory: Box<[u8]>,
    size: usize,
    mask: u16,
    tail: u16,
}

impl ProvidedBuffers {
    fn new(count: u16, size: usize) -> io::Result<ProvidedBuffers> {
        assert!(count.is_power_of_two());
        let entries_layout = std::alloc::Layout::from_size_align(
            usize::from(count) * std::mem::size_of::<BufRingEntry>(),
            4096,
        )
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: the layout is not zero-sized; zeroed, so the shared tail starts at 0.
        let entries = unsafe { std::alloc::alloc_zeroed(entries_layout) }.cast::<BufRingEntry>();
        if entries.is_null() {
            return Err(io::Error::from(io::ErrorKind::OutOfMemory));
        }
        let mut buffers = ProvidedBuffers {
            entries,
            entries_layout,
            memory: vec![0u8; usize::from(count) * size].into_boxed_slice(),
            size,
            mask: count - 1,
            tail: 0,
        };
        for id in 0..count {
            buffers.give_back(id);
        }
        Ok(buffers)
    }

    fn ring_addr(&self) -> u64 {
        self.entries as u64
    }

    fn get(&self, id: u16) -> &[u8] {
        let at = usize::from(id) * self.size;
        &self.memory[at..at + self.size]
    }

    /// Offers buffer `id` to the kernel again.
    fn give_back(&mut self, id: u16) {
        let at = usize::from(id) * self.size;
        // SAFETY: `tail & mask` indexes the entries allocated in `new`; the entry at the
        // tail is not the kernel's until the tail moves past it, below.
        unsafe {
            let entry = &mut *self.entries.add(usize::from(self.tail & self.mask));
            entry.set_addr(self.memory.as_ptr().add(at) as u64);
            entry.set_len(self.size as u32);
            entry.set_bid(id);
        }
        self.tail = self.tail.wrapping_add(1);
        // SAFETY: the tail shares the first entry's reserved field; the kernel reads it
        // with acquire ordering, so the entry written above is seen whole.
        unsafe {
            let tail = BufRingEntry::tail(self.entries).cast_mut();
            (*tail.cast::<std::sync::atomic::AtomicU16>())
                .store(self.tail, std::sync::atomic::Ordering::Release);
        }
    }
}

impl Drop for ProvidedBuffers {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; the kernel no longer reads it
        // (the ring unregistered it, or is closed).
        unsafe { std::alloc::dealloc(self.entries.cast(), self.entries_layout) }
    }
}

/// A plain HTTP connection whose requests go through the worker's ring.
pub struct UringConnection {
    socket: TcpStream,
    ring: Rc<Ring>,
    pub inbox: Inbox,
    /// The operation in flight, if any: orphaned when the connection drops.
    in_flight: Option<u32>,
    pub traffic: Traffic,
    pub answered: u64,
    watchdog: Pin<Box<Sleep>>,
}

impl UringConnection {
    /// Moves a freshly opened plain connection from epoll to `ring`.
    pub fn adopt(connection: Connection, ring: Rc<Ring>) -> io::Result<UringConnection> {
        let (stream, inbox, watchdog, traffic) = connection.into_parts();
        // Leaves tokio's epoll: its readiness would only wake the worker for nothing.
        let socket = stream.into_std()?;
        Ok(UringConnection {
            socket,
            ring,
            inbox,
            in_flight: None,
            traffic,
            answered: 0,
            watchdog,
        })
    }

    /// [`Connection::exchange`] through the ring.
    pub async fn exchange(
        &mut self,
        request: &[u8],
        expects_no_body: bool,
        deadline: Instant,
        mut capture: Option<&mut Capture>,
    ) -> Result<Complete, ErrorKind> {
        self.inbox.parser.start(expects_no_body);
        let fd = self.socket.as_raw_fd();
        let mut op = self.ring.send_then_recv(fd, request);
        self.in_flight = Some(op);
        let mut sent = false;
        loop {
            let done = self.completion(op, deadline).await?;
            self.in_flight = None;
            if done.send_error < 0 {
                return Err(classify_errno(-done.send_error));
            }
            if !sent {
                sent = true;
                self.traffic.sent += request.len();
            }
            match done.result {
                n if n > 0 => {
                    let Some(id) = cqueue::buffer_select(done.flags) else {
                        return Err(ErrorKind::Io);
                    };
                    let inbox = &mut self.inbox;
                    let step = self
                        .ring
                        .with_buffer(id, n as usize, |bytes| inbox.absorb(bytes, &mut capture));
                    self.traffic.received += n as usize;
                    if let Some(done) = step? {
                        self.answered += 1;
                        return Ok(done);
                    }
                }
                0 => {
                    let done = self.inbox.eof(capture)?;
                    self.answered += 1;
                    return Ok(done);
                }
                // Every buffer was taken: they come back as their connections run.
                e if -e == libc::ENOBUFS => tokio::task::yield_now().await,
                e => return Err(classify_errno(-e)),
            }
            op = self.ring.recv(fd);
            self.in_flight = Some(op);
        }
    }

    /// Waits for operation `op`, or fails at `deadline`.
    async fn completion(&mut self, op: u32, deadline: Instant) -> Result<Completion, ErrorKind> {
        if self.watchdog.deadline() > deadline {
            self.watchdog.as_mut().reset(deadline);
        }
        let ring = &self.ring;
        loop {
            tokio::select! {
                biased;
                done = poll_fn(|cx| ring.poll_op(op, cx.waker())) => return Ok(done),
                () = &mut self.watchdog => {
                    if Instant::now() >= deadline {
                        return Err(ErrorKind::ResponseTimeout);
                    }
                    self.watchdog.as_mut().reset(deadline);
                }
            }
        }
    }
}

impl Drop for UringConnection {
    fn drop(&mut self) {
        if let Some(op) = self.in_flight.take() {
            // The receive in flight ends (with 0) and a send still in flight fails,
            // before the socket closes and the request bytes go.
            // SAFETY: shutdown on our own open descriptor.
            unsafe { libc::shutdown(self.socket.as_raw_fd(), libc::SHUT_RDWR) };
            self.ring.orphan(op);
        }
    }
}
