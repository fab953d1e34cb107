//! loadgen's own HTTP/1.1 client, for plain `http://`: the hot path of the
//! `http` plugin (`client=native`, the default; `client=hyper` keeps hyper's).
//!
//! An op takes a connection from the [`Pool`], writes its request's bytes
//! (serialized once per template, or rendered into the connection's buffer)
//! and reads the answer with `httparse` into the connection's buffer, all in
//! the op's own future: no channel, no task per connection, no header map.
//! docs/http-client.md says what it implements and what it refuses.
//!
//! # Layout
//! - `request.rs`: [`Wire`], a request as bytes, and the pieces a rendered
//!   request is made of.
//! - `response.rs`: [`ResponseReader`], the answer read from a [`ReadBuf`]
//!   whatever the read boundaries (the split fuzz loop lives beside it).
//! - `pool.rs`: [`Pool`], connections, leases, the one retry rule.

mod pool;
mod request;
mod response;

pub use pool::{Buffers, H1Error, Lease, Pool};
pub use request::{end_head, header, replayable, start_line, valid_target, valid_value, Wire};
pub use response::{
    Progress, ReadBuf, Response, ResponseError, ResponseReader, MAX_HEAD, MAX_HEADERS,
};
