//! The real `loadgen` binary and the `history` plugin against a chat-testbed
//! whose history service is capped at 800 requests/s: the ladder
//! 200 → 400 → 1600 passes twice, trips at 1600 on latency or errors, and
//! the answer is 400.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capped_history_service_trips_above_its_cap_and_the_answer_is_below_it(
) -> anyhow::Result<()> {
    bounded(Duration::from_secs(180), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &["--history-rate", "800"]).await?;
        let out = Loadgen::max_rps(&nats, "history")
            .args([
                "--steps",
                "200,400,1600",
                "--warmup",
                "1s",
                "--hold",
                "5s",
                "--cooldown",
                "0s",
                "--quiet",
            ])
            .json()
            .timeout(Duration::from_secs(150))
            .run()
            .await?;
        out.assert_no_panic();

        let steps = out.final_steps();
        assert_eq!(
            out.final_verdicts(),
            [(200, "PASS"), (400, "PASS"), (1600, "TRIP")],
            "{out}"
        );
        for step in &steps[..2] {
            let names: Vec<&str> = step.series.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["history", "thread"], "{out}");
            assert!(
                step.series.iter().all(|s| s.count > 0),
                "both endpoints measured: {out}"
            );
            assert_eq!(
                (step.failed, step.lost, step.saturation),
                (0, 0, 0),
                "{out}"
            );
        }
        let limit = ["history p9", "thread p9", "error rate", "loss rate"];
        let trip = steps[2];
        assert!(
            trip.reasons()
                .iter()
                .any(|r| limit.iter().any(|l| r.starts_with(l))),
            "the trip names history/thread latency or errors: {:?}\n{out}",
            trip.reasons()
        );
        assert_eq!(out.report()?.answer.max_rps, Some(400), "{out}");
        let answer = out.answer_line().unwrap_or_default();
        assert!(answer.contains("max RPS = 400"), "{answer}\n{out}");
        assert_eq!(out.code(), Some(0), "{out}");
        Ok(())
    })
    .await
}
