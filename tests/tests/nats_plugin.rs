//! The `nats` plugin against a real nats-server and test services of known
//! behaviour: request mode finds a FIFO responder's capacity (ladder and
//! adaptive search), nobody answering is a clear refusal, publish mode counts
//! a dropping consumer as loss, jetstream mode gates a durable's backlog.
//!
//! Rates are small (a few hundred/s) and holds short so the answers are stable
//! on a busy 2-core box. The ladder's TRIP step is far over capacity and
//! trips on the default SLO; the adaptive search uses a tight one (p95 50 ms)
//! so a rate a few percent over capacity trips within its 2 s hold.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, exclusive, stream_with_idle_durable, NatsServer, NatsService};

/// The responder's capacity (requests/s).
const CAPACITY: u32 = 500;
const SUBJECT: &str = "svc.echo";

/// `loadgen max-rps --plugin nats` with short phases.
fn nats_run(nats: &NatsServer, hold: &str, drain: &str) -> Loadgen {
    Loadgen::max_rps(nats, "nats").short_phases(hold, drain)
}

/// One step at `rate` with a 3 s hold, a 3 s drain and no cooldown.
fn one_step(nats: &NatsServer, rate: &str) -> Loadgen {
    nats_run(nats, "3s", "3s").args(["--steps", rate, "--cooldown", "0s"])
}

/// The SLO of steps that prove a mode works, not a latency: wide, so a stall
/// of the busy box is not read as a failure (errors and losses still are).
const WIDE_SLO: [&str; 4] = ["--slo-p95", "1s", "--slo-p99", "2s"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ladder_answers_the_step_below_capacity() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(120), async {
        let nats = NatsServer::start().await?;
        let _svc = NatsService::responder(&nats, SUBJECT, CAPACITY).await?;
        let out = nats_run(&nats, "2s", "1s")
            .args(["-o", &format!("subject={SUBJECT}")])
            .args(["--steps", "150,300,800", "--cooldown", "2s"])
            .run()
            .await?;
        out.assert_ladder(&[(150, "PASS"), (300, "PASS"), (800, "TRIP")], 300)?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_adaptive_search_lands_near_capacity() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(240), async {
        let nats = NatsServer::start().await?;
        let _svc = NatsService::responder(&nats, SUBJECT, CAPACITY).await?;
        let out = nats_run(&nats, "2s", "1s")
            .tight_slo()
            .args(["-o", &format!("subject={SUBJECT}")])
            .adaptive_search(300)
            .run()
            .await?;
        out.assert_answer_near(CAPACITY)?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_responders_and_bad_input_are_refused_before_any_load() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(90), async {
        let nats = NatsServer::start().await?;
        let table: &[(&[&str], &str)] = &[
            (
                &["subject=nobody.home"],
                "no service answers requests on 'nobody.home' (no responders)",
            ),
            (&[], "option 'subject' is required"),
            (&["subject=svc.*", "mode=publish"], "'svc.*' has a wildcard"),
            (
                &["subject=orders.none", "mode=jetstream"],
                "no JetStream stream stores 'orders.none'",
            ),
        ];
        for (options, want) in table {
            let mut run = Loadgen::max_rps(&nats, "nats")
                .args(["--steps", "100"])
                .timeout(Duration::from_secs(30));
            for o in *options {
                run = run.args(["-o", o]);
            }
            let out = run.run().await?;
            let line = out.refused_line();
            assert!(out.elapsed < Duration::from_secs(15), "{out}");
            assert!(
                line.contains(want),
                "{options:?}: {line:?} should contain {want:?}"
            );
        }
        // NATS not there at all.
        let gone = format!("nats://127.0.0.1:{}", loadgen_e2e::free_port()?);
        let out = Loadgen::max_rps(&nats, "nats")
            .env("NATS_URL", &gone)
            .args(["--steps", "100", "-o", "subject=a"])
            .timeout(Duration::from_secs(30))
            .run()
            .await?;
        assert!(out.refused_line().contains("cannot reach NATS"), "{out}");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_mode_passes_and_counts_a_dropping_consumer_as_loss() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(90), async {
        let nats = NatsServer::start().await?;
        let publish = [
            "-o",
            "mode=publish",
            "-o",
            "subject=in.x",
            "-o",
            "reply_subject=out.x",
        ];

        // Every message comes back: a PASS.
        let forwarder = NatsService::forwarder(&nats, "in.x", "out.x", 0.0).await?;
        let out = one_step(&nats, "200")
            .args(publish)
            .args(WIDE_SLO)
            .run()
            .await?;
        out.assert_no_panic();
        assert_eq!(out.final_verdicts(), vec![(200, "PASS")], "{out}");
        assert!(forwarder.handled() >= 600);
        drop(forwarder);

        // One in 20 never comes back: those ops are Lost.
        let _forwarder = NatsService::forwarder(&nats, "in.x", "out.x", 0.05).await?;
        let out = one_step(&nats, "200").args(publish).run().await?;
        let step = out.tripped_step("loss rate");
        assert!((0.03..=0.08).contains(&step.loss_rate), "{out}");
        assert_eq!(step.failed, 0, "{out}");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_mode_gates_a_durables_backlog() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(90), async {
        let nats = NatsServer::start().await?;
        let client = nats.client().await?;
        stream_with_idle_durable(&client, "ORDERS", "orders.>", "worker").await?;
        let jetstream = ["-o", "mode=jetstream", "-o", "subject=orders.new"];

        // Acks alone: a PASS, whatever the backlog.
        let out = one_step(&nats, "200")
            .args(jetstream)
            .args(WIDE_SLO)
            .run()
            .await?;
        out.assert_no_panic();
        assert_eq!(out.final_verdicts(), vec![(200, "PASS")], "{out}");

        // The idle durable gated: ~600 new pending messages in the hold > 100.
        let out = one_step(&nats, "200")
            .args(jetstream)
            .args(["-o", "durable=ORDERS/worker", "--slo-pending-growth", "100"])
            .run()
            .await?;
        let step = out.tripped_step("ORDERS/worker");
        assert!(
            step.reasons().iter().any(|r| r.contains("pending +")),
            "{:?}",
            step.reasons()
        );
        assert!(step.worst_backlog_delta.unwrap_or(0) >= 400, "{out}");
        Ok(())
    })
    .await
}
