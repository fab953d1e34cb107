//! `loadgen agent --allow-target`: a start aimed anywhere else is refused
//! before the workload starts (the http plugin's preflight request included):
//! one line, exit 2 on the coordinator, zero requests at the other server.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, exclusive, HttpServer, HttpServerOptions, NatsServer, Stats};

fn requests(server: &HttpServer) -> u64 {
    Stats::get(&server.stats().http1) + Stats::get(&server.stats().http2)
}

fn coordinator(control: &NatsServer, url: &str) -> Loadgen {
    Loadgen::standalone()
        .args(["max-rps", "--plugin", "http", "-o"])
        .arg(format!("url={url}"))
        .args([
            "--steps", "100", "--warmup", "1s", "--hold", "1s", "--drain", "1s",
        ])
        .args(["--cooldown", "0s", "--quiet"])
        .args(["--agents", "1", "--control-url", &control.url()])
        .args(["--agents-timeout", "10s"])
        .timeout(Duration::from_secs(60))
}

/// `127.0.0.1:PORT` of a test server's URL.
fn address(server: &HttpServer) -> String {
    server
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_refuses_a_run_aimed_outside_its_allow_list() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(150), async {
        let a = HttpServer::start(HttpServerOptions::fifo(400)).await?;
        let b = HttpServer::start(HttpServerOptions::fifo(400)).await?;
        let control = NatsServer::start().await?;
        let allowed = address(&a);
        let mut agent =
            Loadgen::agent(&control, "a1", &["--allow-target", &allowed]).await?;

        let out = coordinator(&control, &b.url()).run().await?;
        assert_eq!(out.code(), Some(2), "{out}");
        assert_eq!(
            out.refused_line(),
            format!(
                "error: agent a1: refused: target {} is not in its --allow-target {allowed}; nothing started",
                address(&b)
            ),
            "{out}"
        );
        let line = agent
            .wait_for_stderr("the refusal", Duration::from_secs(10), |l| {
                l.contains("refused start")
            })
            .await?;
        assert!(line.starts_with("agent a1: refused start: target "), "{line}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(requests(&b), 0, "no request reached the server not allowed");

        // Aimed at the allowed server, the same agent runs the step.
        let out = coordinator(&control, &a.url()).json().run().await?;
        assert_ne!(out.code(), Some(2), "{out}");
        assert_eq!(out.final_steps().len(), 1, "{out}");
        assert!(requests(&a) > 50, "{out}");
        assert_eq!(requests(&b), 0);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_bad_allow_target_is_refused_at_start() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let control = NatsServer::start().await?;
        let out = Loadgen::new(&control)
            .args([
                "agent",
                "--nats",
                &control.url(),
                "--allow-target",
                "10.0.0.0/40",
            ])
            .run()
            .await?;
        assert_eq!(out.code(), Some(2), "{out}");
        assert!(
            out.refused_line()
                .contains("--allow-target '10.0.0.0/40': bad prefix length"),
            "{out}"
        );
        Ok(())
    })
    .await
}
