//! Markdown fit for a CI step summary (`$GITHUB_STEP_SUMMARY`): a heading
//! with the outcome, the capacity table, the per-rate table, the criteria.

use std::io::{self, Write};

use loadgen_core::report::RunReport;

use super::{capacity_change_text, capacity_text, rate_rows, too_few_seconds_note};
use crate::Comparison;

/// A table cell: pipes escaped, no line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn row<W: Write>(w: &mut W, cells: &[String]) -> io::Result<()> {
    let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
    writeln!(w, "| {} |", cells.join(" | "))
}

fn header<W: Write>(w: &mut W, names: &[&str]) -> io::Result<()> {
    row(w, &names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
    writeln!(w, "|{}", "---|".repeat(names.len()))
}

pub fn write<W: Write>(mut w: W, c: &Comparison) -> io::Result<()> {
    let failed = c.criteria.iter().filter(|r| !r.passed()).count();
    let outcome = match (c.criteria.len(), failed) {
        (0, _) => "no criteria given".to_string(),
        (n, 0) => format!("✅ all {n} criteria held"),
        (n, f) => format!("❌ {f} of {n} criteria failed"),
    };
    writeln!(w, "### loadgen compare: {outcome}")?;
    writeln!(w)?;
    writeln!(
        w,
        "Base `{}` ({} {}), new `{}` ({} {}).",
        c.base.source,
        c.base.plugin,
        c.base.plugin_version,
        c.new.source,
        c.new.plugin,
        c.new.plugin_version
    )?;
    if !c.differences.is_empty() {
        let named: Vec<String> = c.differences.iter().map(|d| d.to_string()).collect();
        writeln!(
            w,
            "Compared with `--force`; the runs differ in: {}.",
            named.join(", ")
        )?;
    }
    writeln!(w)?;
    let cap = &c.capacity;
    header(&mut w, &["", "base", "new", "change"])?;
    row(
        &mut w,
        &[
            "capacity (ops/s)".into(),
            capacity_text(&cap.base),
            capacity_text(&cap.new),
            capacity_change_text(cap),
        ],
    )?;
    row(
        &mut w,
        &[
            "probes".into(),
            cap.base.probes.to_string(),
            cap.new.probes.to_string(),
            String::new(),
        ],
    )?;
    writeln!(w)?;
    if c.rates.is_empty() {
        writeln!(w, "No rate was measured by both runs (within 10%).")?;
    } else {
        header(
            &mut w,
            &["rate", "series", "figure", "base", "new", "change"],
        )?;
        for r in rate_rows(c) {
            row(&mut w, &r)?;
        }
    }
    writeln!(w)?;
    writeln!(
        w,
        "`~`: no significant change (Mann–Whitney U over the holds' seconds for latency and backlog, \
         a two-proportion test for error and loss rates; p ≥ 0.05). Capacity is `~` while the two \
         runs' brackets overlap."
    )?;
    if let Some(note) = too_few_seconds_note(c) {
        writeln!(w)?;
        writeln!(w, "{note}")?;
    }
    if !c.criteria.is_empty() {
        writeln!(w)?;
        writeln!(w, "**Criteria** (only significant changes fail):")?;
        writeln!(w)?;
        for r in &c.criteria {
            if r.passed() {
                writeln!(w, "- ✅ `{}`", r.text)?;
            } else {
                let what: Vec<String> = r
                    .broken_at
                    .iter()
                    .map(|b| b.text(r.criterion.metric))
                    .collect();
                writeln!(w, "- ❌ `{}`: {}", r.text, what.join("; "))?;
            }
        }
    }
    Ok(())
}

/// One run (`max-rps --markdown`): the steps as a table and the answer.
pub fn write_run<W: Write>(mut w: W, r: &RunReport) -> io::Result<()> {
    let answer = match r.answer.max_rps {
        Some(rps) => format!("max RPS = {rps}"),
        None => "no step passed".to_string(),
    };
    let interrupted = if r.interrupted { " (interrupted)" } else { "" };
    writeln!(
        w,
        "### loadgen max-rps {}: {answer}{interrupted}",
        r.settings.plugin
    )?;
    writeln!(w)?;
    let series: Vec<String> = r
        .steps
        .first()
        .map(|s| s.series.iter().map(|x| x.name.clone()).collect())
        .unwrap_or_default();
    let mut names = vec![
        "probe".to_string(),
        "target ops/s".into(),
        "achieved ops/s".into(),
    ];
    for s in &series {
        names.push(format!("{s} p95 ms"));
        names.push(format!("{s} p99 ms"));
    }
    names.extend(["error rate".into(), "verdict".into(), "reasons".into()]);
    header(
        &mut w,
        &names.iter().map(String::as_str).collect::<Vec<_>>(),
    )?;
    for s in &r.steps {
        let mut cells = vec![
            s.probe.to_string(),
            s.target_rps.to_string(),
            format!("{:.1}", s.achieved_rps),
        ];
        for name in &series {
            let x = s.series.iter().find(|x| &x.name == name);
            cells.push(x.map_or("-".into(), |x| format!("{:.3}", x.p95_ms)));
            cells.push(x.map_or("-".into(), |x| format!("{:.3}", x.p99_ms)));
        }
        cells.push(format!("{:.3}%", s.error_rate * 100.0));
        cells.push(s.verdict.label().to_string());
        cells.push(s.reasons().join("; "));
        row(&mut w, &cells)?;
    }
    if let (Some(rps), false) = (r.answer.next_limit_rps, r.answer.next_limit.is_empty()) {
        writeln!(w)?;
        writeln!(
            w,
            "Next limit at {rps} ops/s: {}.",
            r.answer.next_limit.join("; ")
        )?;
    }
    Ok(())
}
