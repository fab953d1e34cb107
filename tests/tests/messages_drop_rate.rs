//! Replies and broadcasts that never come are loss: with `--drop-rate 0.05`
//! the step trips on the loss rate, no op counts as failed, and nothing panics.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_answers_trip_on_loss() -> anyhow::Result<()> {
    bounded(Duration::from_secs(90), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &["--drop-rate", "0.05"]).await?;
        let out = Loadgen::one_step(&nats, "messages", "200").run().await?;
        let step = out.tripped_step("loss rate ");
        // An op is lost if its reply or any of its broadcasts was dropped:
        // a little over 5%, never most of them.
        assert!(
            (0.02..=0.3).contains(&step.loss_rate),
            "loss rate {} for 5% dropped",
            step.loss_rate
        );
        assert_eq!(
            step.failed, 0,
            "a dropped answer is loss, not an error; {out}"
        );
        Ok(())
    })
    .await
}
