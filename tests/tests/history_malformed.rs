//! Malformed replies (invalid JSON) are counted as failed ops (`bad_reply`),
//! never panic, and trip the step on its error rate; the well-formed half
//! is still measured.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_replies_are_failures_and_trip_the_step() -> anyhow::Result<()> {
    bounded(Duration::from_secs(120), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &["--malformed-rate", "0.5"]).await?;
        let out = Loadgen::one_step(&nats, "history", "50").run().await?;
        let step = out.tripped_step("error rate");
        assert!(step.attempted >= 100, "{out}");
        assert!(
            (0.3..0.7).contains(&step.error_rate),
            "about half malformed: {out}"
        );
        assert_eq!(step.lost, 0, "{out}");
        assert!(
            step.series.iter().all(|s| s.count > 0),
            "the good replies are measured: {out}"
        );
        Ok(())
    })
    .await
}
