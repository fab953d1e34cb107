//! A sender not subscribed to the room is refused with `{"error": …}`, and
//! so is a history read by a non-member.

use std::time::Duration;

use chat_fixtures::{Fixtures, MessagePreset};
use loadgen_e2e::{bounded, ChatClient, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_member_send_is_rejected() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let nats = NatsServer::start().await?;
        let testbed = Testbed::start(&nats, &["--preset", "small"]).await?;
        let chat = ChatClient::connect(&nats).await?;
        let fixtures = Fixtures::build(MessagePreset::Small, 42, "site-local");
        let room = &fixtures.rooms()[0];
        let outsider = (0..10)
            .map(|u| fixtures.account(u))
            .find(|a| !fixtures.is_member(a, &room.id))
            .expect("an outsider");

        let reply = chat
            .send(outsider, &room.id, "nm-1", "let me in", None)
            .await?;
        let error = reply["error"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error reply, got {reply}"));
        assert_eq!(
            error,
            format!("user {outsider} is not subscribed to room {}", room.id)
        );

        let unknown = chat
            .send("user-999999", &room.id, "nm-2", "hi", None)
            .await?;
        assert!(unknown["error"].is_string(), "{unknown}");

        let history = chat.history("user-999999", "room-0000", None, 5).await?;
        assert!(
            history["error"]
                .as_str()
                .is_some_and(|e| e.contains("not a member")),
            "{history}"
        );

        let rejected = loadgen_e2e::scrape_counter(
            &testbed.metrics_url().expect("metrics served"),
            "chat_testbed_rejected_total",
            &[("service", "gatekeeper")],
        )
        .await?;
        assert_eq!(rejected, 2.0);
        Ok(())
    })
    .await
}
