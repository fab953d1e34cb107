//! Where JetStream durables' backlogs are read: the JetStream API on the
//! workload's NATS server, or the monitoring endpoint's `/jsz` when
//! `NATS_MONITORING_URL` is set. Each durable is keyed `stream/durable`; its
//! level is `num_pending + num_ack_pending`, with the unacknowledged part kept.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream;
use serde_json::Value;

use super::{BacklogLevel, BacklogLevels};

/// One read may take this long before the reading counts as failed.
const READ_TIMEOUT: Duration = Duration::from_secs(3);

/// A durable to watch, as `stream`/`durable`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Durable {
    pub stream: String,
    pub durable: String,
}

impl Durable {
    /// The backlog's name: the same durable name may exist on several streams.
    pub fn key(&self) -> String {
        format!("{}/{}", self.stream, self.durable)
    }
}

fn level(num_pending: i64, num_ack_pending: i64) -> BacklogLevel {
    BacklogLevel {
        total: num_pending + num_ack_pending,
        unacked: Some(num_ack_pending),
    }
}

pub enum BacklogSource {
    JetStream {
        js: jetstream::Context,
        durables: Vec<Durable>,
    },
    Monitoring {
        /// `…/jsz?accounts=true&streams=true&consumers=true`.
        url: String,
        durables: Vec<Durable>,
    },
}

impl BacklogSource {
    /// Connect to `$NATS_URL` (with `$NATS_CREDS_FILE`), or use
    /// `$NATS_MONITORING_URL` if set. Unreachable NATS is an error here: at
    /// start it is a configuration error.
    pub async fn from_env(durables: Vec<Durable>) -> Result<BacklogSource, String> {
        if let Some(base) = std::env::var("NATS_MONITORING_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
        {
            return Ok(BacklogSource::Monitoring {
                url: jsz_url(&base),
                durables,
            });
        }
        let client =
            loadgen_plugin_api::sdk::nats::connect("loadgen-pending-poller", |o| o).await?;
        Ok(BacklogSource::JetStream {
            js: jetstream::new(client),
            durables,
        })
    }

    /// Each durable's level, by `stream/durable`.
    pub async fn read(&self) -> Result<BacklogLevels, String> {
        match tokio::time::timeout(READ_TIMEOUT, self.read_unbounded()).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer in {READ_TIMEOUT:?}")),
        }
    }

    async fn read_unbounded(&self) -> Result<BacklogLevels, String> {
        match self {
            BacklogSource::JetStream { js, durables } => {
                let mut out = BTreeMap::new();
                for d in durables {
                    let stream = js
                        .get_stream(&d.stream)
                        .await
                        .map_err(|e| format!("stream {}: {e}", d.stream))?;
                    let info = stream
                        .consumer_info(&d.durable)
                        .await
                        .map_err(|e| format!("durable {}/{}: {e}", d.stream, d.durable))?;
                    out.insert(
                        d.key(),
                        level(info.num_pending as i64, info.num_ack_pending as i64),
                    );
                }
                Ok(out)
            }
            BacklogSource::Monitoring { url, durables } => {
                let body = crate::http::get_text_async(url, READ_TIMEOUT).await?;
                pending_from_jsz(&body, durables)
            }
        }
    }
}

fn jsz_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = base.strip_suffix("/jsz").unwrap_or(base);
    format!("{base}/jsz?accounts=true&streams=true&consumers=true")
}

/// Find each durable's `num_pending` and `num_ack_pending` in a `/jsz` document.
pub fn pending_from_jsz(body: &str, durables: &[Durable]) -> Result<BacklogLevels, String> {
    let doc: Value = serde_json::from_str(body).map_err(|e| format!("/jsz is not JSON: {e}"))?;
    let mut found = BTreeMap::new();
    let accounts = doc["account_details"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for stream in accounts
        .iter()
        .flat_map(|a| a["stream_detail"].as_array().cloned().unwrap_or_default())
    {
        for consumer in stream["consumer_detail"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let stream_name = consumer["stream_name"].as_str().or(stream["name"].as_str());
            let name = consumer["name"].as_str();
            if let Some(d) = durables.iter().find(|d| {
                Some(d.stream.as_str()) == stream_name && Some(d.durable.as_str()) == name
            }) {
                found.insert(
                    d.key(),
                    level(
                        consumer["num_pending"].as_i64().unwrap_or(0),
                        consumer["num_ack_pending"].as_i64().unwrap_or(0),
                    ),
                );
            }
        }
    }
    match durables.iter().find(|d| !found.contains_key(&d.key())) {
        Some(missing) => Err(format!(
            "/jsz has no durable {}/{}",
            missing.stream, missing.durable
        )),
        None => Ok(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn durable(stream: &str, durable: &str) -> Durable {
        Durable {
            stream: stream.into(),
            durable: durable.into(),
        }
    }

    #[test]
    fn jsz_documents_yield_num_pending_per_durable() {
        let body = r#"{"account_details":[{"name":"$G","stream_detail":[
            {"name":"MESSAGES_CANONICAL_s","consumer_detail":[
                {"stream_name":"MESSAGES_CANONICAL_s","name":"broadcast-worker","num_pending":1240,"num_ack_pending":60},
                {"stream_name":"MESSAGES_CANONICAL_s","name":"message-worker","num_pending":3}]},
            {"name":"OTHER","consumer_detail":[{"stream_name":"OTHER","name":"broadcast-worker","num_pending":99}]}]}]}"#;
        let want = [
            durable("MESSAGES_CANONICAL_s", "broadcast-worker"),
            durable("MESSAGES_CANONICAL_s", "message-worker"),
            durable("OTHER", "broadcast-worker"),
        ];
        let got = pending_from_jsz(body, &want).unwrap();
        assert_eq!(
            got,
            BTreeMap::from([
                (
                    "MESSAGES_CANONICAL_s/broadcast-worker".into(),
                    level(1240, 60)
                ),
                ("MESSAGES_CANONICAL_s/message-worker".into(), level(3, 0)),
                ("OTHER/broadcast-worker".into(), level(99, 0)),
            ])
        );
        assert_eq!(got["MESSAGES_CANONICAL_s/broadcast-worker"].total, 1300);

        let err =
            pending_from_jsz(body, &[durable("MESSAGES_s", "message-gatekeeper")]).unwrap_err();
        assert_eq!(err, "/jsz has no durable MESSAGES_s/message-gatekeeper");
        assert!(pending_from_jsz("<html>", &want)
            .unwrap_err()
            .starts_with("/jsz is not JSON"));
    }

    #[test]
    fn monitoring_urls() {
        assert_eq!(
            jsz_url("http://h:8222/"),
            "http://h:8222/jsz?accounts=true&streams=true&consumers=true"
        );
        assert_eq!(
            jsz_url("http://h:8222/jsz"),
            "http://h:8222/jsz?accounts=true&streams=true&consumers=true"
        );
    }
}
