//! Malformed requests get error replies; the testbed keeps serving.

use std::time::Duration;

use chat_fixtures::{Fixtures, MessagePreset};
use loadgen_e2e::chat::new_request_id;
use loadgen_e2e::{bounded, ChatClient, NatsServer, Testbed};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_errors_and_service_continues() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let nats = NatsServer::start().await?;
        let mut testbed = Testbed::start(&nats, &[]).await?;
        let chat = ChatClient::connect(&nats).await?;
        let fixtures = Fixtures::build(MessagePreset::Medium, 42, "site-local");
        let room = &fixtures.rooms()[3];
        let account = fixtures.account(room.members[0]);

        // Broken JSON that still names its requestId.
        let rid = new_request_id();
        let raw = format!(r#"{{"id": "x1", "requestId": "{rid}", "content": "#);
        let reply = chat
            .send_raw(account, &room.id, &rid, raw.into_bytes())
            .await?;
        assert!(
            reply["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("malformed request")),
            "{reply}"
        );

        // Well-formed JSON, invalid fields.
        let rid = "not-a-uuid";
        let body = json!({"id": "x2", "content": "hi", "requestId": rid});
        let reply = chat
            .send_raw(account, &room.id, rid, serde_json::to_vec(&body)?)
            .await?;
        assert!(
            reply["error"]
                .as_str()
                .is_some_and(|e| e.contains("not a UUID")),
            "{reply}"
        );
        let rid = new_request_id();
        let body = json!({"id": "x3", "content": "", "requestId": rid});
        let reply = chat
            .send_raw(account, &room.id, &rid, serde_json::to_vec(&body)?)
            .await?;
        assert_eq!(reply["error"], "content is empty");

        // Garbage with no requestId cannot be answered, but must not hurt.
        chat.client
            .publish(
                chat.send_subject(account, &room.id),
                "\u{0}\u{1}garbage".into(),
            )
            .await?;
        chat.client
            .publish(chat.send_subject(account, &room.id), "[]".into())
            .await?;

        // History: bad JSON, bad limit, missing thread id.
        let subject = chat.request_subject(account, &room.id, "history");
        let reply = chat.client.request(subject, "{nope".into()).await?;
        let reply: serde_json::Value = serde_json::from_slice(&reply.payload)?;
        assert!(
            reply["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("malformed request")),
            "{reply}"
        );
        let reply = chat
            .request(account, &room.id, "history", json!({"limit": -3}))
            .await?;
        assert!(reply["error"].is_string(), "{reply}");
        let reply = chat.request(account, &room.id, "thread", json!({})).await?;
        assert_eq!(reply["error"], "threadMessageId is required");

        // Still alive and serving.
        let reply = chat
            .send(account, &room.id, "ok-after-garbage", "fine", None)
            .await?;
        assert_eq!(reply["id"], "ok-after-garbage", "{reply}");
        let status = testbed.stop().await?;
        assert!(status.success(), "exit status {status}");
        assert!(!testbed.log().contains("panicked"), "{}", testbed.log());
        Ok(())
    })
    .await
}
