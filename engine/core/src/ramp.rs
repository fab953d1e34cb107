//! The ramp's decisions as plain logic: the step machine ([`machine`]), what a
//! step measured and how it is judged ([`measure`]), the wait for backlogs
//! to settle ([`settle`]), and where a step is ([`Phase`]). The actor that
//! executes them is in the runtime crate.

pub mod machine;
pub mod measure;
mod phase;
pub mod settle;

pub use measure::Measured;
pub use phase::Phase;
