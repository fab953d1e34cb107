//! `loadgen report RUN.json|JOURNAL`: print a finished or killed run's table
//! and ANSWER again, and write its outputs, without re-running it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use clap::Args;
use loadgen_core::config::Outputs;
use loadgen_core::load::load;
use loadgen_report::outputs::{write_outputs, ReportTargets};

use crate::failure::{usage, Failure};

#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes as for max-rps: 0 the run has an answer; 1 no step passed; \
                  2 the file cannot be read."
)]
pub struct ReportArgs {
    /// The run's --json report, or its --journal (a killed run's too).
    #[arg(value_name = "RUN.json|JOURNAL")]
    pub input: PathBuf,

    /// Write the HTML report here.
    #[arg(long, value_name = "PATH.html")]
    pub html: Option<PathBuf>,

    /// Write one row per step to this CSV file.
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,

    /// Write the whole run as JSON (e.g. from a journal).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
}

pub fn run(args: ReportArgs) -> Result<ExitCode, Failure> {
    let report = load(&args.input).map_err(|e| usage(anyhow!(e)))?;
    let outputs = Outputs {
        csv: args.csv,
        json: args.json,
        report: args.html,
        ..Outputs::default()
    };
    let targets = ReportTargets::open(&outputs, true).map_err(|e| usage(anyhow!(e)))?;
    write_outputs(&targets, &report).map_err(|e| Failure::Run(anyhow!(e)))?;
    Ok(if report.answer.max_rps.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
