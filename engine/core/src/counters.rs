//! Counter readings as plain data: the plugin's counters and every `--scrape`
//! endpoint's samples at one instant ([`CounterSnapshot`]). The scraper actor
//! is in the runtime crate.

use std::collections::BTreeMap;

use crate::gates::Scraped;

/// Counter values at one instant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CounterSnapshot {
    pub plugin: BTreeMap<String, u64>,
    /// Every sample of every `--scrape` endpoint.
    pub scraped: Vec<Scraped>,
}

/// How the plugin's counters moved between two snapshots, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CounterDeltas {
    pub by_name: BTreeMap<String, u64>,
}

impl CounterSnapshot {
    pub fn delta_since(&self, earlier: &CounterSnapshot) -> CounterDeltas {
        let by_name = self
            .plugin
            .iter()
            .map(|(name, &value)| {
                let before = earlier.plugin.get(name).copied().unwrap_or(0);
                (name.clone(), value.saturating_sub(before))
            })
            .collect();
        CounterDeltas { by_name }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_are_by_name_and_a_new_counter_counts_from_zero() {
        let snap = |pairs: &[(&str, u64)]| CounterSnapshot {
            plugin: pairs.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
            scraped: Vec::new(),
        };
        let start = snap(&[("published", 100), ("gatekeeper", 2)]);
        let end = snap(&[("published", 1100), ("gatekeeper", 9), ("bad_reply", 1)]);
        let d = end.delta_since(&start);
        let want = [("bad_reply", 1), ("gatekeeper", 7), ("published", 1000)]
            .map(|(n, v)| (n.to_string(), v));
        assert_eq!(d.by_name, BTreeMap::from(want));
    }
}
