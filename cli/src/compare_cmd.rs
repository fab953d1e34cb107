//! `loadgen compare BASE NEW`: did the new run lose capacity or latency?
//! Exit 0 when every `--fail-on` criterion held, 3 when one broke, 2 on bad
//! input (unreadable files, runs of different workloads without `--force`).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use clap::Args;
use loadgen_compare::criteria::Criterion;
use loadgen_compare::identity::{differences, refusal};
use loadgen_compare::render;
use loadgen_compare::Comparison;
use loadgen_core::load::load;
use loadgen_core::report::RunReport;

use crate::failure::{usage, Failure};

/// Exit code of a comparison that broke a `--fail-on` criterion.
pub const CRITERION_FAILED: u8 = 3;

#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 every --fail-on criterion held; 3 one broke (a significant change past \
                  its bound); 2 a file cannot be read, or the runs differ in plugin, options or SLO \
                  (without --force).\n\n\
                  Examples:\n  \
                  loadgen compare main.json pr.json --fail-on 'capacity < -5%' --fail-on 'p99 > +10%'\n  \
                  loadgen compare main.json pr.journal --markdown \"$GITHUB_STEP_SUMMARY\" --junit compare.xml"
)]
pub struct CompareArgs {
    /// The run to compare against: a --json report or a --journal (a killed run's too).
    #[arg(value_name = "BASE")]
    pub base: PathBuf,

    /// The run to judge, likewise.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    #[command(flatten)]
    pub judge: JudgeArgs,

    /// Write the comparison as JSON (docs/compare.schema.json).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// Append the comparison as Markdown (for a CI step summary: "$GITHUB_STEP_SUMMARY").
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<PathBuf>,

    /// Write JUnit XML: a test case per criterion and per compared rate.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
}

/// What a comparison is judged by (`compare` and `max-rps --baseline`).
#[derive(Debug, Args, Clone)]
pub struct JudgeArgs {
    /// Fail (exit 3) when a significant change meets this, e.g. 'capacity < -5%',
    /// 'p99 > +10%', 'error_rate > +0.001' (repeatable; METRIC is capacity, p50,
    /// p95, p99, error_rate, loss_rate or backlog_growth; with % the bound is on
    /// the relative change, else on the absolute one).
    #[arg(long = "fail-on", value_name = "EXPR", value_parser = parse_criterion)]
    pub fail_on: Vec<(String, Criterion)>,

    /// Compare runs of different plugins, options or SLOs anyway.
    #[arg(long)]
    pub force: bool,
}

fn parse_criterion(s: &str) -> Result<(String, Criterion), String> {
    let c: Criterion = s
        .parse()
        .map_err(|e: loadgen_compare::criteria::CriterionError| e.to_string())?;
    Ok((s.trim().to_string(), c))
}

pub fn run(args: CompareArgs) -> Result<ExitCode, Failure> {
    let read = |path: &Path| load(path).map_err(|e| usage(anyhow!(e)));
    let (base, new) = (read(&args.base)?, read(&args.new)?);
    args.judge.check_comparable(&base, &new)?;
    let outputs = Outputs::open(
        args.json.as_deref(),
        args.markdown.as_deref(),
        args.junit.as_deref(),
    )?;
    let comparison = Comparison::new(
        (&args.base.display().to_string(), &base),
        (&args.new.display().to_string(), &new),
        &args.judge.fail_on,
    );
    render::text::write(std::io::stdout().lock(), &comparison)
        .context("cannot write to stdout")
        .map_err(Failure::Run)?;
    outputs.write(&comparison, None)?;
    Ok(exit_code(&comparison))
}

/// 3 when a criterion broke, else 0.
pub fn exit_code(c: &Comparison) -> ExitCode {
    if c.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(CRITERION_FAILED)
    }
}

impl JudgeArgs {
    /// Refuse runs of different workloads (one line naming every difference)
    /// unless `--force`.
    pub fn check_comparable(&self, base: &RunReport, new: &RunReport) -> Result<(), Failure> {
        self.check_settings(&base.settings, &new.settings)
    }

    pub fn check_settings(
        &self,
        base: &loadgen_core::config::RunConfig,
        new: &loadgen_core::config::RunConfig,
    ) -> Result<(), Failure> {
        let differ = differences(base, new);
        if differ.is_empty() || self.force {
            return Ok(());
        }
        Err(usage(anyhow!(refusal(&differ))))
    }
}

/// The output files, opened before anything is compared or run, so a bad
/// path is a usage error up front.
pub struct Outputs {
    json: Option<(PathBuf, File)>,
    markdown: Option<(PathBuf, File)>,
    junit: Option<(PathBuf, File)>,
}

impl Outputs {
    pub fn open(
        json: Option<&Path>,
        markdown: Option<&Path>,
        junit: Option<&Path>,
    ) -> Result<Outputs, Failure> {
        let create = |p: Option<&Path>| -> Result<Option<(PathBuf, File)>, Failure> {
            p.map(|p| {
                File::create(p)
                    .with_context(|| format!("cannot create {}", p.display()))
                    .map(|f| (p.to_path_buf(), f))
                    .map_err(usage)
            })
            .transpose()
        };
        // A step summary collects every step's Markdown: append, never truncate.
        let append = markdown
            .map(|p| {
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .with_context(|| format!("cannot open {}", p.display()))
                    .map(|f| (p.to_path_buf(), f))
                    .map_err(usage)
            })
            .transpose()?;
        Ok(Outputs {
            json: create(json)?,
            markdown: append,
            junit: create(junit)?,
        })
    }

    /// Write the comparison (and, from `max-rps`, the run itself) to every
    /// file asked for.
    pub fn write(self, c: &Comparison, run: Option<&RunReport>) -> Result<(), Failure> {
        let fail = |path: &Path, e: std::io::Error| {
            Failure::Run(anyhow!("cannot write {}: {e}", path.display()))
        };
        if let Some((path, f)) = self.json {
            render::json::write(BufWriter::new(f), c).map_err(|e| fail(&path, e))?;
        }
        if let Some((path, f)) = self.markdown {
            let mut w = BufWriter::new(f);
            render::markdown::write(&mut w, c)
                .and_then(|()| match run {
                    Some(r) => writeln!(w).and_then(|()| render::markdown::write_run(&mut w, r)),
                    None => Ok(()),
                })
                .and_then(|()| w.flush())
                .map_err(|e| fail(&path, e))?;
        }
        if let Some((path, f)) = self.junit {
            let mut suites = vec![render::junit::comparison_suite(c)];
            suites.extend(run.map(render::junit::run_suite));
            render::junit::write_suites(BufWriter::new(f), suites).map_err(|e| fail(&path, e))?;
        }
        Ok(())
    }

    /// A run without a baseline: its steps only.
    pub fn write_run(self, run: &RunReport) -> Result<(), Failure> {
        let fail = |path: &Path, e: std::io::Error| {
            Failure::Run(anyhow!("cannot write {}: {e}", path.display()))
        };
        if let Some((path, f)) = self.markdown {
            let mut w = BufWriter::new(f);
            render::markdown::write_run(&mut w, run)
                .and_then(|()| w.flush())
                .map_err(|e| fail(&path, e))?;
        }
        if let Some((path, f)) = self.junit {
            render::junit::write_run(BufWriter::new(f), run).map_err(|e| fail(&path, e))?;
        }
        Ok(())
    }
}
