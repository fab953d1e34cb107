//! The command line (clap). Values are validated here, so a bad one is a
//! one-line usage error with exit 2 before anything starts.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use loadgen_engine::gates::GateSpec;
use loadgen_engine::steps::{parse_rate, StepList, StepListError};

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    version,
    about = "Find the maximum request rate a service sustains under its SLO.",
    long_about = "Drives open-loop load at stepped rates, holds each step, judges it \
                  PASS / TRIP / INCONCLUSIVE from latency, errors, loss and backlog, \
                  and prints `ANSWER: max RPS = N`.\n\n\
                  Exit codes: 0 a step passed; 1 no step passed or the run failed; \
                  2 usage or configuration error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ramp the rate step by step and report the highest one that meets the SLO.
    MaxRps(Box<MaxRpsArgs>),
    /// Re-render a finished or killed run from its --json report or its --journal.
    Report(crate::report_cmd::ReportArgs),
    /// Inspect the workload plugins loadgen can find.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// List the plugins found in $LOADGEN_PLUGIN_PATH, next to loadgen, and in ./target.
    List,
    /// Describe one plugin: series, default steps, options.
    Info {
        /// A plugin name (e.g. `synthetic`) or the path of a plugin library.
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct MaxRpsArgs {
    /// Workload plugin: a name (looked up as libloadgen_plugin_NAME.so) or a path to a .so.
    #[arg(long)]
    pub plugin: String,

    /// Fixture preset (sets the plugin's `preset` option).
    #[arg(long)]
    pub preset: Option<String>,

    /// Plugin option KEY=VALUE (repeatable); see `loadgen plugins info NAME`.
    #[arg(short = 'o', long = "option", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub options: Vec<(String, String)>,

    /// Target rates, strictly ascending; `k` = ×1000 (default: the plugin's).
    #[arg(long, value_parser = parse_steps)]
    pub steps: Option<StepList>,

    /// How the rates are chosen: `fixed` runs --steps in order; `adaptive`
    /// multiplies the rate by --growth from --start-rps until the first TRIP,
    /// then bisects between the highest PASS and the lowest TRIP until the
    /// bracket is within --precision, and prints the bracket.
    #[arg(long, value_enum, default_value_t = SearchKind::Fixed, value_name = "HOW")]
    pub search: SearchKind,

    /// Adaptive: the first rate probed; `k` = ×1000 [default: the plugin's first step].
    #[arg(long, value_name = "RPS", value_parser = parse_rps)]
    pub start_rps: Option<u64>,

    /// Adaptive: never probe above this rate [default: no cap; --max-steps bounds the run].
    #[arg(long, value_name = "RPS", value_parser = parse_rps)]
    pub max_rps: Option<u64>,

    /// Adaptive: range finding multiplies the rate by this after each PASS (> 1) [default: 2].
    #[arg(long, value_name = "FACTOR", value_parser = parse_growth)]
    pub growth: Option<f64>,

    /// Adaptive: stop once (trip - pass) / pass is at most this (0 < p < 1) [default: 0.02].
    #[arg(long, value_name = "FRACTION", value_parser = parse_fraction)]
    pub precision: Option<f64>,

    /// Adaptive: most probes to run, re-runs included and --confirm runs not [default: 12].
    #[arg(long, value_name = "N", value_parser = parse_positive::<u32>)]
    pub max_steps: Option<u32>,

    /// Re-run the answer this many times after the search; reports how many held.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub confirm: u32,

    /// Time at each rate before measuring.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub warmup: Duration,

    /// Measured time at each rate.
    #[arg(long, default_value = "30s", value_parser = parse_positive_duration)]
    pub hold: Duration,

    /// Time after the hold for stragglers to answer; later answers are lost.
    #[arg(long, default_value = "2s", value_parser = parse_positive_duration)]
    pub drain: Duration,

    /// Pause between steps.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub cooldown: Duration,

    /// Stop at the first TRIP (fixed search; the adaptive search always bisects below it).
    #[arg(long, default_value_t = true, action = ArgAction::Set, value_name = "BOOL")]
    pub stop_on_trip: bool,

    /// Re-runs of an INCONCLUSIVE step.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub retry_inconclusive: u32,

    /// Highest acceptable p95 latency of every series.
    #[arg(long, default_value = "100ms", value_parser = parse_positive_duration)]
    pub slo_p95: Duration,

    /// Highest acceptable p99 latency of every series.
    #[arg(long, default_value = "250ms", value_parser = parse_positive_duration)]
    pub slo_p99: Duration,

    /// Highest acceptable failed/attempted.
    #[arg(long, default_value_t = 0.001, value_parser = parse_fraction)]
    pub slo_error_rate: f64,

    /// Highest acceptable lost/attempted.
    #[arg(long, default_value_t = 0.001, value_parser = parse_fraction)]
    pub slo_loss_rate: f64,

    /// Highest acceptable growth of any backlog over the hold.
    #[arg(long, default_value_t = 1000, value_parser = parse_positive::<i64>)]
    pub slo_pending_growth: i64,

    /// A step achieving less than (1 - this) × target is INCONCLUSIVE.
    #[arg(long, default_value_t = 0.05, value_parser = parse_fraction)]
    pub rate_tolerance: f64,

    /// Prometheus text endpoint scraped at hold start and end (repeatable).
    #[arg(long = "scrape", value_name = "URL", value_parser = parse_http_url)]
    pub scrape: Vec<String>,

    /// Bound on a scraped counter's growth over the hold, e.g.
    /// 'rejected_total{service="gatekeeper"} <= 0' (repeatable; needs --scrape).
    #[arg(long = "slo-counter", value_name = "EXPR", value_parser = parse_gate, requires = "scrape")]
    pub slo_counter: Vec<GateSpec>,

    /// Seed for fixtures and random choices.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Write one row per step to this CSV file.
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,

    /// Write the whole run (settings, steps, answer) to this JSON file.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// Write a self-contained HTML page with the latency-vs-offered-load chart.
    #[arg(long, value_name = "PATH.html")]
    pub report: Option<PathBuf>,

    /// Serve loadgen's own Prometheus metrics (loadgen_*) at http://ADDR/metrics
    /// while the run lasts, e.g. 127.0.0.1:9464 (port 0: any free port, printed).
    #[arg(long = "metrics-addr", value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,

    /// Append every finished step to this journal (JSON lines, fsynced).
    #[arg(long, value_name = "PATH", conflicts_with = "resume")]
    pub journal: Option<PathBuf>,

    /// Continue the run recorded in this journal (same flags): finished steps
    /// are kept, the run goes on from the next one.
    #[arg(long, value_name = "PATH")]
    pub resume: Option<PathBuf>,

    /// No live progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `--search`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SearchKind {
    /// Run --steps (or the plugin's default steps) in order.
    Fixed,
    /// Grow from --start-rps until the first TRIP, then bisect to --precision.
    Adaptive,
}

impl MaxRpsArgs {
    /// What clap cannot check: `--steps` belongs to the fixed ladder, the
    /// search knobs to `--search adaptive`. Each flag is ignored nowhere.
    pub fn check_search(&self) -> Result<(), String> {
        match self.search {
            SearchKind::Adaptive if self.steps.is_some() => Err(
                "--steps and --search adaptive conflict: the adaptive search chooses its own \
                 rates (bound it with --start-rps and --max-rps)"
                    .into(),
            ),
            SearchKind::Adaptive => Ok(()),
            SearchKind::Fixed => {
                let adaptive_only = [
                    ("--start-rps", self.start_rps.is_some()),
                    ("--max-rps", self.max_rps.is_some()),
                    ("--growth", self.growth.is_some()),
                    ("--precision", self.precision.is_some()),
                    ("--max-steps", self.max_steps.is_some()),
                ];
                match adaptive_only.iter().find(|(_, given)| *given) {
                    Some((flag, _)) => Err(format!(
                        "{flag} only applies to --search adaptive (the fixed search runs --steps)"
                    )),
                    None => Ok(()),
                }
            }
        }
    }
}

fn parse_http_url(s: &str) -> Result<String, String> {
    if s.starts_with("http://") && s.len() > "http://".len() {
        Ok(s.to_string())
    } else {
        Err(format!("'{s}' is not an http:// URL"))
    }
}

fn parse_gate(s: &str) -> Result<GateSpec, String> {
    s.parse()
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got '{s}'")),
    }
}

fn parse_steps(s: &str) -> Result<StepList, String> {
    s.parse()
        .map_err(|e: loadgen_engine::steps::StepListError| e.to_string())
}

/// One rate: `500`, `2k`, `1.5k`.
fn parse_rps(s: &str) -> Result<u64, String> {
    parse_rate(s).map_err(|e| match e {
        StepListError::NotPositive(_) => "must be > 0".to_string(),
        _ => format!(
            "'{s}' is not a rate (expected a whole number, optionally with a k suffix: 500, 2k, 1.5k)"
        ),
    })
}

fn parse_growth(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if v.is_finite() && v > 1.0 {
        Ok(v)
    } else {
        Err("must be > 1".into())
    }
}

/// A whole number > 0 (`u32`, `i64` …).
fn parse_positive<T>(s: &str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + Default,
{
    let v: T = s
        .parse()
        .map_err(|_| format!("'{s}' is not a whole number"))?;
    if v > T::default() {
        Ok(v)
    } else {
        Err("must be > 0".into())
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("'{s}' is not a duration like 500ms or 10s ({e})"))
}

fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err("must be > 0".into());
    }
    Ok(d)
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err("must be > 0 and < 1".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<MaxRpsArgs, String> {
        let mut full = vec!["loadgen", "max-rps", "--plugin", "synthetic"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full) {
            Ok(Cli {
                command: Command::MaxRps(args),
            }) => Ok(*args),
            Ok(_) => unreachable!(),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn defaults_match_the_spec() {
        let a = parse(&[]).unwrap();
        assert_eq!(a.warmup, Duration::from_secs(10));
        assert_eq!(a.hold, Duration::from_secs(30));
        assert_eq!(a.drain, Duration::from_secs(2));
        assert_eq!(a.cooldown, Duration::from_secs(5));
        assert!(a.stop_on_trip);
        assert_eq!(a.slo_p95, Duration::from_millis(100));
        assert_eq!(a.slo_p99, Duration::from_millis(250));
        assert_eq!(
            (a.slo_error_rate, a.slo_loss_rate, a.rate_tolerance),
            (0.001, 0.001, 0.05)
        );
        assert_eq!(a.slo_pending_growth, 1000);
        assert_eq!(a.seed, 42);
        assert_eq!(a.search, SearchKind::Fixed);
        assert_eq!(a.confirm, 0);
        assert_eq!(a.check_search(), Ok(()));
    }

    #[test]
    fn adaptive_flags_parse() {
        let a = parse(&[
            "--search",
            "adaptive",
            "--start-rps",
            "500",
            "--max-rps",
            "40k",
            "--growth",
            "1.5",
            "--precision",
            "0.01",
            "--max-steps",
            "20",
            "--confirm",
            "3",
        ])
        .unwrap();
        assert_eq!(a.search, SearchKind::Adaptive);
        assert_eq!((a.start_rps, a.max_rps), (Some(500), Some(40_000)));
        assert_eq!((a.growth, a.precision), (Some(1.5), Some(0.01)));
        assert_eq!((a.max_steps, a.confirm), (Some(20), 3));
        assert_eq!(a.check_search(), Ok(()));
    }

    #[test]
    fn search_flags_that_do_not_belong_together_are_refused() {
        let table: &[(&[&str], &str)] = &[
            (
                &["--search", "adaptive", "--steps", "1k,2k"],
                "--steps and --search adaptive conflict",
            ),
            (
                &["--start-rps", "500"],
                "--start-rps only applies to --search adaptive",
            ),
            (
                &["--max-rps", "5k"],
                "--max-rps only applies to --search adaptive",
            ),
            (
                &["--search", "fixed", "--growth", "3"],
                "--growth only applies",
            ),
            (&["--precision", "0.1"], "--precision only applies"),
            (&["--max-steps", "5"], "--max-steps only applies"),
        ];
        for (args, want) in table {
            let err = parse(args).unwrap().check_search().unwrap_err();
            assert!(err.contains(want), "{args:?}: {err}");
        }
        let confirm_on_a_ladder = parse(&["--steps", "1k", "--confirm", "2"]).unwrap();
        assert_eq!(confirm_on_a_ladder.check_search(), Ok(()));
    }

    #[test]
    fn flags_parse() {
        let a = parse(&[
            "--steps",
            "1k,2k",
            "-o",
            "capacity=3000",
            "--stop-on-trip",
            "false",
            "--hold",
            "3s",
        ])
        .unwrap();
        assert_eq!(a.steps, Some(StepList(vec![1000, 2000])));
        assert_eq!(
            a.options,
            vec![("capacity".to_string(), "3000".to_string())]
        );
        assert!(!a.stop_on_trip);
        assert_eq!(a.hold, Duration::from_secs(3));
    }

    #[test]
    fn bad_values_are_refused_with_the_reason() {
        let table: &[(&[&str], &str)] = &[
            (
                &["--steps", "2k,1k"],
                "steps must be strictly ascending: 2000 then 1000",
            ),
            (&["--steps", "0"], "step '0' must be > 0"),
            (&["--steps", "abc"], "step 'abc' is not a rate"),
            (&["--steps", ""], "empty step list"),
            (&["--slo-p95", "0"], "must be > 0"),
            (&["--slo-p95", "0ms"], "must be > 0"),
            (&["--slo-error-rate", "0"], "must be > 0 and < 1"),
            (&["--slo-pending-growth=-1"], "must be > 0"),
            (&["--hold", "soon"], "'soon' is not a duration"),
            (&["-o", "capacity"], "expected KEY=VALUE, got 'capacity'"),
            (
                &["--search", "binary"],
                "invalid value 'binary' for '--search <HOW>'",
            ),
            (&["--start-rps", "0"], "must be > 0"),
            (&["--start-rps", "fast"], "'fast' is not a rate"),
            (&["--max-rps", "1.5"], "'1.5' is not a rate"),
            (&["--growth", "1"], "must be > 1"),
            (&["--growth", "0.5"], "must be > 1"),
            (&["--growth", "inf"], "must be > 1"),
            (&["--growth", "x"], "'x' is not a number"),
            (&["--precision", "0"], "must be > 0 and < 1"),
            (&["--precision", "1"], "must be > 0 and < 1"),
            (&["--max-steps", "0"], "must be > 0"),
            (&["--max-steps=-3"], "is not a whole number"),
            (&["--confirm=-1"], "invalid value '-1' for '--confirm <N>'"),
        ];
        for (args, want) in table {
            let err = parse(args).unwrap_err();
            assert!(err.contains(want), "{args:?}: {err}");
        }
    }
}
