//! The loadgen workload plugin interface.
//!
//! A workload plugin is a `cdylib` that loadgen loads at run time. This crate is
//! the only thing a plugin depends on.
//!
//! # Layout
//! - [`abi`]: the FFI-stable types that cross the library boundary (checked by
//!   `abi_stable` when a plugin is loaded): the root module, `Workload`,
//!   `SampleSink`, `Sample`, `Batch`, `FireAck`, `PluginInfo`.
//! - [`sdk`]: what plugin authors write against: the [`sdk::Plugin`] trait and the
//!   [`export_plugin!`] macro, which owns the plugin's tokio runtime, the batching
//!   sample sink, `catch_unwind` around every exported call and option parsing.
//! - [`clock`]: the `CLOCK_MONOTONIC` nanosecond clock shared by host and plugins.
//! - [`testing`]: run a plugin in-process against a recording sink.
//!
//! # A whole plugin
//! ```ignore
//! use loadgen_plugin_api::sdk::*;
//!
//! pub struct Echo { recorder: Recorder }
//!
//! impl Plugin for Echo {
//!     fn info() -> Info {
//!         Info::new("echo", env!("CARGO_PKG_VERSION"), "completes every op at once")
//!             .series(&["echo"])
//!             .default_steps("1k,10k")
//!     }
//!     async fn start(ctx: Context) -> Result<Self, String> {
//!         Ok(Echo { recorder: ctx.recorder })
//!     }
//!     fn fire(&self, batch: Batch) -> FireAck {
//!         let now = clock::now();
//!         for op in batch.ops() {
//!             self.recorder.record(Sample::ok(0, op.intended, now, now));
//!         }
//!         FireAck::all_accepted(batch.count)
//!     }
//! }
//!
//! export_plugin!(Echo);
//! ```

pub mod abi;
pub mod clock;
pub mod sdk;
pub mod testing;

/// Re-exported for the [`export_plugin!`] macro; plugins need not depend on it.
// Consider semver implications carefully: the macro expands to paths under it.
#[doc(hidden)]
pub use abi_stable as __abi_stable;
