//! Workload plugins as the engine sees them: found and loaded at run time
//! ([`loader`]), described ([`PluginDescription`]), run ([`Workload`]) and fed
//! the host's sample sink (any `SampleSink`). The engine never links a plugin crate.

pub mod loader;
mod series;
mod workload;

use loadgen_core::config::RunConfig;
use loadgen_plugin_api::abi::{HostConfig, PluginInfo};

pub use loader::{LoadError, LoadedPlugin, PluginSearch};
pub use loadgen_core::plugin::{
    CounterDescription, DeclaredSeries, OptionDescription, PluginDescription, Slots,
};
pub use loadgen_plugin_api::abi::INTERFACE_VERSION;
pub use series::declared_series;
pub use workload::{AheadTally, Workload};

/// A plugin's self-description from its `PluginInfo`.
pub fn describe(info: &PluginInfo) -> PluginDescription {
    let strings =
        |v: &[abi_stable::std_types::RString]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    PluginDescription {
        name: info.name.to_string(),
        version: info.version.to_string(),
        description: info.description.to_string(),
        series: strings(&info.series),
        error_reasons: strings(&info.error_reasons),
        options: info
            .options
            .iter()
            .map(|o| OptionDescription {
                name: o.name.to_string(),
                default: o.default.to_string(),
                help: o.help.to_string(),
                secret: false,
            })
            .collect(),
        default_steps: info.default_steps.to_string(),
        durables: info
            .durables
            .iter()
            .map(|d| format!("{}/{}", d.stream, d.durable))
            .collect(),
        counters: info
            .counters
            .iter()
            .map(|c| CounterDescription {
                name: c.name.to_string(),
                help: c.help.to_string(),
            })
            .collect(),
    }
}

/// What the plugin is started with: the one place a `HostConfig` is built.
pub fn host_config(config: &RunConfig) -> HostConfig {
    HostConfig {
        options: config.plugin_options(),
        seed: config.seed,
        loss_timeout_ms: config.phases.drain.as_millis() as u64,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_host_config_carries_options_preset_seed_and_drain() {
        let mut c = RunConfig::new("synthetic");
        c.preset = Some("medium".into());
        c.options.insert("capacity".into(), "3000".into());
        c.phases.drain = Duration::from_millis(1500);
        let host = host_config(&c);
        assert_eq!(
            host.options.get("preset").map(String::as_str),
            Some("medium")
        );
        assert_eq!(host.options.len(), 2);
        assert_eq!((host.seed, host.loss_timeout_ms), (42, 1500));
    }
}
