//! Test a plugin as a crate: run a [`Plugin`] in-process
//! through the same glue the host uses (runtime, batching sink,
//! `catch_unwind`, option parsing) against a [`RecordingSink`]; or [`capture`]
//! what a [`Recorder`] records, for unit tests of pure logic.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RSlice, RStr};

use crate::abi::{
    HostConfig, MonoNanos, PluginInfo, Sample, SampleSink, SampleSink_TO, WorkloadBox,
};
use crate::sdk::recorder::{KeptDisturbances, Pending};
use crate::sdk::{describe, new_workload, Plugin, Recorder};

/// What `P` tells the host about itself, through the FFI glue: its options
/// include the SDK's `worker_threads`; an error if it would be refused at load.
pub fn describe_plugin<P: Plugin>() -> Result<PluginInfo, String> {
    describe::<P>().into_result().map_err(|e| e.into_string())
}

/// `describe_plugin`'s options as `(name, default)` pairs, and whether every
/// one has help text: the table a conformance test asserts.
pub fn declared_options<P: Plugin>() -> (Vec<(String, String)>, bool) {
    let info = describe_plugin::<P>().expect("the plugin describes itself");
    let pairs = info
        .options
        .iter()
        .map(|o| (o.name.to_string(), o.default.to_string()))
        .collect();
    (pairs, info.options.iter().all(|o| !o.help.is_empty()))
}

/// A [`Recorder`] whose samples stay in the returned [`Captured`], with no
/// runtime and no host: for unit tests (e.g. of an [`InFlight`](crate::sdk::InFlight) table).
pub fn capture() -> (Recorder, Captured) {
    let (recorder, pending, disturbances) = Recorder::captured();
    (
        recorder,
        Captured {
            pending,
            disturbances,
        },
    )
}

/// What a [`capture`]d recorder recorded.
pub struct Captured {
    pending: Arc<Pending>,
    disturbances: KeptDisturbances,
}

impl Captured {
    /// Every sample recorded since the last call.
    pub fn drain(&self) -> Vec<Sample> {
        let mut samples = Vec::new();
        self.pending.take(&mut samples);
        samples
    }

    /// Every disturbance reported so far, with its time.
    pub fn disturbances(&self) -> Vec<(MonoNanos, String)> {
        self.disturbances.lock().unwrap().clone()
    }
}

/// A sink that keeps every sample and disturbance it is given.
#[derive(Clone, Default)]
pub struct RecordingSink {
    samples: Arc<Mutex<Vec<Sample>>>,
    disturbances: Arc<Mutex<Vec<(MonoNanos, String)>>>,
}

impl RecordingSink {
    pub fn samples(&self) -> Vec<Sample> {
        self.samples.lock().unwrap().clone()
    }

    /// Every disturbance the plugin reported, with its time.
    pub fn disturbances(&self) -> Vec<(MonoNanos, String)> {
        self.disturbances.lock().unwrap().clone()
    }

    /// Poll until at least `n` samples arrived or `timeout` passed.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Sample> {
        let deadline = Instant::now() + timeout;
        loop {
            let samples = self.samples();
            if samples.len() >= n || Instant::now() >= deadline {
                return samples;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl SampleSink for RecordingSink {
    fn record(&self, samples: RSlice<'_, Sample>) {
        self.samples
            .lock()
            .unwrap()
            .extend_from_slice(samples.as_slice());
    }

    fn disturbed(&self, at: MonoNanos, reason: RStr<'_>) {
        self.disturbances
            .lock()
            .unwrap()
            .push((at, reason.to_string()));
    }
}

/// Why `P` refuses to start with these `-o` options (panics if it starts):
/// for tables of bad option values.
pub fn start_error<P: Plugin>(options: &[(&str, &str)]) -> String {
    match start::<P>(options, Duration::from_secs(1)) {
        Ok(_) => panic!("{options:?} should have been refused"),
        Err(e) => e,
    }
}

/// Start `P` with these `-o` options through the FFI glue.
pub fn start<P: Plugin>(
    options: &[(&str, &str)],
    loss_timeout: Duration,
) -> Result<(WorkloadBox, RecordingSink), String> {
    let sink = RecordingSink::default();
    let config = HostConfig {
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        seed: 42,
        loss_timeout_ms: loss_timeout.as_millis() as u64,
    };
    let json = serde_json::to_string(&config).expect("HostConfig serializes");
    let sink_box = SampleSink_TO::from_value(sink.clone(), TD_Opaque);
    match new_workload::<P>(json.into(), sink_box) {
        RResult::ROk(workload) => Ok((workload, sink)),
        RResult::RErr(e) => Err(e.into_string()),
    }
}
