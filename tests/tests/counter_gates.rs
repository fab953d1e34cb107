//! `--scrape` + `--slo-counter` against chat-testbed's Prometheus counters: a
//! counter growing past its bound over the hold TRIPs the step with the
//! counter in the reason; a scrape that fails at a hold boundary makes the
//! step INCONCLUSIVE, never PASS.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, free_port, NatsServer, Testbed};

const QUICK: [&str; 8] = [
    "--warmup",
    "500ms",
    "--hold",
    "2s",
    "--drain",
    "1s",
    "--cooldown",
    "0s",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_over_its_bound_trips_the_step() -> anyhow::Result<()> {
    bounded(Duration::from_secs(90), async {
        let nats = NatsServer::start().await?;
        let testbed =
            Testbed::start(&nats, &["--preset", "medium", "--error-rate", "0.05"]).await?;
        let metrics = testbed.metrics_url().expect("the harness serves metrics");
        let out = Loadgen::max_rps(&nats, "messages")
            .args(["--steps", "200", "--slo-error-rate", "0.5"])
            .args(QUICK)
            .args(["--scrape", &metrics])
            .args([
                "--slo-counter",
                r#"chat_testbed_rejected_total{service="gatekeeper"} <= 0"#,
            ])
            .args([
                "--slo-counter",
                r#"chat_testbed_processed_total{service="gatekeeper"} >= 100"#,
            ])
            .json()
            .run()
            .await?;
        out.assert_no_panic();
        assert_eq!(out.code(), Some(1), "{}", out.stdout);
        let step = &out.steps()[0];
        assert_eq!(step.verdict.label(), "TRIP", "{step:?}");
        assert_eq!(
            step.reasons().len(),
            1,
            "only the rejected gate fails: {step:?}"
        );
        assert!(
            step.reasons()[0]
                .starts_with(r#"chat_testbed_rejected_total{service="gatekeeper"} <= 0 (delta "#),
            "{step:?}"
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scrape_makes_the_step_inconclusive() -> anyhow::Result<()> {
    bounded(Duration::from_secs(90), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &["--preset", "medium"]).await?;
        let nowhere = format!("http://127.0.0.1:{}/metrics", free_port()?);
        let out = Loadgen::max_rps(&nats, "messages")
            .args(["--steps", "200"])
            .args(QUICK)
            .args(["--scrape", &nowhere, "--slo-counter", "anything_total <= 0"])
            .json()
            .run()
            .await?;
        out.assert_no_panic();
        assert_eq!(out.code(), Some(1), "{}", out.stdout);
        let verdicts: Vec<&str> = out.steps().iter().map(|s| s.verdict.label()).collect();
        assert_eq!(
            verdicts,
            ["INCONCLUSIVE", "INCONCLUSIVE"],
            "re-run once, never PASS"
        );
        for step in out.steps() {
            assert!(
                step.reasons()[0].starts_with("counter signal unavailable: GET "),
                "{step:?}"
            );
        }
        Ok(())
    })
    .await
}
