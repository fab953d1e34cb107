//! The command line (clap). Values are validated here, so a bad one is a
//! one-line usage error with exit 2 before anything starts.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use loadgen_core::config::{Outputs, Phases, Rates, RunConfig, SearchKind, SeriesSloArg};
use loadgen_core::gates::GateSpec;
use loadgen_core::steps::{parse_rate, StepList, StepListError};
use loadgen_core::verdict::Slo;

/// The command line as clap sees it, with the version line (which names the
/// plugin ABI) filled in: for parsing, completions and man pages alike.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().version(version_line())
}

/// `0.1.0 (plugin ABI: loadgen-plugin-api 0.1.x)`: the plugins this loadgen loads.
fn version_line() -> &'static str {
    static LINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LINE.get_or_init(|| {
        let abi = loadgen_plugin_host::INTERFACE_VERSION;
        let minor: Vec<&str> = abi.split('.').take(2).collect();
        format!(
            "{} (plugin ABI: loadgen-plugin-api {}.x)",
            env!("CARGO_PKG_VERSION"),
            minor.join(".")
        )
    })
}

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "Find the maximum request rate a service sustains under its SLO.",
    long_about = "Drives open-loop load at stepped rates, holds each step, judges it \
                  PASS / TRIP / INCONCLUSIVE from latency, errors, loss and backlog, \
                  and prints `ANSWER: max RPS = N`.\n\n\
                  Exit codes: 0 a step passed; 1 no step passed or the run failed; \
                  2 usage or configuration error; 3 a --fail-on criterion broke \
                  (compare, max-rps --baseline)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ramp the rate step by step and report the highest one that meets the SLO.
    MaxRps(Box<MaxRpsArgs>),
    /// Run load for a coordinator (`max-rps --agents N`) until stopped.
    Agent(distributed::AgentArgs),
    /// Re-render a finished or killed run from its --json report or its --journal.
    Report(crate::report_cmd::ReportArgs),
    /// Compare two runs: capacity and, at every common rate, latency, errors
    /// and backlog, with significance; exit 3 when a --fail-on criterion breaks.
    Compare(crate::compare_cmd::CompareArgs),
    /// List, describe, install and remove workload plugins.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
    },
    /// Print a shell completion script, e.g. `loadgen completions bash > ~/.local/share/bash-completion/completions/loadgen`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (loadgen.1 and one per subcommand) into DIR.
    #[command(hide = true)]
    Man {
        /// Where the pages go (created if missing).
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// List the plugins on the search path: name, version, plugin ABI, library
    /// (a library shadowed by an earlier one of the same name is marked so).
    List {
        /// Print the search path instead: each directory, why it is there, whether it exists.
        #[arg(long)]
        paths: bool,
        #[command(flatten)]
        search: PluginPathArgs,
    },
    /// Describe one plugin: series, default steps, options.
    Info {
        /// A plugin name (e.g. `synthetic`) or the path of a plugin library.
        name: String,
        #[command(flatten)]
        search: PluginPathArgs,
    },
    /// Check a plugin library as a run would, then copy it into your plugin
    /// directory ($XDG_DATA_HOME/loadgen/plugins) as libloadgen_plugin_NAME.so.
    Install {
        /// The plugin library (.so) to install.
        file: PathBuf,
        /// Replace an installed plugin of the same name.
        #[arg(long)]
        force: bool,
    },
    /// Remove a plugin from your plugin directory (bundled plugins stay).
    Remove {
        /// The plugin's name, as `plugins list` shows it.
        name: String,
    },
}

/// Plugin directories searched before the usual places.
#[derive(Debug, Args)]
pub struct PluginPathArgs {
    /// Directory to load plugins from, searched before $LOADGEN_PLUGIN_PATH and the usual places (repeatable).
    #[arg(long, value_name = "DIR")]
    pub plugin_path: Vec<PathBuf>,
}

/// `loadgen max-rps`: every flag but `--config`, `--print-config` and
/// `--resume` can also come from a `--config` TOML file (same names).
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct MaxRpsArgs {
    #[command(flatten)]
    pub plugin: PluginArgs,
    #[command(flatten)]
    pub rates: RateArgs,
    #[command(flatten)]
    pub phases: PhaseArgs,
    #[command(flatten)]
    pub slo: SloArgs,
    #[command(flatten)]
    pub outputs: OutputArgs,
    #[command(flatten)]
    pub run: RunFileArgs,
    #[command(flatten)]
    pub distributed: distributed::DistributedArgs,
    #[command(flatten)]
    pub ci: crate::baseline::CiArgs,
}

const AFTER_HELP: &str = "\
Examples (one per bundled plugin):
  loadgen max-rps --plugin synthetic -o capacity=3000 --steps 1k,2k,4k,8k --warmup 1s --hold 3s
  loadgen max-rps --plugin echo --steps 1k,10k,100k --hold 10s
  loadgen max-rps --plugin messages --preset medium --journal run.journal
  loadgen max-rps --plugin history --search adaptive --start-rps 200 --max-rps 5k
  loadgen max-rps --config run.toml --hold 10s     (flags override the file)
  loadgen max-rps --resume run.journal             (continue a killed run)
  loadgen max-rps --plugin http -o url=http://svc:8080/ --agents 3 --control-url nats://ctl:4222
                                                   (with `loadgen agent --nats nats://ctl:4222` on 3 boxes)";

#[derive(Debug, Args)]
#[command(next_help_heading = "Plugin")]
pub struct PluginArgs {
    /// Workload plugin: a name (looked up as libloadgen_plugin_NAME.so) or a path to a .so.
    #[arg(long)]
    pub plugin: Option<String>,

    /// Fixture preset (sets the plugin's `preset` option).
    #[arg(long)]
    pub preset: Option<String>,

    /// Plugin option KEY=VALUE (repeatable); see `loadgen plugins info NAME`.
    #[arg(short = 'o', long = "option", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub options: Vec<(String, String)>,

    /// Seed for fixtures and random choices.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    #[command(flatten)]
    pub search: PluginPathArgs,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Rates and search")]
pub struct RateArgs {
    /// Target rates, strictly ascending, at most 100M; `k` = ×1000 [default: the plugin's].
    #[arg(long, value_parser = parse_steps)]
    pub steps: Option<StepList>,

    /// How the rates are chosen: `fixed` runs --steps in order; `adaptive`
    /// grows from --start-rps (at most ×--growth a probe) until a rate is too
    /// high, then lets what each probe measured (gate margins, backlog trend,
    /// the throughput above capacity) choose the next rate, bisecting when
    /// that model is contradicted, until the bracket is within --precision.
    #[arg(long, value_enum, default_value_t = SearchArg::Fixed, value_name = "HOW")]
    pub search: SearchArg,

    /// Adaptive: the first rate probed; `k` = ×1000 [default: the plugin's first step].
    #[arg(long, value_name = "RPS", value_parser = parse_rps)]
    pub start_rps: Option<u64>,

    /// Adaptive: never probe above this rate [default: no cap; --max-steps bounds the run].
    #[arg(long, value_name = "RPS", value_parser = parse_rps)]
    pub max_rps: Option<u64>,

    /// Adaptive: range finding grows the rate at most this much per PASS (> 1) [default: 4].
    #[arg(long, value_name = "FACTOR", value_parser = parse_growth)]
    pub growth: Option<f64>,

    /// Adaptive: stop once (trip - pass) / pass is at most this (0 < p < 1) [default: 0.02].
    #[arg(long, value_name = "FRACTION", value_parser = parse_fraction)]
    pub precision: Option<f64>,

    /// Adaptive: most probes to run, re-runs included and --confirm runs not [default: 12].
    #[arg(long, value_name = "N", value_parser = parse_positive::<u32>)]
    pub max_steps: Option<u32>,

    /// Re-run the answer this many times after the search; reports how many
    /// held [default: 1 for --search adaptive, 0 for the ladder; 0 skips].
    #[arg(long, value_name = "N")]
    pub confirm: Option<u32>,

    /// Stop at the first TRIP (fixed search; the adaptive search always bisects below it).
    #[arg(long, default_value_t = true, action = ArgAction::Set, value_name = "BOOL")]
    pub stop_on_trip: bool,

    /// Re-runs of an INCONCLUSIVE step.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub retry_inconclusive: u32,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Phases of each step")]
pub struct PhaseArgs {
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
}

#[derive(Debug, Args)]
#[command(next_help_heading = "SLO (what a step must meet to PASS)")]
pub struct SloArgs {
    /// Highest acceptable p95 latency of every series.
    #[arg(long, default_value = "100ms", value_parser = parse_positive_duration)]
    pub slo_p95: Duration,

    /// Highest acceptable p99 latency of every series.
    #[arg(long, default_value = "250ms", value_parser = parse_positive_duration)]
    pub slo_p99: Duration,

    /// One series' own limits, e.g. 'order:p99=500ms,p95=300ms' (repeatable;
    /// over the plugin's own and the global ones; a later one replaces only
    /// the limits it gives). The series must be one the plugin declares.
    #[arg(
        long = "slo-series",
        value_name = "NAME:p95=D,p99=D",
        value_parser = parse_slo_series
    )]
    pub slo_series: Vec<SeriesSloArg>,

    /// Highest acceptable failed/attempted, in (0, 1].
    #[arg(long, default_value_t = 0.001, value_parser = parse_slo_fraction)]
    pub slo_error_rate: f64,

    /// Highest acceptable lost/attempted, in (0, 1].
    #[arg(long, default_value_t = 0.001, value_parser = parse_slo_fraction)]
    pub slo_loss_rate: f64,

    /// Highest acceptable growth of any backlog (pending + unacknowledged) over the hold.
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
    #[arg(long = "slo-counter", value_name = "EXPR", value_parser = parse_gate)]
    pub slo_counter: Vec<GateSpec>,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Outputs (created before the first step)")]
pub struct OutputArgs {
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

    /// No live progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Configuration")]
pub struct RunFileArgs {
    /// Read flags from this TOML file (same names; `-o` options as an
    /// [options] table); flags given on the command line override it.
    #[arg(long, value_name = "run.toml")]
    pub config: Option<PathBuf>,

    /// Print the resolved configuration as TOML and exit.
    #[arg(long)]
    pub print_config: bool,

    /// Continue the run recorded in this journal: its configuration comes
    /// from the journal (a flag that differs is refused), finished steps are
    /// kept, the run goes on from the next one.
    #[arg(long, value_name = "PATH")]
    pub resume: Option<PathBuf>,

    /// Plain progress lines on stderr instead of the live terminal view
    /// (which a terminal otherwise gets; a pipe always gets the lines).
    #[arg(long = "no-tui")]
    pub no_tui: bool,
}

/// `--search`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SearchArg {
    /// Run --steps (or the plugin's default steps) in order.
    Fixed,
    /// Grow from --start-rps until the first TRIP, then bisect to --precision.
    Adaptive,
}

impl MaxRpsArgs {
    /// The run configuration these flags describe (not yet resolved against
    /// the plugin). `None` without `--plugin`.
    pub fn config(&self) -> Option<RunConfig> {
        let (p, r, ph, slo, out) = (
            &self.plugin,
            &self.rates,
            &self.phases,
            &self.slo,
            &self.outputs,
        );
        Some(RunConfig {
            plugin: p.plugin.clone()?,
            preset: p.preset.clone(),
            seed: p.seed,
            rates: Rates {
                steps: r.steps.clone(),
                search: match r.search {
                    SearchArg::Fixed => SearchKind::Fixed,
                    SearchArg::Adaptive => SearchKind::Adaptive,
                },
                start_rps: r.start_rps,
                max_rps: r.max_rps,
                growth: r.growth,
                precision: r.precision,
                max_steps: r.max_steps,
                confirm: r.confirm,
                stop_on_trip: r.stop_on_trip,
                retry_inconclusive: r.retry_inconclusive,
            },
            phases: Phases {
                warmup: ph.warmup,
                hold: ph.hold,
                drain: ph.drain,
                cooldown: ph.cooldown,
            },
            slo: Slo {
                p95: slo.slo_p95,
                p99: slo.slo_p99,
                error_rate: slo.slo_error_rate,
                loss_rate: slo.slo_loss_rate,
                pending_growth: slo.slo_pending_growth,
                rate_tolerance: slo.rate_tolerance,
                series: SeriesSloArg::merge(&slo.slo_series),
            },
            scrape: slo.scrape.clone(),
            slo_counter: slo.slo_counter.clone(),
            outputs: Outputs {
                csv: out.csv.clone(),
                json: out.json.clone(),
                report: out.report.clone(),
                journal: out.journal.clone(),
                metrics_addr: out.metrics_addr,
                quiet: out.quiet,
            },
            options: joined_options(&p.options),
        })
    }
}

/// `-o` pairs as the plugin gets them: a key given more than once (`-o header=…`
/// twice) reaches the plugin as one value per line; a plugin whose option is
/// not repeatable refuses the joined value when it parses it.
fn joined_options(pairs: &[(String, String)]) -> std::collections::BTreeMap<String, String> {
    let mut options = std::collections::BTreeMap::<String, String>::new();
    for (key, value) in pairs {
        options
            .entry(key.clone())
            .and_modify(|given| {
                given.push('\n');
                given.push_str(value);
            })
            .or_insert_with(|| value.clone());
    }
    options
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

fn parse_slo_series(s: &str) -> Result<SeriesSloArg, String> {
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
        .map_err(|e: loadgen_core::steps::StepListError| e.to_string())
}

/// One rate: `500`, `2k`, `1.5k`.
fn parse_rps(s: &str) -> Result<u64, String> {
    parse_rate(s).map_err(|e| match e {
        StepListError::NotPositive(_) => "must be > 0".to_string(),
        StepListError::TooHigh(_) => e.to_string(),
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
pub(crate) fn parse_positive<T>(s: &str) -> Result<T, String>
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

pub(crate) fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err("must be > 0".into());
    }
    Ok(d)
}

/// An SLO fraction: 1 (everything may fail) is a valid, if lax, bound.
fn parse_slo_fraction(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err("must be > 0 and <= 1".into())
    }
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err("must be > 0 and < 1".into())
    }
}

pub mod distributed;

#[cfg(test)]
mod tests;
