//! The live progress line: elapsed time, answers per second, errors. It reads the
//! engine's [`engine::Live`] counters, which workers refresh every 100 ms.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts drawing on stderr (hidden when stderr is not a terminal).
    pub fn start(live: Arc<engine::Live>, length: Option<Duration>, label: String) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let thread = std::thread::spawn(move || {
            let bar = match length {
                Some(d) => {
                    let bar = ProgressBar::new(d.as_millis() as u64);
                    bar.set_style(
                        ProgressStyle::with_template("{prefix} [{bar:30}] {elapsed_precise} {msg}")
                            .expect("static template")
                            .progress_chars("=> "),
                    );
                    bar
                }
                None => {
                    let bar = ProgressBar::new_spinner();
                    bar.set_style(
                        ProgressStyle::with_template("{prefix} {spinner} {elapsed_precise} {msg}")
                            .expect("static template"),
                    );
                    bar
                }
            };
            bar.set_prefix(label);
            let began = Instant::now();
            let (mut last_done, mut last_at) = (0u64, began);
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(250));
                let (answers, errors) = live.totals();
                let now = Instant::now();
                let rate =
                    (answers - last_done.min(answers)) as f64 / (now - last_at).as_secs_f64();
                (last_done, last_at) = (answers, now);
                bar.set_position(began.elapsed().as_millis() as u64);
                bar.set_message(format!(
                    "{answers} answers, {rate:.0} req/s, {errors} errors"
                ));
                bar.tick();
            }
            bar.finish_and_clear();
        });
        Progress {
            done,
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
