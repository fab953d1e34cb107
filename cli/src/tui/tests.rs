//! The view rendered into ratatui's `TestBackend` from a run's events: an
//! adaptive search of the synthetic plugin (capacity ≈ 3000/s) that passed
//! 500 and 2000/s, tripped at 8000/s and is 6 s into the hold of 4000/s.

use std::collections::BTreeMap;
use std::time::Duration;

use loadgen_core::config::Phases;
use loadgen_core::ramp::Phase;
use loadgen_core::report::fixtures::step;
use loadgen_core::report::per_second::{SecondPoint, SeriesSecond};
use loadgen_core::search::{Adaptive, ChosenBy, Plan};
use loadgen_core::verdict::Slo;
use loadgen_runtime::reporter::LiveEvent;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::state::LiveState;
use super::view;

const S: fn(u64) -> Duration = Duration::from_secs;

fn phases() -> Phases {
    Phases {
        warmup: S(2),
        hold: S(20),
        drain: S(1),
        cooldown: S(1),
    }
}

fn second(t: u64, achieved: f64, p99: f64, failures: u64, backlog: i64) -> LiveEvent {
    LiveEvent::Second(Box::new(SecondPoint {
        t_s: t as f64,
        achieved_rps: achieved,
        failures,
        series: vec![SeriesSecond {
            name: "op".into(),
            count: achieved as u64,
            p50_ms: p99 / 5.0,
            p99_ms: p99,
            service_p50_ms: 0.0,
            service_p99_ms: 0.0,
        }],
        backlog: BTreeMap::from([("orders".to_string(), backlog)]).into(),
    }))
}

/// The run's events with when each arrived, in run time.
fn recorded_run() -> Vec<(Duration, LiveEvent)> {
    let mut events = vec![(
        S(0),
        LiveEvent::Started {
            slo: Box::new(Slo::default()),
        },
    )];
    let mut at = 0;
    for (probe, (rps, verdict)) in [(500, "PASS"), (2000, "PASS"), (8000, "TRIP")]
        .into_iter()
        .enumerate()
    {
        let mut report = step(rps, verdict);
        report.probe = probe as u32;
        if verdict == "TRIP" {
            report.failed = 12;
            report.counters.insert("timeout".into(), 12);
        }
        events.push((
            S(at),
            LiveEvent::StepStarted {
                probe: probe as u32,
                rps,
                attempt: 1,
                chosen_by: ChosenBy::Range,
                warmup: S(2),
                hold: S(20),
            },
        ));
        at += 24;
        events.push((S(at), LiveEvent::StepFinished(Box::new(report))));
    }
    events.push((
        S(at),
        LiveEvent::StepStarted {
            probe: 3,
            rps: 4000,
            attempt: 1,
            chosen_by: ChosenBy::Bisect,
            warmup: S(2),
            hold: S(20),
        },
    ));
    events.push((
        S(at + 2),
        LiveEvent::Phase {
            phase: Phase::Hold,
            elapsed: Duration::ZERO,
            achieved_rps: 0.0,
        },
    ));
    // Over capacity: latency and backlog climb past the 250 ms p99 SLO.
    for t in 1..=6u64 {
        let p99 = 40.0 * t as f64 * t as f64 / 4.0 + 5.0;
        events.push((S(at + 2 + t), second(t, 3010.0, p99, t - 1, 900 * t as i64)));
    }
    events
}

/// The view after the recorded run, at 8 s into the fourth step, as text rows.
fn render(width: u16, height: u16) -> Vec<String> {
    let mut state = LiveState::new(Plan::Adaptive(Adaptive::new(500)), phases());
    let mut last = Duration::ZERO;
    for (at, event) in recorded_run() {
        state.on(event, at);
        last = at;
    }
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| view::draw(frame, &state, last))
        .unwrap();
    let buffer = terminal.backend().buffer().clone();
    (0..height)
        .map(|y| {
            (0..width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect()
}

fn row_with<'a>(rows: &'a [String], text: &str) -> &'a str {
    rows.iter()
        .find(|r| r.contains(text))
        .unwrap_or_else(|| panic!("no row shows {text:?}:\n{}", rows.join("\n")))
}

fn assert_panels(rows: &[String]) {
    let screen = rows.join("\n");
    // Header: probe, phase with time left (20 s hold, 6 s in), run estimate.
    assert!(rows[0].contains("probe #3 at 4000/s"), "{screen}");
    assert!(rows[0].contains("hold 14s left"), "{screen}");
    assert!(rows[0].contains("run ~"), "{screen}");
    // Rate: target vs achieved, the bracket and why this rate.
    assert!(row_with(rows, "target").contains("4000/s"), "{screen}");
    assert!(row_with(rows, "achieved 3010/s").contains("achieved"));
    assert!(
        row_with(rows, "bracket").contains("[2000, 8000]"),
        "{screen}"
    );
    assert!(row_with(rows, "why").contains("bisecting"), "{screen}");
    assert!(screen.contains("75%"), "3010 of 4000: {screen}");
    // Latency of the last seconds against the SLO: p99 at 6 s is 365 ms.
    let op = row_with(rows, "│op ");
    assert!(op.contains("365ms") && op.contains("250ms"), "{screen}");
    // Errors: the hold's failures, the last step's by reason; the backlog.
    assert!(screen.contains("failures 15 (last s 5)"), "{screen}");
    let errors = row_with(rows, "last step failed 12,");
    assert!(screen.contains("timeout 12"), "{errors}\n{screen}");
    assert!(screen.contains("backlog orders 5400"), "{screen}");
    // The chart of the hold, with its SLO line in the legend.
    assert!(
        screen.contains("p50/p99 over the hold at 4000/s"),
        "{screen}"
    );
    assert!(screen.contains("op p50"), "{screen}");
    assert!(screen.contains("op SLO"), "{screen}");
    assert!(
        screen
            .chars()
            .any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)),
        "{screen}"
    );
    // Every step so far, with its verdict and why.
    assert!(row_with(rows, "#0").contains("500/s"), "{screen}");
    assert!(row_with(rows, "#1").contains("PASS"), "{screen}");
    let trip = row_with(rows, "#2");
    assert!(
        trip.contains("TRIP") && trip.contains("op p95=143ms > 100ms"),
        "{screen}"
    );
    assert!(screen.contains("q / Ctrl-C"), "{screen}");
}

#[test]
fn every_panel_shows_at_100_by_30() {
    let rows = render(100, 30);
    assert_panels(&rows);
}

#[test]
fn every_panel_shows_at_200_by_50() {
    let rows = render(200, 50);
    assert_panels(&rows);
    // The wider screen gives the chart the room: it is most of the height.
    let braille = |c: char| ('\u{2801}'..='\u{28ff}').contains(&c);
    let chart_rows = rows.iter().filter(|r| r.chars().any(braille)).count();
    assert!(chart_rows >= 10, "{}", rows.join("\n"));
}

/// The screen the README shows (docs/tui.txt) is this rendering; after a
/// change to the view, `LOADGEN_TUI_SNAPSHOT=1 cargo test -p loadgen-cli
/// --bin loadgen tui::` rewrites it.
#[test]
fn the_readme_screenshot_is_the_current_view() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/tui.txt");
    let now = render(100, 30).join("\n") + "\n";
    if std::env::var_os("LOADGEN_TUI_SNAPSHOT").is_some() {
        std::fs::write(path, &now).unwrap();
    }
    let shown = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        shown, now,
        "docs/tui.txt is stale: rerun with LOADGEN_TUI_SNAPSHOT=1"
    );
}
