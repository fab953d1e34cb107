//! `max-rps --baseline BASE.json [--fail-on …] [--junit PATH] [--markdown PATH]`:
//! the CI outputs of a run, prepared before it starts (a bad baseline or
//! path is a usage error before any load) and written when it ends.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use clap::Args;
use loadgen_compare::Comparison;
use loadgen_core::config::RunConfig;
use loadgen_core::load::load;
use loadgen_core::report::RunReport;

use crate::compare_cmd::{exit_code, JudgeArgs, Outputs};
use crate::failure::{usage, Failure};

#[derive(Debug, Args)]
#[command(next_help_heading = "CI (baseline comparison, test reports)")]
pub struct CiArgs {
    /// When the run ends, compare it with this run (a --json report or a
    /// --journal) as `loadgen compare` does; exit 3 if a --fail-on breaks.
    #[arg(long, value_name = "BASE.json")]
    pub baseline: Option<PathBuf>,

    #[command(flatten)]
    pub judge: JudgeArgs,

    /// Write JUnit XML: each step a test case (TRIP a failure, INCONCLUSIVE
    /// skipped), and with --baseline the comparison's cases.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,

    /// Append Markdown (e.g. "$GITHUB_STEP_SUMMARY"): the steps, and with
    /// --baseline the comparison first.
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<PathBuf>,
}

/// What to do with a run's report once it ends.
pub struct Ci {
    baseline: Option<(String, RunReport)>,
    judge: JudgeArgs,
    outputs: Outputs,
}

impl Ci {
    /// Read the baseline, check it is a run of the same workload as
    /// `config` (resolved), and open the output files.
    pub fn prepare(args: &CiArgs, config: &RunConfig) -> Result<Ci, Failure> {
        if args.baseline.is_none() && !args.judge.fail_on.is_empty() {
            return Err(usage(anyhow!(
                "--fail-on needs --baseline BASE.json to compare with"
            )));
        }
        let baseline = match &args.baseline {
            Some(path) => {
                let report = load(path).map_err(|e| usage(anyhow!("--baseline: {e}")))?;
                args.judge.check_settings(&report.settings, config)?;
                Some((path.display().to_string(), report))
            }
            None => None,
        };
        let outputs = Outputs::open(None, args.markdown.as_deref(), args.junit.as_deref())?;
        Ok(Ci {
            baseline,
            judge: args.judge.clone(),
            outputs,
        })
    }

    /// Write the outputs; with a baseline, print the comparison and return
    /// its exit code when a criterion broke.
    pub fn finish(self, run: &RunReport) -> Result<Option<ExitCode>, Failure> {
        let Some((source, base)) = &self.baseline else {
            self.outputs.write_run(run)?;
            return Ok(None);
        };
        let label = run
            .settings
            .outputs
            .json
            .as_ref()
            .map_or("this run".to_string(), |p| p.display().to_string());
        let c = Comparison::new((source, base), (&label, run), &self.judge.fail_on);
        println!();
        loadgen_compare::render::text::write(std::io::stdout().lock(), &c)
            .map_err(|e| Failure::Run(e.into()))?;
        self.outputs.write(&c, Some(run))?;
        Ok((!c.passed()).then(|| exit_code(&c)))
    }
}
