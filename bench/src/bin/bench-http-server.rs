//! The target `bench/peers` loads: a hyper 1.x HTTP/1.1 server on loopback
//! answering every request 200 with a 100-byte body, optionally after a fixed
//! service delay, optionally stalling ("stall S every P").
//!
//! Prints `listening=ADDR true_p99_ms=X` once bound (X: the p99 an open-loop
//! client must report under the stall pattern; 0 without one).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use loadgen_bench::stall::StallPattern;
use tokio::net::TcpListener;

const BODY: &[u8; 100] = b"loadgen-bench-http-server: a fixed body of exactly one hundred bytes, for every request it answers.\n";

#[derive(Parser, Debug)]
#[command(about = "A loopback HTTP/1.1 target: 200 with a 100-byte body")]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// tokio worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Fixed service delay before each answer (e.g. 2ms).
    #[arg(long, value_parser = humantime::parse_duration)]
    delay: Option<Duration>,
    /// Stall this long at the end of every `--stall-every` period.
    #[arg(long, value_parser = humantime::parse_duration, requires = "stall_every")]
    stall: Option<Duration>,
    #[arg(long, value_parser = humantime::parse_duration, requires = "stall")]
    stall_every: Option<Duration>,
}

struct Behaviour {
    started: Instant,
    delay: Option<Duration>,
    stall: Option<StallPattern>,
}

impl Behaviour {
    async fn answer(
        &self,
        _req: Request<hyper::body::Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        if let Some(stall) = self.stall {
            let wait = stall.wait_at(self.started.elapsed());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        Ok(Response::new(Full::new(Bytes::from_static(BODY))))
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let stall = match (args.stall, args.stall_every) {
        (Some(s), Some(p)) => Some(StallPattern::new(s, p).map_err(anyhow::Error::msg)?),
        _ => None,
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?
        .block_on(serve(args, stall))
}

async fn serve(args: Args, stall: Option<StallPattern>) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.listen).await?;
    let true_p99 = stall.map_or(0.0, |s| s.true_quantile(0.99).as_secs_f64() * 1e3);
    println!(
        "listening={} true_p99_ms={true_p99:.3}",
        listener.local_addr()?
    );
    let behaviour = Arc::new(Behaviour {
        started: Instant::now(),
        delay: args.delay,
        stall,
    });
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let behaviour = Arc::clone(&behaviour);
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let behaviour = Arc::clone(&behaviour);
                async move { behaviour.answer(req).await }
            });
            // A client closing its connection mid-request is routine here.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
