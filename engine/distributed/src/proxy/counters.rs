//! The CountersProxy: the agents' plugin counters summed by name, and the
//! `--scrape` endpoints read by the coordinator itself.

use std::collections::BTreeMap;

use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::collect;
use crate::control::Control;
use crate::counters::{scrape_all, CounterMsg, CounterSnapshot};
use crate::fleet::FleetMsg;
use crate::protocol::Counters;

/// Read-only configuration.
pub struct CountersProxy {
    pub control: Control,
    pub fleet: ActorRef<FleetMsg>,
    pub scrape_urls: Vec<String>,
}

impl CountersProxy {
    async fn snapshot(&self) -> Result<CounterSnapshot, String> {
        let answers = self.control.ask_all(|_, _, _| Counters).await;
        let (values, failure) = collect(&self.fleet, answers);
        if let Some(failure) = failure {
            return Err(failure);
        }
        let mut plugin = BTreeMap::new();
        for counters in values {
            for (name, value) in counters {
                *plugin.entry(name).or_insert(0) += value;
            }
        }
        let scraped = scrape_all(&self.scrape_urls).await?;
        Ok(CounterSnapshot { plugin, scraped })
    }
}

impl Actor for CountersProxy {
    type Msg = CounterMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<CounterMsg>, _: ()) -> Result<(), ActorProcessingErr> {
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
