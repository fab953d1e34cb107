//! The console rendering: the step table, then the ANSWER and Next-limit lines
//! (and for an adaptive search, its bracket, why it stopped and confirmations).

use std::io::{self, Write};

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};

use super::{RunReport, SearchReport, StepReport};
use crate::search::{Plan, Stop};

/// How wide the console is when it is not a terminal (a file, a pipe, CI).
pub const DEFAULT_WIDTH: u16 = 120;

/// The whole console report: the step table, the Why block under it, then
/// the ANSWER lines, which point into the Why block rather than repeat it.
/// Lines fit in `width` columns.
pub fn print_report<W: Write>(w: &mut W, report: &RunReport, width: u16) -> io::Result<()> {
    let notes = Notes::of(report);
    print_table(w, report, &notes, width)?;
    print_why(w, &notes, width)?;
    let mut answer = Vec::new();
    print_answer(&mut answer, report, Some(&notes))?;
    for line in String::from_utf8_lossy(&answer).lines() {
        // Continued under the text after `ANSWER: ` / `        Next limit: `.
        let indent = " ".repeat(ANSWER_INDENT + 2);
        for part in textwrap::wrap(line, wrapping(width).subsequent_indent(&indent)) {
            writeln!(w, "{part}")?;
        }
    }
    Ok(())
}

/// Lines of `width` columns, broken between words only (a backlog's name
/// `S/site-local` stays whole) unless a word is wider than a line.
fn wrapping(width: u16) -> textwrap::Options<'static> {
    textwrap::Options::new(usize::from(width)).word_splitter(textwrap::WordSplitter::NoHyphenation)
}

/// The ANSWER block's lines after the first start this far in.
const ANSWER_INDENT: usize = 8;

/// The Why block's footnotes: each distinct list of reasons once, numbered
/// in the order the steps ran. A re-run that failed the same way shares its
/// first run's mark.
pub struct Notes {
    lists: Vec<Vec<String>>,
}

impl Notes {
    pub fn of(report: &RunReport) -> Notes {
        let mut lists: Vec<Vec<String>> = Vec::new();
        for step in &report.steps {
            let mut reasons = step.reasons();
            dedup_keeping_order(&mut reasons);
            if !reasons.is_empty() && !lists.contains(&reasons) {
                lists.push(reasons);
            }
        }
        Notes { lists }
    }

    /// The 1-based mark of these reasons, if the Why block lists them.
    pub fn mark(&self, reasons: &[String]) -> Option<usize> {
        let mut reasons = reasons.to_vec();
        dedup_keeping_order(&mut reasons);
        self.lists.iter().position(|l| *l == reasons).map(|i| i + 1)
    }
}

fn dedup_keeping_order(items: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    items.retain(|item| seen.insert(item.clone()));
}

/// The step table: `target_rps achieved_rps <series> p95/p99 … err% loss%
/// backlog verdict`, the verdict with its Why mark (`TRIP [2]`).
/// Probes of an adaptive search (or with confirmations) are not in rate
/// order, so their table starts with the probe number.
pub fn print_table<W: Write>(
    w: &mut W,
    report: &RunReport,
    notes: &Notes,
    width: u16,
) -> io::Result<()> {
    let series: Vec<&str> = report
        .steps
        .first()
        .map(|s| s.series.iter().map(|x| x.name.as_str()).collect())
        .unwrap_or_default();
    let search = report.search.as_ref();
    let numbered = search.is_some_and(|s| s.plan.is_adaptive() || s.outcome.confirm.is_some());
    let mut header = Vec::new();
    if numbered {
        header.push("probe".to_string());
    }
    header.extend(["target\nrps".to_string(), "achieved\nrps".to_string()]);
    header.extend(series.iter().map(|s| format!("{}\np95/p99", stacked(s))));
    header.extend(["err%", "loss%", "backlog\ngrowth", "verdict"].map(String::from));
    let mut table = Table::new();
    table
        .load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(header);
    for step in &report.steps {
        let confirmation = search.is_some_and(|s| s.is_confirmation(step.probe));
        let mut cells = Vec::new();
        if numbered {
            cells.push(step.probe.to_string());
        }
        cells.extend(row(step, confirmation, notes));
        table.add_row(cells);
    }
    for i in 0..usize::from(numbered) + 2 + series.len() + 3 {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    writeln!(w, "{table}")?;
    let backlogs = worst_backlogs(report);
    if !backlogs.is_empty() {
        let legend = format!(
            "latency in ms; backlog growth over the hold, of the backlog that grew most ({})",
            backlogs.join(", ")
        );
        for line in textwrap::wrap(&legend, wrapping(width)) {
            writeln!(w, "{line}")?;
        }
    } else {
        writeln!(w, "latency in ms")?;
    }
    Ok(())
}

/// A series name as a column header: a long one one `_`-part a line, so
/// the column is no wider than its figures.
fn stacked(name: &str) -> String {
    const FIGURES: usize = "143/180".len();
    if name.len() <= FIGURES + 2 {
        return name.to_string();
    }
    name.split_inclusive('_').collect::<Vec<_>>().join("\n")
}

/// The backlogs named in the table's growth column, each once.
fn worst_backlogs(report: &RunReport) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for name in report
        .steps
        .iter()
        .filter_map(|s| s.worst_durable.as_deref())
    {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

fn row(step: &StepReport, confirmation: bool, notes: &Notes) -> Vec<String> {
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
    cells.push(match step.worst_backlog_delta {
        Some(delta) if step.worst_durable.is_some() => format!("{delta:+}"),
        _ => "-".to_string(),
    });
    let mut verdict = step.verdict.label().to_string();
    if confirmation {
        verdict.push_str(" (confirm)");
    }
    if step.attempt > 1 {
        verdict.push_str(" (re-run)");
    }
    if let Some(mark) = notes.mark(&step.reasons()) {
        verdict.push_str(&format!(" [{mark}]"));
    }
    cells.push(verdict);
    cells
}

/// `Why:` then each footnote, one line per reason, wrapped to `width` under
/// its first word.
pub fn print_why<W: Write>(w: &mut W, notes: &Notes, width: u16) -> io::Result<()> {
    if notes.lists.is_empty() {
        return Ok(());
    }
    writeln!(w, "Why:")?;
    let gutter = format!(" [{}] ", notes.lists.len()).len();
    let indent = " ".repeat(gutter);
    for (i, reasons) in notes.lists.iter().enumerate() {
        for (j, reason) in reasons.iter().enumerate() {
            let first = if j == 0 {
                format!("{:>width$} ", format!("[{}]", i + 1), width = gutter - 1)
            } else {
                indent.clone()
            };
            let options = wrapping(width)
                .initial_indent(&first)
                .subsequent_indent(&indent);
            for line in textwrap::wrap(reason, options) {
                writeln!(w, "{line}")?;
            }
        }
    }
    Ok(())
}

/// The reasons in words, or where the Why block lists them.
fn why(reasons: &[String], notes: Option<&Notes>) -> String {
    match notes.and_then(|n| n.mark(reasons)) {
        Some(mark) => format!("see Why [{mark}]"),
        None => reasons.join("; "),
    }
}

/// A latency in ms to three significant digits or so (`143`, `14.3`, `1.43`).
pub(super) fn fmt_num(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

/// `ANSWER: max RPS = 2000 (plugin=…, preset=…)` and the Next-limit line; an
/// adaptive search adds its bracket and probe count and says why it stopped;
/// `--confirm` adds how many re-runs of the answer held.
/// With `notes`, a reason the Why block lists is pointed to, not repeated.
pub fn print_answer<W: Write>(
    w: &mut W,
    report: &RunReport,
    notes: Option<&Notes>,
) -> io::Result<()> {
    match &report.search {
        Some(search) if search.plan.is_adaptive() => print_search_answer(w, report, search, notes)?,
        _ => print_ladder_answer(w, report, notes)?,
    }
    print_confirmation(w, report)
}

/// `plugin=…, preset=…[, interrupted: partial results]`.
fn context(report: &RunReport) -> String {
    let s = &report.settings;
    let mut context = format!("plugin={}", plugin_label(&s.plugin));
    if let Some(preset) = &s.preset {
        context.push_str(&format!(", preset={preset}"));
    }
    if report.interrupted {
        context.push_str(", interrupted: partial results");
    }
    context
}

/// The plugin as the user knows it: `--plugin ./x/libloadgen_plugin_NAME.so`
/// reads as `NAME`, a bare name as itself.
fn plugin_label(plugin: &str) -> &str {
    let file = std::path::Path::new(plugin)
        .file_stem()
        .and_then(|f| f.to_str())
        .unwrap_or(plugin);
    file.strip_prefix("libloadgen_plugin_").unwrap_or(file)
}

fn print_ladder_answer<W: Write>(
    w: &mut W,
    report: &RunReport,
    notes: Option<&Notes>,
) -> io::Result<()> {
    let context = context(report);
    let a = &report.answer;
    match a.max_rps {
        Some(rps) => writeln!(w, "ANSWER: max RPS = {rps} ({context})")?,
        None => {
            let why = match report.steps.first() {
                None => "no step finished".to_string(),
                Some(first) if first.passed() => {
                    format!("lowest step {}", first.target_rps)
                }
                Some(first) => format!(
                    "lowest step {} {}: {}",
                    first.target_rps,
                    first.verdict.label(),
                    why(&first.reasons(), notes)
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
                why(&a.next_limit, notes)
            )
        }
        None if a.max_rps.is_some() => writeln!(
            w,
            "        Next limit: not reached (every step passed; try higher --steps)"
        ),
        _ => Ok(()),
    }
}

/// `ANSWER: max RPS = 4410 (plugin=…, bracket [4410, 4500], 9 probes, 2/2
/// trials held)`, the Next-limit line, and why the search stopped.
fn print_search_answer<W: Write>(
    w: &mut W,
    report: &RunReport,
    search: &SearchReport,
    notes: Option<&Notes>,
) -> io::Result<()> {
    let (a, o) = (&report.answer, &search.outcome);
    let context = context(report);
    let probes = match o.probes {
        1 => "1 probe".to_string(),
        n => format!("{n} probes"),
    };
    match a.max_rps {
        Some(rps) => {
            let bracket = match a.next_limit_rps {
                Some(trip) => format!("bracket [{rps}, {trip}]"),
                None => "no TRIP found".to_string(),
            };
            let trials = match o.trials {
                Some(t) if t.rps == rps => format!(", {}/{} trials held", t.held, t.runs),
                _ => String::new(),
            };
            writeln!(
                w,
                "ANSWER: max RPS = {rps} ({context}, {bracket}, {probes}{trials})"
            )?;
            if let Some(trip) = a.next_limit_rps {
                writeln!(
                    w,
                    "        Next limit: {} (at {trip} RPS)",
                    why(&a.next_limit, notes)
                )?;
            }
        }
        None => {
            let why = match &o.stop {
                Stop::TripAtStart { rps } => format!(
                    "the service fails the SLO at every rate tried, down to {rps} RPS: {}",
                    why(&a.next_limit, notes)
                ),
                Stop::LoadBoxLimit { rps, reason } => {
                    format!(
                        "{rps} RPS could not be measured, INCONCLUSIVE after its re-run: {}",
                        why(std::slice::from_ref(reason), notes)
                    )
                }
                _ => match report.steps.first() {
                    None => "no probe finished".to_string(),
                    Some(first) => format!(
                        "start rate {} {}: {}",
                        first.target_rps,
                        first.verdict.label(),
                        why(&first.reasons(), notes)
                    ),
                },
            };
            writeln!(w, "ANSWER: no rate passed ({why}; {context}, {probes})")?;
        }
    }
    if let Some(line) = stop_line(search, a.max_rps.is_some(), notes) {
        writeln!(w, "        Search: {line}")?;
    }
    Ok(())
}

/// Why the adaptive search stopped, when the ANSWER line does not say it already.
fn stop_line(search: &SearchReport, answered: bool, notes: Option<&Notes>) -> Option<String> {
    let Plan::Adaptive(plan) = &search.plan else {
        return None;
    };
    let o = &search.outcome;
    let width = o.bracket.width().map(|w| format!("{:.1}%", w * 100.0));
    let line = match (&o.stop, width) {
        (Stop::Converged, Some(width)) => match (o.bracket.pass, o.bracket.trip) {
            (Some(p), Some(t)) if t - p <= 1 => "converged: the bracket is 1 RPS wide".to_string(),
            (Some(p), Some(_)) if o.bracket.width() > Some(plan.precision) => format!(
                "converged: {p} RPS passed and the service served {:.0}/s above capacity \
                 (the throughput caps the bracket; --precision {})",
                o.throughput_rps.unwrap_or_default(),
                plan.precision
            ),
            _ => format!(
                "converged: the bracket is {width} wide (--precision {})",
                plan.precision
            ),
        },
        (Stop::MaxSteps { max_steps }, Some(width)) => format!(
            "stopped at --max-steps {max_steps}: the bracket is {width} wide, \
             wider than --precision {} (raise --max-steps or --start-rps)",
            plan.precision
        ),
        (Stop::MaxSteps { max_steps }, None) if answered => format!(
            "stopped at --max-steps {max_steps} before any TRIP: the limit lies higher \
             (raise --max-steps, --start-rps or --growth)"
        ),
        (Stop::MaxRps { max_rps }, _) => format!(
            "every probe passed up to --max-rps {max_rps}: the limit lies higher (raise --max-rps)"
        ),
        (Stop::LoadBoxLimit { rps, reason }, _) if answered => format!(
            "stopped: {rps} RPS could not be measured (INCONCLUSIVE after its re-run: \
             {}); the answer is the highest rate measured",
            why(std::slice::from_ref(reason), notes)
        ),
        (Stop::Interrupted, _) => "interrupted before the search ended".to_string(),
        _ => return None,
    };
    Some(line)
}

/// `Noise: TRIP at 200 RPS below PASS at 300 RPS: re-probed` per
/// contradiction, then `Confirmed: 3/3 re-runs at 4410 RPS held`.
fn print_confirmation<W: Write>(w: &mut W, report: &RunReport) -> io::Result<()> {
    let contradictions = report
        .search
        .iter()
        .flat_map(|s| s.outcome.contradictions.iter());
    for c in contradictions {
        let what = if c.trip_rps == c.pass_rps {
            format!("PASS and TRIP at {} RPS", c.pass_rps)
        } else {
            format!(
                "non-monotonic: TRIP at {} RPS below PASS at {} RPS",
                c.trip_rps, c.pass_rps
            )
        };
        writeln!(w, "        Noise: {what}: re-probed")?;
    }
    let Some(c) = report
        .search
        .as_ref()
        .and_then(|s| s.outcome.confirm.as_ref())
    else {
        return Ok(());
    };
    let marginal = if c.held < c.runs {
        ": not every time, the answer is marginal"
    } else {
        ""
    };
    writeln!(
        w,
        "        Confirmed: {}/{} re-runs at {} RPS held{marginal}",
        c.held, c.runs, c.rps
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{adaptive_report, outcome, report};
    use super::*;
    use crate::search::{Confirmation, Outcome};

    fn render(r: &RunReport) -> String {
        render_in(r, DEFAULT_WIDTH)
    }

    fn render_in(r: &RunReport, width: u16) -> String {
        let mut out = Vec::new();
        print_report(&mut out, r, width).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_and_answer() {
        let text = render(&report(&[(1000, "PASS"), (2000, "PASS"), (4000, "TRIP")]));
        assert!(text.contains("p95/p99"), "{text}");
        assert!(text.contains("latency in ms"), "{text}");
        assert!(text.contains("2.50/3.25"), "{text}");
        assert!(text.contains("143/180"), "{text}");
        assert!(text.contains("+1500   TRIP [1] |"), "{text}");
        assert!(
            text.contains("of the backlog that grew most (queue)"),
            "{text}"
        );
        assert!(
            text.contains("\nWhy:\n [1] op p95=143ms > 100ms\n"),
            "{text}"
        );
        assert!(
            text.contains("ANSWER: max RPS = 2000 (plugin=synthetic)\n"),
            "{text}"
        );
        assert!(
            text.contains("        Next limit: see Why [1] (at 4000 RPS)\n"),
            "{text}"
        );
    }

    #[test]
    fn wide_runs_fit_the_width_and_the_why_block_names_each_reason_once() {
        use crate::SeriesReport;
        use loadgen_core::verdict::{Breach, Doubt, Verdict};
        let steps = [
            (1000, "PASS"),
            (2000, "TRIP"),
            (1500, "INCONCLUSIVE"),
            (1500, "INCONCLUSIVE"),
        ];
        let mut r = adaptive_report(&steps, outcome(Some(1000), Some(2000), Stop::Converged));
        let many = Breach::Text {
            text: "order_with_a_long_name p99=612ms > 500ms, and a reason long enough \
                   to need wrapping at any width a person reads at"
                .into(),
        };
        r.steps[1].verdict = Verdict::Trip(vec![many.clone(), many]);
        for step in &mut r.steps {
            let op = step.series[0].clone();
            step.series = ["first_message", "last_message", "grpc_unary_call"]
                .map(|name| SeriesReport {
                    name: name.into(),
                    ..op.clone()
                })
                .to_vec();
            step.verdict = match &step.verdict {
                Verdict::Inconclusive(_) => Verdict::Inconclusive(Doubt::NoOps { refused: 7 }),
                v => v.clone(),
            };
            step.attempt = if step.probe == 3 { 2 } else { 1 };
        }
        for width in [120u16, 100] {
            let mut out = Vec::new();
            print_report(&mut out, &r, width).unwrap();
            let text = String::from_utf8(out).unwrap();
            for line in text.lines() {
                assert!(
                    line.chars().count() <= width as usize,
                    "{width}: {line:?}\n{text}"
                );
            }
            assert_eq!(
                text.matches("no ops attempted: all 7 refused").count(),
                1,
                "{text}"
            );
            assert_eq!(text.matches("order_with_a_long_name").count(), 1, "{text}");
            if width == DEFAULT_WIDTH {
                // A re-run that failed the same way shares the mark.
                assert!(text.contains("INCONCLUSIVE [2]"), "{text}");
                assert!(text.contains("INCONCLUSIVE (re-run) [2]"), "{text}");
            }
        }
    }

    #[test]
    fn no_step_passed() {
        let text = render(&report(&[(1000, "TRIP")]));
        assert!(
            text.contains(
                "ANSWER: no step passed (lowest step 1000 TRIP: see Why [1]; plugin=synthetic)"
            ),
            "{text}"
        );
        assert!(!text.contains("Next limit"), "{text}");
    }

    fn with_probes(mut o: Outcome, probes: u32) -> Outcome {
        o.probes = probes;
        o
    }

    #[test]
    fn adaptive_answer_shows_bracket_probes_and_why_it_stopped() {
        let table: &[(&str, &[(u64, &str)], Outcome, &[&str])] = &[
            (
                "converged",
                &[(1000, "PASS"), (2000, "TRIP"), (1500, "PASS"), (1530, "TRIP")],
                outcome(Some(1500), Some(1530), Stop::Converged),
                &[
                    "ANSWER: max RPS = 1500 (plugin=synthetic, bracket [1500, 1530], 4 probes)\n",
                    "        Next limit: see Why [1] (at 1530 RPS)\n",
                    "        Search: converged: the bracket is 2.0% wide (--precision 0.02)\n",
                ],
            ),
            (
                "max steps",
                &[(1000, "PASS"), (2000, "TRIP"), (1500, "PASS"), (1750, "TRIP")],
                outcome(Some(1500), Some(1750), Stop::MaxSteps { max_steps: 4 }),
                &[
                    "ANSWER: max RPS = 1500 (plugin=synthetic, bracket [1500, 1750], 4 probes)\n",
                    "        Search: stopped at --max-steps 4: the bracket is 16.7% wide, wider than --precision 0.02 (raise --max-steps or --start-rps)\n",
                ],
            ),
            (
                "max rps",
                &[(1000, "PASS"), (2000, "PASS")],
                outcome(Some(2000), None, Stop::MaxRps { max_rps: 2000 }),
                &[
                    "ANSWER: max RPS = 2000 (plugin=synthetic, no TRIP found, 2 probes)\n",
                    "        Search: every probe passed up to --max-rps 2000: the limit lies higher (raise --max-rps)\n",
                ],
            ),
            (
                "trip at start",
                &[(500, "TRIP")],
                outcome(None, Some(500), Stop::TripAtStart { rps: 500 }),
                &["ANSWER: no rate passed (the service fails the SLO at every rate tried, down to 500 RPS: see Why [1]; plugin=synthetic, 1 probe)\n"],
            ),
            (
                "load box, nothing passed",
                &[(500, "INCONCLUSIVE"), (500, "INCONCLUSIVE")],
                outcome(
                    None,
                    None,
                    Stop::LoadBoxLimit { rps: 500, reason: "emit underrun 90 ops".into() },
                ),
                &["ANSWER: no rate passed (500 RPS could not be measured, INCONCLUSIVE after its re-run: emit underrun 90 ops; plugin=synthetic, 2 probes)\n"],
            ),
            (
                "load box above a pass",
                &[(1000, "PASS"), (2000, "INCONCLUSIVE"), (2000, "INCONCLUSIVE")],
                outcome(
                    Some(1000),
                    None,
                    Stop::LoadBoxLimit { rps: 2000, reason: "emit underrun 90 ops".into() },
                ),
                &[
                    "ANSWER: max RPS = 1000 (plugin=synthetic, no TRIP found, 3 probes)\n",
                    "        Search: stopped: 2000 RPS could not be measured (INCONCLUSIVE after its re-run: emit underrun 90 ops); the answer is the highest rate measured\n",
                ],
            ),
        ];
        for (name, steps, o, want) in table {
            let o = with_probes(o.clone(), steps.len() as u32);
            // Wide enough that no line wraps: this is about what they say.
            let text = render_in(&adaptive_report(steps, o), 200);
            for line in *want {
                assert!(text.contains(line), "{name}: want {line:?} in\n{text}");
            }
            assert!(!text.contains("Confirmed"), "{name}");
        }
    }

    #[test]
    fn adaptive_table_numbers_the_probes_in_the_order_run() {
        let steps = [(1000, "PASS"), (2000, "TRIP"), (1500, "PASS")];
        let o = outcome(Some(1500), Some(2000), Stop::Converged);
        let text = render(&adaptive_report(&steps, o));
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("PASS") || l.contains("TRIP"))
            .collect();
        assert!(text.contains("| probe   target   achieved"), "{text}");
        assert!(rows[0].starts_with("|     0     1000"), "{text}");
        assert!(rows[1].starts_with("|     1     2000"), "{text}");
        assert!(rows[2].starts_with("|     2     1500"), "{text}");
    }

    #[test]
    fn confirmations_are_marked_and_do_not_move_the_answer() {
        let steps = [
            (1000, "PASS"),
            (2000, "TRIP"),
            (1500, "PASS"),
            (1500, "PASS"),
            (1500, "TRIP"),
        ];
        let mut o = with_probes(
            outcome(Some(1500), Some(2000), Stop::MaxSteps { max_steps: 3 }),
            3,
        );
        o.confirm = Some(Confirmation {
            rps: 1500,
            runs: 2,
            held: 1,
            probes: vec![3, 4],
        });
        let r = adaptive_report(&steps, o);
        assert_eq!(
            (r.answer.max_rps, r.answer.next_limit_rps),
            (Some(1500), Some(2000))
        );
        let text = render(&r);
        assert!(text.contains("PASS (confirm)"), "{text}");
        assert!(text.contains("TRIP (confirm)"), "{text}");
        assert!(
            text.contains(
                "ANSWER: max RPS = 1500 (plugin=synthetic, bracket [1500, 2000], 3 probes)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("        Confirmed: 1/2 re-runs at 1500 RPS held: not every time, the answer is marginal\n"),
            "{text}"
        );
    }

    #[test]
    fn a_fixed_ladder_table_is_unchanged() {
        let mut r = report(&[(1000, "PASS"), (2000, "PASS")]);
        r.search = Some(SearchReport {
            plan: Plan::Fixed {
                rates: vec![1000, 2000],
                stop_on_trip: true,
            },
            outcome: outcome(Some(2000), None, Stop::LadderDone),
        });
        let text = render(&r);
        assert!(text.contains("| target   achieved"), "{text}");
        assert!(!text.contains("probe"), "{text}");
        assert!(!text.contains("Search:"), "{text}");
        assert!(
            text.contains("ANSWER: max RPS = 2000 (plugin=synthetic)\n"),
            "{text}"
        );
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
