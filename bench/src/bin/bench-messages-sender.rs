//! The plain async-nats reference for loadgen's `messages` plugin: the same
//! chat send (PROTOCOL.md "Message send", frontdoor) at a fixed open-loop
//! rate, with E1 (publish → gatekeeper reply) and E2 (publish → first
//! broadcast carrying the message id) correlated per message and recorded
//! from each message's intended time into two HdrHistograms. Messages are
//! drawn from the same fixtures, seed and ids as the plugin's, so the
//! chat-testbed does the same work for both. Prints one `key=value` line.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chat_fixtures::{Fixtures, MessagePreset, Rng};
use clap::Parser;
use futures::StreamExt;
use hdrhistogram::Histogram;
use loadgen_bench::measure::{latency_histogram, now_ns, process_cpu};
use loadgen_bench::open_loop;
use serde::{Deserialize, Serialize};

#[derive(Parser, Debug)]
#[command(about = "Open-loop chat message sends with E1/E2 correlation")]
struct Args {
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    url: String,
    /// Messages per second.
    #[arg(long)]
    rate: u64,
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    duration: Duration,
    /// Fixtures preset (must match the testbed's).
    #[arg(long, default_value = "medium")]
    preset: MessagePreset,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, env = "SITE_ID", default_value = "site-local")]
    site: String,
    /// A message without both answers this long after the schedule ends is lost.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    timeout: Duration,
    /// tokio worker threads (the pacing thread is extra).
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

const E1: u8 = 1;
const E2: u8 = 2;

/// Messages awaiting answers: seq → (intended ns, answers still awaited).
#[derive(Default)]
struct Pending {
    open: HashMap<u64, (u64, u8)>,
    e1: Option<Histogram<u64>>,
    e2: Option<Histogram<u64>>,
    completed: u64,
}

impl Pending {
    /// Answer `bit` of message `seq` arrived at `done`.
    fn answer(&mut self, seq: u64, bit: u8, done: u64) {
        let Some((intended, awaits)) = self.open.get_mut(&seq) else {
            return;
        };
        if *awaits & bit == 0 {
            return;
        }
        *awaits &= !bit;
        let (latency, left) = (done.saturating_sub(*intended).max(1), *awaits);
        let h = if bit == E1 {
            &mut self.e1
        } else {
            &mut self.e2
        };
        h.get_or_insert_with(latency_histogram)
            .saturating_record(latency);
        if left == 0 {
            self.open.remove(&seq);
            self.completed += 1;
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SendMessageRequest<'a> {
    id: &'a str,
    content: &'a str,
    request_id: &'a str,
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoomEvent<'a> {
    #[serde(borrow)]
    last_msg_id: std::borrow::Cow<'a, str>,
}

fn request_id(nonce: u32, seq: u64) -> String {
    format!("{nonce:08x}-0000-4000-8000-{seq:012x}")
}

fn message_id(nonce: u32, seq: u64) -> String {
    format!("m-{nonce:08x}-{seq:012x}")
}

fn seq_of_request_id(nonce: u32, id: &str) -> Option<u64> {
    (id.len() == 36 && u32::from_str_radix(id.get(..8)?, 16).ok()? == nonce)
        .then(|| u64::from_str_radix(id.get(24..)?, 16).ok())
        .flatten()
}

fn seq_of_message_id(nonce: u32, id: &str) -> Option<u64> {
    let (head, seq) = id.strip_prefix("m-")?.split_once('-')?;
    (u32::from_str_radix(head, 16).ok()? == nonce)
        .then(|| u64::from_str_radix(seq, 16).ok())
        .flatten()
}

/// One message: subject and body, drawn from (seed, seq) like the plugin's.
fn build(fixtures: &Fixtures, site: &str, seed: u64, nonce: u32, seq: u64) -> (String, Bytes) {
    let mut rng = Rng::new(chat_fixtures::hash(&[seed, seq]));
    let pick = fixtures.pick_send(&mut rng);
    let account = fixtures.account(pick.user);
    let room = fixtures.room_id(pick.room);
    let content = fixtures.content(&mut rng, pick);
    let body = serde_json::to_vec(&SendMessageRequest {
        id: &message_id(nonce, seq),
        content: &content,
        request_id: &request_id(nonce, seq),
    })
    .expect("plain strings serialize");
    (
        format!("chat.user.{account}.room.{room}.{site}.msg.send"),
        body.into(),
    )
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.rate == 0 {
        anyhow::bail!("--rate must be > 0");
    }
    let runtime = loadgen_bench::runtime(args.threads)?;
    let fixtures = Fixtures::build(args.preset, args.seed, &args.site);
    let nonce = (now_ns() ^ u64::from(std::process::id()) << 32) as u32;
    let pending = Arc::new(Mutex::new(Pending::default()));
    let client = runtime.block_on(async {
        let client = async_nats::ConnectOptions::new()
            .subscription_capacity(1 << 20)
            .connect(&args.url)
            .await?;
        let replies = client.subscribe("chat.user.*.response.*").await?;
        let rooms = client.subscribe("chat.room.*.event").await?;
        let users = client.subscribe("chat.user.*.event.room").await?;
        client.flush().await?;
        tokio::spawn(receive_replies(replies, Arc::clone(&pending), nonce));
        tokio::spawn(receive_broadcasts(
            futures::stream::select(rooms, users),
            Arc::clone(&pending),
            nonce,
        ));
        anyhow::Ok(client)
    })?;
    let (out_tx, mut out_rx) = tokio::sync::mpsc::unbounded_channel::<(String, Bytes)>();
    let publisher = runtime.spawn(async move {
        let mut errors = 0u64;
        while let Some((subject, body)) = out_rx.recv().await {
            if client.publish(subject, body).await.is_err() {
                errors += 1;
            }
        }
        // A connection the server dropped (slow consumer) never answers the
        // flush: its messages are lost, not waited for.
        let _ = tokio::time::timeout(Duration::from_secs(5), client.flush()).await;
        errors
    });

    let cpu0 = process_cpu();
    let start = now_ns() + 10_000_000;
    let mut seq = 0u64;
    let sent = open_loop::run(start, args.rate, args.duration, |intended| {
        let message = build(&fixtures, &args.site, args.seed, nonce, seq);
        pending
            .lock()
            .unwrap()
            .open
            .insert(seq, (intended, E1 | E2));
        let _ = out_tx.send(message);
        seq += 1;
    });
    drop(out_tx);
    // Publishes block while the connection is down; past the timeout the
    // unpublished rest counts as lost.
    let publish_errors = runtime
        .block_on(async { tokio::time::timeout(args.timeout, publisher).await })
        .map_or(Ok(0), |joined| joined)?;
    // Wait for the stragglers, up to the timeout.
    let waited_from = now_ns();
    while !pending.lock().unwrap().open.is_empty()
        && now_ns() - waited_from < args.timeout.as_nanos() as u64
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let cpu = process_cpu() - cpu0;
    let elapsed = Duration::from_nanos(now_ns() - start).max(args.duration);
    let p = pending.lock().unwrap();
    let ms = |h: &Option<Histogram<u64>>, q: f64| {
        h.as_ref()
            .map_or(0.0, |h| h.value_at_quantile(q) as f64 / 1e6)
    };
    println!(
        "achieved_rps={:.1} sent={sent} completed={} lost={} publish_errors={publish_errors} \
         p50_ms={:.3} p99_ms={:.3} e2_p50_ms={:.3} e2_p99_ms={:.3} cpu_s={:.3} cpu_us_per_op={:.3}",
        p.completed as f64 / elapsed.as_secs_f64(),
        p.completed,
        p.open.len(),
        ms(&p.e1, 0.5),
        ms(&p.e1, 0.99),
        ms(&p.e2, 0.5),
        ms(&p.e2, 0.99),
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / sent.max(1) as f64,
    );
    Ok(())
}

/// `chat.user.*.response.*`: E1 (a rejection ends the message: no broadcast comes).
async fn receive_replies(
    mut sub: async_nats::Subscriber,
    pending: Arc<Mutex<Pending>>,
    nonce: u32,
) {
    while let Some(msg) = sub.next().await {
        let done = now_ns();
        let id = msg.subject.as_str().rsplit('.').next().unwrap_or_default();
        let Some(seq) = seq_of_request_id(nonce, id) else {
            continue;
        };
        let rejected =
            serde_json::from_slice::<Reply>(&msg.payload).map_or(true, |r| r.error.is_some());
        let mut p = pending.lock().unwrap();
        if rejected {
            p.open.remove(&seq);
        } else {
            p.answer(seq, E1, done);
        }
    }
}

/// Room and DM broadcasts: the first carrying a message id is its E2.
async fn receive_broadcasts(
    mut events: impl futures::Stream<Item = async_nats::Message> + Unpin,
    pending: Arc<Mutex<Pending>>,
    nonce: u32,
) {
    while let Some(msg) = events.next().await {
        let done = now_ns();
        let Ok(event) = serde_json::from_slice::<RoomEvent>(&msg.payload) else {
            continue;
        };
        if let Some(seq) = seq_of_message_id(nonce, &event.last_msg_id) {
            pending.lock().unwrap().answer(seq, E2, done);
        }
    }
}
