//! SIGTERM stops the testbed cleanly within 5 s; a restart against the same
//! nats-server starts without errors, keeps every stored message exactly
//! once, and publishes nothing twice.

use std::time::Duration;

use chat_fixtures::{Fixtures, MessagePreset};
use loadgen_e2e::chat::message_ids;
use loadgen_e2e::{bounded, stream_messages, wait_until, ChatClient, NatsServer, Testbed};

const SENDS: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_is_clean_and_restart_keeps_messages_once() -> anyhow::Result<()> {
    bounded(Duration::from_secs(90), async {
        let nats = NatsServer::start().await?;
        let chat = ChatClient::connect(&nats).await?;
        let fixtures = Fixtures::build(MessagePreset::Medium, 42, "site-local");
        let room = &fixtures.rooms()[11];
        let account = fixtures.account(room.members[0]).to_string();
        let ids: Vec<String> = (0..SENDS).map(|i| format!("restart-{i}")).collect();

        let mut first = Testbed::start(&nats, &[]).await?;
        for id in &ids {
            let reply = chat
                .send(&account, &room.id, id, "before restart", None)
                .await?;
            assert_eq!(reply["id"], id.as_str(), "{reply}");
        }
        let stored = || async {
            let page = chat
                .history(&account, &room.id, None, 100)
                .await
                .unwrap_or_default();
            message_ids(&page)
                .into_iter()
                .filter(|id| id.starts_with("restart-"))
                .collect::<Vec<_>>()
        };
        wait_until("all sends stored", Duration::from_secs(10), || async {
            stored().await.len() == SENDS
        })
        .await?;

        let status = first.stop_within(Duration::from_secs(5)).await?;
        assert!(status.success(), "exit status {status}");
        let log = first.log();
        assert!(
            log.contains("shutting down") && log.contains("stopped"),
            "{log}"
        );

        let second = Testbed::start(&nats, &[]).await?;
        let mut after = stored().await;
        after.sort();
        let mut expected = ids.clone();
        expected.sort();
        assert_eq!(
            after, expected,
            "each stored message exactly once after restart"
        );
        assert_eq!(
            stream_messages(&chat.client, "MESSAGES_CANONICAL_site-local").await?,
            SENDS as u64
        );

        let reply = chat
            .send(&account, &room.id, "after-restart", "still here", None)
            .await?;
        assert_eq!(reply["id"], "after-restart", "{reply}");
        wait_until(
            "post-restart send stored",
            Duration::from_secs(5),
            || async {
                message_ids(
                    &chat
                        .history(&account, &room.id, None, 1)
                        .await
                        .unwrap_or_default(),
                ) == ["after-restart"]
            },
        )
        .await?;
        let log = second.log();
        assert!(
            !log.contains("ERROR") && !log.contains("WARN"),
            "second run logged problems:\n{log}"
        );
        Ok(())
    })
    .await
}
