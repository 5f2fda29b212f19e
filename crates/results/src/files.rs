//! How files are written so that each is valid at every instant: whole files go to a
//! temporary name and are renamed over the old one ([`write_atomic`]); the interval
//! series is appended line by line and flushed ([`IntervalLog`]), and read back
//! forgiving a torn last line ([`crate::folder::read_json_lines`]).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use engine::{Interval, Sink, Stats};

use crate::OutputError;

fn err(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` atomically: readers see the old file or the new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = File::create(&tmp).map_err(err(&tmp))?;
    f.write_all(bytes).map_err(err(&tmp))?;
    f.sync_data().map_err(err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(err(path))
}

/// A [`Sink`] that appends each interval to a JSON Lines file and flushes it, so a
/// run killed with SIGKILL keeps every interval that had ended.
pub struct IntervalLog {
    path: PathBuf,
    out: BufWriter<File>,
    /// The first write error; the run goes on, and the caller reports it at the end.
    pub error: Option<OutputError>,
}

impl IntervalLog {
    pub fn create(path: &Path) -> Result<IntervalLog, OutputError> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)
            .map_err(err(path))?;
        Ok(IntervalLog {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            error: None,
        })
    }
}

impl Sink for IntervalLog {
    fn on_interval(&mut self, interval: &Interval, _stats: &Stats) {
        if self.error.is_some() {
            return;
        }
        let result = serde_json::to_writer(&mut self.out, interval)
            .map_err(std::io::Error::from)
            .and_then(|_| self.out.write_all(b"\n"))
            .and_then(|_| self.out.flush());
        if let Err(e) = result {
            self.error = Some(OutputError {
                path: self.path.clone(),
                source: e,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader never sees a half-written file: while one thread rewrites a JSON file
    /// again and again, with sizes that change by orders of magnitude, another parses
    /// every version it opens.
    #[test]
    fn a_reader_never_sees_a_half_written_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        let document = |i: usize| {
            let filler = "x".repeat((i % 7) * 20_000);
            serde_json::to_vec(&serde_json::json!({ "version": i, "filler": filler })).unwrap()
        };
        write_atomic(&path, &document(0)).unwrap();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (path, done) = (path.clone(), done.clone());
            std::thread::spawn(move || {
                let mut seen = 0u64;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let bytes = std::fs::read(&path).expect("the file is always there");
                    let value: serde_json::Value = serde_json::from_slice(&bytes)
                        .unwrap_or_else(|e| panic!("half-written ({} bytes): {e}", bytes.len()));
                    assert!(value["version"].is_u64());
                    seen += 1;
                }
                seen
            })
        };
        for i in 1..120 {
            write_atomic(&path, &document(i)).unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
        assert!(
            !dir.path().join("summary.json.tmp").exists(),
            "no temporary left behind"
        );
    }
}
