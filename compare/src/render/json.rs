//! The comparison as JSON (`docs/compare.schema.json`).

use std::io::Write;

use crate::Comparison;

pub fn write<W: Write>(mut w: W, c: &Comparison) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut w, c)?;
    writeln!(w)
}
