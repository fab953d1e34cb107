//! The CounterScraper: snapshots, at hold boundaries, of the plugin's counters
//! and of the Prometheus endpoints given with `--scrape`.
//!
//! Counters explain a step (the report shows each one's hold-window delta) and
//! `--slo-counter` gates may bound them; they never feed attempted, failed or
//! lost ops, which come from the pacer's count and the samples. So a plugin
//! that counts a failure and records it as an `Error` sample counts it once.

use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::gates::{parse_exposition, Scraped};
use crate::plugin::Workload;
pub use loadgen_core::counters::{CounterDeltas, CounterSnapshot};

pub enum CounterMsg {
    Snapshot(RpcReplyPort<Result<CounterSnapshot, String>>),
}

/// How long one scrape may take before the snapshot counts as failed.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(3);

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
            .map(|c| (c.name.into_string(), c.value))
            .collect();
        let scraped = scrape_all(&self.scrape_urls).await?;
        Ok(CounterSnapshot { plugin, scraped })
    }
}

/// Every sample of every `--scrape` endpoint now.
pub async fn scrape_all(urls: &[String]) -> Result<Vec<Scraped>, String> {
    let mut scraped = Vec::new();
    for url in urls {
        let text = crate::http::get_text_async(url, SCRAPE_TIMEOUT).await?;
        scraped.extend(parse_exposition(&text).map_err(|e| format!("{url}: {e}"))?);
    }
    Ok(scraped)
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
