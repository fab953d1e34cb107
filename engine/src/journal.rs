//! The run journal (`--journal`, `--resume`): JSON lines, one header then one
//! line per finished step, each fsynced before the run goes on, so a run
//! killed at any moment (power loss, OOM, SIGKILL) loses at most the step it
//! was in. `--resume` replays the steps through the search and continues.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::{RunSettings, StepReport};
use crate::search::Plan;

/// What must be the same for a run to continue another.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalHeader {
    pub settings: RunSettings,
    pub plan: Plan,
    pub retry_inconclusive: u32,
    pub confirm: u32,
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

    /// Reopen a journal to continue its run: the header must match this
    /// run's; returns the steps already finished.
    pub fn resume(
        path: &Path,
        header: &JournalHeader,
    ) -> Result<(Journal, Vec<StepReport>), String> {
        let (recorded, steps) = read(path)?;
        if &recorded != header {
            return Err(format!(
                "journal {} belongs to a run with other settings ({}): resume with the same flags",
                path.display(),
                differences(&recorded, header).join(", ")
            ));
        }
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot append to journal {}: {e}", path.display()))?;
        let journal = Journal {
            path: path.to_path_buf(),
            file,
        };
        Ok((journal, steps))
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
/// killed while writing it) is ignored; anything else unreadable is an error.
pub fn read(path: &Path) -> Result<(JournalHeader, Vec<StepReport>), String> {
    let shown = path.display();
    let file = File::open(path).map_err(|e| format!("cannot read journal {shown}: {e}"))?;
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot read journal {shown}: {e}"))?;
    let mut header = None;
    let mut steps = Vec::new();
    let last = lines.len().saturating_sub(1);
    for (i, text) in lines.iter().enumerate() {
        match serde_json::from_str::<Line>(text) {
            Ok(Line::Run(h)) if i == 0 => header = Some(*h),
            Ok(Line::Step(s)) if header.is_some() => steps.push(*s),
            Err(_) if i == last && i > 0 => break,
            _ => return Err(format!("{shown} is not a loadgen journal (line {})", i + 1)),
        }
    }
    let header = header.ok_or_else(|| format!("{shown} is not a loadgen journal (empty)"))?;
    Ok((header, steps))
}

/// Which parts of two headers differ, for the error message.
fn differences(a: &JournalHeader, b: &JournalHeader) -> Vec<&'static str> {
    let (x, y) = (&a.settings, &b.settings);
    let checks = [
        (
            x.plugin != y.plugin || x.plugin_version != y.plugin_version,
            "plugin",
        ),
        (
            x.preset != y.preset || x.options != y.options,
            "plugin options",
        ),
        (
            x.warmup_ms != y.warmup_ms
                || x.hold_ms != y.hold_ms
                || x.drain_ms != y.drain_ms
                || x.cooldown_ms != y.cooldown_ms,
            "phases",
        ),
        (x.slo != y.slo, "SLO"),
        (x.seed != y.seed, "seed"),
        (
            a.plan != b.plan || x.steps != y.steps || x.stop_on_trip != y.stop_on_trip,
            "steps or search",
        ),
        (
            a.retry_inconclusive != b.retry_inconclusive || a.confirm != b.confirm,
            "re-runs",
        ),
    ];
    let found: Vec<&str> = checks
        .iter()
        .filter(|(differs, _)| *differs)
        .map(|(_, what)| *what)
        .collect();
    if found.is_empty() {
        vec!["settings"]
    } else {
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{report, step};

    fn header() -> JournalHeader {
        JournalHeader {
            settings: report(&[]).settings,
            plan: Plan::Fixed {
                rates: vec![1000, 2000],
                stop_on_trip: true,
            },
            retry_inconclusive: 1,
            confirm: 0,
        }
    }

    #[test]
    fn steps_survive_and_resume_continues_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.journal");
        let mut j = Journal::create(&path, &header()).unwrap();
        j.record(&step(1000, "PASS")).unwrap();
        drop(j);

        let (mut j, steps) = Journal::resume(&path, &header()).unwrap();
        assert_eq!(steps, vec![step(1000, "PASS")]);
        j.record(&step(2000, "TRIP")).unwrap();
        let (_, steps) = read(&path).unwrap();
        assert_eq!(steps.len(), 2);
    }

    #[test]
    fn a_torn_last_line_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.journal");
        let mut j = Journal::create(&path, &header()).unwrap();
        j.record(&step(1000, "PASS")).unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"kind":"step","probe":1,"tar"#).unwrap();
        let (_, steps) = read(&path).unwrap();
        assert_eq!(steps.len(), 1);
    }

    #[test]
    fn refusals_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.journal");
        Journal::create(&path, &header()).unwrap();
        let err = Journal::create(&path, &header()).unwrap_err();
        assert!(
            err.contains("already exists: continue that run with --resume"),
            "{err}"
        );

        let mut other = header();
        other.settings.hold_ms += 1;
        other.settings.seed = 7;
        let err = Journal::resume(&path, &other).unwrap_err();
        assert!(
            err.ends_with("(phases, seed): resume with the same flags"),
            "{err}"
        );

        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello\nworld\n").unwrap();
        assert!(read(&text)
            .unwrap_err()
            .ends_with("is not a loadgen journal (line 1)"));
    }
}
