//! loadgen's report renderers over `loadgen-core`'s report model: the console
//! table and ANSWER ([`console`]), [`csv`], [`json`] and a self-contained
//! [`html`] page. Every renderer takes a `&RunReport` and writes to
//! `impl Write`, so tests render into a `Vec<u8>`. [`outputs`] opens the
//! files up front and writes them all.

pub mod console;
pub mod csv;
pub mod html;
pub mod json;
pub mod outputs;

// The model the renderers read, under the names they use for it.
pub use loadgen_core::report::*;
#[allow(unused_imports)]
use loadgen_core::search;
