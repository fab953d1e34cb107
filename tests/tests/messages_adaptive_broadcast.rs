//! Issue 13: the adaptive search finds a real service's capacity. The
//! testbed's broadcast-worker is capped at R = 450 msgs/s (`--broadcast-rate`);
//! `loadgen max-rps --plugin messages --search adaptive` answers within
//! [0.95 R, 1.02 R]: an overloaded probe measures what the service served
//! (offered − the broadcast-worker backlog's growth), and the next probe sits
//! just under it.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, exclusive, NatsServer, Testbed};

const RATE: u32 = 450;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adaptive_search_answers_the_broadcast_workers_rate() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(200), async {
        let nats = NatsServer::start().await?;
        let rate = RATE.to_string();
        let _testbed = Testbed::start(&nats, &["--broadcast-rate", &rate]).await?;
        let out = Loadgen::max_rps(&nats, "messages")
            .args(["--search", "adaptive", "--start-rps", "200"])
            .args(["--warmup", "1s", "--hold", "4s", "--drain", "2s"])
            .args(["--cooldown", "1s", "--slo-pending-growth", "100", "--quiet"])
            .json()
            .timeout(Duration::from_secs(180))
            .run()
            .await?;
        out.assert_no_panic();
        let probes: Vec<String> = out
            .steps()
            .iter()
            .map(|s| format!("{} {}", s.target_rps, s.verdict.label()))
            .collect();
        eprintln!("probes: {}", probes.join(", "));
        assert_eq!(out.code(), Some(0), "{out}");
        out.assert_answer_near(RATE)
    })
    .await
}
