//! `loadgen max-rps`: gather the run configuration (journal, `--config`,
//! flags), check it against the plugin, run it, exit by its result.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use clap::ArgMatches;
use loadgen_core::config::RunConfig;
use loadgen_core::journal::{Journal, JournalHeader};
use loadgen_core::report::StepReport;
use loadgen_distributed::join::FleetOptions;
use loadgen_distributed::signing::{ControlKey, Side};
use loadgen_plugin_host::{loader, PluginSearch};
use loadgen_report::outputs::{write_outputs, ReportTargets};
use loadgen_runtime::report::RunReport;
use loadgen_runtime::run::RemoteLoad;
use loadgen_runtime::{RunError, RunSpec};

use crate::args::MaxRpsArgs;
use crate::baseline::Ci;
use crate::failure::{usage, Failure};
use crate::layers::{self, Layer};
use crate::tui::LiveView;

/// Keys that may differ from a resumed journal's: where results go.
const FREE_ON_RESUME: &[&str] = &["csv", "json", "report", "journal", "metrics-addr", "quiet"];

/// `user` is the command line after `max-rps`, `matches` its parse.
pub fn run(args: MaxRpsArgs, user: &[OsString], matches: &ArgMatches) -> Result<ExitCode, Failure> {
    let usage_text = |e: String| usage(anyhow!(e));
    let resumed = match &args.run.resume {
        Some(path) => Some(Journal::resume(path).map_err(usage_text)?),
        None => None,
    };
    let mut layers = Vec::new();
    if let (Some(path), Some((_, header, _))) = (&args.run.resume, &resumed) {
        layers.push(Layer::journal(path, &header.config));
    }
    if let Some(path) = &args.run.config {
        layers.push(Layer::read(path).map_err(usage_text)?);
    }
    let args = if layers.is_empty() {
        args
    } else {
        layers::parse(user, matches, &layers).map_err(usage_text)?
    };
    let config = args.config().ok_or_else(|| {
        usage_text(
            "no plugin: give --plugin NAME, `plugin = \"NAME\"` in --config, or --resume JOURNAL"
                .into(),
        )
    })?;

    if let (Some(path), Some((_, recorded, _))) = (&args.run.resume, &resumed) {
        same_plugin(path, &recorded.config, &config).map_err(usage_text)?;
    }
    let path = PluginSearch::with_plugin_path(&args.plugin.search.plugin_path)
        .find(&config.plugin)
        .map_err(usage)?;
    let plugin = loader::load(&path).map_err(usage)?;
    let config = config.resolve(&plugin.description).map_err(usage_text)?;
    crate::redacting::install(config.redactor(&plugin.description));
    // What every output shows: credentials as `***` (the plugin gets `config`).
    let shown = config.redacted(&plugin.description);
    if args.run.print_config {
        print!("{}", shown.to_toml());
        return Ok(ExitCode::SUCCESS);
    }
    let hidden = config.hidden_options(&plugin.description);
    if let Some(first) = hidden.first() {
        return Err(usage_text(hidden_refusal(&hidden, first)));
    }
    let ci = Ci::prepare(&args.ci, &shown)?;
    let header = JournalHeader {
        config: shown,
        plugin_version: plugin.description.version.clone(),
    };
    let (journal, finished) = match (resumed, &args.run.resume) {
        (Some((journal, recorded, steps)), Some(path)) => {
            same_run(path, &recorded, &header).map_err(usage_text)?;
            loadgen_runtime::run::check_resume(&config, &steps).map_err(usage_text)?;
            eprintln!("resuming after {} finished steps", steps.len());
            (Some(journal), steps)
        }
        _ => match &config.outputs.journal {
            Some(path) => (
                Some(Journal::create(path, &header).map_err(usage_text)?),
                Vec::<StepReport>::new(),
            ),
            None => (None, Vec::new()),
        },
    };
    // Local or fleet: the one place a run's load source is chosen.
    let remote = fleet_options(&args)?.map(|options| Box::new(options) as Box<dyn RemoteLoad>);
    let spec = RunSpec {
        remote,
        journal,
        resumed: finished,
        console: true,
        metrics: config
            .outputs
            .metrics_addr
            .map(metrics_listener)
            .transpose()?,
        ..RunSpec::new(plugin, config)
    };

    let runtime = runtime()?;
    let report = if crate::tui::wanted(args.run.no_tui, spec.config.outputs.quiet) {
        run_with_live_view(&runtime, spec)?
    } else {
        runtime.block_on(loadgen_runtime::run(spec, shutdown_signal()))
    };
    match report {
        Ok(report) => Ok(match ci.finish(&report)? {
            Some(regressed) => regressed,
            None if report.answer.max_rps.is_some() => ExitCode::SUCCESS,
            None => ExitCode::from(1),
        }),
        Err(RunError::Start(e)) => Err(usage(e)),
        Err(RunError::Config(e)) => Err(usage(anyhow!(e))),
        Err(e) => Err(Failure::Run(e.into())),
    }
}

/// Options a journal or printed config keeps as `***`: the run needs their
/// values again, as they were never written.
fn hidden_refusal(hidden: &[&str], first: &str) -> String {
    let names: Vec<String> = hidden.iter().map(|k| format!("'{k}'")).collect();
    let (which, them) = match hidden.len() {
        1 => ("option", "it"),
        _ => ("options", "them"),
    };
    format!(
        "{which} {} hidden (***) in the journal or config file (credentials are never \
         written): give {them} again, e.g. -o {first}=…",
        names.join(", ")
    )
}

/// The async runtime a command runs on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Failure::Run)
}

/// The run under the live terminal view: the view owns the terminal until
/// the run ends, then the table and ANSWER are printed below it as usual.
fn run_with_live_view(
    runtime: &tokio::runtime::Runtime,
    mut spec: RunSpec,
) -> Result<Result<RunReport, RunError>, Failure> {
    let (view, events, quit) = LiveView::start(&spec.config)
        .context("cannot start the live view (try --no-tui)")
        .map_err(Failure::Run)?;
    spec.live = Some(events);
    spec.console = false;
    let stop = async {
        tokio::select! {
            _ = shutdown_signal() => {}
            // The view says it is stopping; a line here would draw over it.
            Ok(()) = quit => {}
        }
    };
    let report = runtime.block_on(loadgen_runtime::run(spec, stop));
    view.finish();
    if let Ok(report) = &report {
        let console = ReportTargets {
            console: true,
            ..ReportTargets::default()
        };
        write_outputs(&console, report).map_err(|e| Failure::Run(anyhow!(e)))?;
    }
    Ok(report)
}

/// `--agents N` and its companions, checked; `None` for a local run.
fn fleet_options(args: &MaxRpsArgs) -> Result<Option<FleetOptions>, Failure> {
    let d = &args.distributed;
    let Some(agents) = d.agents else {
        return Ok(None);
    };
    if d.min_agents > agents {
        return Err(usage(anyhow!(
            "--min-agents {} is more than --agents {agents}",
            d.min_agents
        )));
    }
    Ok(Some(FleetOptions {
        control_url: d.control_url.clone().unwrap_or_else(default_nats_url),
        prefix: d.control_prefix.clone(),
        agents,
        min_agents: d.min_agents,
        timeout: d.agents_timeout,
        key: match &d.control_key {
            Some(path) => Some(std::sync::Arc::new(
                ControlKey::load(path, Side::Coordinator).map_err(|e| usage(anyhow!(e)))?,
            )),
            None => None,
        },
    }))
}

/// `$NATS_URL`, else the local default.
pub(crate) fn default_nats_url() -> String {
    std::env::var("NATS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into())
}

/// A resumed run must be the journal's run: same plugin (and version) and
/// the same value for every setting but where the results go.
fn same_run(path: &Path, recorded: &JournalHeader, now: &JournalHeader) -> Result<(), String> {
    let shown = path.display();
    same_plugin(path, &recorded.config, &now.config)?;
    if recorded.plugin_version != now.plugin_version {
        return Err(format!(
            "journal {shown} was written with plugin {} {}; this is {}",
            recorded.config.plugin, recorded.plugin_version, now.plugin_version
        ));
    }
    match differing_key(&recorded.config, &now.config) {
        None => Ok(()),
        Some((key, was, is)) => Err(format!(
            "--{key} {is} differs from the journal's {was} ({shown}): resume with the journal's settings"
        )),
    }
}

fn same_plugin(path: &Path, recorded: &RunConfig, now: &RunConfig) -> Result<(), String> {
    if recorded.plugin == now.plugin {
        return Ok(());
    }
    Err(format!(
        "journal {} is a run of plugin {}, not {}",
        path.display(),
        recorded.plugin,
        now.plugin
    ))
}

/// The first setting (by flag name) whose values differ, with both values.
fn differing_key(a: &RunConfig, b: &RunConfig) -> Option<(String, String, String)> {
    let (a, b) = (a.to_table(), b.to_table());
    let shown = |v: Option<&toml::Value>| match v {
        None => "(unset)".to_string(),
        Some(toml::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !FREE_ON_RESUME.contains(&k.as_str()))
        .find(|k| a.get(*k) != b.get(*k))
        .map(|k| (k.clone(), shown(a.get(k)), shown(b.get(k))))
}

/// `--metrics-addr`: bound now, so a taken or bad address is a usage error
/// before any load starts; the address actually bound is printed (port 0).
fn metrics_listener(addr: std::net::SocketAddr) -> Result<std::net::TcpListener, Failure> {
    let listener = std::net::TcpListener::bind(addr)
        .with_context(|| format!("--metrics-addr {addr}: cannot listen"))
        .map_err(usage)?;
    let bound = listener.local_addr().unwrap_or(addr);
    eprintln!("metrics: http://{bound}/metrics");
    Ok(listener)
}

/// Resolves on the first SIGINT or SIGTERM, saying what a run does then.
async fn shutdown_signal() {
    signal_received().await;
    eprintln!("interrupted: stopping load, reporting the steps that finished");
}

/// Resolves on the first SIGINT or SIGTERM.
pub(crate) async fn signal_received() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_differing_setting_is_named_with_both_values() {
        let a = RunConfig::new("synthetic");
        let mut b = a.clone();
        b.phases.hold = std::time::Duration::from_secs(5);
        b.outputs.csv = Some("elsewhere.csv".into());
        assert_eq!(
            differing_key(&a, &b),
            Some(("hold".into(), "30s".into(), "5s".into()))
        );
        let mut c = a.clone();
        c.outputs.json = Some("x.json".into());
        assert_eq!(differing_key(&a, &c), None);
        c.options.insert("capacity".into(), "1".into());
        assert_eq!(differing_key(&a, &c).map(|d| d.0), Some("options".into()));
    }
}
