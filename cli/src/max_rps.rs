//! `loadgen max-rps`: turn the flags into a run, run it, exit by its result.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use loadgen_engine::journal::{Journal, JournalHeader};
use loadgen_engine::plugin::{loader, LoadedPlugin, PluginSearch};
use loadgen_engine::ramp::{replay, RampConfig};
use loadgen_engine::report::RunSettings;
use loadgen_engine::reporter::ReportTargets;
use loadgen_engine::search::{Adaptive, Plan, Probe, Search};
use loadgen_engine::steps::StepList;
use loadgen_engine::verdict::Slo;
use loadgen_engine::{RunError, RunSpec};
use loadgen_plugin_api::abi::HostConfig;

use crate::args::{MaxRpsArgs, SearchKind};
use crate::failure::{usage, Failure};

pub fn run(args: MaxRpsArgs) -> Result<ExitCode, Failure> {
    args.check_search().map_err(|e| usage(anyhow!(e)))?;
    let path = PluginSearch::from_env().find(&args.plugin).map_err(usage)?;
    let plugin = loader::load(&path).map_err(usage)?;
    let options = plugin_options(&plugin, &args).map_err(usage)?;
    let plan = plan(&plugin, &args).map_err(usage)?;
    let mut spec = spec(plugin, &args, options, plan);
    journal(&mut spec, &args).map_err(|e| usage(anyhow!(e)))?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Failure::Run)?;
    let report = runtime.block_on(loadgen_engine::run(spec, shutdown_signal()));
    match report {
        Ok(report) if report.answer.max_rps.is_some() => Ok(ExitCode::SUCCESS),
        Ok(_) => Ok(ExitCode::from(1)),
        Err(RunError::Start(e)) => Err(usage(e)),
        Err(RunError::Config(e)) => Err(usage(anyhow!(e))),
        Err(e) => Err(Failure::Run(e.into())),
    }
}

/// `--journal PATH` starts a journal; `--resume PATH` continues the run it
/// records: same settings, finished steps replayed, not re-run.
fn journal(spec: &mut RunSpec, args: &MaxRpsArgs) -> Result<(), String> {
    let header = JournalHeader {
        settings: spec.settings.clone(),
        plan: spec.ramp.plan.clone(),
        retry_inconclusive: spec.ramp.retry_inconclusive,
        confirm: spec.ramp.confirm,
    };
    if let Some(path) = &args.journal {
        spec.journal = Some(Journal::create(path, &header)?);
    }
    if let Some(path) = &args.resume {
        let (journal, finished) = Journal::resume(path, &header)?;
        let mut search = Search::new(spec.ramp.plan.clone())
            .retry_inconclusive(spec.ramp.retry_inconclusive)
            .confirm(spec.ramp.confirm);
        if let Probe::Done(_) = replay(&mut search, &finished)? {
            return Err(format!("the run in {} already finished", path.display()));
        }
        eprintln!("resuming after {} finished steps", finished.len());
        spec.ramp.resumed = finished;
        spec.journal = Some(journal);
    }
    Ok(())
}

/// The rates to run: `--steps` (default: the plugin's) as a fixed ladder, or
/// the adaptive search from `--start-rps` (default: the plugin's first step).
fn plan(plugin: &LoadedPlugin, args: &MaxRpsArgs) -> anyhow::Result<Plan> {
    let d = &plugin.description;
    let default_steps = || {
        d.default_steps
            .parse::<StepList>()
            .map_err(|e| anyhow!("plugin {} declares bad default steps: {e}", d.name))
    };
    Ok(match args.search {
        SearchKind::Fixed => Plan::Fixed {
            rates: match &args.steps {
                Some(steps) => steps.0.clone(),
                None => default_steps()?.0,
            },
            stop_on_trip: args.stop_on_trip,
        },
        SearchKind::Adaptive => {
            let start_rps = match args.start_rps {
                Some(rps) => rps,
                // A parsed StepList is never empty.
                None => default_steps()?.0[0],
            };
            if let Some(max) = args.max_rps.filter(|&max| start_rps > max) {
                return Err(anyhow!(
                    "--start-rps {start_rps} is above --max-rps {max}{}",
                    if args.start_rps.is_none() {
                        format!(
                            " (the start rate defaults to plugin {}'s first step)",
                            d.name
                        )
                    } else {
                        String::new()
                    }
                ));
            }
            let defaults = Adaptive::new(start_rps);
            Plan::Adaptive(Adaptive {
                max_rps: args.max_rps,
                growth: args.growth.unwrap_or(defaults.growth),
                precision: args.precision.unwrap_or(defaults.precision),
                max_steps: args.max_steps.unwrap_or(defaults.max_steps),
                ..defaults
            })
        }
    })
}

/// `-o` pairs (and `--preset`) checked against the plugin's declared options.
fn plugin_options(
    plugin: &LoadedPlugin,
    args: &MaxRpsArgs,
) -> anyhow::Result<BTreeMap<String, String>> {
    let d = &plugin.description;
    let mut options = BTreeMap::new();
    if let Some(preset) = &args.preset {
        if d.option("preset").is_none() {
            return Err(anyhow!("plugin {} has no presets (--preset)", d.name));
        }
        options.insert("preset".to_string(), preset.clone());
    }
    for (key, value) in &args.options {
        let Some(declared) = d.option(key) else {
            return Err(anyhow!(
                "unknown option '{key}' for plugin {} (valid: {})",
                d.name,
                d.option_names().join(", ")
            ));
        };
        // A repeatable option (`header`, `durable`) reaches the plugin one value per line.
        match options.get_mut(key) {
            Some(given) if declared.help.contains("repeatable") => {
                given.push('\n');
                given.push_str(value);
            }
            _ => {
                options.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(options)
}

fn spec(
    plugin: LoadedPlugin,
    args: &MaxRpsArgs,
    options: BTreeMap<String, String>,
    plan: Plan,
) -> RunSpec {
    let slo = Slo {
        p95: args.slo_p95,
        p99: args.slo_p99,
        error_rate: args.slo_error_rate,
        loss_rate: args.slo_loss_rate,
        pending_growth: args.slo_pending_growth,
        rate_tolerance: args.rate_tolerance,
    };
    let ms = |d: std::time::Duration| d.as_millis() as u64;
    let preset = options.get("preset").cloned().or_else(|| {
        plugin
            .description
            .option("preset")
            .map(|o| o.default.clone())
    });
    RunSpec {
        host: HostConfig {
            options: options.clone(),
            seed: args.seed,
            loss_timeout_ms: ms(args.drain),
        },
        ramp: RampConfig {
            plan: plan.clone(),
            warmup: args.warmup,
            hold: args.hold,
            drain: args.drain,
            cooldown: args.cooldown,
            slo: slo.clone(),
            retry_inconclusive: args.retry_inconclusive,
            confirm: args.confirm,
            scrape_urls: args.scrape.clone(),
            counter_gates: args.slo_counter.clone(),
            resumed: Vec::new(),
        },
        settings: RunSettings {
            plugin: plugin.description.name.clone(),
            plugin_version: plugin.description.version.clone(),
            preset,
            options,
            // The ladder's rates; the adaptive search's are in the report's steps.
            steps: match plan {
                Plan::Fixed { rates, .. } => rates,
                Plan::Adaptive(_) => Vec::new(),
            },
            warmup_ms: ms(args.warmup),
            hold_ms: ms(args.hold),
            drain_ms: ms(args.drain),
            cooldown_ms: ms(args.cooldown),
            stop_on_trip: args.stop_on_trip,
            seed: args.seed,
            slo,
        },
        outputs: ReportTargets {
            console: true,
            progress: !args.quiet,
            csv: args.csv.clone(),
            json: args.json.clone(),
            html: args.report.clone(),
        },
        journal: None,
        plugin,
    }
}

/// Resolves on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("interrupted: stopping load, reporting the steps that finished");
}
