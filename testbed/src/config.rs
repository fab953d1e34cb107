//! Command-line configuration. The library takes a [`Config`] so tests can
//! build one with `Config::parse_from` and call [`crate::serve`] in process.

use std::net::SocketAddr;
use std::time::Duration;

use chat_fixtures::{HistoryPreset, MessagePreset};
use clap::Parser;

use crate::knobs::{parse_fraction, Knobs, Service, Stall};

/// Reference chat backend for loadgen: message-gatekeeper, message-worker,
/// broadcast-worker and history-service on NATS JetStream (PROTOCOL.md).
#[derive(Debug, Clone, Parser)]
#[command(name = "chat-testbed", version)]
pub struct Config {
    /// NATS server URL.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// Site id: part of every subject and stream name.
    #[arg(long, env = "SITE_ID", default_value = "site-local", value_parser = parse_site)]
    pub site_id: String,
    /// Message fixtures preset (small, medium, large, realistic).
    #[arg(long, default_value = "medium")]
    pub preset: MessagePreset,
    /// History fixtures preset (history-small, history-medium, history-large).
    #[arg(long, default_value = "history-small")]
    pub history_preset: HistoryPreset,
    /// Fixtures seed; plugins must use the same one.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Serve Prometheus counters on this address (port 0 picks one; see testbed.info).
    #[arg(long)]
    pub metrics_addr: Option<SocketAddr>,

    /// Gatekeeper token bucket, ops/s (0 = unlimited).
    #[arg(long, default_value_t = 0)]
    pub gatekeeper_rate: u32,
    /// Added latency per gatekeeper op.
    #[arg(long, default_value = "0s")]
    pub gatekeeper_delay: humantime::Duration,
    /// Gatekeeper ops in flight.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub gatekeeper_concurrency: u32,
    /// Message-worker token bucket, ops/s (0 = unlimited).
    #[arg(long, default_value_t = 0)]
    pub worker_rate: u32,
    /// Added latency per message-worker op.
    #[arg(long, default_value = "0s")]
    pub worker_delay: humantime::Duration,
    /// Message-worker ops in flight.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub worker_concurrency: u32,
    /// Broadcast-worker token bucket, ops/s (0 = unlimited).
    #[arg(long, default_value_t = 0)]
    pub broadcast_rate: u32,
    /// Added latency per broadcast-worker op.
    #[arg(long, default_value = "0s")]
    pub broadcast_delay: humantime::Duration,
    /// Broadcast-worker ops in flight.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub broadcast_concurrency: u32,
    /// History-service token bucket, requests/s (0 = unlimited).
    #[arg(long, default_value_t = 0)]
    pub history_rate: u32,
    /// Added latency per history request.
    #[arg(long, default_value = "0s")]
    pub history_delay: humantime::Duration,
    /// History requests in flight.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub history_concurrency: u32,

    /// Fraction of valid sends the gatekeeper rejects anyway.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    pub error_rate: f64,
    /// Fraction of replies and broadcasts silently not sent.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    pub drop_rate: f64,
    /// Fraction of replies sent as invalid JSON.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    pub malformed_rate: f64,
    /// Periodic pause of all services, EVERY:FOR (e.g. 10s:500ms).
    #[arg(long)]
    pub stall: Option<Stall>,

    /// Streams drop messages older than this (0s = keep forever).
    #[arg(long, default_value = "1h")]
    pub stream_max_age: humantime::Duration,
}

impl Config {
    pub fn knobs(&self, service: Service) -> Knobs {
        let (rate, delay, concurrency) = match service {
            Service::Gatekeeper => (
                self.gatekeeper_rate,
                self.gatekeeper_delay,
                self.gatekeeper_concurrency,
            ),
            Service::Worker => (self.worker_rate, self.worker_delay, self.worker_concurrency),
            Service::Broadcast => (
                self.broadcast_rate,
                self.broadcast_delay,
                self.broadcast_concurrency,
            ),
            Service::History => (
                self.history_rate,
                self.history_delay,
                self.history_concurrency,
            ),
        };
        Knobs {
            rate,
            delay: *delay,
            concurrency: concurrency as usize,
        }
    }

    pub fn stream_max_age(&self) -> Duration {
        *self.stream_max_age
    }
}

/// A site id becomes a subject token and part of a stream name, so it may
/// not contain `.`, wildcards or whitespace.
fn parse_site(s: &str) -> Result<String, String> {
    let bad = s.is_empty()
        || s.chars()
            .any(|c| matches!(c, '.' | '*' | '>' | '/' | '\\') || c.is_whitespace());
    if bad {
        Err(format!(
            "`{s}` cannot be a site id (no '.', '*', '>', '/', whitespace)"
        ))
    } else {
        Ok(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Config::command().debug_assert();
    }

    #[test]
    fn defaults_and_knobs() {
        let c = Config::try_parse_from([
            "chat-testbed",
            "--broadcast-rate",
            "2000",
            "--history-delay",
            "5ms",
        ])
        .unwrap();
        assert_eq!(c.preset, MessagePreset::Medium);
        assert_eq!(c.history_preset, HistoryPreset::Small);
        assert_eq!(c.seed, 42);
        assert_eq!(c.knobs(Service::Broadcast).rate, 2000);
        assert_eq!(c.knobs(Service::History).delay, Duration::from_millis(5));
        assert_eq!(c.knobs(Service::Gatekeeper).concurrency, 256);
    }

    #[test]
    fn bad_flags_are_errors() {
        for args in [
            &["x", "--preset", "huge"][..],
            &["x", "--error-rate", "2"],
            &["x", "--stall", "1s"],
            &["x", "--site-id", "a.b"],
            &["x", "--gatekeeper-concurrency", "0"],
            &["x", "--worker-delay", "soon"],
        ] {
            assert!(Config::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
