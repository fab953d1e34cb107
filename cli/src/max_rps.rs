//! `loadgen max-rps`: turn the flags into a run, run it, exit by its result.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use loadgen_engine::plugin::{loader, LoadedPlugin, PluginSearch};
use loadgen_engine::ramp::RampConfig;
use loadgen_engine::report::RunSettings;
use loadgen_engine::reporter::ReportTargets;
use loadgen_engine::steps::StepList;
use loadgen_engine::verdict::Slo;
use loadgen_engine::{RunError, RunSpec};
use loadgen_plugin_api::sdk::HostConfig;

use crate::args::MaxRpsArgs;
use crate::failure::{usage, Failure};

pub fn run(args: MaxRpsArgs) -> Result<ExitCode, Failure> {
    let path = PluginSearch::from_env().find(&args.plugin).map_err(usage)?;
    let plugin = loader::load(&path).map_err(usage)?;
    let options = plugin_options(&plugin, &args).map_err(usage)?;
    let steps = match &args.steps {
        Some(steps) => steps.clone(),
        None => plugin
            .description
            .default_steps
            .parse::<StepList>()
            .map_err(|e| {
                usage(anyhow!(
                    "plugin {} declares bad default steps: {e}",
                    plugin.description.name
                ))
            })?,
    };
    let spec = spec(plugin, &args, options, steps);

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
        Err(e) => Err(Failure::Run(e.into())),
    }
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
        if d.option(key).is_none() {
            return Err(anyhow!(
                "unknown option '{key}' for plugin {} (valid: {})",
                d.name,
                d.option_names().join(", ")
            ));
        }
        options.insert(key.clone(), value.clone());
    }
    Ok(options)
}

fn spec(
    plugin: LoadedPlugin,
    args: &MaxRpsArgs,
    options: BTreeMap<String, String>,
    steps: StepList,
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
            rates: steps.0.clone(),
            warmup: args.warmup,
            hold: args.hold,
            drain: args.drain,
            cooldown: args.cooldown,
            stop_on_trip: args.stop_on_trip,
            slo: slo.clone(),
            retry_inconclusive: args.retry_inconclusive,
        },
        settings: RunSettings {
            plugin: plugin.description.name.clone(),
            plugin_version: plugin.description.version.clone(),
            preset,
            options,
            steps: steps.0,
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
        },
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
