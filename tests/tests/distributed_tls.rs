//! NATS over TLS: a nats-server requiring mutual TLS with certificates of a
//! CA made at test time (rcgen). The control plane (`tls://` control URL)
//! and the `nats` plugin's traffic both go over it, with `NATS_CA_FILE`,
//! `NATS_CERT_FILE` and `NATS_KEY_FILE`; without the CA the run is refused.

use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, exclusive, NatsServer};

fn publish_step(run: Loadgen) -> Loadgen {
    run.args([
        "-o",
        "mode=publish",
        "-o",
        "subject=tls.e2e",
        "--steps",
        "50",
    ])
    .args(["--warmup", "1s", "--hold", "2s", "--drain", "1s"])
    .args(["--cooldown", "0s", "--quiet"])
    .timeout(Duration::from_secs(60))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_plane_and_nats_plugin_over_mutual_tls() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(150), async {
        let nats = NatsServer::start_tls().await?;
        assert!(nats.url().starts_with("tls://"));

        // Without the CA the server's certificate is not trusted: refused.
        let out = publish_step(
            Loadgen::standalone()
                .env("NATS_URL", nats.url())
                .args(["max-rps", "--plugin", "nats"]),
        )
        .run()
        .await?;
        assert_eq!(out.code(), Some(2), "{out}");
        assert!(
            out.refused_line()
                .contains(&format!("cannot reach NATS at {}", nats.url())),
            "{out}"
        );

        // With the CA and a client certificate: an agent on the TLS control
        // plane sends the nats plugin's messages over TLS too.
        let _agent = Loadgen::agent(&nats, "t1", &[]).await?;
        let out = publish_step(Loadgen::max_rps(&nats, "nats"))
            .args(["--agents", "1", "--control-url", &nats.url()])
            .args(["--agents-timeout", "10s"])
            .json()
            .run()
            .await?;
        assert!(out.stderr.contains("agent t1 joined"), "{out}");
        let steps = out.final_steps();
        assert_eq!(steps.len(), 1, "{out}");
        assert!(steps[0].attempted >= 80, "{out}");
        assert_eq!(steps[0].failed, 0, "{out}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_client_certificate_without_its_key_is_refused() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let nats = NatsServer::start_tls().await?;
        let tls = nats.tls().expect("tls").clone();
        let out = publish_step(
            Loadgen::standalone()
                .env("NATS_URL", nats.url())
                .env("NATS_CA_FILE", &tls.ca)
                .env("NATS_CERT_FILE", &tls.client_cert)
                .args(["max-rps", "--plugin", "nats"]),
        )
        .run()
        .await?;
        assert_eq!(out.code(), Some(2), "{out}");
        assert!(
            out.refused_line()
                .contains("NATS_CERT_FILE is set but NATS_KEY_FILE is not"),
            "{out}"
        );
        Ok(())
    })
    .await
}
