//! The gRPC target `bench/peers` loads: a tonic server on loopback whose
//! `loadtest.v1.Items/Ping` answers at once with the text it was sent.
//!
//! Prints `listening=ADDR` once bound.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use clap::Parser;
use loadgen_bench::grpc::{PingReply, PingRequest, PING_PATH};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::body::Body;
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;

#[derive(Parser, Debug)]
#[command(about = "A loopback gRPC target: loadtest.v1.Items/Ping echoes its text")]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// tokio worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

/// The `Items` service with its one method, routed by hand (what tonic's
/// generated code does).
#[derive(Clone)]
struct Items;

impl NamedService for Items {
    const NAME: &'static str = "loadtest.v1.Items";
}

struct Ping;

impl UnaryService<PingRequest> for Ping {
    type Response = PingReply;
    type Future = Ready<Result<Response<PingReply>, Status>>;

    fn call(&mut self, request: Request<PingRequest>) -> Self::Future {
        let text = request.into_inner().text;
        ready(Ok(Response::new(PingReply { text })))
    }
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl tower_service::Service<http::Request<Body>> for Items {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path() != PING_PATH {
            return Box::pin(ready(Ok(Status::unimplemented("only Ping").into_http())));
        }
        Box::pin(async move {
            let mut grpc = Grpc::new(ProstCodec::<PingReply, PingRequest>::default());
            Ok(grpc.unary(Ping, request).await)
        })
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = loadgen_bench::runtime(args.threads)?;
    runtime.block_on(async {
        let listener = TcpListener::bind(args.listen).await?;
        println!("listening={}", listener.local_addr()?);
        tonic::transport::Server::builder()
            .add_service(Items)
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await?;
        anyhow::Ok(())
    })
}
