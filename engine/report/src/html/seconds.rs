//! Small multiples: one chart per step of its per-second series — achieved
//! rate against target, p50/p99 per series (from the intended send, solid;
//! from the actual send, dashed), failures, and every backlog.

use plotters::prelude::*;

use super::super::per_second::SecondPoint;
use super::super::StepReport;
use super::frame::{svg, verdict_color, Area, Drawn, SERIES_COLORS};

const FONT: &str = "sans-serif";
const SIZE: (u32, u32) = (360, 430);

pub fn step_seconds(step: &StepReport, hold_s: f64) -> Result<String, String> {
    svg(SIZE, |root| {
        let title = format!(
            "#{} {}/s: {}",
            step.probe,
            step.target_rps,
            step.verdict.label()
        );
        let root = root.titled(&title, (FONT, 15).into_font().color(&verdict_color(step)))?;
        let panels = root.split_evenly((4, 1));
        let points = &step.per_second;
        let max_x = points.last().map_or(hold_s, |p| p.t_s).max(hold_s).max(1.0);
        rate(&panels[0], step, points, max_x)?;
        latency(&panels[1], step, points, max_x)?;
        failures(&panels[2], points, max_x)?;
        backlog(&panels[3], points, max_x)
    })
}

fn panel<'a, 'b>(
    area: &'a Area<'b>,
    label: &str,
    max_x: f64,
    y: std::ops::Range<f64>,
) -> Result<
    ChartContext<
        'a,
        SVGBackend<'b>,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    DrawingAreaErrorKind<std::io::Error>,
> {
    let mut chart = ChartBuilder::on(area)
        .margin(4)
        .x_label_area_size(16)
        .y_label_area_size(52)
        .build_cartesian_2d(0f64..max_x, y)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(210, 210, 210))
        .x_labels(4)
        .y_labels(3)
        .y_desc(label)
        .label_style((FONT, 10))
        .axis_desc_style((FONT, 11))
        .x_label_formatter(&|x| format!("{x:.0}s"))
        .y_label_formatter(&|y| {
            if y.abs() >= 10_000.0 {
                format!("{:.0}k", y / 1000.0)
            } else if y.abs() >= 10.0 || *y == 0.0 {
                format!("{y:.0}")
            } else {
                format!("{y:.1}")
            }
        })
        .draw()?;
    Ok(chart)
}

fn rate(area: &Area, step: &StepReport, points: &[SecondPoint], max_x: f64) -> Drawn {
    let target = step.target_rps as f64;
    let top = points.iter().map(|p| p.achieved_rps).fold(target, f64::max) * 1.15;
    let mut chart = panel(area, "ops/s", max_x, 0.0..top)?;
    chart.draw_series(DashedLineSeries::new(
        [(0.0, target), (max_x, target)],
        5,
        3,
        BLACK.mix(0.5).stroke_width(1),
    ))?;
    chart.draw_series(LineSeries::new(
        points.iter().map(|p| (p.t_s, p.achieved_rps)),
        SERIES_COLORS[0].stroke_width(2),
    ))?;
    Ok(())
}

fn latency(area: &Area, step: &StepReport, points: &[SecondPoint], max_x: f64) -> Drawn {
    let top = points
        .iter()
        .flat_map(|p| p.series.iter().map(|s| s.p99_ms.max(s.service_p99_ms)))
        .fold(1.0f64, f64::max)
        * 1.15;
    let mut chart = panel(area, "p50/p99 ms", max_x, 0.0..top)?;
    for (i, s) in step.series.iter().enumerate() {
        let color = SERIES_COLORS[i % SERIES_COLORS.len()];
        let series = |pick: fn(&super::super::per_second::SeriesSecond) -> f64| {
            points
                .iter()
                .filter_map(|p| p.series.iter().find(|x| x.name == s.name && x.count > 0))
                .zip(points.iter().map(|p| p.t_s))
                .map(move |(x, t)| (t, pick(x)))
                .collect::<Vec<_>>()
        };
        chart.draw_series(LineSeries::new(series(|x| x.p99_ms), color.stroke_width(2)))?;
        chart.draw_series(LineSeries::new(
            series(|x| x.p50_ms),
            color.mix(0.6).stroke_width(1),
        ))?;
        chart.draw_series(DashedLineSeries::new(
            series(|x| x.service_p99_ms),
            4,
            3,
            color.mix(0.8).stroke_width(1),
        ))?;
    }
    Ok(())
}

fn failures(area: &Area, points: &[SecondPoint], max_x: f64) -> Drawn {
    let top = points.iter().map(|p| p.failures as f64).fold(1.0, f64::max) * 1.15;
    let mut chart = panel(area, "failures", max_x, 0.0..top)?;
    chart.draw_series(LineSeries::new(
        points.iter().map(|p| (p.t_s, p.failures as f64)),
        RGBColor(214, 39, 40).stroke_width(2),
    ))?;
    Ok(())
}

fn backlog(area: &Area, points: &[SecondPoint], max_x: f64) -> Drawn {
    let names: std::collections::BTreeSet<&String> =
        points.iter().flat_map(|p| p.backlog.keys()).collect();
    let (low, high) = points
        .iter()
        .flat_map(|p| p.backlog.values().map(|v| *v as f64))
        .fold((0.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let mut chart = panel(area, "backlog", max_x, low..high * 1.15)?;
    for (i, name) in names.into_iter().enumerate() {
        chart.draw_series(LineSeries::new(
            points
                .iter()
                .filter_map(|p| p.backlog.get(name).map(|v| (p.t_s, *v as f64))),
            SERIES_COLORS[(i + 1) % SERIES_COLORS.len()].stroke_width(2),
        ))?;
    }
    Ok(())
}
