//! The exported entry points behind [`export_plugin!`](crate::export_plugin),
//! and [`guard`], which keeps panics from crossing the boundary.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RErr, ROk, RResult, RString, RVec};

use super::hosted::Hosted;
use super::options::{OptionDecl, OptionValue, OptionValues, PluginOptions, Positive};
use super::{
    Context, Plugin, Recorder, DEFAULT_LOSS_TIMEOUT, FIRE_AHEAD_OPTION, WORKER_THREADS_OPTION,
};
use crate::abi::{HostConfig, PluginInfo, SinkBox, WorkloadBox, Workload_TO};

/// Run `f`, turning an `Err` or a panic into an FFI error. A panic must never
/// reach an `extern "C"` boundary: abi_stable aborts the process when it does.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, String>) -> RResult<T, RString> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => ROk(value),
        Ok(Err(message)) => RErr(message.into()),
        Err(payload) => RErr(format!("plugin panicked: {}", panic_message(&*payload)).into()),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(non-string panic payload)"
    }
}

/// Threads of the plugin's runtime: a number, or `auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct WorkerThreads(usize);

impl OptionValue for WorkerThreads {
    fn parse_option(name: &str, raw: &str) -> Result<Self, String> {
        if raw.trim() == "auto" {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            return Ok(WorkerThreads(auto_threads(cores)));
        }
        Positive::<usize>::parse_option(name, raw).map(|n| WorkerThreads(n.get()))
    }
}

/// `worker_threads=auto`: half the cores, 1 to 4. The plugin's runtime shares
/// the box with the pacer thread, the engine's runtime and often the service
/// under test, and a load generator's work is I/O: a second worker on a
/// 2-core box mostly adds wake-ups (one worker woken to steal from the other).
/// The http plugin at 20k req/s on 2 cores: 1 worker used ≈30% less CPU than 2.
fn auto_threads(cores: usize) -> usize {
    (cores / 2).clamp(1, 4)
}

/// The plugin's options followed by the SDK's own.
fn all_options<P: Plugin>() -> Vec<OptionDecl> {
    let mut options = P::Options::declare();
    options.push(OptionDecl {
        name: WORKER_THREADS_OPTION.into(),
        default: "auto".into(),
        help: "threads of the plugin's own runtime: a whole number > 0, or auto (half the machine's cores, 1 to 4)".into(),
        secret: false,
    });
    if !P::ANSWERS_IN_FIRE {
        options.push(OptionDecl {
            name: FIRE_AHEAD_OPTION.into(),
            default: "true".into(),
            help: "take each batch ahead and fire it on this plugin's runtime at its time (one wake-up per op); false: the pacer's thread fires it (two)".into(),
            secret: false,
        });
    }
    options
}

/// `PluginMod::describe` for `P`. Refuses a plugin whose declared defaults do
/// not parse, so that mistake shows when the library is loaded.
pub fn describe<P: Plugin>() -> RResult<PluginInfo, RString> {
    guard(|| {
        let info = P::info();
        let options = all_options::<P>();
        let defaults = OptionValues::resolve(&info.name, &options, &BTreeMap::new())?;
        P::Options::from_values(&defaults)
            .map_err(|e| format!("a declared default does not parse: {e}"))?;
        info.to_abi(&options)
    })
}

/// `PluginMod::secret_options` for `P`.
pub fn secret_options<P: Plugin>() -> RVec<RString> {
    all_options::<P>()
        .into_iter()
        .filter(|o| o.secret)
        .map(|o| RString::from(o.name))
        .collect()
}

/// `PluginMod::targets` for `P`: the options resolved as `new_workload`
/// would, then [`Plugin::targets`]. Nothing is started.
pub fn targets<P: Plugin>(
    config_json: RString,
) -> RResult<abi_stable::std_types::ROption<abi_stable::std_types::RVec<RString>>, RString> {
    guard(|| {
        let host: HostConfig = serde_json::from_str(&config_json)
            .map_err(|e| format!("bad host configuration: {e}"))?;
        let info = P::info();
        let values = OptionValues::resolve(&info.name, &all_options::<P>(), &host.options)?;
        let options = P::Options::from_values(&values)?;
        Ok(P::targets(&options)
            .map(|t| t.into_iter().map(RString::from).collect())
            .into())
    })
}

/// `PluginMod::new_workload` for `P`: resolve the options, build the runtime,
/// start the recorder's flusher, run `P::start` and wrap the result for the host.
pub fn new_workload<P: Plugin>(
    config_json: RString,
    sink: SinkBox,
) -> RResult<WorkloadBox, RString> {
    guard(|| {
        let host: HostConfig = serde_json::from_str(&config_json)
            .map_err(|e| format!("bad host configuration: {e}"))?;
        let info = P::info();
        let values = OptionValues::resolve(&info.name, &all_options::<P>(), &host.options)?;
        let options = P::Options::from_values(&values)?;
        let WorkerThreads(threads) = values.get(WORKER_THREADS_OPTION)?;
        let fire_ahead = !P::ANSWERS_IN_FIRE && values.get::<bool>(FIRE_AHEAD_OPTION)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name(format!("plugin-{}", info.name))
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the plugin's runtime: {e}"))?;
        let sink = Arc::new(sink);
        let (recorder, flusher) = Recorder::new(Arc::clone(&sink));
        runtime.spawn(flusher);
        let loss_timeout = match host.loss_timeout_ms {
            0 => DEFAULT_LOSS_TIMEOUT,
            ms => Duration::from_millis(ms),
        };
        let ctx = Context {
            options,
            seed: host.seed,
            loss_timeout,
            recorder,
        };
        match runtime.block_on(P::start(ctx)) {
            Ok(plugin) => Ok(Workload_TO::from_value(
                Hosted::new(plugin, runtime, fire_ahead.then_some(sink))?,
                TD_Opaque,
            )),
            Err(e) => {
                runtime.shutdown_background();
                Err(e)
            }
        }
    })
}

/// Export a [`Plugin`](crate::sdk::Plugin) type as this library's loadgen root module.
///
/// Call it once, at the crate root of a `cdylib`: `export_plugin!(MyPlugin);`
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub mod __loadgen_plugin_export {
            use super::*;
            use $crate::__abi_stable::std_types::{RResult, RString};

            extern "C" fn describe() -> RResult<$crate::abi::PluginInfo, RString> {
                $crate::sdk::describe::<$plugin>()
            }

            extern "C" fn new_workload(
                config_json: RString,
                sink: $crate::abi::SinkBox,
            ) -> RResult<$crate::abi::WorkloadBox, RString> {
                $crate::sdk::new_workload::<$plugin>(config_json, sink)
            }

            extern "C" fn secret_options() -> $crate::__abi_stable::std_types::RVec<RString> {
                $crate::sdk::secret_options::<$plugin>()
            }

            extern "C" fn targets(
                config_json: RString,
            ) -> RResult<
                $crate::__abi_stable::std_types::ROption<
                    $crate::__abi_stable::std_types::RVec<RString>,
                >,
                RString,
            > {
                $crate::sdk::targets::<$plugin>(config_json)
            }

            fn root_module() -> $crate::abi::PluginModRef {
                $crate::__abi_stable::prefix_type::PrefixTypeTrait::leak_into_prefix(
                    $crate::abi::PluginMod {
                        describe,
                        new_workload,
                        secret_options,
                        targets,
                    },
                )
            }

            extern "C" fn load_root_module() -> $crate::__abi_stable::library::RootModuleResult {
                $crate::__abi_stable::library::__call_root_module_loader(root_module)
            }

            /// What `#[export_root_module]` would generate; written out here so
            /// plugins need not depend on abi_stable themselves. The symbol name
            /// is abi_stable's `ROOT_MODULE_LOADER_NAME` (checked by a test).
            #[no_mangle]
            pub static _1as_0lib_1header_0root_bmodule_bloader:
                $crate::__abi_stable::library::LibHeader = unsafe {
                $crate::__abi_stable::library::LibHeader::from_constructor::<
                    $crate::abi::PluginModRef,
                >(
                    load_root_module,
                    $crate::__abi_stable::library::CheckTypeLayout::Yes,
                )
            };
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exported_symbol_is_the_one_abi_stable_looks_up() {
        assert_eq!(
            abi_stable::library::ROOT_MODULE_LOADER_NAME,
            "_1as_0lib_1header_0root_bmodule_bloader"
        );
    }

    #[test]
    fn worker_threads_is_a_number_or_auto() {
        let auto = WorkerThreads::parse_option("worker_threads", "auto").unwrap();
        assert!((1..=4).contains(&auto.0), "{auto:?}");
        let table = [(1, 1), (2, 1), (4, 2), (8, 4), (64, 4)];
        for (cores, want) in table {
            assert_eq!(auto_threads(cores), want, "{cores} cores");
        }
        assert_eq!(
            WorkerThreads::parse_option("worker_threads", "3"),
            Ok(WorkerThreads(3))
        );
        assert_eq!(
            WorkerThreads::parse_option("worker_threads", "0").unwrap_err(),
            "option 'worker_threads' must be > 0"
        );
    }
}
