//! Where a run's results go and writing them: the console table and ANSWER
//! on stdout, the `--csv`, `--json` and `--report` files. Shared by a run's
//! reporter and `loadgen report`, which needs nothing of the actor runtime.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use loadgen_core::config::Outputs;

use crate::{console, csv, html, json, RunReport};

/// Where the run's results go.
#[derive(Debug, Default)]
pub struct ReportTargets {
    /// Print the table and ANSWER to stdout.
    pub console: bool,
    /// Show live progress on stderr.
    pub progress: bool,
    pub csv: Option<OutputFile>,
    pub json: Option<OutputFile>,
    /// The HTML page with the latency-vs-load chart.
    pub html: Option<OutputFile>,
}

impl ReportTargets {
    /// Create every output file now, so a missing directory or a read-only
    /// path is refused before the first step, not after a long run.
    pub fn open(outputs: &Outputs, console: bool) -> Result<ReportTargets, String> {
        let open = |path: &Option<PathBuf>| path.as_deref().map(OutputFile::create).transpose();
        Ok(ReportTargets {
            console,
            progress: console && !outputs.quiet,
            csv: open(&outputs.csv)?,
            json: open(&outputs.json)?,
            html: open(&outputs.report)?,
        })
    }
}

/// An output file, created (truncated) up front and written at the end.
#[derive(Debug)]
pub struct OutputFile {
    path: PathBuf,
    file: File,
}

impl OutputFile {
    pub fn create(path: &Path) -> Result<OutputFile, String> {
        let file =
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(OutputFile {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn write(
        &self,
        render: impl FnOnce(&mut BufWriter<&File>) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut w = BufWriter::new(&self.file);
        render(&mut w)?;
        w.flush()
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}

/// Print and write `report` where `targets` say (also `loadgen report`).
pub fn write_outputs(targets: &ReportTargets, report: &RunReport) -> Result<(), String> {
    if targets.console {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match console::print_report(&mut out, report, console_width()) {
            // The reader is gone (`| head`): what it did not read was not wanted.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.map_err(|e| format!("cannot print the report: {e}"))?,
        }
    }
    if let Some(out) = &targets.csv {
        out.write(|w| csv::write_csv(w, report).map_err(|e| e.to_string()))?;
    }
    if let Some(out) = &targets.json {
        out.write(|w| json::write_json(w, report).map_err(|e| e.to_string()))?;
    }
    if let Some(out) = &targets.html {
        out.write(|w| html::write_html(w, report).map_err(|e| e.to_string()))?;
    }
    Ok(())
}

/// The terminal's width when stdout is one; [`console::DEFAULT_WIDTH`] for
/// a file or a pipe.
fn console_width() -> u16 {
    ::console::Term::stdout()
        .size_checked()
        .map_or(console::DEFAULT_WIDTH, |(_rows, cols)| cols)
}
