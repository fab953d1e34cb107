//! A backlog reading as plain data ([`BacklogValues`]). The poller actor that
//! takes readings is in the runtime crate.

mod values;

pub use values::BacklogValues;
