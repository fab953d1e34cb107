//! The plain tonic reference for loadgen's `grpc` plugin: open-loop unary
//! calls of `loadtest.v1.Items/Ping` at a fixed rate for a duration over
//! `connections` channels, latency from each call's intended send time
//! (coordinated-omission corrected) into an HdrHistogram. Prints one
//! `key=value` line: achieved rate, p50/p99, CPU.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use loadgen_bench::grpc::{PingReply, PingRequest, PING_PATH};
use loadgen_bench::measure::{latency_histogram, now_ns, process_cpu, RunResult};
use loadgen_bench::open_loop;
use tonic::client::Grpc;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};
use tonic_prost::ProstCodec;

#[derive(Parser, Debug)]
#[command(about = "Open-loop unary gRPC calls at a fixed rate")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    url: String,
    /// Calls per second.
    #[arg(long)]
    rate: u64,
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    duration: Duration,
    /// Length of the request's text, bytes.
    #[arg(long, default_value_t = 100)]
    payload: usize,
    /// HTTP/2 connections; calls go round-robin.
    #[arg(long, default_value_t = 2)]
    connections: usize,
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
    if args.rate == 0 || args.connections == 0 {
        anyhow::bail!("--rate and --connections must be > 0");
    }
    let runtime = loadgen_bench::runtime(args.threads)?;
    let clients: Vec<Grpc<Channel>> = runtime.block_on(async {
        let endpoint = Endpoint::from_shared(args.url.clone())?.tcp_nodelay(true);
        let mut clients = Vec::new();
        for _ in 0..args.connections {
            clients.push(Grpc::new(endpoint.connect().await?));
        }
        anyhow::Ok(clients)
    })?;
    let text = "q".repeat(args.payload);
    let path = PathAndQuery::from_static(PING_PATH);
    let latency = Arc::new(Mutex::new(latency_histogram()));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();

    let cpu0 = process_cpu();
    let start = now_ns() + 10_000_000;
    let mut k = 0usize;
    let fired = open_loop::run(start, args.rate, args.duration, |intended| {
        let mut client = clients[k % clients.len()].clone();
        k += 1;
        let (text, path) = (text.clone(), path.clone());
        let (latency, tally, done) = (Arc::clone(&latency), Arc::clone(&tally), done_tx.clone());
        runtime.spawn(async move {
            let answered = async {
                client.ready().await.ok()?;
                let request = tonic::Request::new(PingRequest { text });
                let codec = ProstCodec::<PingRequest, PingReply>::default();
                client.unary(request, path, codec).await.ok()
            }
            .await
            .is_some();
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
    // Every call task holds a sender: the channel closes when all have ended.
    runtime.block_on(async { while done_rx.recv().await.is_some() {} });
    let cpu = process_cpu() - cpu0;
    let elapsed = Duration::from_nanos(now_ns() - start).max(args.duration);
    let tally = tally.lock().unwrap();
    let result = RunResult {
        ok: tally.ok,
        errors: tally.errors,
        elapsed,
        cpu,
        latency: latency.lock().unwrap().clone(),
    };
    assert_eq!(tally.ok + tally.errors, fired, "every call accounted for");
    println!("{}", result.line());
    Ok(())
}
