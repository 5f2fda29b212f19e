//! When each request goes out: the one thing the three load models disagree on.
//!
//! Every connection runs the same loop (see `worker.rs`) and asks its [`Pacer`] for the
//! next request. Closed runs answer at once while the worker's budget lasts; open runs
//! answer with the next planned instant of the worker's [`Schedule`]; sessions walk the
//! user's compiled [`Program`], sleeping through think times.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use scenario::{Step, Target};
use tokio::time::Instant;

use crate::dynamic::{
    CompiledRepeat, CompiledSetVars, CompiledTest, FileTurns, Template, UserState, VarId, VarTable,
};
use crate::timer::PreciseClock;

/// The next request to send: which template, and when it was meant to go.
#[derive(Debug, Clone, Copy)]
pub struct Next {
    pub request: usize,
    /// In open runs, the planned instant latency is measured from.
    pub planned: Option<Instant>,
}

/// A gap drawn from the exponential distribution of this mean: successive gaps make a
/// Poisson process of rate 1/mean, as Tsung's arrivals and random think times are.
pub(crate) fn exponential(mean: Duration, rng: &mut SmallRng) -> Duration {
    let u: f64 = rng.gen();
    mean.mul_f64(-(1.0 - u).ln())
}

/// Planned send instants of one worker in an open-model run. Shared by the worker's
/// connections (an `Rc`, one thread): whichever connection is free takes the earliest
/// untaken instant, so when all are busy the wait is part of the measured latency.
pub struct Schedule {
    first: Instant,
    end: Instant,
    /// Mean gap between this worker's planned instants.
    gap: Duration,
    taken: Cell<u64>,
    poisson: Option<PoissonClock>,
}

struct PoissonClock {
    rng: RefCell<SmallRng>,
    next: Cell<Instant>,
}

impl Schedule {
    /// `rate` is this worker's share; `offset` staggers workers so that together they
    /// keep uniform spacing.
    pub fn new(
        start: Instant,
        end: Instant,
        rate: f64,
        offset: Duration,
        poisson_seed: Option<u64>,
    ) -> Schedule {
        let gap = Duration::from_secs_f64(1.0 / rate);
        let first = start + offset;
        Schedule {
            first,
            end,
            gap,
            taken: Cell::new(0),
            poisson: poisson_seed.map(|seed| PoissonClock {
                rng: RefCell::new(SmallRng::seed_from_u64(seed)),
                next: Cell::new(start),
            }),
        }
    }

    /// Takes the earliest untaken instant, or `None` once the plan is past its end.
    pub fn take(&self) -> Option<Instant> {
        let at = match &self.poisson {
            None => self.first + self.gap.mul_f64(self.taken.get() as f64),
            Some(clock) => {
                let at = clock.next.get() + exponential(self.gap, &mut clock.rng.borrow_mut());
                clock.next.set(at);
                at
            }
        };
        if at >= self.end {
            return None;
        }
        self.taken.set(self.taken.get() + 1);
        Some(at)
    }
}

/// A session's steps flattened into a small instruction list, so that a user walks it
/// with a program counter and a loop stack instead of recursive futures.
pub struct Program {
    ops: Vec<Op>,
    /// Dynamic requests, tests and variable sources, referred to by index.
    pub dynamic: Vec<Template>,
    tests: Vec<CompiledTest>,
    repeats: Vec<CompiledRepeat>,
    setvars: Vec<CompiledSetVars>,
    /// How many variables a user of this program carries (0: a static program).
    pub vars: usize,
    /// Whether any user of this program needs per-user state beyond a cookie jar.
    pub is_dynamic: bool,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Request(usize),
    Dynamic(usize),
    LoopStart {
        count: u64,
        end: usize,
    },
    LoopEnd {
        start: usize,
    },
    /// A `<for>` whose body reads its counter `var`.
    CountStart {
        count: u64,
        end: usize,
        var: VarId,
        from: i64,
        incr: i64,
    },
    CountEnd {
        start: usize,
    },
    RepeatStart,
    RepeatEnd {
        start: usize,
        repeat: usize,
    },
    /// Skips to `end` unless test `test` holds.
    If {
        test: usize,
        end: usize,
    },
    SetVars(usize),
    /// The user talks to server `k` from here on.
    Server(usize),
    Think {
        mean: Duration,
        random: bool,
    },
    ThinkBetween {
        min: Duration,
        max: Duration,
    },
}

/// What a user does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A prebuilt request: `Shared::templates[i]`.
    Static(usize),
    /// A request built per user: `Program::dynamic[i]`.
    Dynamic(usize),
}

struct Compiler<'a> {
    ops: Vec<Op>,
    templates: &'a mut Vec<scenario::Request>,
    targets: &'a [Target],
    vars: VarTable,
    dynamic: Vec<Template>,
    tests: Vec<CompiledTest>,
    repeats: Vec<CompiledRepeat>,
    setvars: Vec<CompiledSetVars>,
}

impl Compiler<'_> {
    fn emit(&mut self, steps: &[Step]) {
        for step in steps {
            match step {
                Step::Request(r) => {
                    self.templates.push(r.clone());
                    self.ops.push(Op::Request(self.templates.len() - 1));
                }
                Step::Dynamic(d) => {
                    self.dynamic
                        .push(Template::compile(d, self.targets, &mut self.vars));
                    self.ops.push(Op::Dynamic(self.dynamic.len() - 1));
                }
                Step::Loop { count, steps } => {
                    let start = self.ops.len();
                    self.ops.push(Op::LoopStart {
                        count: *count,
                        end: 0,
                    });
                    self.emit(steps);
                    let end = self.ops.len();
                    self.ops.push(Op::LoopEnd { start });
                    self.ops[start] = Op::LoopStart { count: *count, end };
                }
                Step::Counted {
                    var,
                    from,
                    incr,
                    count,
                    steps,
                } => {
                    let start = self.ops.len();
                    let var = self.vars.id(var);
                    let op = |end| Op::CountStart {
                        count: *count,
                        end,
                        var,
                        from: *from,
                        incr: *incr,
                    };
                    self.ops.push(op(0));
                    self.emit(steps);
                    let end = self.ops.len();
                    self.ops.push(Op::CountEnd { start });
                    self.ops[start] = op(end);
                }
                Step::Repeat { end, steps } => {
                    let start = self.ops.len();
                    self.ops.push(Op::RepeatStart);
                    self.emit(steps);
                    let repeat = self.repeats.len();
                    self.repeats
                        .push(CompiledRepeat::compile(end, &mut self.vars));
                    self.ops.push(Op::RepeatEnd { start, repeat });
                }
                Step::If { test, steps } => {
                    let at = self.ops.len();
                    let t = self.tests.len();
                    self.tests.push(CompiledTest::compile(test, &mut self.vars));
                    self.ops.push(Op::If { test: t, end: 0 });
                    self.emit(steps);
                    let end = self.ops.len();
                    self.ops[at] = Op::If { test: t, end };
                }
                Step::SetVars(set) => {
                    self.setvars
                        .push(CompiledSetVars::compile(set, &mut self.vars));
                    self.ops.push(Op::SetVars(self.setvars.len() - 1));
                }
                Step::Think { mean, random } => self.ops.push(Op::Think {
                    mean: *mean,
                    random: *random,
                }),
                Step::ThinkBetween { min, max } => self.ops.push(Op::ThinkBetween {
                    min: *min,
                    max: *max,
                }),
                Step::Transaction { steps, .. } => self.emit(steps),
                Step::Server(k) => self.ops.push(Op::Server(*k)),
            }
        }
    }
}

impl Program {
    /// Compiles `steps`; each static request template is appended to `templates` and
    /// referred to by index, each dynamic one is compiled for the run's servers
    /// (`targets`) and kept here.
    pub fn compile(
        steps: &[Step],
        templates: &mut Vec<scenario::Request>,
        targets: &[Target],
    ) -> Program {
        let mut c = Compiler {
            ops: Vec::new(),
            templates,
            targets,
            vars: VarTable::default(),
            dynamic: Vec::new(),
            tests: Vec::new(),
            repeats: Vec::new(),
            setvars: Vec::new(),
        };
        c.emit(steps);
        Program {
            ops: c.ops,
            is_dynamic: scenario::dynamic::steps_are_dynamic(steps),
            vars: c.vars.len(),
            dynamic: c.dynamic,
            tests: c.tests,
            repeats: c.repeats,
            setvars: c.setvars,
        }
    }
}

/// Steps a user takes between two yields when none of them sends or sleeps.
const YIELD_EVERY: u32 = 1024;

/// One user's position in its program, and the server it talks to.
pub struct Cursor {
    pc: usize,
    loops: Vec<u64>,
    rng: SmallRng,
    /// The server the user started on, and the one it talks to now.
    first_server: usize,
    server: usize,
}

impl Cursor {
    pub fn new(seed: u64, server: usize) -> Cursor {
        Cursor {
            pc: 0,
            loops: Vec::with_capacity(4),
            rng: SmallRng::seed_from_u64(seed),
            first_server: server,
            server,
        }
    }

    /// The server the next request goes to.
    pub fn server(&self) -> usize {
        self.server
    }

    /// The user's random numbers, for the values a dynamic request draws.
    pub fn rng(&mut self) -> &mut SmallRng {
        &mut self.rng
    }

    /// Sends the last request again (`<match do="loop">`).
    pub fn again(&mut self) {
        self.pc -= 1;
    }

    /// Starts the session over (`<match do="restart">`).
    pub fn restart(&mut self) {
        self.pc = 0;
        self.loops.clear();
        self.server = self.first_server;
    }

    /// The next request of the program, after sleeping through any think time and
    /// running any variable step on the way; `None` at the end. `user` is `None` for a
    /// static program, which has no variable step.
    pub async fn next(
        &mut self,
        program: &Program,
        mut user: Option<&mut UserState>,
        files: &RefCell<FileTurns>,
    ) -> Option<Action> {
        let mut steps_taken = 0u32;
        loop {
            // A loop whose `<if>` is never taken sends nothing: let the worker's other
            // users and timers (the deadline among them) run now and then.
            steps_taken += 1;
            if steps_taken.is_multiple_of(YIELD_EVERY) {
                tokio::task::yield_now().await;
            }
            match *program.ops.get(self.pc)? {
                Op::Request(i) => {
                    self.pc += 1;
                    return Some(Action::Static(i));
                }
                Op::Dynamic(i) => {
                    self.pc += 1;
                    return Some(Action::Dynamic(i));
                }
                Op::LoopStart { count, end } => {
                    if count == 0 {
                        self.pc = end + 1;
                    } else {
                        self.loops.push(count);
                        self.pc += 1;
                    }
                }
                Op::LoopEnd { start } => {
                    let left = self.loops.last_mut().expect("loop end has its start");
                    *left -= 1;
                    if *left > 0 {
                        self.pc = start + 1;
                    } else {
                        self.loops.pop();
                        self.pc += 1;
                    }
                }
                Op::CountStart {
                    count,
                    end,
                    var,
                    from,
                    ..
                } => {
                    if count == 0 {
                        self.pc = end + 1;
                    } else {
                        self.loops.push(count);
                        if let Some(u) = user.as_deref_mut() {
                            u.set(var, from.to_string().into_bytes());
                        }
                        self.pc += 1;
                    }
                }
                Op::CountEnd { start } => {
                    let Op::CountStart {
                        count,
                        var,
                        from,
                        incr,
                        ..
                    } = program.ops[start]
                    else {
                        unreachable!("a count end points at its start")
                    };
                    let left = self.loops.last_mut().expect("count end has its start");
                    *left -= 1;
                    if *left > 0 {
                        let pass = (count - *left) as i64;
                        if let Some(u) = user.as_deref_mut() {
                            let value = from.saturating_add(incr.saturating_mul(pass));
                            u.set(var, value.to_string().into_bytes());
                        }
                        self.pc = start + 1;
                    } else {
                        self.loops.pop();
                        self.pc += 1;
                    }
                }
                Op::RepeatStart => {
                    self.loops.push(0);
                    self.pc += 1;
                }
                Op::RepeatEnd { start, repeat } => {
                    let r = &program.repeats[repeat];
                    let passes = self.loops.last_mut().expect("repeat end has its start");
                    *passes += 1;
                    // As Tsung: an unset variable ends the repeat.
                    let go_on = user
                        .as_deref()
                        .and_then(|u| u.test(&r.test))
                        .is_some_and(|holds| holds != r.until);
                    if go_on && *passes < r.max {
                        self.pc = start + 1;
                    } else {
                        self.loops.pop();
                        self.pc += 1;
                    }
                }
                Op::If { test, end } => {
                    let t = &program.tests[test];
                    // As Tsung: an unset variable enters the branch.
                    let enter = user.as_deref().is_none_or(|u| u.test(t) != Some(false));
                    self.pc = if enter { self.pc + 1 } else { end };
                }
                Op::Server(k) => {
                    self.pc += 1;
                    self.server = k;
                }
                Op::SetVars(i) => {
                    self.pc += 1;
                    if let Some(u) = user.as_deref_mut() {
                        // Borrowed here only, never across a think time: the
                        // worker's users share the walk through the files.
                        program.setvars[i].apply(u, &mut self.rng, &mut files.borrow_mut());
                    }
                }
                Op::Think { mean, random } => {
                    self.pc += 1;
                    let pause = if random {
                        exponential(mean, &mut self.rng)
                    } else {
                        mean
                    };
                    think(pause).await;
                }
                Op::ThinkBetween { min, max } => {
                    self.pc += 1;
                    let u: f64 = self.rng.gen();
                    think(min + max.saturating_sub(min).mul_f64(u)).await;
                }
            }
        }
    }
}

async fn think(pause: Duration) {
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
}

/// The pacing of one connection of a closed or open run.
pub enum Pacer {
    /// Send at once; `budget` counts down the worker's share of `-n`, if any.
    Closed {
        budget: Option<Rc<Cell<u64>>>,
        position: usize,
        script_len: usize,
    },
    /// Send at the schedule's next planned instant, woken by the worker's precise
    /// clock (tokio's sleep if the OS refused one).
    Open {
        schedule: Rc<Schedule>,
        position: usize,
        script_len: usize,
        clock: Option<Rc<PreciseClock>>,
    },
}

impl Pacer {
    pub async fn next(&mut self) -> Option<Next> {
        match self {
            Pacer::Closed {
                budget,
                position,
                script_len,
            } => {
                if let Some(b) = budget {
                    if b.get() == 0 {
                        return None;
                    }
                    b.set(b.get() - 1);
                }
                let request = *position;
                *position = (*position + 1) % *script_len;
                Some(Next {
                    request,
                    planned: None,
                })
            }
            Pacer::Open {
                schedule,
                position,
                script_len,
                clock,
            } => {
                let Some(planned) = schedule.take() else {
                    // Every planned instant is taken by another connection: stay open
                    // (idle) until the run ends, as `-c` promises, instead of closing.
                    tokio::time::sleep_until(schedule.end).await;
                    return None;
                };
                match clock {
                    Some(c) => c.sleep_until(planned).await,
                    None => tokio::time::sleep_until(planned).await,
                }
                let request = *position;
                *position = (*position + 1) % *script_len;
                Some(Next {
                    request,
                    planned: Some(planned),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scenario::dynamic::{DynamicRequest, RepeatEnd, Test};
    use scenario::Request;

    fn target() -> Target {
        Target {
            host: "127.0.0.1".into(),
            port: 8000,
            tls: false,
        }
    }

    fn test(var: &str, equal: bool, value: &str) -> Test {
        Test {
            var: var.into(),
            equal,
            value: value.into(),
        }
    }

    fn dynamic(path: &str) -> Step {
        Step::Dynamic(Box::new(DynamicRequest {
            request: Request::get(path),
            subst: true,
            extract: Vec::new(),
            matches: Vec::new(),
            auth: None,
            answer_cap: scenario::dynamic::DEFAULT_CAPTURE_CAP,
        }))
    }

    /// `<for var>`, `<if>`, `<repeat>` with `<while>` and `<until>`: the paths a user
    /// builds, in order.
    #[tokio::test(start_paused = true)]
    async fn a_dynamic_program_counts_tests_and_repeats() {
        let steps = vec![
            Step::Counted {
                var: "i".into(),
                from: 5,
                incr: 5,
                count: 3,
                steps: vec![dynamic("/item/%%_i%%")],
            },
            Step::If {
                test: test("i", true, "15"),
                steps: vec![dynamic("/fifteen")],
            },
            Step::If {
                test: test("i", false, "15"),
                steps: vec![dynamic("/never")],
            },
            // Tsung enters an <if> on a variable never set.
            Step::If {
                test: test("unset", true, "1"),
                steps: vec![dynamic("/unset")],
            },
            Step::Repeat {
                end: RepeatEnd {
                    test: test("i", true, "15"),
                    until: false,
                    max: 3,
                },
                steps: vec![dynamic("/while")],
            },
            Step::Repeat {
                end: RepeatEnd {
                    test: test("i", true, "15"),
                    until: true,
                    max: 3,
                },
                steps: vec![dynamic("/until")],
            },
        ];
        let mut templates = Vec::new();
        let program = Program::compile(&steps, &mut templates, &[target()]);
        assert!(program.is_dynamic && templates.is_empty());
        let mut cursor = Cursor::new(1, 0);
        let mut user = UserState::new(program.vars, 0, 0);
        let files = RefCell::new(FileTurns::new(0, 1));
        let mut seen = Vec::new();
        while let Some(Action::Dynamic(i)) = cursor.next(&program, Some(&mut user), &files).await {
            program.dynamic[i].build(&mut user, cursor.rng(), 0);
            let line = String::from_utf8_lossy(&user.out).into_owned();
            seen.push(line.split(' ').nth(1).unwrap().to_string());
        }
        assert_eq!(
            seen,
            [
                "/item/5", "/item/10", "/item/15", "/fifteen", "/unset", "/while", "/while",
                "/while", "/until"
            ]
        );
    }

    #[test]
    fn uniform_schedule_plans_rate_times_duration() {
        let start = Instant::now();
        let s = Schedule::new(
            start,
            start + Duration::from_secs(3),
            1000.0,
            Duration::ZERO,
            None,
        );
        let mut n = 0;
        while s.take().is_some() {
            n += 1;
        }
        assert_eq!(n, 3000);
    }

    #[test]
    fn poisson_schedule_keeps_the_mean_rate() {
        let start = Instant::now();
        let s = Schedule::new(
            start,
            start + Duration::from_secs(100),
            100.0,
            Duration::ZERO,
            Some(7),
        );
        let mut n = 0;
        while s.take().is_some() {
            n += 1;
        }
        assert!((9_500..=10_500).contains(&n), "{n}");
    }

    #[tokio::test(start_paused = true)]
    async fn program_walks_nested_loops() {
        let steps = vec![
            Step::Request(Request::get("/login")),
            Step::Loop {
                count: 3,
                steps: vec![
                    Step::Request(Request::get("/a")),
                    Step::Loop {
                        count: 2,
                        steps: vec![Step::Request(Request::get("/b"))],
                    },
                    Step::Think {
                        mean: Duration::from_millis(10),
                        random: false,
                    },
                ],
            },
            Step::Loop {
                count: 0,
                steps: vec![Step::Request(Request::get("/never"))],
            },
        ];
        let mut templates = Vec::new();
        let program = Program::compile(&steps, &mut templates, &[target()]);
        let mut cursor = Cursor::new(1, 0);
        let mut seen = Vec::new();
        let files = RefCell::new(FileTurns::new(0, 1));
        while let Some(Action::Static(i)) = cursor.next(&program, None, &files).await {
            seen.push(templates[i].path.clone());
        }
        let expect: Vec<&str> = std::iter::once("/login")
            .chain(std::iter::repeat_n(["/a", "/b", "/b"], 3).flatten())
            .collect();
        assert_eq!(seen, expect);
    }
}
