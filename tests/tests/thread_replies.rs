//! Thread requests return a seeded thread's replies, oldest first, and a
//! live reply once message-worker has stored it.

use std::time::Duration;

use chat_fixtures::{Fixtures, HistoryFixtures, HistoryPreset, MessagePreset};
use loadgen_e2e::chat::message_ids;
use loadgen_e2e::{bounded, wait_until, ChatClient, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_returns_seeded_and_live_replies() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &["--history-preset", "history-medium"]).await?;
        let chat = ChatClient::connect(&nats).await?;
        let history = HistoryFixtures::build(HistoryPreset::Medium, 42, "site-local");
        let room = 4;
        let room_id = history.room_id(room).to_string();
        let reader = history.account(history.members(room)[0]).to_string();
        let parent = history.thread_parent(room, 3);

        let reply = chat
            .thread(&reader, &room_id, &parent.to_string(), 20)
            .await?;
        let expected: Vec<String> = history.replies(parent).map(|m| m.id.to_string()).collect();
        assert_eq!(expected.len(), 3);
        assert_eq!(message_ids(&reply), expected);
        let parent_id = parent.to_string();
        assert!(reply["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["threadParentMessageId"] == parent_id.as_str()));

        // A live reply from a member of the same room in the message preset.
        let fixtures = Fixtures::build(MessagePreset::Medium, 42, "site-local");
        let sender = fixtures
            .account(fixtures.rooms()[room as usize].members[0])
            .to_string();
        let sent = chat
            .send(
                &sender,
                &room_id,
                "live-reply-1",
                "me too",
                Some(&parent_id),
            )
            .await?;
        assert_eq!(sent["threadParentMessageId"], parent_id.as_str(), "{sent}");
        wait_until(
            "the live reply in the thread",
            Duration::from_secs(5),
            || async {
                let reply = chat
                    .thread(&reader, &room_id, &parent_id, 20)
                    .await
                    .unwrap_or_default();
                message_ids(&reply).last().map(String::as_str) == Some("live-reply-1")
            },
        )
        .await?;

        // Replies stay out of the room's main history.
        let page = chat.history(&reader, &room_id, None, 5).await?;
        assert!(!message_ids(&page).contains(&"live-reply-1".to_string()));
        Ok(())
    })
    .await
}
