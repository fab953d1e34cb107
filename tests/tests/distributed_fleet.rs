//! A fleet too big to start as processes, simulated in one (the
//! `loadgen_distributed::sim` harness): 200 agents publish one summary per
//! second of a 2 s hold over a real nats-server; the coordinator's feed
//! merges each second in time (200 ms in a release build) and the merged
//! tallies are exact — every op of the schedule sent, refused or skipped
//! exactly once across agents, one latency sample per sent op. The bench
//! (`bench/control-plane.sh`) runs the same with 1,000.

use std::time::Duration;

use loadgen_distributed::sim::{self, SimOptions};
use loadgen_e2e::{bounded, exclusive, NatsServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_simulated_agents_merge_each_second_in_time_and_exactly() -> anyhow::Result<()>
{
    let _alone = exclusive().await;
    bounded(Duration::from_secs(30), async {
        let nats = NatsServer::start().await?;
        let (coordinator, agents) = (nats.client().await?, nats.client().await?);
        let options = SimOptions {
            agents: 200,
            rps: 4_000,
            hold: Duration::from_secs(2),
            prefix: "sim".into(),
        };
        let result = sim::run(&coordinator, &agents, &options)
            .await
            .map_err(anyhow::Error::msg)?;
        assert_eq!(result.rounds.len(), 3, "hold start, 1 s, hold end");
        assert!(result.slowest() <= Duration::from_millis(200), "{result:?}");
        assert_eq!(result.late, 0, "{result:?}");
        assert_eq!(
            result.expected.accepted + result.expected.saturated + result.expected.emit_underrun,
            8_000
        );
        assert!(result.exact(), "{result:?}");
        Ok(())
    })
    .await
}
