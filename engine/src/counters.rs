//! The CounterScraper: snapshots, at hold boundaries, of the plugin's counters
//! (the step's failed ops come from their deltas) and of the Prometheus
//! endpoints given with `--scrape` (for `--slo-counter` gates).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use loadgen_plugin_api::abi::CounterKind;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::gates::{parse_exposition, Scraped};
use crate::plugin::Workload;

pub enum CounterMsg {
    Snapshot(RpcReplyPort<Result<CounterSnapshot, String>>),
}

/// How long one scrape may take before the snapshot counts as failed.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(3);

/// Counter values at one instant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CounterSnapshot {
    pub plugin: BTreeMap<String, (CounterKind, u64)>,
    /// Every sample of every `--scrape` endpoint.
    pub scraped: Vec<Scraped>,
}

/// How the counters moved between two snapshots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CounterDeltas {
    pub attempted: u64,
    pub failed: u64,
    pub by_name: BTreeMap<String, u64>,
}

impl CounterSnapshot {
    pub fn delta_since(&self, earlier: &CounterSnapshot) -> CounterDeltas {
        let mut out = CounterDeltas::default();
        for (name, &(kind, value)) in &self.plugin {
            let before = earlier.plugin.get(name).map_or(0, |&(_, v)| v);
            let delta = value.saturating_sub(before);
            if kind.counts_attempted() {
                out.attempted += delta;
            }
            if kind.counts_failed() {
                out.failed += delta;
            }
            out.by_name.insert(name.clone(), delta);
        }
        out
    }
}

/// Read-only configuration: whose counters to read.
pub struct CounterScraper {
    pub workload: Arc<Workload>,
    /// Prometheus text endpoints (`--scrape`).
    pub scrape_urls: Vec<String>,
}

impl CounterScraper {
    async fn snapshot(&self) -> Result<CounterSnapshot, String> {
        let plugin = self
            .workload
            .counters()?
            .into_iter()
            .map(|c| (c.name.into_string(), (c.kind, c.value)))
            .collect();
        let mut scraped = Vec::new();
        for url in &self.scrape_urls {
            let text = crate::http::get_text_async(url, SCRAPE_TIMEOUT).await?;
            scraped.extend(parse_exposition(&text).map_err(|e| format!("{url}: {e}"))?);
        }
        Ok(CounterSnapshot { plugin, scraped })
    }
}

impl Actor for CounterScraper {
    type Msg = CounterMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<CounterMsg>,
        _args: (),
    ) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<CounterMsg>,
        message: CounterMsg,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match message {
            CounterMsg::Snapshot(reply) => {
                let _ = reply.send(self.snapshot().await);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_sum_by_kind() {
        let snap = |pairs: &[(&str, CounterKind, u64)]| CounterSnapshot {
            plugin: pairs
                .iter()
                .map(|(n, k, v)| (n.to_string(), (*k, *v)))
                .collect(),
            scraped: Vec::new(),
        };
        let start = snap(&[
            ("published", CounterKind::Attempted, 100),
            ("publish", CounterKind::AttemptedAndFailed, 1),
            ("gatekeeper", CounterKind::Failed, 2),
        ]);
        let end = snap(&[
            ("published", CounterKind::Attempted, 1100),
            ("publish", CounterKind::AttemptedAndFailed, 4),
            ("gatekeeper", CounterKind::Failed, 9),
            ("bad_reply", CounterKind::Failed, 1), // new since start: counts from 0
        ]);
        let d = end.delta_since(&start);
        assert_eq!(d.attempted, 1003);
        assert_eq!(d.failed, 3 + 7 + 1);
        assert_eq!(d.by_name["published"], 1000);
    }
}
