//! The control protocol between a coordinator and its agents: subjects and
//! the serde JSON bodies of every message, nothing else (no I/O).
//!
//! Subjects live under a per-run prefix (`--control-prefix`, default
//! `loadgen`) so runs sharing one NATS never mix:
//! - `<p>.announce`: an agent says who it is (on start, and when asked);
//! - `<p>.discover`: the coordinator asks every agent to announce again;
//! - `<p>.heartbeat.<name>`: an agent is alive (every [`HEARTBEAT_EVERY`]);
//! - `<p>.agent.<name>.<cmd>`: a request to one agent; `<cmd>` is the
//!   request type's [`Request::CMD`], the reply is `Result<Reply, String>`;
//! - `<p>.summary.<name>`: an agent's [`Summary`] of each second of a hold,
//!   published unasked (the per-second figures cost no request).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::collector::{SeriesCounts, SeriesParts};
use crate::config::RunConfig;
use crate::disturbance::Disturbance;
use crate::pacer::{PacerCounts, Slice, StepTimes};
use crate::plugin::DeclaredSeries;
use crate::report::histograms::{decode, encode_deflated as encode};
use crate::report::per_second::SeriesInterval;

/// How often an agent says it is alive.
pub const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);
/// An agent silent this long is lost.
pub const HEARTBEAT_LOST_AFTER: Duration = Duration::from_millis(1500);

/// The control subjects of one prefix.
#[derive(Clone, Debug)]
pub struct Subjects {
    pub prefix: String,
}

impl Subjects {
    pub fn new(prefix: &str) -> Subjects {
        Subjects {
            prefix: prefix.to_string(),
        }
    }

    pub fn announce(&self) -> String {
        format!("{}.announce", self.prefix)
    }

    pub fn discover(&self) -> String {
        format!("{}.discover", self.prefix)
    }

    pub fn heartbeat(&self, agent: &str) -> String {
        format!("{}.heartbeat.{agent}", self.prefix)
    }

    pub fn heartbeats(&self) -> String {
        format!("{}.heartbeat.*", self.prefix)
    }

    pub fn request<R: Request>(&self, agent: &str) -> String {
        format!("{}.agent.{agent}.{}", self.prefix, R::CMD)
    }

    /// Where `agent` publishes its per-second [`Summary`].
    pub fn summary(&self, agent: &str) -> String {
        format!("{}.summary.{agent}", self.prefix)
    }

    /// Every agent's summaries (the coordinator's subscription).
    pub fn summaries(&self) -> String {
        format!("{}.summary.*", self.prefix)
    }

    /// Every request to `agent` (its subscription).
    pub fn requests(&self, agent: &str) -> String {
        format!("{}.agent.{agent}.*", self.prefix)
    }
}

/// A request to one agent, answered with `Result<Self::Reply, String>`.
pub trait Request: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The subject's last token.
    const CMD: &'static str;
    type Reply: Serialize + DeserializeOwned + Send + 'static;
}

/// A plugin an agent can load.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginVersion {
    pub name: String,
    pub version: String,
}

/// Who an agent is (published on `<p>.announce`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announce {
    pub name: String,
    pub host: String,
    pub loadgen_version: String,
    pub plugin_api_version: String,
    pub plugins: Vec<PluginVersion>,
    pub cores: usize,
    /// Running a workload already (a coordinator that died without
    /// stopping it): a new coordinator's `start` replaces it. One
    /// coordinator per control prefix at a time.
    pub busy: bool,
}

/// `<p>.heartbeat.<name>` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub name: String,
}

/// The agent's `CLOCK_MONOTONIC` now (for the coordinator's offset estimate).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Time;
impl Request for Time {
    const CMD: &'static str = "time";
    type Reply = u64;
}

/// Load `plugin` and start its workload with the run's configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Start {
    pub plugin: String,
    pub config: RunConfig,
}
impl Request for Start {
    const CMD: &'static str = "start";
    type Reply = Started;
}

/// What the coordinator needs from a started workload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Started {
    /// `(stream, durable)` pairs the workload feeds (read by the coordinator).
    pub durables: Vec<(String, String)>,
    /// The series the workload declared once started: the run's series.
    #[serde(default)]
    pub series: Vec<DeclaredSeries>,
}

/// A new hold window, in the agent's clock.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Window {
    pub hold_start: u64,
    pub hold_end: u64,
}
impl Request for Window {
    const CMD: &'static str = "window";
    type Reply = ();
}

/// Pace `slice` of a step whose times are in the agent's clock.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    pub times: StepTimes,
    pub slice: Slice,
}
impl Request for Step {
    const CMD: &'static str = "step";
    type Reply = ();
}

/// Stop releasing ops now.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Halt;
impl Request for Halt {
    const CMD: &'static str = "halt";
    type Reply = ();
}

/// The pacer's hold tallies.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report;
impl Request for Report {
    const CMD: &'static str = "report";
    type Reply = PacerCounts;
}

/// The collector's window so far, per series, and the series in use.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Parts {
    /// The step's final reading (the one its report keeps).
    pub step_end: bool,
}
impl Request for Parts {
    const CMD: &'static str = "parts";
    type Reply = WireParts;
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireParts {
    pub series: Vec<WireSeries>,
    pub in_use: Result<Vec<u16>, String>,
}

/// One series' window on the wire: histograms as HdrHistogram V2 + deflate, base64.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireSeries {
    pub name: String,
    pub latency: String,
    pub service: String,
    pub counts: SeriesCounts,
}

impl WireSeries {
    pub fn from_parts(p: &SeriesParts) -> WireSeries {
        WireSeries {
            name: p.name.clone(),
            latency: encode(&p.latency),
            service: encode(&p.service),
            counts: p.counts,
        }
    }

    pub fn into_parts(self) -> Result<SeriesParts, String> {
        Ok(SeriesParts {
            latency: decode(&self.latency)?,
            service: decode(&self.service)?,
            name: self.name,
            counts: self.counts,
        })
    }
}

/// One second of an agent's hold, published on `<p>.summary.<name>` at
/// hold start (second 0), after each second of hold, and at hold end (the
/// last, maybe part of a second). Cumulative figures (`counts`, `window`)
/// make a missed summary harmless to the next one; `intervals` are what
/// arrived since the previous summary (the per-second points).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub name: String,
    /// The step's hold start in the agent's clock: which step this is.
    pub hold_start: u64,
    /// 0 at hold start, `k` after `k` seconds of hold.
    pub second: u32,
    /// The hold's end: no more summaries this step.
    pub last: bool,
    /// The pacer's hold tallies so far.
    pub counts: PacerCounts,
    /// Per series (the collector's order): what arrived since the previous summary.
    pub intervals: Vec<SummarySeries>,
    /// Per series: the window's counts so far.
    pub window: Vec<SeriesCounts>,
    /// The plugin's gauges (backlogs it measures itself) now; empty when
    /// the reading failed.
    #[serde(default)]
    pub gauges: BTreeMap<String, i64>,
}

/// One series' answers since an agent's previous summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummarySeries {
    pub name: String,
    pub latency: Buckets,
    pub service: Buckets,
    pub failures: u64,
}

impl SummarySeries {
    pub fn from_interval(i: &SeriesInterval) -> SummarySeries {
        SummarySeries {
            name: i.name.clone(),
            latency: Buckets::of(&i.latency),
            service: Buckets::of(&i.service),
            failures: i.failures,
        }
    }
}

/// A histogram's recorded buckets as `(value, count)` pairs: a second's few
/// hundred buckets rather than a whole histogram (which the receiver would
/// have to allocate, ~0.7 MB at the collector's range, for each one).
/// Recording each pair into a histogram of the same range and precision
/// adds exactly what [`Histogram::add`] would.
///
/// [`Histogram::add`]: hdrhistogram::Histogram::add
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buckets(pub Vec<(u64, u64)>);

impl Buckets {
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> Buckets {
        Buckets(
            h.iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
        )
    }

    /// Record every bucket into `into`.
    pub fn add_to(&self, into: &mut hdrhistogram::Histogram<u64>) -> Result<(), String> {
        for &(value, count) in &self.0 {
            into.record_n(value, count)
                .map_err(|e| format!("bucket {value} does not fit: {e:?}"))?;
        }
        Ok(())
    }

    /// Samples in these buckets.
    pub fn count(&self) -> u64 {
        self.0.iter().map(|&(_, n)| n).sum()
    }
}

/// The plugin's gauges now (a backlog reading outside a hold).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Gauges;
impl Request for Gauges {
    const CMD: &'static str = "gauges";
    type Reply = BTreeMap<String, i64>;
}

/// The plugin's counters now, by name.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Counters;
impl Request for Counters {
    const CMD: &'static str = "counters";
    type Reply = BTreeMap<String, u64>;
}

/// The disturbances the agent's plugin reported since the step's window
/// began (times in the agent's clock).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Disturbances;
impl Request for Disturbances {
    const CMD: &'static str = "disturbances";
    type Reply = Vec<Disturbance>;
}

/// Stop the workload; the agent waits for the next coordinator.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stop;
impl Request for Stop {
    const CMD: &'static str = "stop";
    type Reply = ();
}

/// The merged window of several agents' series: histograms added, counts
/// summed; percentiles are read from the sum, never averaged.
pub fn merge_series(
    names: &[String],
    agents: Vec<Vec<SeriesParts>>,
) -> Result<Vec<SeriesParts>, String> {
    let mut merged: Vec<SeriesParts> = names.iter().map(|n| SeriesParts::empty(n)).collect();
    for parts in agents {
        for part in parts {
            if let Some(into) = merged.iter_mut().find(|m| m.name == part.name) {
                into.merge(&part)?;
            }
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests;
