//! `loadgen plugins install FILE.so [--force]` and `loadgen plugins remove NAME`:
//! a third party's plugin goes into the user's plugin directory
//! (`$XDG_DATA_HOME/loadgen/plugins`), the second place on the search path.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context as _};
use loadgen_core::steps::StepList;
use loadgen_plugin_host::loader::{self, library_file_name, FoundLibrary};
use loadgen_plugin_host::PluginSearch;

use crate::failure::{usage, Failure};

pub fn install(file: &Path, force: bool) -> Result<ExitCode, Failure> {
    let search = PluginSearch::from_env();
    let dir = user_dir(&search)?;
    if !file.is_file() {
        return Err(usage(anyhow!("no such plugin file: {}", file.display())));
    }
    // Exactly the checks a run makes (ELF, root module, ABI, self-description)
    // before anything is copied.
    let plugin = loader::load(file).map_err(usage)?;
    let d = &plugin.description;
    check_name(&d.name).map_err(|e| usage(anyhow!("{}: {e}", file.display())))?;
    // What a run without --steps would refuse, refused now rather than then.
    d.default_steps.parse::<StepList>().map_err(|e| {
        usage(anyhow!(
            "{}: plugin {} declares bad default steps: {e}",
            file.display(),
            d.name
        ))
    })?;
    let target = dir.join(library_file_name(&d.name));
    if same_file(file, &target) {
        println!(
            "{} {} is already installed: {}",
            d.name,
            d.version,
            target.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if target.exists() && !force {
        return Err(usage(anyhow!(
            "plugin '{}' is already installed at {} (give --force to replace it)",
            d.name,
            target.display()
        )));
    }
    copy_into_place(file, &target)
        .with_context(|| format!("installing {} as {}", file.display(), target.display()))
        .map_err(Failure::Run)?;
    println!(
        "installed {} {} (plugin-api {}) as {}",
        d.name,
        d.version,
        plugin.abi_version,
        target.display()
    );
    if let Some(first) = winner(&search, &d.name).filter(|w| w.path != target) {
        println!(
            "note: `--plugin {}` still loads {} ({} comes first on the search path)",
            d.name,
            first.path.display(),
            first.origin.label()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn remove(name: &str) -> Result<ExitCode, Failure> {
    check_name(name).map_err(|e| usage(anyhow!(e)))?;
    let search = PluginSearch::from_env();
    let dir = user_dir(&search)?;
    let target = dir.join(library_file_name(name));
    if !target.is_file() {
        return Err(usage(match winner(&search, name) {
            Some(found) => anyhow!(
                "plugin '{name}' is not in your plugin directory {}: it is {} ({}), which `plugins remove` does not touch",
                dir.display(),
                found.path.display(),
                found.origin.label()
            ),
            None => anyhow!(
                "plugin '{name}' is not installed (nothing named {} in {})",
                library_file_name(name),
                dir.display()
            ),
        }));
    }
    std::fs::remove_file(&target)
        .with_context(|| format!("removing {}", target.display()))
        .map_err(Failure::Run)?;
    println!("removed {name} ({})", target.display());
    if let Some(next) = winner(&search, name) {
        println!(
            "note: `--plugin {name}` now loads {} ({})",
            next.path.display(),
            next.origin.label()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn user_dir(search: &PluginSearch) -> Result<PathBuf, Failure> {
    search.user_dir().map(Path::to_path_buf).ok_or_else(|| {
        usage(anyhow!(
            "no user plugin directory: set HOME or XDG_DATA_HOME (an absolute path)"
        ))
    })
}

/// The library `--plugin NAME` loads now, if any.
fn winner(search: &PluginSearch, name: &str) -> Option<FoundLibrary> {
    let file = library_file_name(name);
    search
        .all_libraries()
        .into_iter()
        .find(|f| f.shadowed_by.is_none() && f.path.file_name() == Some(file.as_ref()))
}

/// A plugin name becomes a file name: letters, digits, `-` and `_` only, so it
/// can never point outside the plugin directory.
fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a plugin name (letters, digits, '-' and '_')"
        ))
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Copy to a temporary name in the directory, then rename over the target:
/// a run that has the old library mapped keeps its (unlinked) copy intact,
/// and no one ever sees a half-written file.
fn copy_into_place(from: &Path, target: &Path) -> anyhow::Result<()> {
    let dir = target.parent().context("the target has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let partial = dir.join(format!(
        ".{}.partial-{}",
        target.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let copied = std::fs::copy(from, &partial).and_then(|_| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o644))?;
        std::fs::rename(&partial, target)
    });
    if copied.is_err() {
        std::fs::remove_file(&partial).ok();
    }
    Ok(copied?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugin_name_never_leaves_the_directory() {
        for (name, ok) in [
            ("http", true),
            ("my-plugin_2", true),
            ("", false),
            ("../x", false),
            ("a/b", false),
            ("a.b", false),
        ] {
            assert_eq!(check_name(name).is_ok(), ok, "{name:?}");
        }
    }

    #[test]
    fn copying_into_place_replaces_the_target_whole() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("new.so");
        std::fs::write(&from, "new").unwrap();
        let target = dir.path().join("plugins/libloadgen_plugin_x.so");
        copy_into_place(&from, &target).unwrap();
        std::fs::write(dir.path().join("other.so"), "newer").unwrap();
        copy_into_place(&dir.path().join("other.so"), &target).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "newer");
        let left: Vec<_> = std::fs::read_dir(dir.path().join("plugins"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("libloadgen_plugin_x.so")]);
    }
}
