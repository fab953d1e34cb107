//! [`Shared`]: what every service reads. Built once by [`crate::serve`] and
//! handed out as `Arc<Shared>`; nothing in it is mutated except through
//! its own interior synchronisation (store, counters, fault rolls).

use std::sync::Arc;

use bytes::Bytes;
use chat_fixtures::{Fixtures, HistoryFixtures};
use tokio::time::Instant;

use crate::config::Config;
use crate::knobs::Faults;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::subjects::Subjects;

pub struct Shared {
    pub config: Config,
    pub subjects: Subjects,
    /// The message preset: gatekeeper membership, broadcast room kinds.
    pub fixtures: Fixtures,
    /// The seeded history the history service serves beside the store.
    pub history: HistoryFixtures,
    /// What message-worker persisted.
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub faults: Faults,
    /// Start of the process; `--stall` windows count from here.
    pub origin: Instant,
    /// The site id as a JSON string literal, spliced into MessageEvents.
    pub site_json: Bytes,
}

impl Shared {
    pub fn new(config: Config) -> Self {
        let fixtures = Fixtures::build(config.preset, config.seed, &config.site_id);
        let history = HistoryFixtures::build(config.history_preset, config.seed, &config.site_id);
        let faults = Faults::new(config.error_rate, config.drop_rate, config.malformed_rate);
        let site_json =
            Bytes::from(serde_json::to_vec(&config.site_id).expect("a string serialises"));
        Shared {
            subjects: Subjects::new(&config.site_id),
            fixtures,
            history,
            store: Store::default(),
            metrics: Arc::new(Metrics::new()),
            faults,
            origin: Instant::now(),
            site_json,
            config,
        }
    }

    /// Whether `account` may read `room`: a member in the message preset
    /// (rooms it can send to) or in the history preset (seeded rooms).
    pub fn may_read(&self, account: &str, room: &str) -> bool {
        self.fixtures.is_member(account, room) || self.history.is_member(account, room)
    }
}
