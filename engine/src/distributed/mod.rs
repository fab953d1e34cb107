//! Distributed generation: one ramp driven by many `loadgen agent` processes,
//! coordinated over NATS request/reply (ractor stays inside each process).
//!
//! # Layout
//! - [`protocol`]: subjects and message bodies (serde JSON), the histogram
//!   wire format and the exact merge. No I/O.
pub mod agent;
pub mod control;
pub mod coordinator;
pub mod fleet;
pub mod join;
pub mod protocol;
mod proxy;
