//! Draws a [`LiveState`]: header (probe, phase, time left), the rate and
//! the search, latency of the last seconds against the SLO, errors and
//! backlogs, the hold's latency chart, and the steps so far.

use std::time::Duration;

use loadgen_core::ramp::Phase;
use loadgen_core::report::per_second::SeriesSecond;
use loadgen_core::report::{ms_text, StepReport};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Cell, Chart, Dataset, GraphType, LineGauge, Paragraph, Row, Table, Wrap,
};
use ratatui::Frame;

use super::state::{chosen_by_text, LiveState, RECENT_SECONDS};

/// Draw `state` as it is `now` (time since the run started).
pub fn draw(frame: &mut Frame, state: &LiveState, now: Duration) {
    let [header, top, chart, steps, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(7),
        Constraint::Min(8),
        Constraint::Length(steps_height(state, frame.area())),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(header_line(state, now)), header);
    let [rate, latency, errors] = Layout::horizontal([
        Constraint::Percentage(38),
        Constraint::Percentage(34),
        Constraint::Percentage(28),
    ])
    .areas(top);
    draw_rate(frame, state, rate);
    draw_latency(frame, state, latency);
    draw_errors(frame, state, errors);
    draw_chart(frame, state, chart);
    draw_steps(frame, state, steps);
    let keys = if state.stopping {
        Line::from("stopping: finishing the report…".yellow())
    } else {
        Line::from("q / Ctrl-C: stop and report (like SIGINT)".dark_gray())
    };
    frame.render_widget(Paragraph::new(keys), footer);
}

/// The steps table: every step if it fits, else what leaves the chart 8 rows.
fn steps_height(state: &LiveState, area: Rect) -> u16 {
    let wanted = state.steps.len() as u16 + 3;
    let room = area.height.saturating_sub(1 + 7 + 8 + 1);
    wanted.clamp(4, room.max(4))
}

fn secs(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn header_line(state: &LiveState, now: Duration) -> Line<'static> {
    let mut spans = vec![Span::styled(
        "loadgen max-rps ",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    match (&state.current, state.phase_left(now)) {
        (Some(c), Some((phase, left))) => {
            let again = if c.attempt > 1 { " (re-run)" } else { "" };
            spans.push(Span::raw(format!(
                "probe #{} at {}/s{again}  ",
                c.probe, c.rps
            )));
            spans.push(Span::styled(
                format!("{} {} left", phase.label(), secs(left)),
                Style::new().fg(Color::Cyan),
            ));
        }
        _ => spans.push(Span::raw("between steps")),
    }
    spans.push(Span::raw(format!(
        "  steps done {}  run ~{} left",
        state.steps.len(),
        secs(state.run_left(now))
    )));
    Line::from(spans)
}

fn draw_rate(frame: &mut Frame, state: &LiveState, area: Rect) {
    let block = Block::bordered().title(" Rate ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = Vec::new();
    let (target, ratio) = match &state.current {
        Some(c) => {
            let achieved = state.achieved_rps();
            lines.push(Line::from(format!("target   {}/s", c.rps)));
            lines.push(Line::from(match achieved {
                Some(a) => format!("achieved {a:.0}/s"),
                None => "achieved -".to_string(),
            }));
            let ratio = achieved.map_or(0.0, |a| (a / c.rps.max(1) as f64).clamp(0.0, 1.0));
            (Some(c), ratio)
        }
        None => {
            lines.push(Line::from("target   -"));
            lines.push(Line::from("achieved -"));
            (None, 0.0)
        }
    };
    let (lo, hi) = state.bracket();
    let shown = |r: Option<u64>| r.map_or("?".to_string(), |r| r.to_string());
    lines.push(Line::from(format!(
        "bracket  [{}, {}]",
        shown(lo),
        shown(hi)
    )));
    if let Some(c) = target {
        lines.push(Line::from(format!(
            "why      {}",
            chosen_by_text(c.chosen_by)
        )));
    }
    let [text, gauge] =
        Layout::vertical([Constraint::Length(4), Constraint::Length(1)]).areas(inner);
    frame.render_widget(Paragraph::new(lines), text);
    frame.render_widget(
        LineGauge::default()
            .ratio(ratio)
            .label(format!("{:>3.0}%", ratio * 100.0))
            .filled_style(Style::new().fg(Color::Green)),
        gauge,
    );
}

fn draw_latency(frame: &mut Frame, state: &LiveState, area: Rect) {
    let block = Block::bordered().title(format!(" Latency, last {RECENT_SECONDS}s "));
    let recent = state.recent_latency();
    let rows: Vec<Row> = recent
        .iter()
        .map(|r| {
            let over = r.p99_ms > r.p99_limit_ms;
            let p99 = Cell::from(ms_text(r.p99_ms)).style(if over {
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
            } else {
                Style::new().fg(Color::Green)
            });
            Row::new(vec![
                Cell::from(r.series.clone()),
                Cell::from(ms_text(r.p50_ms)),
                p99,
                Cell::from(ms_text(r.p99_limit_ms)),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(7),
        ],
    )
    .header(Row::new(vec!["series", "p50", "p99", "SLO"]).bold())
    .block(block);
    frame.render_widget(table, area);
}

fn draw_errors(frame: &mut Frame, state: &LiveState, area: Rect) {
    let block = Block::bordered().title(" Errors · backlog ");
    let (hold, last) = state.hold_failures();
    let mut lines = vec![Line::from(format!("failures {hold} (last s {last})"))];
    let reasons = state.last_step_errors();
    if !reasons.is_empty() {
        let text: Vec<String> = reasons.iter().map(|(k, v)| format!("{k} {v}")).collect();
        lines.push(Line::from(format!("last step {}", text.join(", "))));
    }
    let backlogs = state.backlogs();
    if backlogs.is_empty() {
        lines.push(Line::from("backlog  -".dark_gray()));
    }
    for (name, value) in backlogs {
        lines.push(Line::from(format!("backlog {name} {value}")));
    }
    let text = Paragraph::new(lines).wrap(Wrap { trim: true });
    frame.render_widget(text.block(block), area);
}

/// p99 and p50 per series over the hold's seconds, with each p99 limit.
fn draw_chart(frame: &mut Frame, state: &LiveState, area: Rect) {
    const COLORS: [Color; 4] = [Color::Cyan, Color::Magenta, Color::Yellow, Color::Blue];
    let Some(c) = state.current.as_ref().filter(|c| !c.seconds.is_empty()) else {
        let title = match &state.current {
            Some(c) if c.phase == Phase::Warmup => " p50/p99 over the hold: warming up ",
            _ => " p50/p99 over the hold ",
        };
        frame.render_widget(Block::bordered().title(title), area);
        return;
    };
    let hold_s = c.hold.as_secs_f64().max(1.0);
    let mut names: Vec<&str> = Vec::new();
    for p in &c.seconds {
        for s in &p.series {
            if !names.contains(&s.name.as_str()) {
                names.push(&s.name);
            }
        }
    }
    let series_points = |name: &str, value: fn(&SeriesSecond) -> f64| -> Vec<(f64, f64)> {
        c.seconds
            .iter()
            .filter_map(|p| {
                p.series
                    .iter()
                    .find(|s| s.name == name && s.count > 0)
                    .map(|s| (p.t_s, value(s)))
            })
            .collect()
    };
    let points: Vec<(String, Vec<(f64, f64)>, f64)> = names
        .iter()
        .map(|name| {
            let data = series_points(name, |s| s.p99_ms);
            (name.to_string(), data, state.p99_limit_ms(name))
        })
        .collect();
    let medians: Vec<(String, Vec<(f64, f64)>)> = names
        .iter()
        .map(|name| (name.to_string(), series_points(name, |s| s.p50_ms)))
        .collect();
    let top = points
        .iter()
        .flat_map(|(_, data, limit)| data.iter().map(|(_, y)| *y).chain([*limit]))
        .fold(1.0_f64, f64::max)
        * 1.1;
    let limits: Vec<(String, Vec<(f64, f64)>)> = points
        .iter()
        .map(|(name, _, limit)| (name.clone(), vec![(0.0, *limit), (hold_s, *limit)]))
        .collect();
    let mut datasets = Vec::new();
    for (i, (name, data, _)) in points.iter().enumerate() {
        datasets.push(
            Dataset::default()
                .name(format!("{name} p99"))
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(COLORS[i % COLORS.len()]))
                .data(data),
        );
    }
    for (name, data) in &medians {
        datasets.push(
            Dataset::default()
                .name(format!("{name} p50"))
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(Color::DarkGray))
                .data(data),
        );
    }
    for (name, line) in &limits {
        datasets.push(
            Dataset::default()
                .name(format!("{name} SLO"))
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(Color::Red))
                .data(line),
        );
    }
    let chart = Chart::new(datasets)
        .block(Block::bordered().title(format!(
            " p50/p99 over the hold at {}/s (ms) vs SLO p99 ",
            c.rps
        )))
        .x_axis(
            Axis::default()
                .bounds([0.0, hold_s])
                .labels(["0s".to_string(), secs(c.hold)]),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels(["0".to_string(), format!("{top:.0}")]),
        )
        .legend_position(Some(ratatui::widgets::LegendPosition::TopLeft))
        .hidden_legend_constraints((Constraint::Percentage(60), Constraint::Percentage(60)));
    frame.render_widget(chart, area);
}

fn worst_p99(step: &StepReport) -> String {
    step.series
        .iter()
        .filter(|s| s.count > 0)
        .map(|s| s.p99_ms)
        .reduce(f64::max)
        .map_or("-".to_string(), ms_text)
}

fn draw_steps(frame: &mut Frame, state: &LiveState, area: Rect) {
    let room = area.height.saturating_sub(3) as usize;
    let from = state.steps.len().saturating_sub(room);
    let rows: Vec<Row> = state.steps[from..]
        .iter()
        .map(|s| {
            let colour = match s.verdict.label() {
                "PASS" => Color::Green,
                "TRIP" => Color::Red,
                _ => Color::Yellow,
            };
            Row::new(vec![
                Cell::from(format!("#{}", s.probe)),
                Cell::from(format!("{}/s", s.target_rps)),
                Cell::from(format!("{:.0}/s", s.achieved_rps)),
                Cell::from(worst_p99(s)),
                Cell::from(s.verdict.label()).style(Style::new().fg(colour).bold()),
                Cell::from(s.reasons().join("; ")),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(5),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Length(12),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(vec!["probe", "target", "achieved", "p99", "verdict", "why"]).bold())
    .block(Block::bordered().title(format!(" Steps ({}) ", state.steps.len())));
    frame.render_widget(table, area);
}
