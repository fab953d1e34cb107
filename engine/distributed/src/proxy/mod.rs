//! Stand-ins for a local run's pacer, collector and counter scraper: each
//! fans its messages out to the agents and merges their answers, so the
//! RampController, StepMachine, verdict, search and reports of a
//! distributed run are the local run's, unchanged.

mod collector;
mod counters;
mod pacer;
mod pending;

use std::sync::Arc;

use ractor::{Actor, ActorRef};
use tokio::sync::watch;

use super::control::{Answer, Control};
use super::feed::Feed;
use super::fleet::FleetMsg;
use crate::pending::{BacklogSource, PendingMsg};
use crate::ramp::SeriesInUse;

pub use collector::CollectorProxy;
pub use counters::CountersProxy;
pub use pacer::PacerProxy;
pub use pending::PendingProxy;

/// The series in use, as the agents said with their last step result (or
/// why that result is missing).
pub struct FleetSeries {
    pub in_use: watch::Receiver<Result<Vec<u16>, String>>,
}

impl SeriesInUse for FleetSeries {
    fn series_in_use(&self) -> Result<Vec<u16>, String> {
        self.in_use.borrow().clone()
    }
}

/// The values of `answers`; an agent that failed is reported to the fleet
/// (it is lost) and named in the error.
fn collect<T>(fleet: &ActorRef<FleetMsg>, answers: Vec<Answer<T>>) -> (Vec<T>, Option<String>) {
    let (values, failed) = super::control::gather(answers);
    let failure = failed.map(|(name, why)| {
        let _ = fleet.send_message(FleetMsg::Lost {
            name: name.clone(),
            why: why.clone(),
        });
        format!("agent {name} lost: {why}")
    });
    (values, failure)
}

/// The four proxies, spawned (linked to nothing: they live as long as the run).
pub struct Proxies {
    pub pacer: ActorRef<crate::pacer::PacerMsg>,
    pub collector: ActorRef<crate::collector::CollectorMsg>,
    pub counters: ActorRef<crate::counters::CounterMsg>,
    pub pending: ActorRef<PendingMsg>,
    pub series: FleetSeries,
}

pub async fn spawn(
    control: Control,
    fleet: ActorRef<FleetMsg>,
    series: Vec<String>,
    scrape_urls: Vec<String>,
    feed: Arc<Feed>,
    durables: Option<Arc<BacklogSource>>,
) -> Result<Proxies, ractor::SpawnErr> {
    let (in_use_tx, in_use) = watch::channel(Err("no step result yet".to_string()));
    let pacer = PacerProxy {
        control: control.clone(),
        fleet: fleet.clone(),
        feed: Arc::clone(&feed),
    };
    let pending = PendingProxy {
        control: control.clone(),
        fleet: fleet.clone(),
        feed: Arc::clone(&feed),
        durables,
    };
    let collector = CollectorProxy {
        control: control.clone(),
        fleet: fleet.clone(),
        series,
        in_use: in_use_tx,
        feed,
    };
    let counters = CountersProxy {
        control,
        fleet,
        scrape_urls,
    };
    Ok(Proxies {
        pacer: Actor::spawn(None, pacer, ()).await?.0,
        collector: Actor::spawn(None, collector, ()).await?.0,
        counters: Actor::spawn(None, counters, ()).await?.0,
        pending: Actor::spawn(None, pending, ()).await?.0,
        series: FleetSeries { in_use },
    })
}
