//! Issue 13: a disturbed measurement is never a TRIP. nats-server is killed
//! (SIGKILL) for 3 s inside a hold of the `messages` plugin and started again
//! on the same port with the same store: the plugin reports the lost
//! connection, that step is INCONCLUSIVE ("connection lost …"), it is re-run,
//! and the ANSWER equals an undisturbed run's.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, exclusive, free_port, http_get, wait_until, NatsServer, Testbed};

/// Well below what the testbed serves on a busy 2-core box (ladders answer at
/// ~60% of capacity there), so the undisturbed answer is stable.
const STEPS: &str = "100,200";
const DISTURBED_RPS: u64 = 200;

/// The ladder both runs use: a hold long enough that the kill (1 s in), the
/// restart (3 s later) and the client's reconnect all fall inside it.
fn ladder(nats: &NatsServer) -> Loadgen {
    Loadgen::max_rps(nats, "messages")
        .args(["--steps", STEPS, "--stop-on-trip", "false"])
        .args(["--warmup", "1s", "--hold", "8s", "--drain", "2s"])
        .args(["--cooldown", "1s", "--quiet"])
        .json()
        .timeout(Duration::from_secs(150))
}

/// Is loadgen (its `--metrics-addr` at `url`) holding `rps`?
async fn holding(url: &str, rps: u64) -> bool {
    let Ok((200, body)) = http_get(url).await else {
        return false;
    };
    body.lines()
        .any(|l| l == format!("loadgen_target_rps {rps}"))
        && body.lines().any(|l| l == "loadgen_phase{phase=\"hold\"} 1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_outage_in_a_hold_is_inconclusive_rerun_and_the_answer_is_unmoved(
) -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(330), async {
        let mut nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &[]).await?;

        let calm = ladder(&nats).run().await?;
        calm.assert_no_panic();
        assert_eq!(calm.code(), Some(0), "{calm}");
        assert_eq!(
            calm.final_verdicts(),
            [(100, "PASS"), (DISTURBED_RPS, "PASS")],
            "the undisturbed ladder passes with margin: {calm}"
        );
        let calm_answer = calm.report()?.answer.max_rps;

        let metrics = format!("127.0.0.1:{}", free_port()?);
        let run = ladder(&nats).args(["--metrics-addr", &metrics]).spawn()?;
        let url = format!("http://{metrics}/metrics");
        wait_until("the disturbed step's hold", Duration::from_secs(60), || {
            holding(&url, DISTURBED_RPS)
        })
        .await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        nats.kill();
        tokio::time::sleep(Duration::from_secs(3)).await;
        nats.start_again().await?;
        let out = run.finish().await?;
        out.assert_no_panic();

        let steps: Vec<(u64, u32, &str)> = out
            .steps()
            .iter()
            .map(|s| (s.target_rps, s.attempt, s.verdict.label()))
            .collect();
        assert_eq!(
            steps,
            [
                (100, 1, "PASS"),
                (DISTURBED_RPS, 1, "INCONCLUSIVE"),
                (DISTURBED_RPS, 2, "PASS"),
            ],
            "the outage's step is re-run, never a TRIP: {out}"
        );
        let disturbed = &out.steps()[1];
        eprintln!("the disturbed step: {:?}", disturbed.reasons());
        assert!(
            disturbed.reasons()[0].starts_with("connection lost"),
            "the plugin's reason: {:?}",
            disturbed.reasons()
        );
        assert_eq!(out.code(), Some(0), "{out}");
        assert_eq!(
            out.report()?.answer.max_rps,
            calm_answer,
            "the answer of the undisturbed run: {out}"
        );
        Ok(())
    })
    .await
}
