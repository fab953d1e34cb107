//! `--report PATH.html`: one self-contained page with the latency-vs-offered-load
//! chart (p50/p95/p99 per series, SLO lines, PASS/TRIP markers) — the knee is
//! what people come to see — and the step table.

use std::io::{self, Write};

use plotters::prelude::*;

use super::{ms_text, RunReport, StepReport};
use crate::verdict::Verdict;

const WIDTH: u32 = 960;
const HEIGHT: u32 = 540;
/// Distinct from the black SLO lines and the green/red/grey verdict markers.
const SERIES_COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
];

/// The chart as an SVG document.
pub fn chart_svg(report: &RunReport) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, report).map_err(|e| format!("cannot draw the chart: {e}"))?;
        root.present()
            .map_err(|e| format!("cannot draw the chart: {e}"))?;
    }
    Ok(svg)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    report: &RunReport,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let steps: Vec<&StepReport> = report.steps.iter().collect();
    let slo = &report.settings.slo;
    let (p95_slo, p99_slo) = (
        slo.p95.as_secs_f64() * 1000.0,
        slo.p99.as_secs_f64() * 1000.0,
    );
    let max_x = steps.iter().map(|s| s.target_rps).max().unwrap_or(1) as f64 * 1.05;
    let max_y = steps
        .iter()
        .flat_map(|s| s.series.iter().map(|x| x.p99_ms))
        .fold(p99_slo, f64::max)
        * 1.2;
    let min_y = steps
        .iter()
        .flat_map(|s| s.series.iter().filter(|x| x.count > 0).map(|x| x.p50_ms))
        .fold(p95_slo, f64::min)
        .max(0.01)
        / 1.5;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("{}: latency vs offered load", report.settings.plugin),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..max_x, (min_y..max_y).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("offered load (ops/s)")
        .y_desc("latency from intended send (ms)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| {
            if *y >= 1.0 {
                format!("{y:.0}")
            } else {
                format!("{y:.2}")
            }
        })
        .draw()?;

    for (limit, name) in [(p95_slo, "SLO p95"), (p99_slo, "SLO p99")] {
        chart
            .draw_series(LineSeries::new(
                [(0.0, limit), (max_x, limit)],
                BLACK.mix(0.6).stroke_width(2),
            ))?
            .label(format!("{name} {}", ms_text(limit)))
            .legend(|(x, y)| {
                PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.6).stroke_width(2))
            });
    }

    let names: Vec<String> = steps
        .first()
        .map(|s| s.series.iter().map(|x| x.name.clone()).collect())
        .unwrap_or_default();
    for (i, name) in names.iter().enumerate() {
        let color = SERIES_COLORS[i % SERIES_COLORS.len()].to_rgba();
        for (quantile, pick, width) in [
            (
                "p50",
                (|x: &super::SeriesReport| x.p50_ms) as fn(&super::SeriesReport) -> f64,
                1,
            ),
            ("p95", |x: &super::SeriesReport| x.p95_ms, 2),
            ("p99", |x: &super::SeriesReport| x.p99_ms, 3),
        ] {
            let mut points: Vec<(f64, f64)> = steps
                .iter()
                .filter_map(|s| {
                    s.series
                        .get(i)
                        .filter(|x| x.count > 0)
                        .map(|x| (s.target_rps as f64, pick(x).max(min_y)))
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(width)))?
                .label(format!("{name} {quantile}"))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(width))
                });
        }
    }

    // One marker per step at its worst p99: green PASS, red TRIP, grey INCONCLUSIVE.
    chart.draw_series(steps.iter().filter_map(|s| {
        let worst = s
            .series
            .iter()
            .filter(|x| x.count > 0)
            .map(|x| x.p99_ms)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))?;
        let at = (s.target_rps as f64, worst.max(min_y));
        let style = match s.verdict {
            Verdict::Pass => GREEN.filled(),
            Verdict::Trip(_) => RED.filled(),
            Verdict::Inconclusive(_) => RGBColor(128, 128, 128).filled(),
        };
        Some(Circle::new(at, 6, style))
    }))?;

    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    Ok(())
}

/// The whole page.
pub fn write_html<W: Write>(mut w: W, report: &RunReport) -> io::Result<()> {
    let svg = chart_svg(report).map_err(io::Error::other)?;
    let answer = {
        let mut text = Vec::new();
        super::console::print_answer(&mut text, report)?;
        String::from_utf8_lossy(&text).into_owned()
    };
    let mut table = Vec::new();
    super::console::print_table(&mut table, report)?;
    write!(
        w,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>loadgen: {plugin}</title>\
         <style>body{{font-family:sans-serif;margin:2em}} pre{{background:#f6f6f6;padding:1em;overflow-x:auto}}</style>\
         </head><body>\n<h1>loadgen max-rps: {plugin}</h1>\n<pre>{answer}</pre>\n{svg}\n<h2>Steps</h2>\n<pre>{table}</pre>\n\
         <p>Markers: green PASS, red TRIP, grey INCONCLUSIVE, at each step's worst p99.</p>\n</body></html>\n",
        plugin = escape(&report.settings.plugin),
        answer = escape(&answer),
        table = escape(&String::from_utf8_lossy(&table)),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::report;
    use super::*;

    #[test]
    fn the_page_holds_the_chart_the_answer_and_the_table() {
        let r = report(&[(1000, "PASS"), (2000, "PASS"), (4000, "TRIP")]);
        let mut out = Vec::new();
        write_html(&mut out, &r).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains("<svg"), "inline chart");
        assert!(page.contains("latency vs offered load"));
        assert!(
            page.contains("op p99"),
            "legend names each series and quantile"
        );
        assert!(page.contains("SLO p95 100ms"));
        assert!(page.contains("ANSWER: max RPS = 2000"));
        assert!(page.contains("TRIP"));
        assert!(!page.contains("<script"), "self-contained, no scripts");
    }
}
