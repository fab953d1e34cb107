//! Injected faults do what their flags say: `--error-rate 1` rejects every
//! valid send, `--malformed-rate 1` answers with invalid JSON,
//! `--drop-rate 1` answers nothing; each is counted.

use std::time::Duration;

use chat_fixtures::{Fixtures, MessagePreset};
use loadgen_e2e::chat::new_request_id;
use loadgen_e2e::{bounded, scrape_counter, ChatClient, NatsServer, Testbed};

fn member() -> (String, String) {
    let f = Fixtures::build(MessagePreset::Medium, 42, "site-local");
    let room = &f.rooms()[1];
    (f.account(room.members[0]).to_string(), room.id.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_rate_one_rejects_every_send() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let nats = NatsServer::start().await?;
        let testbed = Testbed::start(&nats, &["--error-rate", "1"]).await?;
        let chat = ChatClient::connect(&nats).await?;
        let (account, room) = member();
        for i in 0..3 {
            let reply = chat
                .send(&account, &room, &format!("f-{i}"), "hi", None)
                .await?;
            assert_eq!(reply["error"], "injected error");
        }
        let url = testbed.metrics_url().expect("metrics served");
        let labels = [("service", "gatekeeper"), ("kind", "error")];
        assert_eq!(
            scrape_counter(&url, "chat_testbed_faults_injected_total", &labels).await?,
            3.0
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_dropped_replies() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let nats = NatsServer::start().await?;
        let (account, room) = member();
        let chat = ChatClient::connect(&nats).await?;

        let mut testbed = Testbed::start(&nats, &["--malformed-rate", "1"]).await?;
        let subject = chat.request_subject(&account, &room, "history");
        let reply = chat.client.request(subject.clone(), "{}".into()).await?;
        assert!(
            serde_json::from_slice::<serde_json::Value>(&reply.payload).is_err(),
            "{:?}",
            reply.payload
        );
        testbed.stop().await?;

        let _testbed = Testbed::start(&nats, &["--drop-rate", "1"]).await?;
        let ask = chat.client.request(subject, "{}".into());
        assert!(
            tokio::time::timeout(Duration::from_millis(800), ask)
                .await
                .is_err(),
            "a dropped reply arrived"
        );
        let rid = new_request_id();
        let mut replies = chat
            .subscribe(format!("chat.user.{account}.response.{rid}"))
            .await?;
        let body = serde_json::json!({"id": "dropped-1", "content": "hi", "requestId": rid});
        chat.client
            .publish(
                chat.send_subject(&account, &room),
                serde_json::to_vec(&body)?.into(),
            )
            .await?;
        let got = tokio::time::timeout(
            Duration::from_millis(800),
            futures::StreamExt::next(&mut replies),
        )
        .await;
        assert!(got.is_err(), "a dropped gatekeeper reply arrived");
        Ok(())
    })
    .await
}
