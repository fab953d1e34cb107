//! The messages of the gRPC rows (`loadtest.v1.Items/Ping` of
//! `tests/proto/loadtest.proto`), written as prost structs: the bench
//! programs are plain tonic, with no build step.

/// `loadtest.v1.PingRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PingRequest {
    #[prost(string, tag = "1")]
    pub text: String,
}

/// `loadtest.v1.PingReply`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PingReply {
    #[prost(string, tag = "1")]
    pub text: String,
}

/// The method both sides use.
pub const PING_PATH: &str = "/loadtest.v1.Items/Ping";
