//! How a case ended: one enum for every outcome, written as the words people read
//! (`"ok"`, `"failed to start"`), so a results folder stays readable by hand and by
//! the scripts that already read `results.csv`.

use serde::{Deserialize, Serialize};

/// How a case ended. Only [`CaseStatus::Ok`] is ranked; every other status says why a
/// case has no numbers, or why its numbers are not comparable with the others'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CaseStatus {
    /// Ran to the end; its numbers rank.
    #[serde(rename = "ok")]
    Ok,
    /// The server's package could not be installed (pip's error is the detail).
    #[serde(rename = "not installed")]
    NotInstalled,
    /// The server did not start or never answered its readiness probe.
    #[serde(rename = "failed to start")]
    FailedToStart,
    /// The server exited while the load ran; the numbers up to then are kept.
    #[serde(rename = "crashed")]
    Crashed,
    /// The run was killed during this case: its folder has no summary. Never written:
    /// inferred when a folder is read.
    #[serde(rename = "killed")]
    Killed,
    /// The run ended (Ctrl-C, or killed) before this case started. Never written.
    #[serde(rename = "not run")]
    NotRun,
    /// Load from several machines: an agent stopped reporting; the others' numbers
    /// are kept, and the case is not ranked.
    #[serde(rename = "lost agent")]
    LostAgent,
    /// Load from several machines: some agents refused the run or could not start it,
    /// so the load was smaller than planned.
    #[serde(rename = "partial")]
    Partial,
    /// The app itself failed (an import error, an exception); its traceback is the detail.
    #[serde(rename = "app error")]
    AppError,
    /// The server answered the app's probe differently from the other servers (another
    /// status, length or body): not the same work, so not ranked.
    #[serde(rename = "answers differently")]
    AnswersDifferently,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 10] = [
        CaseStatus::Ok,
        CaseStatus::NotInstalled,
        CaseStatus::FailedToStart,
        CaseStatus::Crashed,
        CaseStatus::Killed,
        CaseStatus::NotRun,
        CaseStatus::LostAgent,
        CaseStatus::Partial,
        CaseStatus::AppError,
        CaseStatus::AnswersDifferently,
    ];

    /// The word written in summary.json, results.csv and the history database.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Ok => "ok",
            CaseStatus::NotInstalled => "not installed",
            CaseStatus::FailedToStart => "failed to start",
            CaseStatus::Crashed => "crashed",
            CaseStatus::Killed => "killed",
            CaseStatus::NotRun => "not run",
            CaseStatus::LostAgent => "lost agent",
            CaseStatus::Partial => "partial",
            CaseStatus::AppError => "app error",
            CaseStatus::AnswersDifferently => "answers differently",
        }
    }

    /// The status [`CaseStatus::as_str`] wrote, or `None` for a word no version writes.
    pub fn parse(word: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.into_iter().find(|s| s.as_str() == word)
    }

    pub fn is_ok(self) -> bool {
        self == CaseStatus::Ok
    }
}

impl std::fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_is_written_and_read_as_its_word() {
        for status in CaseStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(serde_json::from_str::<CaseStatus>(&json).unwrap(), status);
            assert_eq!(CaseStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(CaseStatus::parse("fine"), None);
    }
}
