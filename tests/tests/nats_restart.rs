//! A nats-server restart (same port and store) under a running testbed:
//! the testbed reconnects and sends go through again.

use std::time::Duration;

use chat_fixtures::{Fixtures, MessagePreset};
use loadgen_e2e::{bounded, wait_for, ChatClient, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testbed_survives_a_nats_restart() -> anyhow::Result<()> {
    bounded(Duration::from_secs(90), async {
        let mut nats = NatsServer::start().await?;
        let testbed = Testbed::start(&nats, &[]).await?;
        let chat = ChatClient::connect(&nats).await?;
        let fixtures = Fixtures::build(MessagePreset::Medium, 42, "site-local");
        let room = &fixtures.rooms()[5];
        let account = fixtures.account(room.members[0]).to_string();
        let reply = chat
            .send(&account, &room.id, "pre-restart", "one", None)
            .await?;
        assert_eq!(reply["id"], "pre-restart");

        let old_pid = nats.pid();
        nats.restart().await?;
        assert_ne!(nats.pid(), old_pid);

        let mut n = 0;
        let reply = wait_for(
            "a send to succeed after the restart",
            Duration::from_secs(30),
            || {
                n += 1;
                let (chat, account, room) = (chat.clone(), account.clone(), room.id.clone());
                async move {
                    let reply = chat
                        .send(&account, &room, &format!("post-restart-{n}"), "two", None)
                        .await
                        .ok()?;
                    reply.get("id").is_some().then_some(reply)
                }
            },
        )
        .await?;
        assert!(reply["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("post-restart-")));
        assert!(testbed.pid().is_some());
        Ok(())
    })
    .await
}
