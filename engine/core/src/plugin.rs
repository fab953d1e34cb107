//! What a workload plugin says about itself, in plain Rust types: its series,
//! options, counters and durables. Loading plugins is the plugin-host crate's.

use serde::{Deserialize, Serialize};

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

impl PluginDescription {
    pub fn option(&self, name: &str) -> Option<&OptionDescription> {
        self.options.iter().find(|o| o.name == name)
    }

    pub fn option_names(&self) -> Vec<String> {
        self.options.iter().map(|o| o.name.clone()).collect()
    }
}
