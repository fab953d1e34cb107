//! Workload plugins as the engine sees them: found and loaded at run time
//! ([`loader`]), described ([`PluginDescription`]), run ([`Workload`]) and fed
//! a host-side sample sink ([`sink`]); its series are those the started
//! workload declares ([`DeclaredSeries`]). The engine never links a plugin crate.

pub mod loader;
mod series;
pub mod sink;
mod workload;

use serde::{Deserialize, Serialize};

use loadgen_plugin_api::abi::PluginInfo;

pub use loader::{LoadError, LoadedPlugin, PluginSearch};
pub use loadgen_plugin_api::abi::INTERFACE_VERSION;
pub use series::{DeclaredSeries, Slots};
pub use workload::Workload;

/// One declared `-o` option.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionDescription {
    pub name: String,
    pub default: String,
    pub help: String,
}

/// A plugin's self-description, in plain Rust types.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginDescription {
    pub name: String,
    pub version: String,
    pub description: String,
    pub series: Vec<String>,
    pub error_reasons: Vec<String>,
    pub options: Vec<OptionDescription>,
    pub default_steps: String,
    /// `stream/durable` pairs the workload may watch.
    pub durables: Vec<String>,
    /// The counters the workload reports, with what each counts.
    #[serde(default)]
    pub counters: Vec<CounterDescription>,
}

/// One declared counter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterDescription {
    pub name: String,
    pub help: String,
}

impl From<&PluginInfo> for PluginDescription {
    fn from(info: &PluginInfo) -> PluginDescription {
        let strings = |v: &[abi_stable::std_types::RString]| {
            v.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        };
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
}

impl PluginDescription {
    pub fn option(&self, name: &str) -> Option<&OptionDescription> {
        self.options.iter().find(|o| o.name == name)
    }

    pub fn option_names(&self) -> Vec<String> {
        self.options.iter().map(|o| o.name.clone()).collect()
    }
}
