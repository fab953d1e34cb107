//! What every chart of the report shares: the SVG document, the frame
//! (title, axes), colours, the SLO and answer lines, verdict markers, legends.

use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::super::{ms_text, RunReport, SeriesReport, StepReport};

pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(super) type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Distinct from the black SLO lines and the verdict colours.
pub(super) const SERIES_COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
];
pub(super) const PASS_COLOR: RGBColor = RGBColor(44, 160, 44);
pub(super) const TRIP_COLOR: RGBColor = RGBColor(214, 39, 40);
pub(super) const INCONCLUSIVE_COLOR: RGBColor = RGBColor(127, 127, 127);
pub(super) const SLO_COLOR: RGBColor = RGBColor(60, 60, 60);
pub(super) const ANSWER_COLOR: RGBColor = RGBColor(44, 160, 44);
pub(super) const FONT: &str = "sans-serif";

/// A chart's frame: title, axis names, tick labels.
pub(super) struct Axes<'f> {
    pub(super) caption: &'f str,
    pub(super) x_desc: &'f str,
    pub(super) x_format: &'f dyn Fn(&f64) -> String,
    pub(super) x_labels: usize,
    pub(super) y_desc: &'f str,
    pub(super) y_format: &'f dyn Fn(&f64) -> String,
}

impl Axes<'_> {
    /// The chart on `root` over `x` × `y`, its frame drawn.
    pub(super) fn draw<'a, 'b, Y>(
        &self,
        root: &'a Area<'b>,
        x: std::ops::Range<f64>,
        y: Y,
    ) -> Result<RateChart<'a, 'b, Y::CoordDescType>, DrawingAreaErrorKind<std::io::Error>>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let mut chart = ChartBuilder::on(root)
            .caption(self.caption, (FONT, 20))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x, y)?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(244, 244, 244))
            .bold_line_style(RGBColor(210, 210, 210))
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .x_labels(self.x_labels)
            .x_label_formatter(self.x_format)
            .y_label_formatter(self.y_format)
            .label_style((FONT, 13))
            .draw()?;
        Ok(chart)
    }
}

/// Draw into a fresh SVG document of `size`.
pub(super) fn svg(size: (u32, u32), draw: impl FnOnce(&Area) -> Drawn) -> Result<String, String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| format!("cannot draw a chart: {e}"))?;
        draw(&root).map_err(|e| format!("cannot draw a chart: {e}"))?;
        root.present()
            .map_err(|e| format!("cannot draw a chart: {e}"))?;
    }
    Ok(text)
}

pub(super) fn verdict_color(step: &StepReport) -> RGBColor {
    if step.passed() {
        PASS_COLOR
    } else if step.tripped() {
        TRIP_COLOR
    } else {
        INCONCLUSIVE_COLOR
    }
}

/// The series names, in the order of the first step.
pub(super) fn series_names(report: &RunReport) -> Vec<String> {
    report
        .steps
        .first()
        .map(|s| s.series.iter().map(|x| x.name.clone()).collect())
        .unwrap_or_default()
}

pub(super) fn series_color(i: usize) -> RGBColor {
    SERIES_COLORS[i % SERIES_COLORS.len()]
}

/// `(rate, value)` for each step where `pick` has a value, in rate order.
pub(super) fn by_rate(
    steps: &[StepReport],
    pick: impl Fn(&StepReport) -> Option<f64>,
) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = steps
        .iter()
        .filter_map(|s| pick(s).map(|v| (s.target_rps as f64, v)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

pub(super) fn series_value(
    step: &StepReport,
    i: usize,
    pick: fn(&SeriesReport) -> f64,
) -> Option<f64> {
    step.series.get(i).filter(|x| x.count > 0).map(pick)
}

pub(super) fn max_rate(report: &RunReport) -> f64 {
    report.steps.iter().map(|s| s.target_rps).max().unwrap_or(1) as f64 * 1.08
}

pub(super) fn rate_label(x: &f64) -> String {
    if *x >= 10_000.0 {
        format!("{:.0}k", x / 1000.0)
    } else {
        format!("{x:.0}")
    }
}

pub(super) fn ms_label(y: &f64) -> String {
    if *y >= 1.0 {
        format!("{y:.0}")
    } else {
        format!("{y:.2}")
    }
}

/// The log-scale latency range covering the `pick`ed values of every series
/// with samples, and the SLO lines.
pub(super) fn latency_range(
    steps: &[StepReport],
    pick: fn(&SeriesReport) -> [f64; 2],
    slo: (f64, f64),
) -> (f64, f64) {
    let (mut low, mut high) = (slo.0, slo.1);
    let values = steps
        .iter()
        .flat_map(|s| s.series.iter().filter(|x| x.count > 0))
        .flat_map(pick);
    for v in values.filter(|v| *v > 0.0) {
        low = low.min(v);
        high = high.max(v);
    }
    ((low / 1.5).max(0.01), high * 1.5)
}

pub(super) fn slo_ms(report: &RunReport) -> (f64, f64) {
    let slo = &report.settings.slo;
    (
        slo.p95.as_secs_f64() * 1000.0,
        slo.p99.as_secs_f64() * 1000.0,
    )
}

/// The limits of series with their own SLO (`--slo-series`, or declared by
/// the plugin), among the report's series: `(series, "p95"|"p99", ms)`.
pub(super) fn series_slo_ms(report: &RunReport) -> Vec<(String, &'static str, f64)> {
    let names = series_names(report);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let mut lines = Vec::new();
    for (name, own) in &report.settings.slo.series {
        if !names.contains(name) {
            continue;
        }
        for (quantile, limit) in [("p95", own.p95), ("p99", own.p99)] {
            if let Some(limit) = limit {
                lines.push((name.clone(), quantile, ms(limit)));
            }
        }
    }
    lines
}

pub(super) type RateChart<'a, 'b, Y> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>;

/// Text at a data point, offset by `(dx, dy)` pixels, anchored by `pos`.
pub(super) fn label_at<Y: Ranged<ValueType = f64>>(
    chart: &mut RateChart<'_, '_, Y>,
    at: (f64, f64),
    offset: (i32, i32),
    text: String,
    style: TextStyle,
) -> Drawn {
    chart.draw_series(std::iter::once(
        EmptyElement::at(at) + Text::new(text, offset, style),
    ))?;
    Ok(())
}

/// A horizontal limit line across the chart with its label above its right end.
pub(super) fn limit_line<Y: Ranged<ValueType = f64>>(
    chart: &mut RateChart<'_, '_, Y>,
    max_x: f64,
    y: f64,
    label: String,
) -> Drawn {
    let style = SLO_COLOR.stroke_width(2);
    chart.draw_series(DashedLineSeries::new([(0.0, y), (max_x, y)], 8, 5, style))?;
    let font = (FONT, 14)
        .into_font()
        .style(FontStyle::Bold)
        .color(&SLO_COLOR)
        .pos(Pos::new(HPos::Right, VPos::Bottom));
    label_at(chart, (max_x, y), (-6, -4), label, font)
}

/// The `quantile` SLO at `ms`, labelled.
pub(super) fn slo_line<Y: Ranged<ValueType = f64>>(
    chart: &mut RateChart<'_, '_, Y>,
    max_x: f64,
    quantile: &str,
    ms: f64,
) -> Drawn {
    limit_line(chart, max_x, ms, format!("SLO {quantile} {}", ms_text(ms)))
}

/// The answer as a broad translucent vertical band at its rate, labelled.
pub(super) fn answer_line<Y: Ranged<ValueType = f64>>(
    chart: &mut RateChart<'_, '_, Y>,
    report: &RunReport,
    y_range: (f64, f64),
) -> Drawn {
    let Some(rps) = report.answer.max_rps else {
        return Ok(());
    };
    let x = rps as f64;
    chart.draw_series(LineSeries::new(
        [(x, y_range.0), (x, y_range.1)],
        ANSWER_COLOR.mix(0.3).stroke_width(12),
    ))?;
    let font = (FONT, 15)
        .into_font()
        .style(FontStyle::Bold)
        .color(&ANSWER_COLOR)
        .pos(Pos::new(HPos::Left, VPos::Top));
    label_at(
        chart,
        (x, y_range.1),
        (10, 6),
        format!("answer {rps}/s"),
        font,
    )
}

pub(super) fn markers<Y: Ranged<ValueType = f64>>(
    chart: &mut RateChart<'_, '_, Y>,
    points: Vec<((f64, f64), RGBColor)>,
) -> Drawn {
    chart.draw_series(
        points
            .into_iter()
            .map(|(at, color)| Circle::new(at, 6, color.filled())),
    )?;
    Ok(())
}

pub(super) fn legend<'a, 'b: 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, CT>,
    position: SeriesLabelPosition,
) -> Drawn {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 13))
        .position(position)
        .draw()
}
