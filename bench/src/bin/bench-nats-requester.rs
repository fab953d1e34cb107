//! The plain async-nats reference for loadgen's `nats` plugin: open-loop
//! request/reply at a fixed rate for a duration, latency from each request's
//! intended send time (coordinated-omission corrected) into an HdrHistogram.
//! Prints one `key=value` line: achieved rate, p50/p99, CPU.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use loadgen_bench::measure::{latency_histogram, now_ns, process_cpu, RunResult};
use loadgen_bench::open_loop;

#[derive(Parser, Debug)]
#[command(about = "Open-loop NATS request/reply at a fixed rate")]
struct Args {
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    url: String,
    #[arg(long, default_value = "bench.echo")]
    subject: String,
    /// Requests per second.
    #[arg(long)]
    rate: u64,
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    duration: Duration,
    /// Request payload size in bytes.
    #[arg(long, default_value_t = 100)]
    payload: usize,
    /// A request unanswered this long is an error.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    timeout: Duration,
    /// tokio worker threads (the pacing thread is extra).
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[derive(Default)]
struct Tally {
    ok: u64,
    errors: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.rate == 0 {
        anyhow::bail!("--rate must be > 0");
    }
    let runtime = loadgen_bench::runtime(args.threads)?;
    let client = runtime.block_on(async {
        let client = async_nats::ConnectOptions::new()
            .request_timeout(Some(args.timeout))
            .connect(&args.url)
            .await?;
        anyhow::Ok(client)
    })?;
    let payload = bytes::Bytes::from(vec![b'q'; args.payload]);
    let latency = Arc::new(Mutex::new(latency_histogram()));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();

    let cpu0 = process_cpu();
    let start = now_ns() + 10_000_000;
    let fired = open_loop::run(start, args.rate, args.duration, |intended| {
        let (client, subject, payload) = (client.clone(), args.subject.clone(), payload.clone());
        let (latency, tally, done) = (Arc::clone(&latency), Arc::clone(&tally), done_tx.clone());
        runtime.spawn(async move {
            let answered = client.request(subject, payload).await.is_ok();
            let elapsed = now_ns().saturating_sub(intended);
            if answered {
                latency.lock().unwrap().saturating_record(elapsed.max(1));
                tally.lock().unwrap().ok += 1;
            } else {
                tally.lock().unwrap().errors += 1;
            }
            drop(done);
        });
    });
    drop(done_tx);
    // Every request task holds a sender: the channel closes when all have ended.
    runtime.block_on(async { while done_rx.recv().await.is_some() {} });
    let cpu = process_cpu() - cpu0;
    // Answers still arriving after the schedule ended stretch the run: the
    // rate achieved is what was answered over the time it took.
    let elapsed = Duration::from_nanos(now_ns() - start).max(args.duration);
    let tally = tally.lock().unwrap();
    let result = RunResult {
        ok: tally.ok,
        errors: tally.errors,
        elapsed,
        cpu,
        latency: latency.lock().unwrap().clone(),
    };
    assert_eq!(
        tally.ok + tally.errors,
        fired,
        "every request accounted for"
    );
    println!("{}", result.line());
    Ok(())
}
