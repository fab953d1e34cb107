//! What a workload plugin says about itself, in plain Rust types: its series,
//! options, counters and durables. Loading plugins is the plugin-host crate's.

use std::collections::HashSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::verdict::SeriesSlo;

/// One declared `-o` option.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionDescription {
    pub name: String,
    pub default: String,
    pub help: String,
    /// Declared a credential (`sdk::Secret`): its value is shown as `***`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
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

    /// Did the plugin declare option `name` a credential?
    pub fn is_secret(&self, name: &str) -> bool {
        self.option(name).is_some_and(|o| o.secret)
    }

    pub fn option_names(&self) -> Vec<String> {
        self.options.iter().map(|o| o.name.clone()).collect()
    }
}

/// One latency series of a run, as the started workload declared it
/// (`Workload::series_at_start`): every output lists the run's series so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredSeries {
    /// What its samples carry in `Sample::series`.
    pub id: u16,
    pub name: String,
    /// The limits the plugin declared for it (the user's `--slo-series` win).
    #[serde(default)]
    pub slo: SeriesSlo,
}

impl DeclaredSeries {
    pub fn new(id: u16, name: &str) -> DeclaredSeries {
        DeclaredSeries {
            id,
            name: name.to_string(),
            slo: SeriesSlo::default(),
        }
    }

    /// Names in declaration order.
    pub fn names(series: &[DeclaredSeries]) -> Vec<String> {
        series.iter().map(|s| s.name.clone()).collect()
    }

    /// Check a declaration: at least one series, ids and names unique,
    /// names non-empty, limits > 0.
    pub fn check(series: &[DeclaredSeries]) -> Result<(), String> {
        if series.is_empty() {
            return Err("the workload declares no latency series".into());
        }
        let (mut ids, mut names) = (HashSet::new(), HashSet::new());
        for s in series {
            if s.name.trim().is_empty() {
                return Err(format!(
                    "the workload declares series {} without a name",
                    s.id
                ));
            }
            if !ids.insert(s.id) || !names.insert(s.name.as_str()) {
                return Err(format!(
                    "the workload declares series '{}' (id {}) twice",
                    s.name, s.id
                ));
            }
            if s.slo.p95 == Some(Duration::ZERO) || s.slo.p99 == Some(Duration::ZERO) {
                return Err(format!(
                    "the workload declares series '{}' with a 0 SLO",
                    s.name
                ));
            }
        }
        Ok(())
    }
}

/// A sample's series id → the series' position in the declared list.
#[derive(Clone, Debug, Default)]
pub struct Slots(Vec<Option<usize>>);

impl Slots {
    pub fn new(series: &[DeclaredSeries]) -> Slots {
        let len = series.iter().map(|s| s.id as usize + 1).max().unwrap_or(0);
        let mut slots = vec![None; len];
        for (position, s) in series.iter().enumerate() {
            slots[s.id as usize] = Some(position);
        }
        Slots(slots)
    }

    /// `None` for an id the workload did not declare.
    pub fn get(&self, id: u16) -> Option<usize> {
        self.0.get(id as usize).copied().flatten()
    }
}

#[cfg(test)]
mod series_tests {
    use super::*;

    #[test]
    fn slots_find_a_series_by_its_id() {
        let series = [
            DeclaredSeries::new(3, "item"),
            DeclaredSeries::new(1, "order"),
        ];
        let slots = Slots::new(&series);
        let found: Vec<Option<usize>> = (0..5).map(|id| slots.get(id)).collect();
        assert_eq!(found, [None, Some(1), None, Some(0), None]);
        assert_eq!(Slots::default().get(0), None);
    }
}
