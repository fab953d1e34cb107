//! Installing like any tool: the search path (`plugins list --paths`, never
//! the working directory), `plugins install` / `remove` with the user's plugin
//! directory, shadowing, refusals that copy nothing, completions, `--version`.
//!
//! Each test runs `loadgen` with an empty environment but `PATH` and a
//! temporary `HOME`, as a user on a fresh box would; the bundled plugins come
//! from the executable's directory (target/debug, a build tree).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{plugin_dir, run_bounded, text};

/// `loadgen ARGS` with only `PATH` and `HOME=home` set, working in `cwd`.
fn bare_loadgen(home: &Path, cwd: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loadgen"));
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    run_bounded(cmd, Duration::from_secs(60))
}

fn user_plugins(home: &Path) -> PathBuf {
    home.join(".local/share/loadgen/plugins")
}

/// The files in the user's plugin directory (none if it does not exist).
fn installed(home: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(user_plugins(home))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Exit 2 and exactly one line on stderr containing each of `wants`.
fn assert_refused(out: &Output, wants: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}{}", text(&out.stdout));
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    for want in wants {
        assert!(stderr.contains(want), "{want:?} in {stderr}");
    }
}

/// A copy of the built `echo` plugin under a name that says nothing about
/// it: `plugins install` takes the name from the library, not the file.
fn echo_copy(dir: &Path) -> PathBuf {
    let copy = dir.join("downloaded-plugin.so");
    std::fs::copy(plugin_dir().join("libloadgen_plugin_echo.so"), &copy).unwrap();
    copy
}

/// The `plugins list` row of the library at `path`.
fn list_row<'a>(stdout: &'a str, path: &Path) -> &'a str {
    let path = path.display().to_string();
    stdout
        .lines()
        .find(|l| l.contains(&format!(" {path} ")))
        .unwrap_or_else(|| panic!("{path} listed: {stdout}"))
}

#[test]
fn the_search_path_is_printed_in_order_and_never_names_the_working_directory() {
    let home = tempfile::tempdir().unwrap();
    let out = bare_loadgen(home.path(), Path::new("/"), &["plugins", "list", "--paths"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let bin = plugin_dir().canonicalize().unwrap();
    let want = [
        format!("user {}", user_plugins(home.path()).display()),
        format!("next to loadgen {}", bin.display()),
        format!(
            "bundled {}",
            bin.parent().unwrap().join("lib/loadgen/plugins").display()
        ),
    ];
    let got: Vec<String> = stdout
        .lines()
        .map(|l| {
            l.trim_end_matches("(missing)")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(got, want, "{stdout}");

    let flagged = bare_loadgen(
        home.path(),
        Path::new("/"),
        &["plugins", "list", "--paths", "--plugin-path", "/opt/p"],
    );
    let first = text(&flagged.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    assert!(
        first.starts_with("--plugin-path") && first.contains("/opt/p"),
        "{first}"
    );
}

#[test]
fn a_library_under_the_working_directorys_target_is_never_loaded() {
    let home = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    for profile in ["release", "debug"] {
        let dir = cwd.path().join("target").join(profile);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            plugin_dir().join("libloadgen_plugin_echo.so"),
            dir.join("libloadgen_plugin_stray.so"),
        )
        .unwrap();
    }
    let info = bare_loadgen(home.path(), cwd.path(), &["plugins", "info", "stray"]);
    assert_refused(&info, &["unknown plugin 'stray'"]);
    let run = bare_loadgen(
        home.path(),
        cwd.path(),
        &["max-rps", "--plugin", "stray", "--steps", "100"],
    );
    assert_refused(&run, &["unknown plugin 'stray'"]);
    let list = bare_loadgen(home.path(), cwd.path(), &["plugins", "list"]);
    let stdout = text(&list.stdout);
    assert!(stdout.contains("synthetic"), "{stdout}");
    assert!(
        !stdout.contains(&cwd.path().display().to_string()),
        "{stdout}"
    );
}

#[test]
fn an_installed_plugin_is_listed_shadows_the_later_one_runs_and_is_removed() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let lib = echo_copy(work.path());
    let target = user_plugins(home.path()).join("libloadgen_plugin_echo.so");

    let out = bare_loadgen(
        home.path(),
        Path::new("/"),
        &["plugins", "install", lib.to_str().unwrap()],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.starts_with("installed echo 0.1.0 (plugin-api "),
        "{stdout}"
    );
    assert!(stdout.contains(&target.display().to_string()), "{stdout}");
    assert_eq!(installed(home.path()), ["libloadgen_plugin_echo.so"]);

    // Listed from the user's directory; the build tree's echo is shadowed by it.
    let list = bare_loadgen(home.path(), Path::new("/"), &["plugins", "list"]);
    let stdout = text(&list.stdout);
    let row = list_row(&stdout, &target);
    assert!(row.starts_with("echo "), "{row}");
    assert!(row.ends_with("(user)"), "{row}");
    let bin = plugin_dir().canonicalize().unwrap();
    let shadowed = list_row(&stdout, &bin.join("libloadgen_plugin_echo.so"));
    assert!(
        shadowed.contains(&format!("shadowed by {}", target.display())),
        "{shadowed}"
    );

    // `--plugin echo` loads the installed copy.
    let info = bare_loadgen(home.path(), Path::new("/"), &["plugins", "info", "echo"]);
    assert!(
        text(&info.stdout).contains(&format!("library:       {}", target.display())),
        "{}",
        text(&info.stdout)
    );
    let run = bare_loadgen(
        home.path(),
        Path::new("/"),
        &[
            "max-rps",
            "--plugin",
            "echo",
            "--steps",
            "100",
            "--warmup",
            "0s",
            "--hold",
            "1s",
            "--drain",
            "1s",
            "--cooldown",
            "0s",
            "--quiet",
        ],
    );
    let stdout = text(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}{}", text(&run.stderr));
    assert!(stdout.contains("ANSWER: max RPS = 100"), "{stdout}");

    // Installing the same name again needs --force.
    let again = bare_loadgen(
        home.path(),
        Path::new("/"),
        &["plugins", "install", lib.to_str().unwrap()],
    );
    assert_refused(&again, &["already installed", "--force"]);
    let forced = bare_loadgen(
        home.path(),
        Path::new("/"),
        &["plugins", "install", "--force", lib.to_str().unwrap()],
    );
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));

    let removed = bare_loadgen(home.path(), Path::new("/"), &["plugins", "remove", "echo"]);
    let stdout = text(&removed.stdout);
    assert_eq!(
        removed.status.code(),
        Some(0),
        "{stdout}{}",
        text(&removed.stderr)
    );
    assert!(stdout.starts_with("removed echo"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "now loads {}",
            bin.join("libloadgen_plugin_echo.so").display()
        )),
        "{stdout}"
    );
    assert!(installed(home.path()).is_empty());
    let gone = bare_loadgen(home.path(), Path::new("/"), &["plugins", "remove", "echo"]);
    assert_refused(
        &gone,
        &[
            "plugin 'echo' is not in your plugin directory",
            "next to loadgen",
        ],
    );
}

#[test]
fn a_plugin_outside_the_user_directory_is_not_removed() {
    let home = tempfile::tempdir().unwrap();
    let out = bare_loadgen(
        home.path(),
        Path::new("/"),
        &["plugins", "remove", "synthetic"],
    );
    let bin = plugin_dir().canonicalize().unwrap();
    assert_refused(
        &out,
        &[
            "plugin 'synthetic' is not in your plugin directory",
            &bin.join("libloadgen_plugin_synthetic.so")
                .display()
                .to_string(),
        ],
    );
    assert!(bin.join("libloadgen_plugin_synthetic.so").is_file());
    let unknown = bare_loadgen(home.path(), Path::new("/"), &["plugins", "remove", "nope"]);
    assert_refused(&unknown, &["plugin 'nope' is not installed"]);
    let bad = bare_loadgen(
        home.path(),
        Path::new("/"),
        &["plugins", "remove", "../synthetic"],
    );
    assert_refused(&bad, &["is not a plugin name"]);
}

#[test]
fn a_bad_library_is_refused_in_one_line_and_nothing_is_copied() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let real = std::fs::read(plugin_dir().join("libloadgen_plugin_echo.so")).unwrap();
    let truncated = work.path().join("libloadgen_plugin_cut.so");
    std::fs::write(&truncated, &real[..real.len() / 3]).unwrap();
    let not_elf = work.path().join("libloadgen_plugin_text.so");
    std::fs::write(&not_elf, "#!/bin/sh\necho not a library\n").unwrap();
    let older_abi = plugin_dir().join("libloadgen_fixture_incompatible.so");
    let missing = work.path().join("missing.so");
    let cases: [(&Path, &str); 4] = [
        (&truncated, "cannot be loaded"),
        (&not_elf, "is not a loadgen plugin"),
        (
            &older_abi,
            "was built against an incompatible plugin interface",
        ),
        (&missing, "no such plugin file"),
    ];
    for (file, want) in cases {
        let out = bare_loadgen(
            home.path(),
            Path::new("/"),
            &["plugins", "install", file.to_str().unwrap()],
        );
        assert_refused(&out, &[want, &file.display().to_string()]);
        assert!(installed(home.path()).is_empty(), "{}", file.display());
    }
}

#[test]
fn the_version_names_the_plugin_abi() {
    let home = tempfile::tempdir().unwrap();
    let out = bare_loadgen(home.path(), Path::new("/"), &["--version"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    let abi = loadgen_plugin_api::abi::INTERFACE_VERSION;
    let minor: Vec<&str> = abi.split('.').take(2).collect();
    assert_eq!(
        stdout.trim(),
        format!(
            "loadgen {} (plugin ABI: loadgen-plugin-api {}.x)",
            env!("CARGO_PKG_VERSION"),
            minor.join(".")
        )
    );
}

/// What bash's completion offers for `words`, the cursor on the last one.
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    let cword = words.len() - 1;
    let program = format!(
        "source {}; COMP_WORDS=({}); COMP_CWORD={cword}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
         _loadgen loadgen \"${{COMP_WORDS[{cword}]}}\" \"${{COMP_WORDS[{}]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words.join(" "),
        cword.saturating_sub(1)
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn bash_completes_subcommands_and_flags() {
    let home = tempfile::tempdir().unwrap();
    let out = bare_loadgen(home.path(), Path::new("/"), &["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let script = home.path().join("loadgen.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(syntax.status.success(), "bash -n: {}", text(&syntax.stderr));

    let flags = bash_complete(&script, &["loadgen", "max-rps", "--pl"]);
    assert!(flags.contains(&"--plugin".to_string()), "{flags:?}");
    assert!(flags.iter().all(|f| f.starts_with("--pl")), "{flags:?}");
    let plugins = bash_complete(&script, &["loadgen", "plugins", "in"]);
    assert_eq!(plugins, ["info", "install"], "{plugins:?}");
    let shells = bash_complete(&script, &["loadgen", "completions", "f"]);
    assert_eq!(shells, ["fish"], "{shells:?}");

    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = bare_loadgen(home.path(), Path::new("/"), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(text(&out.stdout).contains("max-rps"), "{shell}");
    }
    let bad = bare_loadgen(home.path(), Path::new("/"), &["completions", "tcsh"]);
    assert_refused(&bad, &["tcsh"]);
}

#[test]
fn a_man_page_is_written_for_loadgen_and_each_subcommand() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("man1");
    let out = bare_loadgen(home.path(), Path::new("/"), &["man", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        [
            "loadgen-agent.1",
            "loadgen-compare.1",
            "loadgen-completions.1",
            "loadgen-keygen.1",
            "loadgen-max-rps.1",
            "loadgen-plugins-info.1",
            "loadgen-plugins-install.1",
            "loadgen-plugins-list.1",
            "loadgen-plugins-remove.1",
            "loadgen-plugins.1",
            "loadgen-report.1",
            "loadgen.1",
        ]
    );
    let max_rps = std::fs::read_to_string(dir.join("loadgen-max-rps.1")).unwrap();
    assert!(
        max_rps.starts_with(".ie \\n(.g .ds Aq") || max_rps.contains(".TH"),
        "roff"
    );
    assert!(max_rps.contains("plugin"), "documents --plugin");
}
