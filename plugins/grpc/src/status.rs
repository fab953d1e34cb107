//! Why a call failed: every non-OK gRPC status by its name (`unavailable`,
//! `resource_exhausted` …), a transport failure that never reached the
//! server's status, or a request that could not be built. Each is also a
//! counter of the same name.

use std::sync::atomic::AtomicU64;

use loadgen_plugin_api::sdk::{Counter, CounterDecl, Reason};
use tonic::{Code, Status};

/// Why an op failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A status the server (or a proxy) answered, never `Ok`.
    Status(Code),
    /// The call broke below gRPC: connection refused or reset, an HTTP/2 error.
    Transport,
    /// The op's rendered request (JSON or metadata) did not fit.
    Data,
}

/// Reason names in `Info::error_reasons` order: the 16 non-OK codes
/// (index = code − 1), then `transport` and `data`.
const NAMES: [(&str, &str); REASONS] = [
    ("cancelled", "CANCELLED statuses"),
    ("unknown", "UNKNOWN statuses"),
    ("invalid_argument", "INVALID_ARGUMENT statuses"),
    (
        "deadline_exceeded",
        "DEADLINE_EXCEEDED statuses (without -o timeout: the server's own deadline)",
    ),
    ("not_found", "NOT_FOUND statuses"),
    ("already_exists", "ALREADY_EXISTS statuses"),
    ("permission_denied", "PERMISSION_DENIED statuses"),
    ("resource_exhausted", "RESOURCE_EXHAUSTED statuses"),
    ("failed_precondition", "FAILED_PRECONDITION statuses"),
    ("aborted", "ABORTED statuses"),
    ("out_of_range", "OUT_OF_RANGE statuses"),
    ("unimplemented", "UNIMPLEMENTED statuses"),
    ("internal", "INTERNAL statuses"),
    ("unavailable", "UNAVAILABLE statuses from the server"),
    ("data_loss", "DATA_LOSS statuses"),
    ("unauthenticated", "UNAUTHENTICATED statuses"),
    (
        "transport",
        "Calls that broke below gRPC (refused, reset, HTTP/2 errors)",
    ),
    (
        "data",
        "Ops whose rendered request JSON or metadata did not fit (nothing sent)",
    ),
];

/// How many failure reasons there are.
pub const REASONS: usize = 18;

impl Failure {
    /// What a non-OK status means. A status tonic made from an error of its
    /// own (it carries that error as its source) never came from the server.
    pub fn of(status: &Status) -> Failure {
        if std::error::Error::source(status).is_some() {
            return Failure::Transport;
        }
        match status.code() {
            // The server sent OK and the client could not read it: not a status.
            Code::Ok => Failure::Transport,
            code => Failure::Status(code),
        }
    }

    pub fn index(self) -> usize {
        match self {
            Failure::Status(code) => (code as usize).saturating_sub(1),
            Failure::Transport => 16,
            Failure::Data => 17,
        }
    }

    pub fn reason(self) -> Reason {
        let index = self.index();
        Reason::new(index as u16, NAMES[index].0)
    }

    pub fn reasons() -> Vec<Reason> {
        NAMES
            .iter()
            .enumerate()
            .map(|(i, (name, _))| Reason::new(i as u16, name))
            .collect()
    }
}

/// Failed calls by reason: a counter each, named like the reason.
#[derive(Debug, Default)]
pub struct FailureCounts([AtomicU64; REASONS]);

impl FailureCounts {
    pub fn get(&self, failure: Failure) -> &AtomicU64 {
        &self.0[failure.index()]
    }

    pub fn counters(&self) -> impl Iterator<Item = Counter> + '_ {
        NAMES.iter().zip(&self.0).map(|((name, _), count)| {
            Counter::new(name, count.load(std::sync::atomic::Ordering::Relaxed))
        })
    }

    pub fn declare() -> Vec<CounterDecl> {
        NAMES
            .iter()
            .map(|(name, help)| CounterDecl {
                name: name.to_string(),
                help: help.to_string(),
            })
            .collect()
    }
}

/// The server asked to back off: RESOURCE_EXHAUSTED or UNAVAILABLE carrying
/// gRPC's retry pushback (`grpc-retry-pushback-ms`) or a `retry-after`
/// entry, the counterpart of HTTP's 429/503 with `Retry-After`.
pub fn asks_to_back_off(status: &Status) -> bool {
    matches!(status.code(), Code::ResourceExhausted | Code::Unavailable)
        && ["grpc-retry-pushback-ms", "retry-after"]
            .iter()
            .any(|key| status.metadata().contains_key(*key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_but_ok_is_its_own_reason() {
        let table = [
            (Code::Cancelled, "cancelled"),
            (Code::InvalidArgument, "invalid_argument"),
            (Code::DeadlineExceeded, "deadline_exceeded"),
            (Code::NotFound, "not_found"),
            (Code::ResourceExhausted, "resource_exhausted"),
            (Code::Unavailable, "unavailable"),
            (Code::Unauthenticated, "unauthenticated"),
            (Code::DataLoss, "data_loss"),
        ];
        for (code, name) in table {
            let failure = Failure::of(&Status::new(code, "x"));
            assert_eq!(failure, Failure::Status(code));
            assert_eq!(failure.reason().name(), name);
        }
        assert_eq!(Failure::Transport.reason().name(), "transport");
        assert_eq!(Failure::Data.reason().name(), "data");
    }

    #[test]
    fn a_status_tonic_made_from_its_own_error_is_a_transport_failure() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let status = Status::from_error(Box::new(io));
        assert_eq!(Failure::of(&status), Failure::Transport);
    }

    #[test]
    fn reason_indices_follow_the_declared_order() {
        for (i, reason) in Failure::reasons().iter().enumerate() {
            assert_eq!(reason.index() as usize, i);
        }
        for code in 1..=16 {
            let failure = Failure::Status(Code::from_i32(code));
            assert_eq!(failure.index(), code as usize - 1);
            assert_eq!(Failure::reasons()[failure.index()], failure.reason());
        }
        assert_eq!(FailureCounts::declare().len(), REASONS);
    }

    #[test]
    fn back_off_needs_the_code_and_a_pushback() {
        let with_pushback = |code| {
            let mut status = Status::new(code, "busy");
            status
                .metadata_mut()
                .insert("grpc-retry-pushback-ms", "100".parse().unwrap());
            status
        };
        assert!(asks_to_back_off(&with_pushback(Code::Unavailable)));
        assert!(asks_to_back_off(&with_pushback(Code::ResourceExhausted)));
        assert!(!asks_to_back_off(&with_pushback(Code::Internal)));
        assert!(!asks_to_back_off(&Status::unavailable("busy")));
    }
}
