//! A library that claims the host's plugin-api version but exports a root
//! module of another shape: `describe` returns a `PluginInfo` without the
//! `counters` field (as plugin-api 0.1 had it). The host must refuse it with
//! one line naming the mismatch, never load it.

// abi_stable 0.11's derives expand to impls inside a const block.
#![allow(non_local_definitions)]

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RResult, RString, RVec};
use abi_stable::{declare_root_module_statics, export_root_module, StableAbi};

/// plugin-api 0.1's `PluginInfo`: one field fewer than the host's.
#[repr(C)]
#[derive(StableAbi)]
pub struct PluginInfo {
    pub name: RString,
    pub version: RString,
    pub description: RString,
    pub series: RVec<RString>,
}

#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    pub describe: extern "C" fn() -> RResult<PluginInfo, RString>,
    #[sabi(last_prefix_field)]
    pub new_workload: extern "C" fn(config_json: RString) -> RResult<RString, RString>,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "loadgen_plugin";
    const NAME: &'static str = "loadgen_plugin";
    const VERSION_STRINGS: VersionStrings =
        VersionStrings::new(loadgen_plugin_api::abi::INTERFACE_VERSION);
}

extern "C" fn describe() -> RResult<PluginInfo, RString> {
    RResult::RErr("never called: the host refuses this library".into())
}

extern "C" fn new_workload(_: RString) -> RResult<RString, RString> {
    RResult::RErr("never called".into())
}

#[export_root_module]
fn root_module() -> PluginModRef {
    abi_stable::prefix_type::PrefixTypeTrait::leak_into_prefix(PluginMod {
        describe,
        new_workload,
    })
}
