//! Gatekeeper rejections are errors: with `--error-rate 0.05` the step trips
//! on the error rate, the JSON's failed count is the rejections (never more
//! than the testbed injected), nothing counts as lost, and nothing panics.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, counter, http_get, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_rejections_trip_on_error_rate() -> anyhow::Result<()> {
    bounded(Duration::from_secs(90), async {
        let nats = NatsServer::start().await?;
        let testbed = Testbed::start(&nats, &["--error-rate", "0.05"]).await?;
        let out = Loadgen::one_step(&nats, "messages", "200").run().await?;
        let step = out.tripped_step("error rate ");
        assert!(
            (0.01..=0.12).contains(&step.error_rate),
            "error rate {} for 5% injected",
            step.error_rate
        );
        let (_, metrics) = http_get(&testbed.metrics_url().expect("metrics served")).await?;
        let injected = counter(
            &metrics,
            "chat_testbed_faults_injected_total",
            &[("service", "gatekeeper"), ("kind", "error")],
        )
        .unwrap_or(0.0);
        assert!(
            step.failed > 0 && step.failed as f64 <= injected,
            "failed {} in the hold, {injected} rejections injected in the whole run",
            step.failed
        );
        assert_eq!(step.lost, 0, "a rejection is an error, not a loss; {out}");
        let count = |name: &str| step.counters.get(name).copied().unwrap_or(0);
        assert!(
            count("gatekeeper") >= step.failed,
            "gatekeeper {} over the step, {} failed in the hold",
            count("gatekeeper"),
            step.failed
        );
        assert_eq!(count("bad_reply"), 0, "{:?}", step.counters);
        Ok(())
    })
    .await
}
