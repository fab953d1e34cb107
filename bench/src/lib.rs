//! Programs for `bench/peers`: the target they all load, and the plain
//! async-nats references loadgen's workloads are held against.
//!
//! Layout:
//! - [`stall`]: the server's "stall S every P" pattern and the true latency
//!   quantiles it implies for an open-loop client (the coordinated-omission row).
//! - [`open_loop`]: fire op *k* at `start + k/rate` from a dedicated thread.
//! - [`grpc`]: the messages of the gRPC rows, as prost structs.
//! - [`measure`]: process CPU time, the monotonic clock, and the one-line
//!   `key=value` result every program prints for the script.
//!
//! Binaries (`src/bin`): `bench-http-server`, `bench-nats-requester`,
//! `bench-nats-responder`, `bench-grpc-server`, `bench-grpc-caller`.

pub mod grpc;
pub mod measure;
pub mod open_loop;
pub mod stall;

/// The reference generators' tokio runtime: `threads` workers (at least 1),
/// timers and I/O on; their pacing thread is extra.
pub fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
}
