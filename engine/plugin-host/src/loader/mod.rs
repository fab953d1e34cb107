//! Finding and loading plugin libraries.
//!
//! A file is checked before it is opened ([`elf`]): only a whole ELF library
//! for this machine that exports the loadgen root module is ever `dlopen`ed,
//! so a truncated copy or a stray library never crashes the host. Each library
//! is then loaded through its own header
//! (`lib_header_from_path(..)?.init_root_module()`), never
//! `RootModule::load_from_file`, which caches one module per root-module type
//! and would hand back the first plugin for every later one. abi_stable's
//! refusals (hundreds of lines of layout dump) become one line ([`refusal`]).

mod elf;
mod refusal;
mod search;

use std::path::{Path, PathBuf};

use abi_stable::library::{lib_header_from_path, LibraryError};
use abi_stable::std_types::{RResult, RString};
use loadgen_plugin_api::abi::PluginModRef;

use super::PluginDescription;

pub use search::{
    is_plugin_file_name, user_plugin_dir, DirOrigin, FoundLibrary, PluginSearch, SearchDir,
    SearchInputs,
};

pub fn library_file_name(plugin: &str) -> String {
    format!("libloadgen_plugin_{plugin}.so")
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "unknown plugin '{name}': no {} in {}",
        library_file_name(name),
        display_dirs(searched)
    )]
    NotFound {
        name: String,
        searched: Vec<PathBuf>,
    },
    #[error("no such plugin file: {}", path.display())]
    NoSuchFile { path: PathBuf },
    #[error("{} is not a loadgen plugin: {detail}", path.display())]
    NotAPlugin { path: PathBuf, detail: String },
    #[error("{} cannot be loaded: {detail}", path.display())]
    Damaged { path: PathBuf, detail: String },
    #[error("{} was built against an incompatible plugin interface ({summary})", path.display())]
    Incompatible { path: PathBuf, summary: String },
    #[error("plugin {} failed: {message}", path.display())]
    Plugin { path: PathBuf, message: String },
    /// The workload refused to start: a bad option value, an unreachable service.
    #[error("{plugin}: {message}")]
    Start { plugin: String, message: String },
}

fn display_dirs(paths: &[PathBuf]) -> String {
    let dirs: Vec<String> = paths
        .iter()
        .map(|p| p.parent().unwrap_or(p).display().to_string())
        .collect();
    dirs.join(", ")
}

/// A loaded library: its root module and what it says about itself.
#[derive(Clone)]
pub struct LoadedPlugin {
    pub path: PathBuf,
    pub module: PluginModRef,
    pub description: PluginDescription,
    /// The plugin-api version the library was built against.
    pub abi_version: String,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("path", &self.path)
            .field("description", &self.description)
            .finish()
    }
}

/// Load one library (libraries are never unloaded) and ask it to describe itself.
pub fn load(path: &Path) -> Result<LoadedPlugin, LoadError> {
    elf::check(path).map_err(|e| {
        let path = path.to_path_buf();
        match e {
            elf::NotLoadable::NotALibrary(detail) => LoadError::NotAPlugin { path, detail },
            elf::NotLoadable::NoRootModule => LoadError::NotAPlugin {
                path,
                detail: NO_ROOT_MODULE.into(),
            },
            elf::NotLoadable::Damaged(detail) => LoadError::Damaged { path, detail },
        }
    })?;
    let header = lib_header_from_path(path).map_err(|e| classify(path, e))?;
    let abi_version = header.version_strings().version.to_string();
    let module = header
        .init_root_module::<PluginModRef>()
        .map_err(|e| classify(path, e))?;
    let info = ffi_result(path, (module.describe())())?;
    let mut description = super::describe(&info);
    // A plugin built before `secret_options` existed declares none.
    if let Some(secret_options) = module.secret_options() {
        let secret: Vec<String> = secret_options().iter().map(|s| s.to_string()).collect();
        for option in &mut description.options {
            option.secret = secret.contains(&option.name);
        }
    }
    Ok(LoadedPlugin {
        path: path.to_path_buf(),
        module,
        description,
        abi_version,
    })
}

pub(crate) fn ffi_result<T>(path: &Path, r: RResult<T, RString>) -> Result<T, LoadError> {
    r.into_result().map_err(|message| LoadError::Plugin {
        path: path.to_path_buf(),
        message: message.into_string(),
    })
}

const NO_ROOT_MODULE: &str =
    "it exports no loadgen root module (was it built with export_plugin!?)";

/// Turn abi_stable's (often thousands of lines long) error into one line.
fn classify(path: &Path, err: LibraryError) -> LoadError {
    let path = path.to_path_buf();
    match err {
        LibraryError::OpenError { err, .. } => LoadError::NotAPlugin {
            path,
            detail: first_line(&err.to_string()),
        },
        LibraryError::GetSymbolError { .. } => LoadError::NotAPlugin {
            path,
            detail: NO_ROOT_MODULE.into(),
        },
        other => LoadError::Incompatible {
            path,
            summary: refusal::summarize(&other),
        },
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("unknown error")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_lists_every_place_searched() {
        let search = PluginSearch {
            dirs: ["/opt/a", "/opt/b/lib"]
                .into_iter()
                .map(|d| SearchDir {
                    path: PathBuf::from(d),
                    origin: DirOrigin::PluginPathEnv,
                })
                .collect(),
        };
        let err = search.find("nope").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown plugin 'nope': no libloadgen_plugin_nope.so in /opt/a, /opt/b/lib"
        );
    }

    #[test]
    fn a_file_that_is_not_a_library_is_refused_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let bogus = dir.path().join("libloadgen_plugin_bogus.so");
        std::fs::write(&bogus, "not an ELF file").unwrap();
        let err = load(&bogus).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LoadError::NotAPlugin { .. }), "{text}");
        assert!(
            text.starts_with(&format!("{} is not a loadgen plugin: ", bogus.display())),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    #[test]
    fn a_path_is_used_as_given() {
        let search = PluginSearch::default();
        let err = search.find("./missing/libx.so").unwrap_err();
        assert_eq!(err.to_string(), "no such plugin file: ./missing/libx.so");
    }
}
