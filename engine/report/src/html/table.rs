//! The step table (a real `<table>`, sortable by its headers) and the settings.

use std::io::{self, Write};

use super::super::console::fmt_num;
use super::super::{RunReport, StepReport};
use super::{escape, frame::series_names};

/// One row per step; each cell carries its sort key in `data-v`.
pub fn steps<W: Write>(w: &mut W, report: &RunReport) -> io::Result<()> {
    let series = series_names(report);
    let mut head = vec!["probe", "target ops/s", "achieved ops/s"]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    for name in &series {
        for q in ["p50", "p95", "p99", "service p99"] {
            head.push(format!("{name} {q} ms"));
        }
    }
    head.extend(
        [
            "err %",
            "loss %",
            "attempted",
            "failed",
            "lost",
            "worst backlog",
            "growth",
            "verdict",
            "reasons",
        ]
        .map(String::from),
    );
    writeln!(
        w,
        "<table id=\"step-table\" class=\"sortable\"><thead><tr>{}</tr></thead><tbody>",
        head.iter()
            .map(|h| format!("<th title=\"sort\">{}</th>", escape(h)))
            .collect::<String>()
    )?;
    for step in &report.steps {
        row(w, report, step, &series)?;
    }
    writeln!(w, "</tbody></table>")
}

fn num(v: f64, shown: String) -> String {
    format!("<td class=\"n\" data-v=\"{v}\">{shown}</td>")
}

fn row<W: Write>(
    w: &mut W,
    report: &RunReport,
    step: &StepReport,
    series: &[String],
) -> io::Result<()> {
    let mut classes = vec![verdict_class(step)];
    if report.answer.max_rps == Some(step.target_rps) && step.passed() {
        classes.push("answer");
    }
    let mut cells = vec![
        num(step.probe as f64, step.probe.to_string()),
        num(step.target_rps as f64, step.target_rps.to_string()),
        num(step.achieved_rps, format!("{:.0}", step.achieved_rps)),
    ];
    for name in series {
        match step.series.iter().find(|s| &s.name == name && s.count > 0) {
            Some(s) => cells.extend(
                [s.p50_ms, s.p95_ms, s.p99_ms, s.service_p99_ms].map(|v| num(v, fmt_num(v))),
            ),
            None => cells.extend((0..4).map(|_| num(-1.0, "-".into()))),
        }
    }
    cells.push(num(
        step.error_rate,
        format!("{:.3}", step.error_rate * 100.0),
    ));
    cells.push(num(
        step.loss_rate,
        format!("{:.3}", step.loss_rate * 100.0),
    ));
    for v in [step.attempted, step.failed, step.lost] {
        cells.push(num(v as f64, v.to_string()));
    }
    cells.push(format!(
        "<td>{}</td>",
        escape(step.worst_durable.as_deref().unwrap_or("-"))
    ));
    cells.push(match step.worst_backlog_delta {
        Some(d) => num(d as f64, format!("{d:+}")),
        None => num(f64::MIN, "-".into()),
    });
    let mut verdict = step.verdict.label().to_string();
    if step.attempt > 1 {
        verdict.push_str(" (re-run)");
    }
    if report
        .search
        .as_ref()
        .is_some_and(|s| s.is_confirmation(step.probe))
    {
        verdict.push_str(" (confirm)");
    }
    cells.push(format!("<td class=\"verdict\">{}</td>", escape(&verdict)));
    cells.push(format!(
        "<td class=\"reasons\">{}</td>",
        escape(&step.reasons().join("; "))
    ));
    writeln!(
        w,
        "<tr class=\"{}\">{}</tr>",
        classes.join(" "),
        cells.concat()
    )
}

pub(super) fn verdict_class(step: &StepReport) -> &'static str {
    if step.passed() {
        "pass"
    } else if step.tripped() {
        "trip"
    } else {
        "inconclusive"
    }
}

/// The run's settings (and search plan) as flattened `key: value` rows, so the
/// table follows the settings type whatever fields it grows.
pub fn settings<W: Write>(w: &mut W, report: &RunReport) -> io::Result<()> {
    let mut rows = Vec::new();
    let settings = serde_json::to_value(&report.settings).map_err(io::Error::other)?;
    flatten("", &settings, &mut rows);
    if let Some(search) = &report.search {
        let plan = serde_json::to_value(&search.plan).map_err(io::Error::other)?;
        flatten("search", &plan, &mut rows);
    }
    writeln!(w, "<table id=\"settings\"><tbody>")?;
    for (key, value) in rows {
        writeln!(
            w,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(&key),
            escape(&value)
        )?;
    }
    writeln!(w, "</tbody></table>")
}

fn flatten(prefix: &str, value: &serde_json::Value, rows: &mut Vec<(String, String)>) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                flatten(&key(k), v, rows);
            }
        }
        serde_json::Value::String(s) => rows.push((prefix.to_string(), s.clone())),
        serde_json::Value::Array(items)
            if items.iter().all(|i| !i.is_object() && !i.is_array()) =>
        {
            let items: Vec<String> = items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), String::from))
                .collect();
            rows.push((prefix.to_string(), items.join(", ")))
        }
        serde_json::Value::Null => {}
        other => rows.push((prefix.to_string(), other.to_string())),
    }
}
