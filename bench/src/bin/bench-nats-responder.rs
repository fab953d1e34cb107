//! A plain NATS responder: answers every request on a subject with a fixed
//! payload. The service both loadgen's `nats` plugin and the plain requester
//! load in `bench/peers`.

use clap::Parser;
use futures::StreamExt;

#[derive(Parser, Debug)]
#[command(about = "Answer every NATS request on a subject")]
struct Args {
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    url: String,
    #[arg(long, default_value = "bench.echo")]
    subject: String,
    /// Reply payload size in bytes.
    #[arg(long, default_value_t = 100)]
    payload: usize,
    /// tokio worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?
        .block_on(respond(args))
}

async fn respond(args: Args) -> anyhow::Result<()> {
    let client = async_nats::connect(&args.url).await?;
    let mut requests = client.subscribe(args.subject.clone()).await?;
    client.flush().await?;
    println!("responding={}", args.subject);
    let payload = bytes::Bytes::from(vec![b'r'; args.payload]);
    while let Some(request) = requests.next().await {
        if let Some(reply) = request.reply {
            client.publish(reply, payload.clone()).await?;
        }
    }
    Ok(())
}
