//! The ramp's decisions as plain logic: the step machine ([`machine`]), what a
//! step measured and how it is judged ([`measure`]), and the wait for backlogs
//! to settle ([`settle`]). The actor that executes them is in the runtime crate.

pub mod machine;
pub mod measure;
pub mod settle;

pub use measure::Measured;
