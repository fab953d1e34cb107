//! The run journal (`--journal`, `--resume`): JSON lines, one header then one
//! line per finished step, each fsynced before the run goes on, so a run
//! killed at any moment (power loss, OOM, SIGKILL) loses at most the step it
//! was in. `--resume` replays the steps through the search and continues.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::report::StepReport;

/// The journal's first line: the run's whole configuration, so `--resume
/// PATH` alone continues it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalHeader {
    /// Resolved: every rate named.
    pub config: RunConfig,
    /// A resumed run must load the same plugin version.
    pub plugin_version: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Line {
    Run(Box<JournalHeader>),
    Step(Box<StepReport>),
}

/// An open journal, appended to as steps finish.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Start a new journal. An existing non-empty file is refused: it is
    /// another run's record (continue it with `--resume`).
    pub fn create(path: &Path, header: &JournalHeader) -> Result<Journal, String> {
        if path.metadata().is_ok_and(|m| m.len() > 0) {
            return Err(format!(
                "journal {} already exists: continue that run with --resume {0}, or remove it",
                path.display()
            ));
        }
        let file = File::create(path)
            .map_err(|e| format!("cannot create journal {}: {e}", path.display()))?;
        let mut journal = Journal {
            path: path.to_path_buf(),
            file,
        };
        journal.append(&Line::Run(Box::new(header.clone())))?;
        Ok(journal)
    }

    /// Reopen a journal to continue its run: its header and the steps
    /// already finished.
    pub fn resume(path: &Path) -> Result<(Journal, JournalHeader, Vec<StepReport>), String> {
        let (header, steps) = read(path)?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot append to journal {}: {e}", path.display()))?;
        let journal = Journal {
            path: path.to_path_buf(),
            file,
        };
        Ok((journal, header, steps))
    }

    pub fn record(&mut self, step: &StepReport) -> Result<(), String> {
        self.append(&Line::Step(Box::new(step.clone())))
    }

    fn append(&mut self, line: &Line) -> Result<(), String> {
        let mut text = serde_json::to_string(line).expect("journal lines serialize");
        text.push('\n');
        self.file
            .write_all(text.as_bytes())
            .and_then(|_| self.file.sync_data())
            .map_err(|e| format!("cannot write journal {}: {e}", self.path.display()))
    }
}

/// The header and finished steps of a journal. A torn last line (the run was
/// killed while writing it: no newline at its end) is ignored; any other
/// unreadable line is an error naming it.
pub fn read(path: &Path) -> Result<(JournalHeader, Vec<StepReport>), String> {
    let shown = path.display();
    let mut text = String::new();
    File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|e| format!("cannot read journal {shown}: {e}"))?;
    let torn_tail = !text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let last = lines.len().saturating_sub(1);
    let mut header = None;
    let mut steps = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        match serde_json::from_str::<Line>(line) {
            Ok(Line::Run(h)) if i == 0 => header = Some(*h),
            Ok(Line::Step(s)) if header.is_some() => steps.push(*s),
            Ok(_) => return Err(format!("journal {shown} line {n}: not where it belongs")),
            Err(_) if i == last && i > 0 && torn_tail => break,
            Err(_) if i == 0 => {
                return Err(format!(
                    "{shown} is not a loadgen journal (line 1 is not a run header)"
                ))
            }
            Err(e) => return Err(format!("journal {shown} line {n} is corrupt: {e}")),
        }
    }
    let header = header.ok_or_else(|| format!("journal {shown} is empty"))?;
    Ok((header, steps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{settings, step};

    fn header() -> JournalHeader {
        JournalHeader {
            config: settings(vec![1000, 2000]),
            plugin_version: "0.1.0".into(),
        }
    }

    fn journal_with(dir: &Path, tail: &[u8]) -> PathBuf {
        let path = dir.join("run.journal");
        let mut j = Journal::create(&path, &header()).unwrap();
        j.record(&step(1000, "PASS")).unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(tail).unwrap();
        path
    }

    #[test]
    fn steps_survive_and_resume_continues_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_with(dir.path(), b"");
        let (mut j, h, steps) = Journal::resume(&path).unwrap();
        assert_eq!(h, header());
        assert_eq!(steps, vec![step(1000, "PASS")]);
        j.record(&step(2000, "TRIP")).unwrap();
        let (_, steps) = read(&path).unwrap();
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[1].verdict, step(2000, "TRIP").verdict);
    }

    #[test]
    fn a_torn_last_line_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_with(dir.path(), br#"{"kind":"step","probe":1,"tar"#);
        let (_, steps) = read(&path).unwrap();
        assert_eq!(steps.len(), 1);
    }

    #[test]
    fn unreadable_journals_are_errors_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let table: &[(&[u8], &str)] = &[
            (b"{\"kind\":\"step\",\"garbage\":1}\n", "line 3 is corrupt"),
            (b"not json\n{}", "line 3 is corrupt"),
            (
                br#"{"kind":"step","probe":1,"target_rps":2000,"verdict":"MAYBE"}"#,
                "",
            ),
            (
                b"{\"kind\":\"step\",\"verdict\":\"MAYBE\"}\n",
                "line 3 is corrupt",
            ),
        ];
        for (tail, want) in table {
            let path = journal_with(dir.path(), tail);
            match read(&path) {
                Err(e) => assert!(!want.is_empty() && e.contains(want), "{e}"),
                Ok(_) => assert!(want.is_empty(), "{tail:?} was accepted"),
            }
            std::fs::remove_file(&path).unwrap();
        }
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        assert!(read(&empty).unwrap_err().ends_with("is empty"));
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello\nworld\n").unwrap();
        assert!(read(&text)
            .unwrap_err()
            .ends_with("is not a loadgen journal (line 1 is not a run header)"));
    }

    #[test]
    fn an_existing_journal_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_with(dir.path(), b"");
        let err = Journal::create(&path, &header()).unwrap_err();
        assert!(
            err.contains("already exists: continue that run with --resume"),
            "{err}"
        );
    }
}
