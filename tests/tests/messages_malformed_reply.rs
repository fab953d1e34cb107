//! A reply that is not JSON is a `bad_reply` error, never a panic: with
//! `--malformed-rate 0.05` the JSON's failed count, error rate and
//! `bad_reply` counter reflect them, the step trips on the error rate, and —
//! since a malformed reply's message is still stored and broadcast — no op
//! counts as lost.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, counter, http_get, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_replies_are_errors_not_panics() -> anyhow::Result<()> {
    bounded(Duration::from_secs(90), async {
        let nats = NatsServer::start().await?;
        let testbed = Testbed::start(&nats, &["--malformed-rate", "0.05"]).await?;
        let out = Loadgen::one_step(&nats, "messages", "200").run().await?;
        let step = out.tripped_step("error rate ");
        assert!(
            (0.01..=0.12).contains(&step.error_rate),
            "error rate {} for 5% malformed",
            step.error_rate
        );
        let (_, metrics) = http_get(&testbed.metrics_url().expect("metrics served")).await?;
        let injected = |kind| {
            let labels = [("service", "gatekeeper"), ("kind", kind)];
            counter(&metrics, "chat_testbed_faults_injected_total", &labels).unwrap_or(0.0)
        };
        // The failures are the malformed replies: the testbed rejected nothing.
        assert_eq!(injected("error"), 0.0);
        assert!(
            step.failed > 0 && step.failed as f64 <= injected("malformed"),
            "failed {} in the hold, {} malformed replies in the whole run",
            step.failed,
            injected("malformed")
        );
        assert_eq!(
            step.lost, 0,
            "a malformed reply is an error, not a loss; {out}"
        );
        Ok(())
    })
    .await
}
