//! A testbed seeded with other fixtures is refused at once, with one line
//! naming both sides' preset and seed (exit 2); a server with no
//! `testbed.info` responder (a real deployment) is not taken for one.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_preset_and_seed_is_a_usage_error() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &["--preset", "small", "--seed", "7"]).await?;
        let out = Loadgen::max_rps(&nats, "messages")
            .args(["--steps", "200", "--warmup", "1s", "--hold", "2s"])
            .timeout(Duration::from_secs(30))
            .run()
            .await?;
        out.assert_no_panic();
        assert_eq!(out.code(), Some(2), "{out}");
        assert!(
            out.elapsed < Duration::from_secs(10),
            "took {:?}",
            out.elapsed
        );
        let errors = out.error_lines();
        let [line] = errors.as_slice() else {
            panic!("one error line expected; {out}")
        };
        for part in ["preset small", "seed 7", "preset medium", "seed 42"] {
            assert!(line.contains(part), "{part:?} not in {line:?}");
        }
        assert_eq!(out.answer_line(), None, "no step may run; {out}");
        Ok(())
    })
    .await
}

/// No testbed at all: `testbed.info` goes unanswered, which is not a
/// mismatch; the trial sends then find no gatekeeper either, and the run
/// says so before ramping into silence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_testbed_info_responder_is_not_a_mismatch() -> anyhow::Result<()> {
    bounded(Duration::from_secs(90), async {
        let nats = NatsServer::start().await?;
        let out = Loadgen::max_rps(&nats, "messages")
            .args(["--steps", "100", "--warmup", "0s", "--hold", "1s"])
            .timeout(Duration::from_secs(60))
            .run()
            .await?;
        out.assert_no_panic();
        assert_eq!(out.code(), Some(2), "{out}");
        let errors = out.error_lines();
        assert_eq!(errors.len(), 1, "{out}");
        assert!(
            !errors[0].contains("chat-testbed serves"),
            "not a mismatch: {out}"
        );
        assert!(
            errors[0].contains("none of 3 trial sends was answered"),
            "{out}"
        );
        Ok(())
    })
    .await
}
