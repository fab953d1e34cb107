//! Where `--plugin NAME` is looked for, in order (SPEC §2):
//! `--plugin-path` and `$LOADGEN_PLUGIN_PATH`, the user's plugin directory
//! (`$XDG_DATA_HOME/loadgen/plugins`, where `loadgen plugins install` puts a
//! library), the executable's directory (a build tree), then
//! `<executable>/../lib/loadgen/plugins` (an installed prefix). Nothing is
//! relative to the working directory: a `target/` under wherever the user
//! stands is never searched, so a stray library there is never loaded.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{library_file_name, LoadError};

/// Why a directory is on the search path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirOrigin {
    /// `--plugin-path DIR`.
    PluginPathFlag,
    /// An entry of `$LOADGEN_PLUGIN_PATH`.
    PluginPathEnv,
    /// The user's plugin directory (`loadgen plugins install`).
    User,
    /// The directory holding the `loadgen` executable (a build tree).
    ExeDir,
    /// `<executable>/../lib/loadgen/plugins`: the plugins an install bundles.
    Bundled,
}

impl DirOrigin {
    pub fn label(self) -> &'static str {
        match self {
            DirOrigin::PluginPathFlag => "--plugin-path",
            DirOrigin::PluginPathEnv => "$LOADGEN_PLUGIN_PATH",
            DirOrigin::User => "user",
            DirOrigin::ExeDir => "next to loadgen",
            DirOrigin::Bundled => "bundled",
        }
    }
}

/// One directory of the search path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchDir {
    pub path: PathBuf,
    pub origin: DirOrigin,
}

/// What the standard search path is made of, as plain values (the process
/// environment in [`PluginSearch::from_env`], literals in tests).
#[derive(Clone, Debug, Default)]
pub struct SearchInputs {
    pub plugin_path_flags: Vec<PathBuf>,
    pub plugin_path_env: Option<OsString>,
    pub xdg_data_home: Option<OsString>,
    pub home: Option<OsString>,
    pub exe: Option<PathBuf>,
}

/// Where `--plugin NAME` is looked for, in order.
#[derive(Clone, Debug, Default)]
pub struct PluginSearch {
    pub dirs: Vec<SearchDir>,
}

/// A plugin library found on the search path. A later library with the same
/// file name as an earlier one is shadowed: `--plugin NAME` never loads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundLibrary {
    pub path: PathBuf,
    pub origin: DirOrigin,
    pub shadowed_by: Option<PathBuf>,
}

/// `$XDG_DATA_HOME/loadgen/plugins`, else `$HOME/.local/share/loadgen/plugins`.
/// A relative `XDG_DATA_HOME` is ignored, as the XDG base directory spec says.
pub fn user_plugin_dir(
    xdg_data_home: Option<&OsString>,
    home: Option<&OsString>,
) -> Option<PathBuf> {
    let data_home = xdg_data_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.map(PathBuf::from)
                .filter(|h| h.is_absolute())
                .map(|h| h.join(".local/share"))
        })?;
    Some(data_home.join("loadgen/plugins"))
}

impl PluginSearch {
    /// The search path for this process, with `plugin_path_flags` (`--plugin-path`) first.
    pub fn with_plugin_path(plugin_path_flags: &[PathBuf]) -> PluginSearch {
        PluginSearch::standard(SearchInputs {
            plugin_path_flags: plugin_path_flags.to_vec(),
            plugin_path_env: std::env::var_os("LOADGEN_PLUGIN_PATH"),
            xdg_data_home: std::env::var_os("XDG_DATA_HOME"),
            home: std::env::var_os("HOME"),
            exe: std::env::current_exe().ok(),
        })
    }

    /// The search path for this process, without `--plugin-path`.
    pub fn from_env() -> PluginSearch {
        PluginSearch::with_plugin_path(&[])
    }

    /// The search path `inputs` make, each directory once (its first place).
    pub fn standard(inputs: SearchInputs) -> PluginSearch {
        let mut dirs: Vec<SearchDir> = Vec::new();
        let mut push = |path: PathBuf, origin| {
            if !path.as_os_str().is_empty() && !dirs.iter().any(|d| d.path == path) {
                dirs.push(SearchDir { path, origin });
            }
        };
        for path in inputs.plugin_path_flags {
            push(path, DirOrigin::PluginPathFlag);
        }
        if let Some(env) = &inputs.plugin_path_env {
            for path in std::env::split_paths(env) {
                push(path, DirOrigin::PluginPathEnv);
            }
        }
        if let Some(user) = user_plugin_dir(inputs.xdg_data_home.as_ref(), inputs.home.as_ref()) {
            push(user, DirOrigin::User);
        }
        if let Some(exe_dir) = inputs.exe.as_deref().and_then(Path::parent) {
            push(exe_dir.to_path_buf(), DirOrigin::ExeDir);
            if let Some(prefix) = exe_dir.parent() {
                push(prefix.join("lib/loadgen/plugins"), DirOrigin::Bundled);
            }
        }
        PluginSearch { dirs }
    }

    /// The user's plugin directory, where `loadgen plugins install` copies to.
    pub fn user_dir(&self) -> Option<&Path> {
        self.dirs
            .iter()
            .find(|d| d.origin == DirOrigin::User)
            .map(|d| d.path.as_path())
    }

    /// The file `--plugin` names: a path as given (it contains `/` or ends in
    /// `.so`), else `libloadgen_plugin_NAME.so` in the first directory that has it.
    pub fn find(&self, name_or_path: &str) -> Result<PathBuf, LoadError> {
        if name_or_path.contains('/') || name_or_path.ends_with(".so") {
            let path = PathBuf::from(name_or_path);
            return if path.is_file() {
                Ok(path)
            } else {
                Err(LoadError::NoSuchFile { path })
            };
        }
        let file = library_file_name(name_or_path);
        let searched: Vec<PathBuf> = self.dirs.iter().map(|d| d.path.join(&file)).collect();
        searched
            .iter()
            .find(|p| p.is_file())
            .cloned()
            .ok_or_else(|| LoadError::NotFound {
                name: name_or_path.to_string(),
                searched,
            })
    }

    /// Every plugin library in the search directories, in search order, each
    /// file name's first occurrence winning and the later ones marked shadowed.
    /// A directory reached twice (a symlink, `LOADGEN_PLUGIN_PATH` naming the
    /// executable's directory) is read once.
    pub fn all_libraries(&self) -> Vec<FoundLibrary> {
        let mut read = Vec::new();
        let mut found: Vec<FoundLibrary> = Vec::new();
        for dir in &self.dirs {
            let Ok(entries) = std::fs::read_dir(&dir.path) else {
                continue;
            };
            let canonical = dir.path.canonicalize().unwrap_or_else(|_| dir.path.clone());
            if read.contains(&canonical) {
                continue;
            }
            read.push(canonical);
            let mut names: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(is_plugin_file_name)
                })
                .collect();
            names.sort();
            for path in names {
                let shadowed_by = found
                    .iter()
                    .find(|f| f.shadowed_by.is_none() && f.path.file_name() == path.file_name())
                    .map(|f| f.path.clone());
                found.push(FoundLibrary {
                    path,
                    origin: dir.origin,
                    shadowed_by,
                });
            }
        }
        found
    }

    /// The libraries `--plugin NAME` can load: [`Self::all_libraries`] minus the shadowed.
    pub fn loadable_libraries(&self) -> Vec<PathBuf> {
        self.all_libraries()
            .into_iter()
            .filter(|f| f.shadowed_by.is_none())
            .map(|f| f.path)
            .collect()
    }
}

/// `libloadgen_plugin_NAME.so`, the only files the search path considers.
pub fn is_plugin_file_name(file_name: &str) -> bool {
    file_name
        .strip_prefix("libloadgen_plugin_")
        .and_then(|rest| rest.strip_suffix(".so"))
        .is_some_and(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> SearchInputs {
        SearchInputs {
            plugin_path_flags: vec![PathBuf::from("/flag")],
            plugin_path_env: Some("/env/a::/env/b".into()),
            xdg_data_home: None,
            home: Some("/home/u".into()),
            exe: Some(PathBuf::from("/usr/bin/loadgen")),
        }
    }

    fn dirs(search: &PluginSearch) -> Vec<(String, DirOrigin)> {
        search
            .dirs
            .iter()
            .map(|d| (d.path.display().to_string(), d.origin))
            .collect()
    }

    #[test]
    fn the_search_order_is_flags_env_user_exe_dir_then_the_prefix() {
        use DirOrigin::*;
        assert_eq!(
            dirs(&PluginSearch::standard(inputs())),
            [
                ("/flag".into(), PluginPathFlag),
                ("/env/a".into(), PluginPathEnv),
                ("/env/b".into(), PluginPathEnv),
                ("/home/u/.local/share/loadgen/plugins".into(), User),
                ("/usr/bin".into(), ExeDir),
                ("/usr/lib/loadgen/plugins".into(), Bundled),
            ]
        );
    }

    #[test]
    fn nothing_is_relative_to_the_working_directory() {
        let search = PluginSearch::standard(SearchInputs {
            exe: Some(PathBuf::from("/opt/x/bin/loadgen")),
            ..SearchInputs::default()
        });
        assert!(
            search.dirs.iter().all(|d| d.path.is_absolute()),
            "{search:?}"
        );
    }

    #[test]
    fn the_user_directory_follows_xdg() {
        let cases: [(Option<&str>, Option<&str>, Option<&str>); 5] = [
            (
                Some("/data"),
                Some("/home/u"),
                Some("/data/loadgen/plugins"),
            ),
            (
                None,
                Some("/home/u"),
                Some("/home/u/.local/share/loadgen/plugins"),
            ),
            // Relative XDG_DATA_HOME is invalid: the default applies.
            (
                Some("rel"),
                Some("/home/u"),
                Some("/home/u/.local/share/loadgen/plugins"),
            ),
            (None, None, None),
            (None, Some("relative-home"), None),
        ];
        for (xdg, home, want) in cases {
            let got = user_plugin_dir(
                xdg.map(OsString::from).as_ref(),
                home.map(OsString::from).as_ref(),
            );
            assert_eq!(
                got,
                want.map(PathBuf::from),
                "XDG_DATA_HOME={xdg:?} HOME={home:?}"
            );
        }
    }

    #[test]
    fn a_directory_named_twice_is_kept_at_its_first_place() {
        let search = PluginSearch::standard(SearchInputs {
            plugin_path_env: Some("/usr/bin".into()),
            exe: Some(PathBuf::from("/usr/bin/loadgen")),
            ..SearchInputs::default()
        });
        assert_eq!(
            dirs(&search),
            [
                ("/usr/bin".into(), DirOrigin::PluginPathEnv),
                ("/usr/lib/loadgen/plugins".into(), DirOrigin::Bundled),
            ]
        );
    }

    #[test]
    fn only_plugin_library_names_are_considered() {
        for (name, want) in [
            ("libloadgen_plugin_http.so", true),
            ("libloadgen_plugin_.so", false),
            ("libloadgen_fixture_incompatible.so", false),
            ("libloadgen_plugin_http.so.bak", false),
            ("libloadgen_plugin_http.d", false),
        ] {
            assert_eq!(is_plugin_file_name(name), want, "{name}");
        }
    }

    #[test]
    fn the_same_name_later_on_the_path_is_shadowed() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        for dir in [&first, &second] {
            std::fs::write(dir.path().join("libloadgen_plugin_a.so"), "").unwrap();
        }
        std::fs::write(second.path().join("libloadgen_plugin_b.so"), "").unwrap();
        std::fs::write(second.path().join("notes.txt"), "").unwrap();
        let search = PluginSearch {
            dirs: vec![
                SearchDir {
                    path: first.path().to_path_buf(),
                    origin: DirOrigin::User,
                },
                SearchDir {
                    path: second.path().to_path_buf(),
                    origin: DirOrigin::Bundled,
                },
                // The same directory again: read once.
                SearchDir {
                    path: second.path().join("."),
                    origin: DirOrigin::ExeDir,
                },
            ],
        };
        let a_user = first.path().join("libloadgen_plugin_a.so");
        assert_eq!(
            search.all_libraries(),
            [
                FoundLibrary {
                    path: a_user.clone(),
                    origin: DirOrigin::User,
                    shadowed_by: None,
                },
                FoundLibrary {
                    path: second.path().join("libloadgen_plugin_a.so"),
                    origin: DirOrigin::Bundled,
                    shadowed_by: Some(a_user.clone()),
                },
                FoundLibrary {
                    path: second.path().join("libloadgen_plugin_b.so"),
                    origin: DirOrigin::Bundled,
                    shadowed_by: None,
                },
            ]
        );
        assert_eq!(search.find("a").unwrap(), a_user);
        assert_eq!(search.loadable_libraries().len(), 2);
    }
}
