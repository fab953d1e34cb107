//! The comparison for a terminal: capacity first, then one table of the
//! common rates, then the criteria (numbers in the table, words below it).

use std::io::{self, Write};

use super::{capacity_change_text, capacity_text, rate_rows, too_few_seconds_note, Row};
use crate::Comparison;

pub fn write<W: Write>(mut w: W, c: &Comparison) -> io::Result<()> {
    writeln!(
        w,
        "base: {} ({} {})",
        c.base.source, c.base.plugin, c.base.plugin_version
    )?;
    writeln!(
        w,
        "new:  {} ({} {})",
        c.new.source, c.new.plugin, c.new.plugin_version
    )?;
    if !c.differences.is_empty() {
        let named: Vec<String> = c.differences.iter().map(|d| d.to_string()).collect();
        writeln!(
            w,
            "compared with --force, the runs differ in: {}",
            named.join(", ")
        )?;
    }
    let cap = &c.capacity;
    writeln!(w)?;
    writeln!(
        w,
        "capacity: {} -> {}: {}",
        capacity_text(&cap.base),
        capacity_text(&cap.new),
        capacity_change_text(cap)
    )?;
    writeln!(w, "probes: {} -> {}", cap.base.probes, cap.new.probes)?;
    writeln!(w)?;
    if c.rates.is_empty() {
        writeln!(w, "no rate was measured by both runs (within 10%)")?;
    } else {
        let header: Row = ["rate", "series", "figure", "base", "new", "change"].map(String::from);
        let rows = rate_rows(c);
        let widths: Vec<usize> = (0..6)
            .map(|i| {
                std::iter::once(&header)
                    .chain(&rows)
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in std::iter::once(&header).chain(&rows) {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            writeln!(w, "{}", cells.join("  ").trim_end())?;
        }
    }
    if let Some(note) = too_few_seconds_note(c) {
        writeln!(w, "{note}")?;
    }
    if !c.criteria.is_empty() {
        writeln!(w)?;
        writeln!(w, "criteria (only significant changes fail):")?;
        for r in &c.criteria {
            if r.passed() {
                writeln!(w, "  ok    {}", r.text)?;
            } else {
                writeln!(w, "  FAIL  {}", r.text)?;
                for b in &r.broken_at {
                    writeln!(w, "          {}", b.text(r.criterion.metric))?;
                }
            }
        }
    }
    Ok(())
}
