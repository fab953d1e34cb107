//! The loadgen workload plugin interface.
//!
//! A workload plugin is a `cdylib` that loadgen loads at run time. This crate is
//! the only thing a plugin depends on.
//!
//! # Layout
//! - [`abi`]: the FFI-stable types that cross the library boundary (checked by
//!   `abi_stable` when a plugin is loaded): the root module, `Workload`,
//!   `SampleSink`, `Sample`, `Batch`, `FireAck`, `PluginInfo`, and the host's
//!   side (`HostConfig`). Authors rarely need it directly.
//! - [`sdk`]: what plugin authors write against: the [`sdk::Plugin`] trait and the
//!   [`export_plugin!`] macro, which owns the plugin's tokio runtime, the batching
//!   sample sink, `catch_unwind` around every exported call and option parsing;
//!   [`options!`], [`counter_set!`], `Series`/`Reason`, `SeriesSpec` (the
//!   series a started workload declares, each with its own SLO), the `Sent` sample
//!   builder and the `InFlight` table. `Recorder::disturbed` tells the host
//!   the measurement environment was disturbed (a lost connection): that
//!   step is INCONCLUSIVE and re-run (`sdk::nats::ConnectionWatch` reports
//!   NATS connection events so).
//! - [`clock`]: the `CLOCK_MONOTONIC` nanosecond clock shared by host and plugins.
//! - [`testing`]: run a plugin in-process against a recording sink.
//!
//! # A whole plugin
//! A request/reply workload against an in-process "service" that answers after
//! a delay, with one option, one series, one error reason, counters and the
//! in-flight table (saturation, request timeout and loss deadline handled for
//! you):
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use loadgen_plugin_api::sdk::*;
//!
//! const REPLY: Series = Series::new(0, "reply");
//! const REFUSED: Reason = Reason::new(0, "refused");
//!
//! loadgen_plugin_api::options! {
//!     pub struct DemoOptions {
//!         /// how long the service takes to answer
//!         delay: Duration = "2ms",
//!         /// ops awaiting answers beyond which new ops are refused (saturation)
//!         max_in_flight: Positive<usize> = "10000",
//!         /// how long an op waits for its answer after its send
//!         request_timeout: Positive<Duration> = "1s",
//!     }
//! }
//!
//! loadgen_plugin_api::counter_set! {
//!     pub struct Tally {
//!         /// Requests sent.
//!         requests,
//!     }
//! }
//!
//! pub struct Demo {
//!     delay: Duration,
//!     table: Arc<InFlight<u64>>,
//!     tally: Arc<Tally>,
//! }
//!
//! impl Plugin for Demo {
//!     type Options = DemoOptions;
//!
//!     fn info() -> Info {
//!         Info::new("demo", "0.1.0", "answers after a delay")
//!             .series(&[REPLY])
//!             .error_reasons(&[REFUSED])
//!             .counters(Tally::declare())
//!             .counters(InFlight::<u64>::declare_counters())
//!     }
//!
//!     async fn start(ctx: Context<DemoOptions>) -> Result<Self, String> {
//!         let o = &ctx.options;
//!         let limits = Limits::new(o.max_in_flight.get()).request_timeout(o.request_timeout.get());
//!         Ok(Demo { delay: o.delay, table: ctx.in_flight(limits), tally: Default::default() })
//!     }
//!
//!     fn fire(&self, batch: Batch) -> FireAck {
//!         let mut ack = FireAck::default();
//!         for op in batch.ops() {
//!             let sent = op.sent_at(clock::now());
//!             if !self.table.start_counted(&mut ack, op.index, sent, REPLY) {
//!                 continue;
//!             }
//!             bump(&self.tally.requests);
//!             let (table, delay) = (Arc::clone(&self.table), self.delay);
//!             tokio::spawn(async move {
//!                 tokio::time::sleep(delay).await; // the "service"
//!                 let answer = if op.index % 1000 == 999 { Answer::Error(REFUSED) } else { Answer::Ok };
//!                 table.complete(&op.index, answer, clock::now());
//!             });
//!         }
//!         ack
//!     }
//!
//!     fn counters(&self) -> Vec<Counter> {
//!         let mut counters = self.tally.counters();
//!         counters.extend(self.table.counters());
//!         counters
//!     }
//! }
//!
//! loadgen_plugin_api::export_plugin!(Demo);
//!
//! // Tested as a crate, through the same glue the host uses:
//! # fn main() {
//! let (workload, sink) = loadgen_plugin_api::testing::start::<Demo>(&[("delay", "1ms")], Duration::from_secs(5)).unwrap();
//! let batch = Batch { first_op: 0, first_intended: clock::now(), interval_ns: 1000, count: 10 };
//! assert_eq!(workload.fire(batch).unwrap(), FireAck::all_accepted(10));
//! let samples = sink.wait_for(10, Duration::from_secs(5));
//! assert!(samples.iter().all(|s| s.outcome == Outcome::Ok && s.series == REPLY.index()));
//! workload.shutdown().unwrap();
//! # }
//! ```

pub mod abi;
pub mod clock;
pub mod sdk;
pub mod testing;

/// Re-exported for the [`export_plugin!`] macro; plugins need not depend on it.
// Consider semver implications carefully: the macro expands to paths under it.
#[doc(hidden)]
pub use abi_stable as __abi_stable;
