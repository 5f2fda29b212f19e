//! A worker: one OS thread with its own tokio current-thread runtime, connections,
//! recorder and random numbers. Nothing on its hot path is shared with other threads;
//! it talks to the collector once per interval by sending a [`WorkerReport`].

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::connection::{Connection, Link, Targets};
use crate::dynamic::{Capture, FileTurns, UserState};
use crate::pacing::{exponential, Action, Cursor, Pacer, Program, Schedule};
use crate::recorder::{ErrorKind, Recorder, Stats};
use crate::request::RequestBytes;
use crate::resources::SourceAddrs;
use crate::response::Complete;
use crate::sys;
use crate::timer::PreciseClock;
use crate::uring::{self, IoPath, Ring, UringConnection};
use crate::{Live, StopFlag};
use scenario::dynamic::MatchAction;

/// How often a worker refreshes the live counters and looks at the stop flag.
const LIVE_PERIOD: Duration = Duration::from_millis(100);

/// What every worker reads and none writes: built once by `run`.
pub(crate) struct Shared {
    /// The run's servers: the target, then any other server of a session run.
    pub targets: Vec<Targets>,
    /// Where connection `i` binds its source address (usually: nowhere).
    pub sources: SourceAddrs,
    /// Request bytes by server, then by template: the Host header differs.
    pub templates: Vec<Vec<RequestBytes>>,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub interval: Duration,
    pub start: Instant,
    pub deadline: Option<Instant>,
    pub live: Option<Arc<Live>>,
    pub stop: StopFlag,
    pub mode: Mode,
    /// Worker slots in the whole run, on every machine taking part.
    pub slots: usize,
    /// The run's start, for ids unique across runs (`get_really_unique_id`).
    pub run_tag: u64,
    /// How connections send and receive (https ones always on epoll).
    pub io: IoPath,
}

pub(crate) enum Mode {
    Closed,
    Open {
        poisson: bool,
    },
    Sessions {
        programs: Vec<(Program, f64)>,
        /// Each server's share of the users (one server: `[1.0]`).
        server_weights: Vec<f64>,
    },
}

/// One worker's share of the load.
pub(crate) struct Share {
    /// The worker's number in this process (the collector's and the live display's).
    pub index: usize,
    /// The worker's number in the whole run, which may span machines: its seeds and
    /// its users' numbers come from it, so a run spread over machines draws the same.
    pub slot: usize,
    pub cpu: Option<usize>,
    pub connections: u32,
    /// The run-wide number of this worker's first connection: its source address.
    pub first_connection: u64,
    pub budget: Option<u64>,
    pub rate: f64,
    pub offset: Duration,
    pub arrivals: Vec<Arrivals>,
    /// This worker's share of the cap on simultaneous users.
    pub max_users_at_once: Option<u64>,
}

/// A phase's arrivals as one worker sees them: from `first`, its users arrive `gap`
/// apart (or `gap` apart on average, with exponential gaps), until `end`, at most
/// `max` of them.
pub(crate) struct Arrivals {
    pub first: Duration,
    pub gap: Duration,
    pub end: Duration,
    pub max: Option<u64>,
    pub poisson: bool,
    /// The phase's own session weights (`<session_setup>`), if any.
    pub session_weights: Option<Vec<f64>>,
}

impl Arrivals {
    /// The arrival instants, from the run's start, in order.
    pub fn instants<'a>(&'a self, rng: &'a mut SmallRng) -> impl Iterator<Item = Duration> + 'a {
        let mut poisson_at = self.first;
        (0..self.max.unwrap_or(u64::MAX))
            .map(move |k| {
                if self.poisson {
                    poisson_at += exponential(self.gap, rng);
                    poisson_at
                } else {
                    self.first + self.gap.mul_f64(k as f64)
                }
            })
            .take_while(|at| *at < self.end)
    }
}

/// A worker's interval, sent to the collector; also what a load agent's interval
/// becomes on the controller, which merges agents with the same collector ([`crate::merge`]).
pub struct WorkerReport {
    pub worker: usize,
    pub index: u32,
    /// End of the covered span, from the run's start.
    pub end: Duration,
    pub stats: Stats,
    pub users_active: u64,
    pub connections_open: u64,
    /// CPU time of the worker thread since it started.
    pub cpu: Duration,
    /// This is the worker's final report; it sends nothing more.
    pub last: bool,
}

/// The worker's state, shared by its tasks on one thread.
struct Local {
    index: usize,
    shared: Arc<Shared>,
    intervals_sent: Cell<u32>,
    recorder: RefCell<Recorder>,
    users_active: Cell<u64>,
    connections_open: Cell<u64>,
    /// The worker's ring, on the io_uring path.
    ring: Option<Rc<Ring>>,
}

pub(crate) fn run(share: Share, shared: Arc<Shared>, reports: Sender<WorkerReport>) {
    let index = share.index;
    if let Some(cpu) = share.cpu {
        // Failing to pin is not fatal: the run goes on where the OS puts it.
        sys::pin_current_thread(cpu);
    }
    // Checked by the run before the workers start; a worker that still cannot make
    // its ring runs on epoll rather than not at all.
    let ring = match shared.io {
        IoPath::IoUring => Ring::new().ok().map(Rc::new),
        IoPath::Epoll => None,
    };
    let local = Rc::new(Local {
        index,
        shared: shared.clone(),
        intervals_sent: Cell::new(0),
        recorder: RefCell::new(Recorder::default()),
        users_active: Cell::new(0),
        connections_open: Cell::new(0),
        ring: ring.clone(),
    });
    let mut builder = tokio::runtime::Builder::new_current_thread();
    if let Some(ring) = &ring {
        ring.install();
        // Every entry queued in a loop turn goes in one io_uring_enter, as the
        // runtime is about to wait.
        builder.on_thread_park(uring::submit_pending);
    }
    let runtime = builder
        .enable_all()
        .build()
        .expect("a current-thread runtime builds");
    let tasks = tokio::task::LocalSet::new();
    let last_end = tasks.block_on(&runtime, async {
        let reaper = ring
            .clone()
            .map(|ring| tokio::task::spawn_local(ring.reap_forever()));
        let ticker = tokio::task::spawn_local(tick(local.clone(), reports.clone()));
        let deadline = async {
            match shared.deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = drive(local.clone(), share) => {}
            _ = deadline => {}
            _ = stopped(&shared.stop) => {}
        }
        ticker.abort();
        // Cancelled, by the line above: nothing to report.
        let _ = ticker.await;
        if let Some(reaper) = reaper {
            reaper.abort();
        }
        shared.start.elapsed()
    });
    // The connections go before the ring they use.
    drop(tasks);
    drop(runtime);
    if ring.is_some() {
        Ring::uninstall();
    }
    let end = if let Some(d) = shared.deadline {
        last_end.min(d - shared.start)
    } else {
        last_end
    };
    let stats = local.recorder.borrow_mut().take();
    let _ = reports.send(WorkerReport {
        worker: index,
        index: local.intervals_sent.get(),
        end,
        stats,
        users_active: local.users_active.get(),
        connections_open: local.connections_open.get(),
        cpu: sys::thread_cpu_time(),
        last: true,
    });
    if let Some(live) = &shared.live {
        live.publish(index, 0, 0, true);
    }
}

async fn stopped(stop: &StopFlag) {
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(LIVE_PERIOD).await;
    }
}

/// Hands a snapshot to the collector at each interval boundary and refreshes the live
/// counters in between.
async fn tick(local: Rc<Local>, reports: Sender<WorkerReport>) {
    let shared = &local.shared;
    let mut boundary = shared.start + shared.interval;
    let mut done_before = (0u64, 0u64);
    loop {
        let next_live = Instant::now() + LIVE_PERIOD;
        tokio::time::sleep_until(next_live.min(boundary)).await;
        if Instant::now() >= boundary {
            let stats = local.recorder.borrow_mut().take();
            done_before.0 += stats.requests();
            done_before.1 += stats.errors_total();
            let report = WorkerReport {
                worker: local.index,
                index: local.intervals_sent.get(),
                end: boundary - shared.start,
                stats,
                users_active: local.users_active.get(),
                connections_open: local.connections_open.get(),
                cpu: sys::thread_cpu_time(),
                last: false,
            };
            if reports.send(report).is_err() {
                return;
            }
            local.intervals_sent.set(local.intervals_sent.get() + 1);
            boundary += shared.interval;
        }
        if let Some(live) = &shared.live {
            let (done, errors) = local.recorder.borrow().completed_and_errors();
            live.publish(
                local.index,
                done_before.0 + done,
                done_before.1 + errors,
                false,
            );
        }
    }
}

/// Runs the worker's share of the load until it is used up.
async fn drive(local: Rc<Local>, share: Share) {
    let shared = local.shared.clone();
    let script_len = shared.templates[0].len();
    match &shared.mode {
        Mode::Closed | Mode::Open { .. } => {
            let budget = share.budget.map(|b| Rc::new(Cell::new(b)));
            let schedule = match &shared.mode {
                Mode::Open { poisson } => Some(Rc::new(Schedule::new(
                    shared.start,
                    shared
                        .deadline
                        .expect("validated: open runs have a deadline"),
                    share.rate,
                    share.offset,
                    poisson.then_some(0x5eed ^ share.slot as u64),
                ))),
                _ => None,
            };
            let clock = schedule
                .as_ref()
                .and_then(|_| PreciseClock::new().ok())
                .map(Rc::new);
            let mut set = JoinSet::new();
            for c in 0..share.connections {
                let position = c as usize % script_len;
                let pacer = match &schedule {
                    Some(s) => Pacer::Open {
                        schedule: s.clone(),
                        position,
                        script_len,
                        clock: clock.clone(),
                    },
                    None => Pacer::Closed {
                        budget: budget.clone(),
                        position,
                        script_len,
                    },
                };
                let number = share.first_connection + u64::from(c);
                set.spawn_local(connection_loop(local.clone(), pacer, number));
            }
            while set.join_next().await.is_some() {}
        }
        Mode::Sessions {
            programs,
            server_weights,
        } => {
            let mut rng = SmallRng::seed_from_u64(0xa11ce ^ share.slot as u64);
            let mut arrival_rng = SmallRng::seed_from_u64(0xa441 ^ share.slot as u64);
            let mut users = JoinSet::new();
            let mut user_seq = 0u64;
            let files = Rc::new(RefCell::new(FileTurns::new(share.slot, shared.slots)));
            for phase in &share.arrivals {
                let weights: Vec<f64> = match &phase.session_weights {
                    Some(w) => w.iter().map(|w| w.max(0.0)).collect(),
                    None => programs.iter().map(|(_, w)| w.max(0.0)).collect(),
                };
                for at in phase.instants(&mut arrival_rng) {
                    let when = shared.start + at;
                    // Reap finished users while waiting, so the set stays small.
                    loop {
                        tokio::select! {
                            _ = tokio::time::sleep_until(when) => break,
                            Some(_) = users.join_next() => {}
                        }
                    }
                    // Like Tsung at `maxusers`, an arrival over the cap is not started.
                    if share
                        .max_users_at_once
                        .is_some_and(|m| local.users_active.get() >= m)
                    {
                        continue;
                    }
                    // Counted at spawn, not when the task first runs, so the cap holds
                    // even for arrivals closer together than a scheduler turn.
                    local.users_active.set(local.users_active.get() + 1);
                    let chosen = pick(&weights, &mut rng);
                    // Users are dealt to workers in turn, so this is the user's number
                    // in the run: its source address, when the run spreads them.
                    let number = user_seq * shared.slots as u64 + share.slot as u64;
                    user_seq += 1;
                    let server = pick(server_weights, &mut rng);
                    users.spawn_local(user(
                        local.clone(),
                        chosen,
                        server,
                        user_seq ^ ((share.slot as u64) << 48),
                        number,
                        files.clone(),
                    ));
                }
            }
            while users.join_next().await.is_some() {}
        }
    }
}

/// A closed- or open-model connection: ask the pacer, send, record, repeat.
async fn connection_loop(local: Rc<Local>, mut pacer: Pacer, number: u64) {
    let mut slot = Slot::new(number);
    // Open runs connect before the first planned instant, as wrk2 does, so handshakes
    // do not delay the first requests; a failure here is retried by the first request.
    if matches!(pacer, Pacer::Open { .. }) {
        if let Err(kind) = connect(&local, &mut slot).await {
            local.recorder.borrow_mut().record_error(kind);
        }
    }
    while let Some(next) = pacer.next().await {
        let request = &local.shared.templates[0][next.request];
        exchange(&local, &mut slot, Outgoing::of(request), next.planned).await;
    }
    close(&local, &mut slot);
}

/// A virtual user: one keep-alive connection through one session program.
async fn user(
    local: Rc<Local>,
    program: usize,
    server: usize,
    seed: u64,
    number: u64,
    files: Rc<RefCell<FileTurns>>,
) {
    let began = Instant::now();
    local.recorder.borrow_mut().record_user_started();
    let Mode::Sessions { programs, .. } = &local.shared.mode else {
        unreachable!("users run sessions")
    };
    let program = &programs[program].0;
    let mut cursor = Cursor::new(seed, server);
    let mut slot = Slot::new(number);
    // A static program's user carries only a cookie jar, made when a server first
    // sets a cookie: until then its requests are the prebuilt bytes.
    let mut state: Option<Box<UserState>> = program
        .is_dynamic
        .then(|| Box::new(UserState::new(program.vars, number, local.shared.run_tag)));
    loop {
        let action = cursor.next(program, state.as_deref_mut(), &files).await;
        let Some(action) = action else { break };
        let server = cursor.server();
        if slot.server != server {
            // Another server: its own connection.
            close(&local, &mut slot);
            slot.server = server;
        }
        let flow = match action {
            Action::Static(i) => {
                let request = &local.shared.templates[server][i];
                match state.as_deref_mut() {
                    Some(user) if !user.jar.is_empty() => {
                        let mut out = std::mem::take(&mut user.out);
                        user.jar.add_to(request, &mut out);
                        let outgoing = Outgoing {
                            bytes: &out,
                            expects_no_body: request.expects_no_body,
                            capture: None,
                        };
                        exchange(&local, &mut slot, outgoing, None).await;
                        user.out = out;
                    }
                    _ => {
                        exchange(&local, &mut slot, Outgoing::of(request), None).await;
                    }
                }
                take_cookies(&mut slot, &mut state, &local);
                None
            }
            Action::Dynamic(i) => {
                let template = &program.dynamic[i];
                let user = state.get_or_insert_with(|| {
                    Box::new(UserState::new(program.vars, number, local.shared.run_tag))
                });
                template.build(user, cursor.rng(), server);
                let out = std::mem::take(&mut user.out);
                let mut capture = std::mem::replace(&mut user.capture, Capture::new(0));
                capture.clear();
                capture.cap = template.answer_cap;
                let outgoing = Outgoing {
                    bytes: &out,
                    expects_no_body: template.expects_no_body,
                    capture: template.reads_answer.then_some(&mut capture),
                };
                let answered = exchange(&local, &mut slot, outgoing, None).await;
                user.out = out;
                take_cookies(&mut slot, &mut state, &local);
                let user = state.as_deref_mut().expect("made above");
                let flow = if answered && template.reads_answer {
                    capture.finish();
                    let recorder = &local.recorder;
                    template.absorb(&capture, user, |found| {
                        recorder.borrow_mut().record_match(found)
                    })
                } else {
                    None
                };
                user.capture = capture;
                flow
            }
        };
        match flow {
            None | Some(MatchAction::Continue | MatchAction::Log) => {
                if let Some(user) = state.as_deref_mut() {
                    user.loops = 0;
                }
            }
            Some(MatchAction::Loop { max, sleep }) => {
                let user = state.as_deref_mut().expect("only dynamic requests match");
                if user.loops < max {
                    user.loops += 1;
                    tokio::time::sleep(sleep).await;
                    cursor.again();
                } else {
                    user.loops = 0;
                }
            }
            Some(MatchAction::Restart { max }) => {
                let user = state.as_deref_mut().expect("only dynamic requests match");
                if user.restarts < max {
                    user.restarts += 1;
                    cursor.restart();
                } else {
                    break;
                }
            }
            Some(MatchAction::Abort) => break,
        }
    }
    close(&local, &mut slot);
    local.users_active.set(local.users_active.get() - 1);
    local
        .recorder
        .borrow_mut()
        .record_user_finished(began.elapsed());
}

/// An index drawn by weight (weights finite, not negative, one positive).
fn pick(weights: &[f64], rng: &mut SmallRng) -> usize {
    if weights.len() < 2 {
        return 0;
    }
    let total: f64 = weights.iter().sum();
    let mut left = rng.gen::<f64>() * total;
    weights
        .iter()
        .position(|w| {
            left -= w;
            left < 0.0
        })
        .unwrap_or(weights.len() - 1)
}

/// Moves the cookies the last answer set into the user's jar.
fn take_cookies(slot: &mut Slot, state: &mut Option<Box<UserState>>, local: &Local) {
    if slot.cookies.is_empty() {
        return;
    }
    let user =
        state.get_or_insert_with(|| Box::new(UserState::new(0, slot.number, local.shared.run_tag)));
    user.jar.absorb(&slot.cookies);
    slot.cookies.clear();
}

/// A request to send: its bytes, and where to keep its answer, if anywhere.
struct Outgoing<'a> {
    bytes: &'a [u8],
    expects_no_body: bool,
    capture: Option<&'a mut Capture>,
}

impl Outgoing<'_> {
    fn of(request: &RequestBytes) -> Outgoing<'_> {
        Outgoing {
            bytes: &request.bytes,
            expects_no_body: request.expects_no_body,
            capture: None,
        }
    }
}

/// Where a connection loop or a user keeps its connection between requests.
struct Slot {
    /// The connection's number in the run, which picks its source address.
    number: u64,
    conn: Option<Link>,
    /// Whether this slot had a connection before: opening another is a reconnect.
    opened_before: bool,
    /// Whether the last attempt went over a connection that had answered before.
    reused: bool,
    /// The server the slot's connection goes to (of `Shared::targets`).
    server: usize,
    /// Set-Cookie values of the last answers (one per line), for the user's jar; in
    /// sessions only.
    cookies: Vec<u8>,
}

impl Slot {
    fn new(number: u64) -> Slot {
        Slot {
            number,
            conn: None,
            opened_before: false,
            reused: false,
            server: 0,
            cookies: Vec::new(),
        }
    }
}

fn close(local: &Local, slot: &mut Slot) {
    if slot.conn.take().is_some() {
        local.connections_open.set(local.connections_open.get() - 1);
    }
}

/// One request on the slot's connection, opening it first if needed; records the
/// outcome. A broken or closing connection is dropped, to be reopened by the next
/// request. Returns whether an answer came.
async fn exchange(
    local: &Local,
    slot: &mut Slot,
    mut request: Outgoing<'_>,
    planned: Option<Instant>,
) -> bool {
    let sent_at = Instant::now();
    let mut outcome = attempt(local, slot, &mut request, sent_at).await;
    // A server may close an idle keep-alive connection just as we reuse it; like any
    // HTTP client, try once more on a fresh connection before calling it an error.
    if let Err(ErrorKind::ClosedBeforeResponse | ErrorKind::Reset) = outcome {
        if slot.reused {
            close(local, slot);
            if let Some(c) = request.capture.as_deref_mut() {
                c.clear();
            }
            outcome = attempt(local, slot, &mut request, sent_at).await;
        }
    }
    match outcome {
        Ok(done) => {
            let latency = latency_start(planned, sent_at).elapsed();
            local
                .recorder
                .borrow_mut()
                .record_response(done.status, latency);
            // Cookies an answer set count even when the server then closes.
            if let Some(c) = slot.conn.as_mut() {
                let inbox = c.inbox();
                if !inbox.set_cookies().is_empty() {
                    slot.cookies.extend_from_slice(inbox.set_cookies());
                    inbox.clear_set_cookies();
                }
            }
            if done.close {
                close(local, slot);
            }
            true
        }
        Err(kind) => {
            local.recorder.borrow_mut().record_error(kind);
            close(local, slot);
            // A refused connect or an instant garbage answer completes without ever
            // waiting: yield so the worker's timers (deadline, snapshots) still run.
            tokio::task::yield_now().await;
            false
        }
    }
}

/// Where a request's latency starts. An open-model request sent late starts at its
/// planned instant, so the wait counts (no coordinated omission); one the precise clock
/// sent a few µs early starts at its send, so no latency is shortened.
fn latency_start(planned: Option<Instant>, sent_at: Instant) -> Instant {
    planned.map_or(sent_at, |p| p.min(sent_at))
}

/// Opens the slot's connection and records the handshake time.
async fn connect(local: &Local, slot: &mut Slot) -> Result<(), ErrorKind> {
    let shared = &local.shared;
    let source = shared.sources.for_connection(slot.number);
    let targets = &shared.targets[slot.server];
    let (c, took) = Connection::open(targets, source, shared.connect_timeout)
        .await
        .map_err(|e| {
            if let Some(words) = e.detail {
                local.recorder.borrow_mut().record_tls_failure(words);
            }
            e.kind
        })?;
    local
        .recorder
        .borrow_mut()
        .record_connect(took, slot.opened_before);
    local.connections_open.set(local.connections_open.get() + 1);
    let mut c = match &local.ring {
        // https stays on epoll: rustls reads and writes through a socket.
        Some(ring) if !c.is_tls() => match UringConnection::adopt(c, ring.clone()) {
            Ok(c) => Link::Uring(c),
            Err(e) => {
                local.connections_open.set(local.connections_open.get() - 1);
                return Err(crate::connection::classify_errno(
                    e.raw_os_error().unwrap_or(0),
                ));
            }
        },
        _ => Link::Epoll(c),
    };
    if matches!(shared.mode, Mode::Sessions { .. }) {
        c.inbox().collect_cookies();
    }
    slot.conn = Some(c);
    slot.opened_before = true;
    Ok(())
}

/// Opens the connection if needed and sends the request once.
async fn attempt(
    local: &Local,
    slot: &mut Slot,
    request: &mut Outgoing<'_>,
    sent_at: Instant,
) -> Result<Complete, ErrorKind> {
    let shared = &local.shared;
    if slot.conn.is_none() {
        // Boxed: a connect is rare, and its states (a TLS handshake's among them)
        // held inline would grow the future of every request.
        Box::pin(connect(local, slot)).await?;
    }
    let c = slot.conn.as_mut().expect("opened above");
    slot.reused = c.answered() > 0;
    let outcome = c
        .exchange(
            request.bytes,
            request.expects_no_body,
            sent_at + shared.response_timeout,
            request.capture.as_deref_mut(),
        )
        .await;
    let (sent, received) = c.take_traffic();
    local.recorder.borrow_mut().record_bytes(sent, received);
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrivals(poisson: bool, max: Option<u64>) -> Arrivals {
        Arrivals {
            first: Duration::from_secs(1),
            gap: Duration::from_millis(10),
            end: Duration::from_secs(101),
            max,
            poisson,
            session_weights: None,
        }
    }

    #[test]
    fn even_arrivals_are_exactly_rate_times_duration() {
        let mut rng = SmallRng::seed_from_u64(1);
        let even = arrivals(false, None);
        let at: Vec<Duration> = even.instants(&mut rng).collect();
        assert_eq!(at.len(), 10_000);
        assert_eq!(at[0], Duration::from_secs(1));
        assert_eq!(at[9_999], Duration::from_millis(100_990));
        assert_eq!(arrivals(false, Some(7)).instants(&mut rng).count(), 7);
    }

    #[test]
    fn poisson_arrivals_keep_the_rate_with_exponential_gaps() {
        let mut rng = SmallRng::seed_from_u64(1);
        let random = arrivals(true, None);
        let at: Vec<f64> = random.instants(&mut rng).map(|d| d.as_secs_f64()).collect();
        // 100 s at 100 per second: 10 000 expected, the standard deviation is 100.
        assert!((9_600..=10_400).contains(&at.len()), "{}", at.len());
        assert!(at.windows(2).all(|w| w[0] < w[1]) && at[0] > 1.0);
        let gaps: Vec<f64> = at.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        // An exponential distribution's standard deviation equals its mean.
        assert!((mean - 0.010).abs() < 0.0005, "mean gap {mean}");
        assert!(
            (var.sqrt() / mean - 1.0).abs() < 0.05,
            "cv {}",
            var.sqrt() / mean
        );
        assert_eq!(arrivals(true, Some(7)).instants(&mut rng).count(), 7);
    }

    #[test]
    fn latency_starts_at_the_plan_when_late_and_at_the_send_when_early() {
        let plan = Instant::now();
        let us = Duration::from_micros;
        assert_eq!(latency_start(None, plan), plan);
        assert_eq!(latency_start(Some(plan), plan + us(700)), plan);
        assert_eq!(latency_start(Some(plan + us(30)), plan), plan);
    }
}
