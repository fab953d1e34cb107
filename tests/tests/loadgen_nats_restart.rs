//! SPEC §7: nats-server restarts mid-run. The clients reconnect; the step the
//! restart hit is INCONCLUSIVE (the plugin reports the lost connection: a
//! disturbance, never a TRIP), the run goes on to the next step, and nothing
//! crashes. (`disturbance.rs` shows the re-run and the unmoved answer.)

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_mid_run_is_judged_and_the_run_goes_on() -> anyhow::Result<()> {
    bounded(Duration::from_secs(150), async {
        let mut nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &[]).await?;
        let mut run = Loadgen::max_rps(&nats, "messages")
            .args(["--steps", "200,300,400", "--warmup", "1s", "--hold", "4s"])
            .args(["--cooldown", "1s", "--stop-on-trip", "false"])
            .args(["--retry-inconclusive", "0"])
            .json()
            .timeout(Duration::from_secs(120))
            .spawn()?;
        run.wait_for_stderr("step 200's result", Duration::from_secs(40), |l| {
            l.starts_with("step 200 rps:")
        })
        .await?;
        // Step 300 warms up for 1 s, then holds 4 s: restart inside its hold.
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        nats.restart().await?;
        let out = run.finish().await?;
        out.assert_no_panic();

        let steps = out.steps();
        let rates: Vec<u64> = steps.iter().map(|s| s.target_rps).collect();
        assert_eq!(rates[..3], [200, 300, 400], "every step ran: {out}");
        assert_eq!(rates.len(), 3, "no TRIP, so nothing to re-probe: {out}");
        assert_eq!(steps[0].verdict.label(), "PASS", "{out}");
        assert_ne!(
            steps[1].verdict.label(),
            "PASS",
            "the restart's step cannot pass: {out}"
        );
        assert_eq!(steps[1].verdict.label(), "INCONCLUSIVE", "{out}");
        assert!(
            steps[1].reasons()[0].starts_with("connection lost"),
            "the plugin's disturbance is the reason: {out}"
        );
        // Reconnected: the step after the restart is measured again.
        assert!(steps[2].series.iter().any(|s| s.count > 0), "{out}");
        assert_eq!(out.code(), Some(0), "step 200 passed: {out}");
        Ok(())
    })
    .await
}
