//! The live figures `--metrics-addr` exposes, and their Prometheus text.
//!
//! Plain state, updated from the ramp's events and rendered on each scrape
//! through `prometheus-client`'s encoder (so the text format is the crate's,
//! not ours). Latency histograms have fixed millisecond buckets: they are
//! filled from the collector's per-second HdrHistograms, not per sample.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use loadgen_core::pacer::NS_PER_SEC;
use loadgen_core::ramp::Phase;
use loadgen_core::verdict::VerdictKind;

use crate::report::per_second::SecondPoint;
use crate::report::per_second::SecondUpdate;
use loadgen_core::backlog::Backlogs;

/// Upper bounds of the latency buckets, in ms (a `+Inf` bucket follows).
pub const LATENCY_BUCKETS_MS: [f64; 14] = [
    1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
];

/// A cumulative histogram over [`LATENCY_BUCKETS_MS`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FixedHistogram {
    /// Per bucket (not cumulative), the last one `+Inf`.
    counts: Vec<u64>,
    sum_s: f64,
    count: u64,
}

impl FixedHistogram {
    /// Add every value of `h` (ns).
    pub fn add(&mut self, h: &Histogram<u64>) {
        if self.counts.is_empty() {
            self.counts = vec![0; LATENCY_BUCKETS_MS.len() + 1];
        }
        for v in h.iter_recorded() {
            // The bucket's lowest value: an exact 1 ms falls in `le="0.001"`.
            let ms = h.lowest_equivalent(v.value_iterated_to()) as f64 / 1e6;
            let bucket = LATENCY_BUCKETS_MS
                .iter()
                .position(|&bound| ms <= bound)
                .unwrap_or(LATENCY_BUCKETS_MS.len());
            self.counts[bucket] += v.count_since_last_iteration();
        }
        self.count += h.len();
        self.sum_s += h.mean() * h.len() as f64 / NS_PER_SEC as f64;
    }

    fn buckets(&self) -> Vec<(f64, u64)> {
        LATENCY_BUCKETS_MS
            .iter()
            .map(|ms| ms / 1000.0)
            .chain([f64::INFINITY])
            .zip(self.counts.iter().copied().chain(std::iter::repeat(0)))
            .collect()
    }
}

/// Everything the endpoint shows.
#[derive(Clone, Debug, Default)]
pub struct Live {
    pub target_rps: u64,
    /// Over the last second of hold.
    pub achieved_rps: f64,
    /// The probe number of the step in progress.
    pub step: u32,
    pub phase: Option<Phase>,
    /// By (series, measured from "intended" | "sent").
    latency: BTreeMap<(String, &'static str), FixedHistogram>,
    failures: BTreeMap<String, u64>,
    backlog: Backlogs,
    /// Steps judged, by verdict; every verdict present (at 0) from the start.
    verdicts: BTreeMap<VerdictKind, u64>,
}

impl Live {
    pub fn new() -> Live {
        Live {
            verdicts: VerdictKind::ALL.map(|v| (v, 0)).into(),
            ..Live::default()
        }
    }

    pub fn step_started(&mut self, probe: u32, rps: u64) {
        self.step = probe;
        self.target_rps = rps;
        self.achieved_rps = 0.0;
        self.phase = Some(Phase::Warmup);
    }

    pub fn second(&mut self, update: &SecondUpdate) {
        let SecondPoint {
            achieved_rps,
            backlog,
            ..
        } = &update.point;
        self.achieved_rps = *achieved_rps;
        if !backlog.is_empty() {
            self.backlog = backlog.clone();
        }
        for s in &update.intervals {
            self.latency
                .entry((s.name.clone(), "intended"))
                .or_default()
                .add(&s.latency);
            self.latency
                .entry((s.name.clone(), "sent"))
                .or_default()
                .add(&s.service);
            *self.failures.entry(s.name.clone()).or_default() += s.failures;
        }
    }

    pub fn step_finished(&mut self, verdict: VerdictKind) {
        *self.verdicts.entry(verdict).or_default() += 1;
        self.phase = Some(Phase::BetweenSteps);
    }

    /// The Prometheus (OpenMetrics) text.
    pub fn render(&self) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self.clone()));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// One value without labels.
fn scalar<T: prometheus_client::encoding::EncodeGaugeValue>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: T,
) -> Result<(), std::fmt::Error> {
    ConstGauge::new(value).encode(encoder.encode_descriptor(name, help, None, MetricType::Gauge)?)
}

fn gauge<T: prometheus_client::encoding::EncodeGaugeValue>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    values: impl IntoIterator<Item = (Vec<(&'static str, String)>, T)>,
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, v) in values {
        ConstGauge::new(v).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    values: impl IntoIterator<Item = (Vec<(&'static str, String)>, u64)>,
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, v) in values {
        ConstCounter::new(v).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for Live {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        scalar(
            &mut encoder,
            "loadgen_target_rps",
            "Offered load of the step in progress, ops/s",
            self.target_rps as i64,
        )?;
        scalar(
            &mut encoder,
            "loadgen_achieved_rps",
            "Ops the plugin accepted over the last second of hold, ops/s",
            self.achieved_rps,
        )?;
        scalar(
            &mut encoder,
            "loadgen_step",
            "Probe number of the step in progress (0-based, re-runs counted)",
            self.step as i64,
        )?;
        gauge(
            &mut encoder,
            "loadgen_phase",
            "1 for the phase the step is in, 0 for the others",
            Phase::ALL.map(|p| {
                (
                    vec![("phase", p.label().to_string())],
                    i64::from(self.phase == Some(p)),
                )
            }),
        )?;
        gauge(
            &mut encoder,
            "loadgen_backlog",
            "Each backlog (JetStream durable or plugin gauge) at the last reading",
            self.backlog
                .iter()
                .map(|(name, v)| (vec![("backlog", name.clone())], *v)),
        )?;
        counter(
            &mut encoder,
            "loadgen_failures",
            "Hold ops failed (error, timeout, lost), by series",
            self.failures
                .iter()
                .map(|(series, v)| (vec![("series", series.clone())], *v)),
        )?;
        counter(
            &mut encoder,
            "loadgen_verdicts",
            "Steps judged, by verdict",
            self.verdicts
                .iter()
                .map(|(verdict, v)| (vec![("verdict", verdict.label().to_string())], *v)),
        )?;
        let mut metric = encoder.encode_descriptor(
            "loadgen_latency_seconds",
            "Hold latency by series, measured from the intended send (coordinated-omission \
             corrected) or from the actual send (service time)",
            None,
            MetricType::Histogram,
        )?;
        for ((series, from), h) in &self.latency {
            let labels = vec![
                ("series", series.clone()),
                ("measured_from", from.to_string()),
            ];
            metric
                .encode_family(&labels)?
                .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                    h.sum_s,
                    h.count,
                    &h.buckets(),
                    None,
                )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::per_second::{second_point, SeriesInterval};

    fn interval(latencies_ms: &[u64]) -> SeriesInterval {
        let mut latency = Histogram::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for ms in latencies_ms {
            latency.record(ms * 1_000_000).unwrap();
        }
        SeriesInterval {
            name: "op".into(),
            service: latency.clone(),
            latency,
            failures: 1,
        }
    }

    #[test]
    fn renders_every_figure_with_loadgen_names() {
        let mut live = Live::new();
        live.step_started(2, 4000);
        let intervals = vec![interval(&[1, 3, 3, 40, 20_000, 90_000])];
        let point = second_point(0.0, 1.0, 3990, &intervals, [("queue".into(), 12)].into());
        live.second(&SecondUpdate { point, intervals });
        live.phase = Some(Phase::Hold);
        live.step_finished(VerdictKind::Trip);
        let text = live.render();
        for line in [
            "loadgen_target_rps 4000",
            "loadgen_achieved_rps 3990.0",
            "loadgen_step 2",
            "loadgen_phase{phase=\"between_steps\"} 1",
            "loadgen_phase{phase=\"hold\"} 0",
            "loadgen_backlog{backlog=\"queue\"} 12",
            "loadgen_failures_total{series=\"op\"} 1",
            "loadgen_verdicts_total{verdict=\"TRIP\"} 1",
            "loadgen_verdicts_total{verdict=\"PASS\"} 0",
            "loadgen_latency_seconds_bucket{le=\"0.001\",series=\"op\",measured_from=\"intended\"} 1",
            "loadgen_latency_seconds_bucket{le=\"0.005\",series=\"op\",measured_from=\"intended\"} 3",
            "loadgen_latency_seconds_bucket{le=\"30.0\",series=\"op\",measured_from=\"intended\"} 5",
            "loadgen_latency_seconds_bucket{le=\"+Inf\",series=\"op\",measured_from=\"intended\"} 6",
            "loadgen_latency_seconds_count{series=\"op\",measured_from=\"sent\"} 6",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }
}
