//! `history`: the chat history-read workload (PROTOCOL.md "History read").
//!
//! Each op is one core NATS request to `…msg.history` (the newest page of a
//! room, or the next page of a scrollback chain) or `…msg.thread`, from a
//! member of a Zipf-chosen room; its sample goes to series `history` or
//! `thread`. Ops are open-loop: `fire` spawns them and returns; beyond
//! `max_in_flight` awaiting replies, ops are refused as saturation.
//! Failed = timeouts + error replies + bad replies (+ no responders and
//! client-side failures). No JetStream backlog.
//!
//! # Layout
//! - `config`: options; `mix`: `key:weight` mixes; `zipf`: room choice.
//! - `ops`: one op from choice to sample, through the SDK's `InFlight` table
//!   (the `max_in_flight` bound, Timeout vs Lost deadlines).
//! - `chains`: scrollback chains waiting for their next page.
//! - `wire`: payloads and reply classification; `tally`: counters.
//! - `link`: the NATS connection and the testbed fixtures check;
//!   `preflight`: trial reads before the first step.

mod chains;
mod config;
#[cfg(test)]
mod fake;
mod link;
mod mix;
mod ops;
mod preflight;
mod tally;
mod wire;
mod zipf;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use chat_fixtures::HistoryFixtures;
use loadgen_plugin_api::export_plugin;
use loadgen_plugin_api::sdk::nats::ConnectionWatch;
use loadgen_plugin_api::sdk::*;

use config::{Config, HistoryOptions};
use ops::Ops;

pub struct History {
    ops: Arc<Ops<Client>>,
    /// Next op sequence number (the engine's op index restarts every step);
    /// an op's choices derive from it.
    seq: AtomicU64,
    client: Client,
}

impl Plugin for History {
    type Options = HistoryOptions;

    /// The NATS server(s) of `$NATS_URL`.
    fn targets(_: &HistoryOptions) -> Option<Vec<String>> {
        Some(loadgen_plugin_api::sdk::nats_targets())
    }

    fn info() -> Info {
        Info::new(
            "history",
            env!("CARGO_PKG_VERSION"),
            "Chat history reads: history pages (open and scrollback) and threads over NATS request/reply.",
        )
        .series(&wire::SERIES)
        .error_reasons(&wire::REASONS)
        .counters(tally::Tally::declare())
        .counters(InFlight::<u64>::declare_counters())
        .default_steps("200,500,1k,2k,5k")
    }

    async fn start(ctx: Context<HistoryOptions>) -> Result<Self, String> {
        let config = Config::from_options(&ctx.options, std::env::var("SITE_ID").ok())?;
        let fixtures = HistoryFixtures::build(config.preset, ctx.seed, &config.site);
        let tally = Arc::new(tally::Tally::default());
        let watch = ConnectionWatch::new(ctx.recorder.clone());
        let client = link::connect(Arc::clone(&tally), watch).await?;
        link::check_testbed(&client, &fixtures, &config.site).await?;
        let limits = Limits::new(config.max_in_flight).request_timeout(config.request_timeout);
        let inflight = ctx.in_flight(limits);
        let ops = Ops::new(config, fixtures, tally, client.clone(), ctx.seed, inflight);
        preflight::check(&ops).await?;
        Ok(History {
            ops: Arc::new(ops),
            seq: AtomicU64::new(0),
            client,
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        let mut ack = FireAck::default();
        for op in batch.ops() {
            let seq = self.seq.fetch_add(1, Ordering::Relaxed);
            let Some(started) = self.ops.begin(seq, op.intended) else {
                ack.saturated += 1;
                continue;
            };
            ack.accepted += 1;
            let ops = Arc::clone(&self.ops);
            tokio::spawn(async move { ops.finish(started).await });
        }
        ack
    }

    fn counters(&self) -> Vec<Counter> {
        self.ops.counters()
    }

    fn series_in_use(&self) -> Vec<Series> {
        wire::SERIES
            .into_iter()
            .filter(|s| self.ops.config.mix.includes(s.index() as usize))
            .collect()
    }

    async fn shutdown(&self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.client.drain()).await;
    }
}

export_plugin!(History);
