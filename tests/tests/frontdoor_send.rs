//! A frontdoor send gets an E1 reply carrying the stored message, a
//! RoomEvent with the same `lastMsgId` on the room subject, and lands in
//! the room's history.

use std::time::Duration;

use chat_fixtures::{Fixtures, MessagePreset, RoomKind};
use loadgen_e2e::chat::{message_ids, next};
use loadgen_e2e::{bounded, wait_until, ChatClient, NatsServer, Testbed};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_is_replied_broadcast_and_stored() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &["--preset", "medium"]).await?;
        let chat = ChatClient::connect(&nats).await?;
        let fixtures = Fixtures::build(MessagePreset::Medium, 42, "site-local");
        let room = &fixtures.rooms()[7];
        assert_eq!(room.kind, RoomKind::Group);
        let account = fixtures.account(room.members[0]);

        let mut events = chat
            .subscribe(format!("chat.room.{}.event", room.id))
            .await?;
        let reply = chat
            .send(account, &room.id, "msg-e2e-1", "hello from e2e", None)
            .await?;
        assert_eq!(reply.get("error"), None, "{reply}");
        assert_eq!(reply["id"], "msg-e2e-1");
        assert_eq!(reply["roomId"], room.id.as_str());
        assert_eq!(reply["userAccount"], account);
        assert_eq!(reply["content"], "hello from e2e");
        assert!(
            reply["createdAt"]
                .as_i64()
                .is_some_and(|t| t > 1_700_000_000_000),
            "{reply}"
        );

        let event: Value =
            serde_json::from_slice(&next(&mut events, Duration::from_secs(5)).await?.payload)?;
        assert_eq!(event["lastMsgId"], "msg-e2e-1");
        assert_eq!(event["roomId"], room.id.as_str());
        assert_eq!(event["lastMsgAt"], reply["createdAt"]);
        assert_eq!(event["siteId"], "site-local");
        assert_eq!(event["userCount"], room.members.len());
        assert_eq!(event["message"], reply);
        assert!(event["type"].is_string());

        wait_until("the message in history", Duration::from_secs(5), || async {
            let page = chat
                .history(account, &room.id, None, 5)
                .await
                .unwrap_or_default();
            message_ids(&page).first().map(String::as_str) == Some("msg-e2e-1")
        })
        .await
    })
    .await
}
