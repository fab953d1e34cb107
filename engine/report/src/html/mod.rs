//! `--report PATH.html`: one self-contained page (inline SVG, CSS and a few
//! lines of inline JS; nothing fetched) that shows where the knee is and why:
//! the answer and the next limit on top; latency vs offered load with SLO
//! lines, verdict markers and the answer; achieved vs target; backlog growth;
//! the coordinated-omission gap; the adaptive search's probes; each step's
//! per-second series; the step table; the settings.
//!
//! Every chart sits in an element with a stable id (`chart-latency`,
//! `chart-achieved`, `chart-backlog`, `chart-co-gap`, `chart-probes`,
//! `seconds-<probe>`), so tests and people can find them.

mod charts;
mod frame;
mod seconds;
mod table;

use std::io::{self, Write};

use super::RunReport;

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("sort.js");

/// The whole page.
pub fn write_html<W: Write>(mut w: W, report: &RunReport) -> io::Result<()> {
    let s = &report.settings;
    let title = match &s.preset {
        Some(preset) => format!("{} ({preset})", s.plugin),
        None => s.plugin.clone(),
    };
    write!(
        w,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>loadgen: {title}</title>\n<style>{STYLE}</style></head><body>\n\
         <h1>loadgen max-rps: {title}</h1>\n",
        title = escape(&title),
    )?;
    answer_section(&mut w, report)?;
    knee_section(&mut w, report)?;
    seconds_section(&mut w, report)?;
    writeln!(w, "<h2>Steps</h2>")?;
    table::steps(&mut w, report)?;
    writeln!(w, "<h2>Settings</h2>")?;
    table::settings(&mut w, report)?;
    writeln!(w, "<script>{SCRIPT}</script>\n</body></html>")
}

/// A chart, or the plotting error as an I/O error.
fn svg(chart: Result<String, String>) -> io::Result<String> {
    chart.map_err(io::Error::other)
}

/// "Where the knee is": latency, achieved rate and backlog growth against the
/// offered load, the coordinated-omission gap, and the search's probes.
fn knee_section<W: Write>(w: &mut W, report: &RunReport) -> io::Result<()> {
    writeln!(w, "<h2>Where the knee is</h2>")?;
    figure(
        w,
        "chart-latency",
        &svg(charts::latency(report))?,
        &format!(
            "p50 (thin), p95, p99 (thick) per series, measured from each op's intended send. \
             Dashed: the SLO. {} Green band: the answer.",
            verdict_legend()
        ),
    )?;
    writeln!(w, "<div class=\"pair\">")?;
    figure(
        w,
        "chart-achieved",
        &svg(charts::achieved(report))?,
        "Below the diagonal the load box or the service could not keep the offered rate.",
    )?;
    figure(
        w,
        "chart-backlog",
        &svg(charts::backlog(report))?,
        "Growth of each queue from hold start to hold end; above the dashed gate the step trips.",
    )?;
    writeln!(w, "</div>")?;
    figure(
        w,
        "chart-co-gap",
        &svg(charts::co_gap(report))?,
        "Solid: latency from the intended send (open loop, what users wait). Dashed: from the \
         actual send, what a closed-loop tool would report. The gap is queueing it would hide.",
    )?;
    if report.search.as_ref().is_some_and(|s| s.plan.is_adaptive()) {
        figure(
            w,
            "chart-probes",
            &svg(charts::probes(report))?,
            &format!(
                "Rates in the order the search probed them. {}",
                verdict_legend()
            ),
        )?;
    }
    Ok(())
}

/// "Second by second": each step's hold as small multiples.
fn seconds_section<W: Write>(w: &mut W, report: &RunReport) -> io::Result<()> {
    writeln!(
        w,
        "<h2>Second by second</h2>\n<p class=\"note\">Each step's hold: achieved rate \
         (dashed: target); p99 (thick), p50 (thin) from the intended send and p99 from the \
         actual send (dashed) per series, over the answers of each second; failures; every \
         backlog.</p>\n<div class=\"multiples\" id=\"per-second\">"
    )?;
    let hold_s = report.settings.phases.hold.as_secs_f64();
    for step in &report.steps {
        let id = format!("seconds-{}", step.probe);
        let chart = svg(seconds::step_seconds(step, hold_s))?;
        let caption = backlog_names(step);
        figure(w, &id, &chart, &caption)?;
    }
    writeln!(w, "</div>")
}

/// The answer, the next limit and why, in words, first thing on the page.
fn answer_section<W: Write>(w: &mut W, report: &RunReport) -> io::Result<()> {
    let a = &report.answer;
    writeln!(w, "<section id=\"answer\" class=\"answer\">")?;
    if report.interrupted {
        writeln!(
            w,
            "<p class=\"interrupted\">Interrupted: these are the steps that finished.</p>"
        )?;
    }
    match a.max_rps {
        Some(rps) => writeln!(
            w,
            "<p class=\"headline\">Max sustainable rate: <strong>{rps} ops/s</strong></p>"
        )?,
        None => writeln!(
            w,
            "<p class=\"headline none\">No step passed: <strong>no sustainable rate found</strong></p>"
        )?,
    }
    match a.next_limit_rps {
        Some(rps) => {
            writeln!(
                w,
                "<p>Next limit at <strong>{rps} ops/s</strong>:</p><ul class=\"reasons\">"
            )?;
            for reason in &a.next_limit {
                writeln!(w, "<li>{}</li>", escape(reason))?;
            }
            writeln!(w, "</ul>")?;
        }
        None => writeln!(w, "<p>Next limit: not reached (every step passed).</p>")?,
    }
    let mut console = Vec::new();
    super::console::print_answer(&mut console, report, None)?;
    writeln!(
        w,
        "<pre class=\"console\">{}</pre>\n</section>",
        escape(&String::from_utf8_lossy(&console))
    )
}

fn figure<W: Write>(w: &mut W, id: &str, svg: &str, caption: &str) -> io::Result<()> {
    writeln!(
        w,
        "<figure id=\"{id}\">{svg}<figcaption>{caption}</figcaption></figure>"
    )
}

fn verdict_legend() -> String {
    let dot = |class: &str, name: &str| format!("<span class=\"dot {class}\"></span>{name}");
    format!(
        "Markers: {} {} {}.",
        dot("pass", "PASS"),
        dot("trip", "TRIP"),
        dot("inconclusive", "INCONCLUSIVE")
    )
}

/// The small multiple's caption: which colour is which backlog.
fn backlog_names(step: &super::StepReport) -> String {
    let names: std::collections::BTreeSet<&String> = step
        .per_second
        .iter()
        .flat_map(|p| p.backlog.keys())
        .collect();
    if names.is_empty() {
        return "no per-second readings".to_string();
    }
    let colors = frame::SERIES_COLORS;
    let items: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let c = colors[(i + 1) % colors.len()];
            format!(
                "<span class=\"swatch\" style=\"background:rgb({},{},{})\"></span>{}",
                c.0,
                c.1,
                c.2,
                escape(name)
            )
        })
        .collect();
    format!("backlog: {}", items.join(" "))
}

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests;
