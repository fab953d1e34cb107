//! The console rendering: the step table, then the ANSWER and Next-limit lines.

use std::io::{self, Write};

use comfy_table::{presets, CellAlignment, Table};

use super::{RunReport, StepReport};

/// The step table: `target_rps achieved_rps <series> p95/p99 … err% worst_pending verdict`.
pub fn print_table<W: Write>(w: &mut W, report: &RunReport) -> io::Result<()> {
    let series: Vec<&str> = report
        .steps
        .first()
        .map(|s| s.series.iter().map(|x| x.name.as_str()).collect())
        .unwrap_or_default();
    let mut header = vec!["target_rps".to_string(), "achieved_rps".to_string()];
    header.extend(series.iter().map(|s| format!("{s} p95/p99 ms")));
    header.extend(["err%", "loss%", "worst_pending", "verdict", "reasons"].map(String::from));
    let mut table = Table::new();
    table
        .load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED)
        .set_header(header);
    for step in &report.steps {
        table.add_row(row(step));
    }
    for i in 0..2 + series.len() + 3 {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    writeln!(w, "{table}")
}

fn row(step: &StepReport) -> Vec<String> {
    let mut cells = vec![
        step.target_rps.to_string(),
        format!("{:.0}", step.achieved_rps),
    ];
    cells.extend(step.series.iter().map(|s| {
        if s.count == 0 {
            "-".to_string()
        } else {
            format!("{}/{}", fmt_num(s.p95_ms), fmt_num(s.p99_ms))
        }
    }));
    cells.push(format!("{:.3}", step.error_rate * 100.0));
    cells.push(format!("{:.3}", step.loss_rate * 100.0));
    cells.push(match (&step.worst_durable, step.worst_pending_delta) {
        (Some(name), Some(delta)) => format!("{name} {delta:+}"),
        _ => "-".to_string(),
    });
    let verdict = if step.attempt > 1 {
        format!("{} (re-run)", step.verdict)
    } else {
        step.verdict.clone()
    };
    cells.push(verdict);
    cells.push(step.reasons.join("; "));
    cells
}

fn fmt_num(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

/// `ANSWER: max RPS = 2000 (plugin=…, preset=…)` and the Next-limit line.
pub fn print_answer<W: Write>(w: &mut W, report: &RunReport) -> io::Result<()> {
    let s = &report.settings;
    let mut context = format!("plugin={}", s.plugin);
    if let Some(preset) = &s.preset {
        context.push_str(&format!(", preset={preset}"));
    }
    if report.interrupted {
        context.push_str(", interrupted: partial results");
    }
    let a = &report.answer;
    match a.max_rps {
        Some(rps) => writeln!(w, "ANSWER: max RPS = {rps} ({context})")?,
        None => {
            let why = match report.steps.first() {
                None => "no step finished".to_string(),
                Some(first) if first.reasons.is_empty() => {
                    format!("lowest step {}", first.target_rps)
                }
                Some(first) => format!(
                    "lowest step {} {}: {}",
                    first.target_rps,
                    first.verdict,
                    first.reasons.join("; ")
                ),
            };
            writeln!(w, "ANSWER: no step passed ({why}; {context})")?
        }
    }
    match a.next_limit_rps {
        Some(rps) if a.max_rps.is_some() => {
            writeln!(
                w,
                "        Next limit: {} (at {rps} RPS)",
                a.next_limit.join("; ")
            )
        }
        None if a.max_rps.is_some() => writeln!(
            w,
            "        Next limit: not reached (every step passed; try higher --steps)"
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::report;
    use super::*;

    fn render(r: &RunReport) -> String {
        let mut out = Vec::new();
        print_table(&mut out, r).unwrap();
        print_answer(&mut out, r).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_and_answer() {
        let text = render(&report(&[(1000, "PASS"), (2000, "PASS"), (4000, "TRIP")]));
        assert!(text.contains("op p95/p99 ms"), "{text}");
        assert!(text.contains("2.50/3.25"), "{text}");
        assert!(text.contains("143/180"), "{text}");
        assert!(text.contains("queue +1500"), "{text}");
        assert!(
            text.contains("ANSWER: max RPS = 2000 (plugin=synthetic)\n"),
            "{text}"
        );
        assert!(
            text.contains("        Next limit: op p95=143ms > 100ms (at 4000 RPS)\n"),
            "{text}"
        );
    }

    #[test]
    fn no_step_passed() {
        let text = render(&report(&[(1000, "TRIP")]));
        assert!(
            text.contains("ANSWER: no step passed (lowest step 1000 TRIP: op p95=143ms > 100ms; plugin=synthetic)"),
            "{text}"
        );
        assert!(!text.contains("Next limit"), "{text}");
    }

    #[test]
    fn interrupted_runs_say_so() {
        let mut r = report(&[(1000, "PASS")]);
        r.interrupted = true;
        let text = render(&r);
        assert!(
            text.contains(
                "ANSWER: max RPS = 1000 (plugin=synthetic, interrupted: partial results)"
            ),
            "{text}"
        );
    }
}
