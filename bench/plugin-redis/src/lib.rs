//! `redis`: the plugin template with its stand-in service replaced by a
//! Redis client — `PING` on one of `connections` pooled connections, one task
//! per op, as a new user writes a plugin. bench/peers runs it against a real
//! redis-server to show that loadgen adds no latency at low rates.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use loadgen_plugin_api::sdk::*;
use loadgen_plugin_api::{counter_set, export_plugin, options};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// The one latency series: PING sent → PONG received.
pub const REPLY: Series = Series::new(0, "ping");
/// The server answered something other than `+PONG`, or the connection failed.
pub const REFUSED: Reason = Reason::new(0, "refused");

options! {
    pub struct RedisOptions {
        /// the redis-server to PING, host:port
        addr: String = "127.0.0.1:6379",
        /// connections in the pool (each carries one request at a time)
        connections: Positive<usize> = "16",
        /// requests awaiting replies beyond which new ops are refused (saturation)
        max_in_flight: Positive<usize> = "10000",
        /// how long a request waits for its reply after its send (Timeout after that)
        request_timeout: Positive<Duration> = "5s",
    }
}

counter_set! {
    pub struct Tally {
        /// Requests sent.
        requests,
        /// Replies that were errors.
        refused,
    }
}

/// A pool of connections; a request takes the next one round-robin and
/// waits for it if another request holds it.
struct Service {
    connections: Vec<Mutex<TcpStream>>,
    next: AtomicU64,
}

impl Service {
    async fn connect(addr: &str, connections: usize) -> Result<Service, String> {
        let mut pool = Vec::with_capacity(connections);
        for _ in 0..connections {
            let stream = TcpStream::connect(addr)
                .await
                .map_err(|e| format!("cannot reach redis at {addr}: {e}"))?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            pool.push(Mutex::new(stream));
        }
        Ok(Service {
            connections: pool,
            next: AtomicU64::new(0),
        })
    }

    async fn call(&self) -> Result<(), ()> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) as usize % self.connections.len();
        let mut stream = self.connections[i].lock().await;
        stream.write_all(b"PING\r\n").await.map_err(|_| ())?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).await.map_err(|_| ())?;
        match &reply {
            b"+PONG\r\n" => Ok(()),
            _ => Err(()),
        }
    }
}

pub struct Redis {
    service: Arc<Service>,
    table: Arc<InFlight<u64>>,
    tally: Arc<Tally>,
    /// The table's key: the engine's op index restarts every step.
    next_request: AtomicU64,
}

impl Plugin for Redis {
    type Options = RedisOptions;

    fn targets(options: &RedisOptions) -> Option<Vec<String>> {
        Some(vec![options.addr.clone()])
    }

    fn info() -> Info {
        Info::new(
            "redis",
            env!("CARGO_PKG_VERSION"),
            "PING a redis-server: the plugin template with a real service (bench).",
        )
        .series(&[REPLY])
        .error_reasons(&[REFUSED])
        .counters(Tally::declare())
        .counters(InFlight::<u64>::declare_counters())
        .default_steps("1k,5k,20k")
    }

    async fn start(ctx: Context<RedisOptions>) -> Result<Self, String> {
        let o = &ctx.options;
        let limits = Limits::new(o.max_in_flight.get()).request_timeout(o.request_timeout.get());
        Ok(Redis {
            service: Arc::new(Service::connect(&o.addr, o.connections.get()).await?),
            table: ctx.in_flight(limits),
            tally: Arc::default(),
            next_request: AtomicU64::new(0),
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        let mut ack = FireAck::default();
        for op in batch.ops() {
            let request = self.next_request.fetch_add(1, Ordering::Relaxed);
            let sent = op.sent_at(clock::now());
            if !self.table.start_counted(&mut ack, request, sent, REPLY) {
                continue; // saturated: max_in_flight requests are open
            }
            bump(&self.tally.requests);
            let (service, table, tally) = (
                Arc::clone(&self.service),
                Arc::clone(&self.table),
                Arc::clone(&self.tally),
            );
            tokio::spawn(async move {
                let answer = match service.call().await {
                    Ok(()) => Answer::Ok,
                    Err(()) => {
                        bump(&tally.refused);
                        Answer::Error(REFUSED)
                    }
                };
                table.complete(&request, answer, clock::now());
            });
        }
        ack
    }

    fn counters(&self) -> Vec<Counter> {
        let mut counters = self.tally.counters();
        counters.extend(self.table.counters());
        counters
    }
}

export_plugin!(Redis);
