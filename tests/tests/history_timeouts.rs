//! Replies slower than `request_timeout` are counted as timeouts (failed
//! ops, not losses), the run never panics, and the step trips on its error
//! rate.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_timeouts_are_failures_and_trip_the_step() -> anyhow::Result<()> {
    bounded(Duration::from_secs(120), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &["--history-delay", "1s"]).await?;
        let out = Loadgen::one_step(&nats, "history", "50")
            .args(["-o", "request_timeout=200ms"])
            .run()
            .await?;
        let step = out.tripped_step("error rate");
        // Every request times out: the failed count tracks the attempted one.
        assert!(step.attempted >= 100, "{out}");
        assert!(step.failed * 10 >= step.attempted * 8, "{out}");
        assert!(step.error_rate > 0.8, "{out}");
        assert_eq!(
            step.lost, 0,
            "the request timeout comes before the loss deadline: {out}"
        );
        Ok(())
    })
    .await
}
