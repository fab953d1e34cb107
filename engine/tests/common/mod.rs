//! Engine tests against the real plugin libraries the workspace builds.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use loadgen_engine::plugin::{loader, LoadedPlugin};
use loadgen_engine::ramp::RampConfig;
use loadgen_engine::report::RunSettings;
use loadgen_engine::reporter::ReportTargets;
use loadgen_engine::search::Plan;
use loadgen_engine::verdict::Slo;
use loadgen_engine::RunSpec;
use loadgen_plugin_api::abi::HostConfig;

/// `target/debug/libloadgen_plugin_NAME.so`, which `cargo build --workspace` builds.
pub fn plugin_library(name: &str) -> PathBuf {
    let lib = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("debug")
        .join(format!("libloadgen_plugin_{name}.so"));
    assert!(
        lib.is_file(),
        "{} is missing: run `cargo build --workspace` before the tests",
        lib.display()
    );
    lib
}

pub fn load(name: &str) -> LoadedPlugin {
    loader::load(&plugin_library(name)).expect("plugin loads")
}

/// A quick run: short phases, no console output; tests change what differs.
pub fn quick_spec(plugin: &str, options: &[(&str, &str)], rates: &[u64]) -> RunSpec {
    let plugin = load(plugin);
    let options: std::collections::BTreeMap<String, String> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let ramp = RampConfig {
        plan: Plan::Fixed {
            rates: rates.to_vec(),
            stop_on_trip: true,
        },
        warmup: Duration::from_millis(300),
        hold: Duration::from_millis(1500),
        drain: Duration::from_millis(300),
        cooldown: Duration::ZERO,
        slo: Slo::default(),
        retry_inconclusive: 1,
        confirm: 0,
        scrape_urls: Vec::new(),
        counter_gates: Vec::new(),
        resumed: Vec::new(),
    };
    RunSpec {
        host: HostConfig {
            options: options.clone(),
            seed: 42,
            loss_timeout_ms: 300,
        },
        settings: RunSettings {
            plugin: plugin.description.name.clone(),
            plugin_version: plugin.description.version.clone(),
            preset: None,
            options,
            steps: rates.to_vec(),
            warmup_ms: 300,
            hold_ms: 1500,
            drain_ms: 300,
            cooldown_ms: 0,
            stop_on_trip: true,
            seed: 42,
            slo: Slo::default(),
        },
        ramp,
        outputs: ReportTargets::default(),
        journal: None,
        plugin,
    }
}
