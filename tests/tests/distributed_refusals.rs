//! Distributed runs refused before any load: one `error:` line, exit 2.
//! Bad flags, no agents in time, an unreachable control plane, and agents
//! whose plugin or plugin-api version differs from the coordinator's (those
//! are announced by this test on the control subjects, as an agent of
//! another build would announce itself).

use std::time::Duration;

use futures::StreamExt;
use loadgen_distributed::protocol::{Announce, PluginVersion, Subjects};
use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, ports, NatsServer};

fn coordinator(control_url: &str, extra: &[&str]) -> Loadgen {
    Loadgen::standalone()
        .args(["max-rps", "--plugin", "synthetic", "--steps", "100"])
        .args(["--warmup", "0s", "--hold", "1s", "--quiet"])
        .args(["--control-url", control_url])
        .args(extra)
        .timeout(Duration::from_secs(60))
}

#[tokio::test]
async fn bad_agent_flags_are_refused() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let out = Loadgen::standalone()
            .args(["max-rps", "--plugin", "synthetic", "--agents", "0"])
            .run()
            .await?;
        assert!(out.refused_line().contains("--agents"), "{out}");
        let out = coordinator(
            "nats://127.0.0.1:4222",
            &["--agents", "2", "--min-agents", "3"],
        )
        .run()
        .await?;
        assert_eq!(
            out.refused_line(),
            "error: --min-agents 3 is more than --agents 2",
            "{out}"
        );
        let out = coordinator("nats://127.0.0.1:4222", &["--agents", "1"])
            .args(["--control-prefix", "runs.*"])
            .run()
            .await?;
        assert!(out.refused_line().contains("--control-prefix"), "{out}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn an_unreachable_control_url_is_refused() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let url = format!("nats://127.0.0.1:{}", ports::free_port()?);
        let out = coordinator(&url, &["--agents", "1"]).run().await?;
        let line = out.refused_line();
        assert!(
            line.starts_with(&format!("error: --control-url: cannot reach NATS at {url}")),
            "{out}"
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn too_few_agents_within_the_timeout_is_refused() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let control = NatsServer::start().await?;
        let _a1 = Loadgen::agent(&control, "a1", &[]).await?;
        let out = coordinator(&control.url(), &["--agents", "2", "--agents-timeout", "2s"])
            .run()
            .await?;
        assert_eq!(
            out.refused_line(),
            "error: 1 of 2 agents joined within 2s (--agents-timeout): a1",
            "{out}"
        );
        Ok(())
    })
    .await
}

/// Answer the coordinator's discovery with `announce`, as an agent would.
async fn announce_on_discover(control: &NatsServer, announce: Announce) -> anyhow::Result<()> {
    let client = control.client().await?;
    let subjects = Subjects::new("loadgen");
    let mut discover = client.subscribe(subjects.discover()).await?;
    client.flush().await?;
    tokio::spawn(async move {
        while discover.next().await.is_some() {
            let body = serde_json::to_vec(&announce).expect("serializes");
            let _ = client.publish(subjects.announce(), body.into()).await;
        }
    });
    Ok(())
}

fn announce(plugin_api: &str, synthetic: &str) -> Announce {
    Announce {
        name: "old1".into(),
        host: "elsewhere".into(),
        loadgen_version: "0.0.1".into(),
        plugin_api_version: plugin_api.into(),
        plugins: vec![PluginVersion {
            name: "synthetic".into(),
            version: synthetic.into(),
        }],
        cores: 4,
        busy: false,
    }
}

#[tokio::test]
async fn agents_of_another_plugin_or_plugin_api_version_are_refused_at_join() -> anyhow::Result<()>
{
    bounded(Duration::from_secs(60), async {
        let api = loadgen_plugin_host::INTERFACE_VERSION;
        let control = NatsServer::start().await?;
        announce_on_discover(&control, announce(api, "0.0.0-other")).await?;
        let out = coordinator(&control.url(), &["--agents", "1"]).run().await?;
        let line = out.refused_line();
        assert!(
            line.starts_with(
                "error: agent old1 refused: it has plugin synthetic 0.0.0-other, this coordinator synthetic "
            ),
            "{out}"
        );

        let control = NatsServer::start().await?;
        announce_on_discover(&control, announce("0.0.0-other", "0.1.0")).await?;
        let out = coordinator(&control.url(), &["--agents", "1"]).run().await?;
        assert_eq!(
            out.refused_line(),
            format!(
                "error: agent old1 refused: it uses plugin-api 0.0.0-other, this coordinator plugin-api {api}"
            ),
            "{out}"
        );
        Ok(())
    })
    .await
}
