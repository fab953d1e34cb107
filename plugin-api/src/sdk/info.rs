//! [`Info`]: a plugin's self-description, written as plain Rust.

use abi_stable::std_types::RString;

use crate::abi::{OptionSpec, PendingTarget, PluginInfo};

/// One declared option: its name, default value (as the user would type it) and help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionDecl {
    pub name: String,
    pub default: String,
    pub help: String,
}

/// Builder for [`PluginInfo`].
#[derive(Clone, Debug)]
pub struct Info {
    pub name: String,
    pub version: String,
    pub description: String,
    pub series: Vec<String>,
    pub error_reasons: Vec<String>,
    pub options: Vec<OptionDecl>,
    pub default_steps: String,
    pub durables: Vec<PendingTarget>,
}

impl Info {
    pub fn new(name: &str, version: &str, description: &str) -> Info {
        Info {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            series: Vec::new(),
            error_reasons: Vec::new(),
            options: Vec::new(),
            default_steps: "1k,2k,5k,10k".into(),
            durables: Vec::new(),
        }
    }

    pub fn series(mut self, names: &[&str]) -> Info {
        self.series = names.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn error_reasons(mut self, names: &[&str]) -> Info {
        self.error_reasons = names.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn option(mut self, name: &str, default: &str, help: &str) -> Info {
        self.options.push(OptionDecl {
            name: name.into(),
            default: default.into(),
            help: help.into(),
        });
        self
    }

    pub fn default_steps(mut self, steps: &str) -> Info {
        self.default_steps = steps.into();
        self
    }

    pub fn durable(mut self, stream: &str, durable: &str) -> Info {
        self.durables.push(PendingTarget::new(stream, durable));
        self
    }

    /// Index of a series by name, for `Sample::series`.
    pub fn series_index(&self, name: &str) -> Option<u16> {
        self.series.iter().position(|s| s == name).map(|i| i as u16)
    }

    pub fn to_abi(&self) -> PluginInfo {
        let strings = |v: &[String]| v.iter().map(|s| RString::from(s.as_str())).collect();
        PluginInfo {
            name: self.name.as_str().into(),
            version: self.version.as_str().into(),
            description: self.description.as_str().into(),
            series: strings(&self.series),
            error_reasons: strings(&self.error_reasons),
            options: self
                .options
                .iter()
                .map(|o| OptionSpec {
                    name: o.name.as_str().into(),
                    default: o.default.as_str().into(),
                    help: o.help.as_str().into(),
                })
                .collect(),
            default_steps: self.default_steps.as_str().into(),
            durables: self.durables.iter().cloned().collect(),
        }
    }
}
