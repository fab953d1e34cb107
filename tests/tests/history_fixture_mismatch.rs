//! Against a chat-testbed seeded with other history fixtures the `history`
//! plugin refuses to start, naming both presets and seeds, instead of
//! ramping into a wall of "not a member" errors.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_history_fixtures_are_refused_before_the_first_step() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(
            &nats,
            &["--history-preset", "history-medium", "--seed", "7"],
        )
        .await?;
        let out = Loadgen::max_rps(&nats, "history")
            .args([
                "--steps", "200", "--warmup", "1s", "--hold", "2s", "--quiet",
            ])
            .timeout(Duration::from_secs(40))
            .run()
            .await?;
        out.assert_no_panic();
        assert_eq!(out.code(), Some(2), "a configuration error: {out}");
        let errors = out.error_lines().join("\n");
        for part in [
            "history preset history-medium seed 7",
            "history preset history-small seed 42",
            "--history-preset history-small --seed 42",
        ] {
            assert!(
                errors.contains(part),
                "{part:?} missing from {errors:?}\n{out}"
            );
        }
        assert!(out.answer_line().is_none(), "no step ran: {out}");
        Ok(())
    })
    .await
}
