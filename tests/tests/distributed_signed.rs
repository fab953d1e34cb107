//! Signed control messages: an agent started with `--control-key
//! control.pub` obeys only its coordinator. A coordinator without the key,
//! one with another key, a start message captured from a real run and
//! published again, and a correctly signed but stale one are each refused
//! with one line, and the HTTP target sees no request from any of them; the
//! coordinator with the right key runs as it does without keys.

use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use loadgen_distributed::signing::{now_unix_ns, ControlKey, Side};
use loadgen_e2e::loadgen::{Loadgen, Running};
use loadgen_e2e::{bounded, exclusive, HttpServer, HttpServerOptions, NatsServer, Stats};

/// Requests the target server has seen.
fn requests(server: &HttpServer) -> u64 {
    Stats::get(&server.stats().http1) + Stats::get(&server.stats().http2)
}

/// `loadgen keygen DIR` (the real binary).
async fn keygen(dir: &Path) -> anyhow::Result<()> {
    let out = Loadgen::standalone().arg("keygen").arg(dir).run().await?;
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains("control.pub"), "{out}");
    Ok(())
}

/// One short step at 100/s on one agent, with `key` (or none).
fn coordinator(control: &NatsServer, url: &str, key: Option<&Path>) -> Loadgen {
    let run = Loadgen::standalone()
        .args(["max-rps", "--plugin", "http", "-o"])
        .arg(format!("url={url}"))
        .args([
            "--steps", "100", "--warmup", "0s", "--hold", "1s", "--drain", "1s",
        ])
        .args(["--cooldown", "0s", "--quiet"])
        .args(["--agents", "1", "--control-url", &control.url()])
        .args(["--agents-timeout", "10s"])
        .timeout(Duration::from_secs(60));
    match key {
        Some(key) => run.arg("--control-key").arg(key),
        None => run,
    }
}

/// The agent's next refusal line.
async fn refusal(agent: &mut Running) -> anyhow::Result<String> {
    agent
        .wait_for_stderr("a refusal", Duration::from_secs(15), |l| {
            l.contains("refused")
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_obey_only_fresh_orders_signed_with_their_key() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(200), async {
        let keys = tempfile::tempdir()?;
        let (ours, theirs) = (keys.path().join("ours"), keys.path().join("theirs"));
        keygen(&ours).await?;
        keygen(&theirs).await?;
        // keygen never overwrites a key.
        let again = Loadgen::standalone().arg("keygen").arg(&ours).run().await?;
        assert_eq!(again.code(), Some(2), "{again}");

        let server = HttpServer::start(HttpServerOptions::fifo(400)).await?;
        let control = NatsServer::start().await?;
        let public = ours.join("control.pub");
        let public = public.to_str().expect("utf-8 path");
        let mut agent = Loadgen::agent(&control, "a1", &["--control-key", public]).await?;

        // No key: the agent refuses the first request, the coordinator exits 2.
        let out = coordinator(&control, &server.url(), None).run().await?;
        assert_eq!(out.code(), Some(2), "{out}");
        assert!(out.refused_line().contains("unsigned"), "{out}");
        let line = refusal(&mut agent).await?;
        assert_eq!(
            line,
            "agent a1: refused time request: unsigned; nothing started"
        );

        // Another key: refused by the agent; its answer is refused too.
        let out = coordinator(&control, &server.url(), Some(&theirs.join("control.key")))
            .run()
            .await?;
        assert_eq!(out.code(), Some(2), "{out}");
        assert!(
            out.refused_line().contains("signed by another key"),
            "{out}"
        );
        let line = refusal(&mut agent).await?;
        assert_eq!(
            line,
            "agent a1: refused time request: signed by another key; nothing started"
        );
        assert_eq!(requests(&server), 0, "refused orders sent no load");

        // The right key: the run answers as today. Capture its orders.
        let client = control.client().await?;
        let mut orders = client.subscribe("loadgen.agent.a1.>").await?;
        client.flush().await?;
        let out = coordinator(&control, &server.url(), Some(&ours.join("control.key")))
            .json()
            .run()
            .await?;
        // Measured as a local run is (PASS; an underrun only when this shared
        // box could not keep the schedule, which is the box, not the signing).
        let steps = out.final_steps();
        assert_eq!(steps.len(), 1, "{out}");
        assert!(
            steps[0].verdict.label() == "PASS" || steps[0].emit_underrun > 0,
            "{out}"
        );
        assert!(steps[0].attempted > 50, "{out}");
        let sent = requests(&server);
        assert!(sent > 50, "the signed run sent its load: {sent}");
        let mut captured = Vec::new();
        while let Ok(Some(m)) =
            tokio::time::timeout(Duration::from_millis(200), orders.next()).await
        {
            captured.push(m);
        }
        let start = captured
            .iter()
            .find(|m| m.subject.as_str() == "loadgen.agent.a1.start")
            .expect("the start order was seen");
        assert!(start.headers.is_some(), "orders carry their signature");

        // Replayed: the captured start and steps, published again as they were.
        for order in captured
            .iter()
            .filter(|m| m.subject.ends_with(".start") || m.subject.ends_with(".step"))
        {
            let answer = client
                .request_with_headers(
                    order.subject.clone(),
                    order.headers.clone().expect("signed"),
                    order.payload.clone(),
                )
                .await?;
            let text = String::from_utf8_lossy(&answer.payload).to_string();
            assert!(text.contains("replayed"), "{text}");
            let line = refusal(&mut agent).await?;
            assert!(
                line.ends_with("replayed (its nonce was seen); nothing started"),
                "{line}"
            );
        }

        // Stale: signed with the right key, but a minute old.
        let key = ControlKey::load(&ours.join("control.key"), Side::Coordinator)
            .map_err(anyhow::Error::msg)?;
        let subject = "loadgen.agent.a1.start";
        let old = now_unix_ns() - 60_000_000_000;
        let headers = key.sign(subject, &start.payload, old);
        let answer = client
            .request_with_headers(subject, headers, start.payload.clone())
            .await?;
        let text = String::from_utf8_lossy(&answer.payload).to_string();
        assert!(text.contains("stale (sent 60"), "{text}");
        let line = refusal(&mut agent).await?;
        assert!(line.contains("refused start request: stale"), "{line}");

        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            requests(&server),
            sent,
            "no request after the replayed and stale orders"
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn an_agent_without_a_key_warns_that_it_obeys_anyone() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let control = NatsServer::start().await?;
        let mut agent = Loadgen::new(&control)
            .args(["agent", "--nats", &control.url(), "--name", "open1"])
            .timeout(Duration::from_secs(30))
            .spawn()?;
        let line = agent
            .wait_for_stderr("the warning", Duration::from_secs(20), |l| {
                l.contains("UNSIGNED")
            })
            .await?;
        assert!(
            line.starts_with("WARNING: agent open1 accepts UNSIGNED orders"),
            "{line}"
        );
        Ok(())
    })
    .await
}
