//! In a DM room the RoomEvent goes to each member's user subject.

use std::time::Duration;

use chat_fixtures::{Fixtures, MessagePreset, RoomKind};
use loadgen_e2e::chat::next;
use loadgen_e2e::{bounded, ChatClient, NatsServer, Testbed};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dm_send_reaches_both_members() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &["--preset", "realistic", "--seed", "7"]).await?;
        let chat = ChatClient::connect(&nats).await?;
        let fixtures = Fixtures::build(MessagePreset::Realistic, 7, "site-local");
        let dm = fixtures
            .rooms()
            .iter()
            .find(|r| r.kind == RoomKind::Dm)
            .expect("realistic has DMs");
        let [a, b] = [dm.members[0], dm.members[1]].map(|u| fixtures.account(u).to_string());

        let mut to_a = chat.subscribe(format!("chat.user.{a}.event.room")).await?;
        let mut to_b = chat.subscribe(format!("chat.user.{b}.event.room")).await?;
        let reply = chat.send(&a, &dm.id, "dm-e2e-1", "psst", None).await?;
        assert_eq!(reply["id"], "dm-e2e-1", "{reply}");

        for sub in [&mut to_a, &mut to_b] {
            let event: Value =
                serde_json::from_slice(&next(sub, Duration::from_secs(5)).await?.payload)?;
            assert_eq!(event["lastMsgId"], "dm-e2e-1");
            assert_eq!(event["roomId"], dm.id.as_str());
            assert_eq!(event["userCount"], 2);
        }
        Ok(())
    })
    .await
}
