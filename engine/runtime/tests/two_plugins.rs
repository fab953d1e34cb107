//! Two different plugin libraries in one process stay two plugins
//! (`RootModule::load_from_file` would have returned the first for both).

mod common;

use std::time::Duration;

use loadgen_plugin_api::abi::HostConfig;
use loadgen_plugin_api::abi::{Batch, FireAck};
use loadgen_plugin_api::clock;
use loadgen_plugin_host::Workload;
use loadgen_runtime::sink::HostSink;

#[test]
fn two_libraries_load_side_by_side() {
    let synthetic = common::load("synthetic");
    let echo = common::load("echo");
    assert_eq!(synthetic.description.name, "synthetic");
    assert_eq!(echo.description.name, "echo");
    assert_eq!(synthetic.description.series, ["op"]);
    assert_eq!(echo.description.series, ["echo"]);
    assert!(synthetic.description.option("capacity").is_some());
    // Only the option the SDK gives every plugin.
    assert_eq!(echo.description.option_names(), ["worker_threads"]);

    // Both run at once, each on its own runtime.
    let host = HostConfig {
        loss_timeout_ms: 1000,
        ..HostConfig::default()
    };
    let a = Workload::start(&synthetic, &host, HostSink::new(Default::default())).unwrap();
    let b = Workload::start(&echo, &host, HostSink::new(Default::default())).unwrap();
    let batch = Batch {
        first_op: 0,
        first_intended: clock::now(),
        interval_ns: 1_000,
        count: 10,
    };
    assert_eq!(a.fire(batch).unwrap(), FireAck::all_accepted(10));
    assert_eq!(b.fire(batch).unwrap(), FireAck::all_accepted(10));
    std::thread::sleep(Duration::from_millis(50));
    let fired = |w: &Workload, name: &str| {
        w.counters()
            .unwrap()
            .into_iter()
            .find(|c| c.name.as_str() == name)
            .map(|c| c.value)
    };
    assert_eq!(fired(&a, "attempted"), Some(10));
    assert_eq!(fired(&b, "fired"), Some(10));
    a.shutdown().unwrap();
    b.shutdown().unwrap();
}
