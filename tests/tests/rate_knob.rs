//! `--broadcast-rate N` caps broadcast-worker at N msgs/s: offered ~3x that,
//! its durable's `num_pending` grows and the processed rate (from the
//! testbed's Prometheus counters) stays within 10 % of N, while the
//! unlimited message-worker keeps up.

use std::time::Duration;

use async_nats::jetstream;
use loadgen_e2e::{bounded, num_pending, scrape_counter, wait_until, NatsServer, Testbed};
use tokio::time::Instant;

const RATE: f64 = 300.0;
const OFFER_PER_SEC: u64 = 900;
const OFFER_FOR: Duration = Duration::from_secs(4);
const CANONICAL: &str = "MESSAGES_CANONICAL_site-local";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_rate_knob_caps_throughput_and_backlog_grows() -> anyhow::Result<()> {
    bounded(Duration::from_secs(90), async {
        let nats = NatsServer::start().await?;
        let testbed = Testbed::start(&nats, &["--broadcast-rate", "300"]).await?;
        let metrics = testbed.metrics_url().expect("metrics served");
        let client = nats.client().await?;
        let js = jetstream::new(client.clone());
        let processed = || scrape_counter(&metrics, "chat_testbed_processed_total", &[("service", "broadcast")]);
        let pending_before = num_pending(&client, CANONICAL, "broadcast-worker").await?;

        // Open-loop offer: message k is due at start + k/OFFER_PER_SEC.
        let start = Instant::now();
        let total = OFFER_PER_SEC * OFFER_FOR.as_secs();
        let mut acks = Vec::with_capacity(total as usize);
        let mut window: Option<(Instant, f64)> = None;
        for k in 0..total {
            let due = start + Duration::from_secs_f64(k as f64 / OFFER_PER_SEC as f64);
            tokio::time::sleep_until(due).await;
            if window.is_none() && start.elapsed() >= Duration::from_secs(1) {
                window = Some((Instant::now(), processed().await?));
            }
            let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis();
            let event = format!(
                r#"{{"event":"created","message":{{"id":"rate-{k}","roomId":"room-0001","userId":"user-1","userAccount":"user-1","content":"x","createdAt":{now_ms}}},"siteId":"site-local","timestamp":{now_ms}}}"#
            );
            acks.push(js.publish("chat.msg.canonical.site-local.created", event.into()).await?);
        }
        let (t0, c0) = window.expect("offer lasted over a second");
        let c1 = processed().await?;
        let rate = (c1 - c0) / t0.elapsed().as_secs_f64();
        for ack in acks {
            ack.await?;
        }
        let pending_after = num_pending(&client, CANONICAL, "broadcast-worker").await?;

        eprintln!("broadcast processed {rate:.1}/s; pending {pending_before} -> {pending_after}");
        assert!((RATE * 0.9..=RATE * 1.1).contains(&rate), "broadcast processed {rate:.1}/s, knob {RATE}/s");
        assert!(
            pending_after >= pending_before + 1000,
            "broadcast-worker pending {pending_before} -> {pending_after}, expected growth"
        );
        wait_until("message-worker to keep up", Duration::from_secs(10), || async {
            num_pending(&client, CANONICAL, "message-worker").await.is_ok_and(|p| p == 0)
        })
        .await
    })
    .await
}
