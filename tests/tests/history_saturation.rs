//! When the plugin's in-flight bound is the limit (one request at a time,
//! each taking 50 ms, offered 200/s) the step is INCONCLUSIVE with a reason
//! naming saturation: the load box was the limit, not the service, so the
//! step neither passes nor trips.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_in_flight_bound_is_inconclusive_saturation() -> anyhow::Result<()> {
    bounded(Duration::from_secs(120), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &["--history-delay", "50ms"]).await?;
        let out = Loadgen::max_rps(&nats, "history")
            .args([
                "--steps",
                "200",
                "-o",
                "max_in_flight=1",
                "--warmup",
                "1s",
                "--hold",
                "4s",
            ])
            .args(["--cooldown", "0s", "--retry-inconclusive", "0", "--quiet"])
            .json()
            .timeout(Duration::from_secs(90))
            .run()
            .await?;
        out.assert_no_panic();

        let [step] = out.steps() else {
            panic!("one step expected: {out}")
        };
        assert_eq!(step.verdict.label(), "INCONCLUSIVE", "{out}");
        let reason = step.reasons().join("; ");
        assert!(reason.contains("saturation"), "{reason}\n{out}");
        assert!(reason.contains("max_in_flight"), "{reason}\n{out}");
        // About 20 of 200 ops/s fit through one 50 ms slot; the rest are refused.
        assert!(step.saturation > step.attempted, "{out}");
        assert!(step.attempted > 0 && step.achieved_rps < 100.0, "{out}");
        assert_eq!((step.failed, step.lost), (0, 0), "{out}");
        assert_eq!(out.report()?.answer.max_rps, None, "{out}");
        assert_eq!(out.code(), Some(1), "no step passed: {out}");
        Ok(())
    })
    .await
}
