//! [`Workload`]: a running plugin workload behind a safe Rust API.

use std::sync::Arc;

use abi_stable::sabi_trait::TD_Opaque;
use loadgen_plugin_api::abi::HostConfig;
use loadgen_plugin_api::abi::{
    Batch, Counter, FireAck, Gauge, PendingTarget, SampleSink, SampleSink_TO, WorkloadBox,
};

use super::loader::{LoadError, LoadedPlugin};
use super::series::declared_series;
use super::DeclaredSeries;
use super::PluginDescription;

/// A workload instance. `Send + Sync`: the pacer fires into it while the
/// pollers read its counters and gauges.
pub struct Workload {
    inner: WorkloadBox,
    pub description: PluginDescription,
    /// The series it declared once started: the run's series.
    pub series: Vec<DeclaredSeries>,
}

impl Workload {
    /// Create the plugin's workload; its samples go to `sink`.
    pub fn start(
        plugin: &LoadedPlugin,
        config: &HostConfig,
        sink: impl SampleSink + 'static,
    ) -> Result<Arc<Workload>, LoadError> {
        let json = serde_json::to_string(config).expect("HostConfig serializes");
        let sink = SampleSink_TO::from_value(sink, TD_Opaque);
        let inner = (plugin.module.new_workload())(json.into(), sink)
            .into_result()
            .map_err(|message| LoadError::Start {
                plugin: plugin.description.name.clone(),
                message: message.into_string(),
            })?;
        let start_error = |message: String| LoadError::Start {
            plugin: plugin.description.name.clone(),
            message,
        };
        let declared = string_err(inner.series_at_start().into_result()).map_err(start_error)?;
        let series = declared_series(&declared).map_err(start_error)?;
        Ok(Arc::new(Workload {
            inner,
            description: plugin.description.clone(),
            series,
        }))
    }

    pub fn fire(&self, batch: Batch) -> Result<FireAck, String> {
        string_err(self.inner.fire(batch).into_result())
    }

    pub fn counters(&self) -> Result<Vec<Counter>, String> {
        string_err(self.inner.counters().into_result()).map(|v| v.into_vec())
    }

    pub fn pending_targets(&self) -> Result<Vec<PendingTarget>, String> {
        string_err(self.inner.pending_targets().into_result()).map(|v| v.into_vec())
    }

    pub fn backlog(&self) -> Result<Vec<Gauge>, String> {
        string_err(self.inner.backlog().into_result()).map(|v| v.into_vec())
    }

    /// The series the workload records now, as positions in [`Workload::series`]
    /// (the plugin answers ids; one it did not declare is left out).
    pub fn series_in_use(&self) -> Result<Vec<u16>, String> {
        let ids = string_err(self.inner.series_in_use().into_result())?;
        Ok(self
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| ids.contains(&s.id))
            .map(|(position, _)| position as u16)
            .collect())
    }

    /// Blocks while the plugin stops its runtime: call from a blocking thread.
    pub fn shutdown(&self) -> Result<(), String> {
        string_err(self.inner.shutdown().into_result())
    }
}

fn string_err<T>(r: Result<T, abi_stable::std_types::RString>) -> Result<T, String> {
    r.map_err(|e| e.into_string())
}
