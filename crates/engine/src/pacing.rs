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
use scenario::Step;
use tokio::time::Instant;

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
#[derive(Debug, Clone)]
pub struct Program {
    ops: Vec<Op>,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Request(usize),
    LoopStart { count: u64, end: usize },
    LoopEnd { start: usize },
    Think { mean: Duration, random: bool },
    ThinkBetween { min: Duration, max: Duration },
}

impl Program {
    /// Compiles `steps`; each request template is appended to `templates` and referred
    /// to by index.
    pub fn compile(steps: &[Step], templates: &mut Vec<scenario::Request>) -> Program {
        fn emit(steps: &[Step], ops: &mut Vec<Op>, templates: &mut Vec<scenario::Request>) {
            for step in steps {
                match step {
                    Step::Request(r) => {
                        templates.push(r.clone());
                        ops.push(Op::Request(templates.len() - 1));
                    }
                    Step::Loop { count, steps } => {
                        let start = ops.len();
                        ops.push(Op::LoopStart {
                            count: *count,
                            end: 0,
                        });
                        emit(steps, ops, templates);
                        let end = ops.len();
                        ops.push(Op::LoopEnd { start });
                        ops[start] = Op::LoopStart { count: *count, end };
                    }
                    Step::Think { mean, random } => ops.push(Op::Think {
                        mean: *mean,
                        random: *random,
                    }),
                    Step::ThinkBetween { min, max } => ops.push(Op::ThinkBetween {
                        min: *min,
                        max: *max,
                    }),
                    Step::Transaction { steps, .. } => emit(steps, ops, templates),
                }
            }
        }
        let mut ops = Vec::new();
        emit(steps, &mut ops, templates);
        Program { ops }
    }
}

/// One user's position in its program.
pub struct Cursor {
    pc: usize,
    loops: Vec<u64>,
    rng: SmallRng,
}

impl Cursor {
    pub fn new(seed: u64) -> Cursor {
        Cursor {
            pc: 0,
            loops: Vec::with_capacity(4),
            rng: SmallRng::seed_from_u64(seed),
        }
    }

    /// The next request of the program, after sleeping through any think time on the
    /// way; `None` at the end.
    pub async fn next(&mut self, program: &Program) -> Option<usize> {
        loop {
            match *program.ops.get(self.pc)? {
                Op::Request(i) => {
                    self.pc += 1;
                    return Some(i);
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
    use scenario::Request;

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
        let program = Program::compile(&steps, &mut templates);
        let mut cursor = Cursor::new(1);
        let mut seen = Vec::new();
        while let Some(i) = cursor.next(&program).await {
            seen.push(templates[i].path.clone());
        }
        let expect: Vec<&str> = std::iter::once("/login")
            .chain(std::iter::repeat_n(["/a", "/b", "/b"], 3).flatten())
            .collect();
        assert_eq!(seen, expect);
    }
}
