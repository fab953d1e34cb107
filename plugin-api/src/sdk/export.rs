//! The exported entry points behind [`export_plugin!`](crate::export_plugin),
//! and [`guard`], which keeps panics from crossing the boundary.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RErr, ROk, RResult, RString};

use super::hosted::{HostConfig, Hosted};
use super::{Context, Options, Plugin, Recorder};
use crate::abi::{PluginInfo, SinkBox, WorkloadBox, Workload_TO};

/// Run `f`, turning an `Err` or a panic into an FFI error. A panic must never
/// reach an `extern "C"` boundary: abi_stable aborts the process when it does.
pub fn guard<T>(f: impl FnOnce() -> Result<T, String>) -> RResult<T, RString> {
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

/// `PluginMod::describe` for `P`.
pub fn describe<P: Plugin>() -> RResult<PluginInfo, RString> {
    guard(|| Ok(P::info().to_abi()))
}

/// `PluginMod::new_workload` for `P`: build the runtime, start the recorder's
/// flusher, run `P::start` and wrap the result for the host.
pub fn new_workload<P: Plugin>(
    config_json: RString,
    sink: SinkBox,
) -> RResult<WorkloadBox, RString> {
    guard(|| {
        let host: HostConfig = serde_json::from_str(&config_json)
            .map_err(|e| format!("bad host configuration: {e}"))?;
        let info = P::info();
        let options = Options::resolve(&info, host.options)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(P::WORKER_THREADS.max(1))
            .thread_name(format!("plugin-{}", info.name))
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the plugin's runtime: {e}"))?;
        let (recorder, flusher) = Recorder::new(sink);
        runtime.spawn(flusher);
        let ctx = Context {
            options,
            seed: host.seed,
            loss_timeout: Duration::from_millis(host.loss_timeout_ms),
            recorder,
        };
        match runtime.block_on(P::start(ctx)) {
            Ok(plugin) => Ok(Workload_TO::from_value(
                Hosted::new(plugin, runtime),
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

            fn root_module() -> $crate::abi::PluginModRef {
                $crate::__abi_stable::prefix_type::PrefixTypeTrait::leak_into_prefix(
                    $crate::abi::PluginMod {
                        describe,
                        new_workload,
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
    #[test]
    fn exported_symbol_is_the_one_abi_stable_looks_up() {
        assert_eq!(
            abi_stable::library::ROOT_MODULE_LOADER_NAME,
            "_1as_0lib_1header_0root_bmodule_bloader"
        );
    }
}
