//! The report's charts against offered load, as inline SVG (plotters):
//! latency (the knee), the coordinated-omission gap, achieved vs target,
//! backlog growth, and the adaptive search's probe sequence.
//!
//! In every chart a step's marker is a circle coloured by its verdict (and
//! only markers are circles, so a page can be checked marker by marker).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::super::{RunReport, SeriesReport, StepReport};
use super::frame::*;

/// p50/p95/p99 per series against offered load, SLO lines labelled, one
/// verdict marker per step (at its worst p99), the answer highlighted.
pub fn latency(report: &RunReport) -> Result<String, String> {
    svg((1100, 560), |root| {
        let steps = &report.steps;
        let slo = slo_ms(report);
        let own = series_slo_ms(report);
        let max_x = max_rate(report);
        let lines = own
            .iter()
            .flat_map(|(_, q, ms)| (*q == "p95").then_some(*ms));
        let lowest = lines.fold(slo.0, f64::min);
        let highest = own.iter().map(|(_, _, ms)| *ms).fold(slo.1, f64::max);
        let (low, high) = latency_range(steps, |x| [x.p50_ms, x.p99_ms], (lowest, highest));
        let axes = Axes {
            caption: "Latency vs offered load",
            x_desc: "offered load (ops/s)",
            x_format: &rate_label,
            x_labels: 10,
            y_desc: "latency from intended send (ms, log)",
            y_format: &ms_label,
        };
        let mut chart = axes.draw(root, 0f64..max_x, (low..high).log_scale())?;
        answer_line(&mut chart, report, (low, high))?;
        slo_line(&mut chart, max_x, "p95", slo.0)?;
        slo_line(&mut chart, max_x, "p99", slo.1)?;
        for (name, quantile, ms) in &own {
            slo_line(&mut chart, max_x, &format!("{name} {quantile}"), *ms)?;
        }
        for (i, name) in series_names(report).iter().enumerate() {
            let color = series_color(i);
            let quantiles: [(&str, fn(&SeriesReport) -> f64, u32); 3] = [
                ("p50", |x| x.p50_ms, 1),
                ("p95", |x| x.p95_ms, 2),
                ("p99", |x| x.p99_ms, 3),
            ];
            for (quantile, pick, width) in quantiles {
                let points = by_rate(steps, |s| series_value(s, i, pick).map(|v| v.max(low)));
                let style = color.mix(0.4 + 0.2 * width as f64).stroke_width(width);
                chart
                    .draw_series(LineSeries::new(points, style))?
                    .label(format!("{name} {quantile}"))
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
            }
        }
        let worst = |s: &StepReport| {
            s.series
                .iter()
                .filter(|x| x.count > 0)
                .map(|x| x.p99_ms)
                .reduce(f64::max)
                .unwrap_or(high / 1.5)
        };
        markers(
            &mut chart,
            steps
                .iter()
                .map(|s| ((s.target_rps as f64, worst(s).max(low)), verdict_color(s)))
                .collect(),
        )?;
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// p99 from the intended send against p99 from the actual send, per series:
/// the gap is the queueing a closed-loop tool would not have measured.
pub fn co_gap(report: &RunReport) -> Result<String, String> {
    svg((1100, 440), |root| {
        let steps = &report.steps;
        let slo = slo_ms(report);
        let max_x = max_rate(report);
        let (low, high) = latency_range(steps, |x| [x.p99_ms, x.service_p99_ms], (slo.1, slo.1));
        let axes = Axes {
            caption: "Coordinated omission: p99 from intended vs from actual send",
            x_desc: "offered load (ops/s)",
            x_format: &rate_label,
            x_labels: 10,
            y_desc: "p99 (ms, log)",
            y_format: &ms_label,
        };
        let mut chart = axes.draw(root, 0f64..max_x, (low..high).log_scale())?;
        slo_line(&mut chart, max_x, "p99", slo.1)?;
        for (i, name) in series_names(report).iter().enumerate() {
            let color = series_color(i);
            let intended = by_rate(steps, |s| {
                series_value(s, i, |x| x.p99_ms).map(|v| v.max(low))
            });
            let service = by_rate(steps, |s| {
                series_value(s, i, |x| x.service_p99_ms).map(|v| v.max(low))
            });
            let solid = color.stroke_width(3);
            chart
                .draw_series(LineSeries::new(intended, solid))?
                .label(format!("{name} p99 from intended send (what users wait)"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], solid));
            let dashed = color.mix(0.7).stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(service, 6, 4, dashed))?
                .label(format!("{name} p99 from actual send (closed-loop view)"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], dashed));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// Achieved rate against target, with the ideal diagonal.
pub fn achieved(report: &RunReport) -> Result<String, String> {
    svg((540, 420), |root| {
        let max_x = max_rate(report);
        let max_y = report
            .steps
            .iter()
            .map(|s| s.achieved_rps)
            .fold(max_x, f64::max);
        let axes = Axes {
            caption: "Achieved vs target rate",
            x_desc: "target (ops/s)",
            x_format: &rate_label,
            x_labels: 10,
            y_desc: "achieved (ops/s)",
            y_format: &rate_label,
        };
        let mut chart = axes.draw(root, 0f64..max_x, 0f64..max_y)?;
        let ideal = SLO_COLOR.mix(0.6).stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, 0.0), (max_x, max_x)],
                6,
                4,
                ideal,
            ))?
            .label("achieved = target")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], ideal));
        let line = SERIES_COLORS[0].stroke_width(2);
        chart
            .draw_series(LineSeries::new(
                by_rate(&report.steps, |s| Some(s.achieved_rps)),
                line,
            ))?
            .label("achieved")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], line));
        markers(
            &mut chart,
            report
                .steps
                .iter()
                .map(|s| ((s.target_rps as f64, s.achieved_rps), verdict_color(s)))
                .collect(),
        )?;
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// Each backlog's growth over the hold against offered load, with the gate.
pub fn backlog(report: &RunReport) -> Result<String, String> {
    svg((540, 420), |root| {
        let names: std::collections::BTreeSet<&String> = report
            .steps
            .iter()
            .flat_map(|s| s.backlogs.iter().map(|b| &b.name))
            .collect();
        let gate = report.settings.slo.pending_growth as f64;
        let values = report
            .steps
            .iter()
            .flat_map(|s| s.backlogs.iter().map(|b| b.growth() as f64));
        let (min_y, max_y) = values.fold((0.0f64, gate), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let max_x = max_rate(report);
        let pad = (max_y - min_y) * 0.1;
        let axes = Axes {
            caption: "Backlog growth over the hold",
            x_desc: "offered load (ops/s)",
            x_format: &rate_label,
            x_labels: 10,
            y_desc: "end − start (messages)",
            y_format: &|y| format!("{y:+.0}"),
        };
        let mut chart = axes.draw(root, 0f64..max_x, (min_y - pad)..(max_y + pad))?;
        limit_line(&mut chart, max_x, gate, format!("SLO growth +{gate:.0}"))?;
        for (i, name) in names.iter().enumerate() {
            let color = series_color(i);
            let points = by_rate(&report.steps, |s| {
                s.backlogs
                    .iter()
                    .find(|b| &b.name == *name)
                    .map(|b| b.growth() as f64)
            });
            let style = color.stroke_width(2);
            chart
                .draw_series(LineSeries::new(points.clone(), style))?
                .label(name.to_string())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
        }
        if names.is_empty() {
            let font = (FONT, 16)
                .into_font()
                .color(&INCONCLUSIVE_COLOR)
                .pos(Pos::new(HPos::Center, VPos::Center));
            let middle = (max_x / 2.0, (min_y + max_y) / 2.0);
            label_at(&mut chart, middle, (0, 0), "no backlog signal".into(), font)?;
        } else {
            legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        }
        Ok(())
    })
}

/// An adaptive search's probes: rate by probe number, coloured by verdict,
/// with the final bracket.
pub fn probes(report: &RunReport) -> Result<String, String> {
    svg((1100, 380), |root| {
        let steps = &report.steps;
        let n = steps.len().max(1) as f64;
        let max_y = steps.iter().map(|s| s.target_rps).max().unwrap_or(1) as f64 * 1.15;
        let axes = Axes {
            caption: "Adaptive search: rate by probe",
            x_desc: "probe",
            x_format: &|x| format!("{x:.0}"),
            x_labels: steps.len().clamp(2, 30),
            y_desc: "rate (ops/s)",
            y_format: &rate_label,
        };
        let mut chart = axes.draw(root, -0.5f64..(n - 0.5), 0f64..max_y)?;
        let path: Vec<(f64, f64)> = steps
            .iter()
            .map(|s| (s.probe as f64, s.target_rps as f64))
            .collect();
        chart.draw_series(LineSeries::new(path, SLO_COLOR.mix(0.5).stroke_width(1)))?;
        let bracket = report.search.as_ref().map(|s| &s.outcome.bracket);
        for (end, color, name) in [
            (bracket.and_then(|b| b.pass), PASS_COLOR, "highest PASS"),
            (bracket.and_then(|b| b.trip), TRIP_COLOR, "lowest TRIP"),
        ] {
            if let Some(rps) = end {
                let style = color.mix(0.6).stroke_width(1);
                chart
                    .draw_series(DashedLineSeries::new(
                        [(-0.5, rps as f64), (n - 0.5, rps as f64)],
                        6,
                        4,
                        style,
                    ))?
                    .label(format!("{name} {rps}/s"))
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
            }
        }
        chart.draw_series(steps.iter().map(|s| {
            Circle::new(
                (s.probe as f64, s.target_rps as f64),
                6,
                verdict_color(s).filled(),
            )
        }))?;
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    })
}
