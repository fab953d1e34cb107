//! Engine tests against the real plugin libraries the workspace builds.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use loadgen_core::config::{Phases, RunConfig};
use loadgen_core::steps::StepList;
use loadgen_plugin_host::{loader, LoadedPlugin};
use loadgen_runtime::RunSpec;

/// `target/debug/libloadgen_plugin_NAME.so`, which `cargo build --workspace` builds.
pub fn plugin_library(name: &str) -> PathBuf {
    let lib = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
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
    let mut config = RunConfig::new(plugin.description.name.clone());
    config.options = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    config.rates.steps = Some(StepList(rates.to_vec()));
    config.phases = Phases {
        warmup: Duration::from_millis(300),
        hold: Duration::from_millis(1500),
        drain: Duration::from_millis(300),
        cooldown: Duration::ZERO,
    };
    config.outputs.quiet = true;
    RunSpec::new(plugin, config)
}
