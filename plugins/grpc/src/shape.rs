//! Which way a method's messages flow, and the series that gives a call.

use loadgen_plugin_api::sdk::Series;
use prost_reflect::MethodDescriptor;

use crate::{FIRST, GRPC, LAST};

/// Which way messages flow, from the method's descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Unary,
    ServerStreaming,
    ClientStreaming,
    Bidi,
}

impl Shape {
    pub fn of(method: &MethodDescriptor) -> Shape {
        match (method.is_client_streaming(), method.is_server_streaming()) {
            (false, false) => Shape::Unary,
            (false, true) => Shape::ServerStreaming,
            (true, false) => Shape::ClientStreaming,
            (true, true) => Shape::Bidi,
        }
    }

    /// The series a call of this shape answers: the reply, or the first and
    /// the last message of a stream of replies.
    pub fn series(self) -> &'static [Series] {
        match self {
            Shape::Unary | Shape::ClientStreaming => &[GRPC],
            Shape::ServerStreaming | Shape::Bidi => &[FIRST, LAST],
        }
    }

    pub(crate) fn streams_replies(self) -> bool {
        matches!(self, Shape::ServerStreaming | Shape::Bidi)
    }
}
