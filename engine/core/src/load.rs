//! `loadgen report RUN.json|JOURNAL`: a finished or killed run, read back.
//!
//! A JSON report is the run as it ended. A journal holds the run's header and
//! every finished step; its steps are replayed through a fresh search (as
//! `--resume` does), so the answer, the search outcome and the table come out
//! exactly as the run printed them — or, for a run killed before it ended, as
//! it would have printed them had it been interrupted there.

use std::path::Path;

use crate::journal::{self, JournalHeader};
use crate::search::{Finished, Probe};

use crate::report::{search_answer, RunReport, SearchReport, StepReport, SCHEMA_VERSION};

/// Read a JSON report or a journal, whichever `path` holds.
pub fn load(path: &Path) -> Result<RunReport, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if let Ok(mut report) = serde_json::from_str::<RunReport>(&text) {
        // An older report reads into today's model (its reasons as text):
        // written again, it has today's shape.
        report.schema_version = SCHEMA_VERSION;
        return Ok(report);
    }
    match journal::read(path) {
        Ok((header, steps)) => Ok(from_journal(&header, steps)),
        Err(_) => Err(format!(
            "{shown} is neither a loadgen JSON report (--json) nor a journal (--journal)"
        )),
    }
}

/// The report the run wrote, or would have written when interrupted after
/// these steps.
pub fn from_journal(header: &JournalHeader, steps: Vec<StepReport>) -> RunReport {
    let config = &header.config;
    let plan = config.plan();
    let mut search = config.search();
    let (outcome, interrupted) = match search.resume(&finished(&steps)) {
        Ok(Probe::Done(outcome)) => (outcome, false),
        // Killed before the search ended (or a journal the search disowns).
        _ => (search.interrupted(), true),
    };
    let search = SearchReport { plan, outcome };
    RunReport {
        schema_version: SCHEMA_VERSION,
        settings: config.clone(),
        plugin_version: header.plugin_version.clone(),
        answer: search_answer(&steps, &search),
        steps,
        interrupted,
        search: Some(search),
        agents: Vec::new(),
    }
}

fn finished(steps: &[StepReport]) -> Vec<Finished> {
    steps.iter().map(StepReport::finished).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{report, settings, step};

    fn header() -> JournalHeader {
        JournalHeader {
            config: settings(vec![1000, 2000, 4000]),
            plugin_version: "0.1.0".into(),
        }
    }

    fn probes(steps: &[(u64, &str)]) -> Vec<StepReport> {
        steps
            .iter()
            .enumerate()
            .map(|(i, (rps, v))| StepReport {
                probe: i as u32,
                ..step(*rps, v)
            })
            .collect()
    }

    #[test]
    fn a_finished_journal_is_the_finished_run() {
        let r = from_journal(
            &header(),
            probes(&[(1000, "PASS"), (2000, "PASS"), (4000, "TRIP")]),
        );
        assert!(!r.interrupted);
        assert_eq!(
            (r.answer.max_rps, r.answer.next_limit_rps),
            (Some(2000), Some(4000))
        );
    }

    #[test]
    fn a_killed_runs_journal_is_the_run_interrupted_there() {
        let r = from_journal(&header(), probes(&[(1000, "PASS")]));
        assert!(r.interrupted);
        assert_eq!(r.answer.max_rps, Some(1000));
        assert_eq!(r.steps.len(), 1);
    }

    #[test]
    fn a_version_2_report_reads_with_its_reasons_in_the_same_words() {
        let r = report(&[(1000, "PASS"), (2000, "TRIP"), (4000, "INCONCLUSIVE")]);
        let mut old = serde_json::to_value(&r).unwrap();
        old["schema_version"] = 2.into();
        for step in old["steps"].as_array_mut().unwrap() {
            let step = step.as_object_mut().unwrap();
            step.remove("breaches");
            step.remove("doubt");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.json");
        std::fs::write(&path, old.to_string()).unwrap();
        let read = load(&path).unwrap();
        assert_eq!(read.schema_version, SCHEMA_VERSION);
        let words = |r: &RunReport| -> Vec<_> { r.steps.iter().map(|s| s.reasons()).collect() };
        assert_eq!(words(&read), words(&r));
        assert_eq!(words(&read)[1], ["op p95=143ms > 100ms"]);
    }

    #[test]
    fn reads_either_kind_of_file_and_refuses_others() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("run.json");
        let r = report(&[(1000, "PASS"), (2000, "TRIP")]);
        std::fs::write(&json, serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(load(&json).unwrap(), r);

        let path = dir.path().join("run.journal");
        let mut j = journal::Journal::create(&path, &header()).unwrap();
        j.record(&step(1000, "PASS")).unwrap();
        assert_eq!(load(&path).unwrap().steps.len(), 1);

        let other = dir.path().join("notes.txt");
        std::fs::write(&other, "hello").unwrap();
        let err = load(&other).unwrap_err();
        assert!(
            err.ends_with("is neither a loadgen JSON report (--json) nor a journal (--journal)"),
            "{err}"
        );
        assert!(load(&dir.path().join("missing"))
            .unwrap_err()
            .starts_with("cannot read"));
    }
}
