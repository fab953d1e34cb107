//! History serves the seeded preset newest first; `before` is exclusive;
//! scrollback by the oldest `createdAt` of each page reaches the start.

use std::time::Duration;

use chat_fixtures::{HistoryFixtures, HistoryPreset};
use loadgen_e2e::chat::message_ids;
use loadgen_e2e::{bounded, ChatClient, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_history_pages_newest_first_and_scrolls_back() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &["--history-preset", "history-small"]).await?;
        let chat = ChatClient::connect(&nats).await?;
        let history = HistoryFixtures::build(HistoryPreset::Small, 42, "site-local");
        let room = 2;
        let room_id = history.room_id(room).to_string();
        let account = history.account(history.members(room)[0]).to_string();

        let first = chat.history(&account, &room_id, None, 20).await?;
        let expected: Vec<String> = history
            .page(room, None, 20)
            .messages
            .iter()
            .map(|m| m.id.to_string())
            .collect();
        assert_eq!(message_ids(&first), expected);
        assert_eq!(first["hasMore"], true);
        let newest = &first["messages"][0];
        let seeded = history.message(room, 99);
        assert_eq!(newest["createdAt"], seeded.created_at_ms);
        assert_eq!(newest["content"], seeded.content);
        assert_eq!(newest["userAccount"], seeded.account);

        // `before` is exclusive: a cursor equal to a message's time omits it.
        let at = history.message(room, 50).created_at_ms;
        let page = chat.history(&account, &room_id, Some(at), 3).await?;
        assert_eq!(
            message_ids(&page),
            vec!["h-0002-000049", "h-0002-000048", "h-0002-000047"]
        );

        // Scrollback: 100 messages in pages of 20 end after 5 pages.
        let mut page = first;
        let mut seen = message_ids(&page);
        while page["hasMore"] == true {
            let oldest = page["messages"]
                .as_array()
                .and_then(|m| m.last())
                .and_then(|m| m["createdAt"].as_i64());
            page = chat.history(&account, &room_id, oldest, 20).await?;
            seen.extend(message_ids(&page));
            assert!(seen.len() <= 100, "scrollback overran: {}", seen.len());
        }
        let all: Vec<String> = (0..100)
            .rev()
            .map(|i| history.message(room, i).id.to_string())
            .collect();
        assert_eq!(seen, all);
        Ok(())
    })
    .await
}
