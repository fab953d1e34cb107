//! Loading never crashes the host: a library built against an incompatible
//! interface, a truncated copy of a real plugin and a junk `.so` on the search
//! path are each refused in one line (exit 2 when named with `--plugin`), and
//! `plugins list` goes on past them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::{loadgen, plugin_dir, run_bounded, text};

fn max_rps_with(plugin: &Path) -> Output {
    let plugin = plugin.to_str().unwrap();
    run_bounded(
        loadgen(&["max-rps", "--plugin", plugin, "--steps", "100"]),
        Duration::from_secs(30),
    )
}

/// Exit 2, exactly one line on stderr, containing each of `wants`.
fn assert_refused_in_one_line(out: &Output, wants: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    for want in wants {
        assert!(stderr.contains(want), "{want:?} in {stderr}");
    }
}

fn truncated_copy_of_echo(dir: &Path) -> PathBuf {
    let real = std::fs::read(plugin_dir().join("libloadgen_plugin_echo.so")).unwrap();
    let cut = dir.join("libloadgen_plugin_cut.so");
    std::fs::write(&cut, &real[..real.len() / 3]).unwrap();
    cut
}

#[test]
fn a_plugin_built_against_another_interface_is_refused_naming_the_mismatch() {
    let fixture = plugin_dir().join("libloadgen_fixture_incompatible.so");
    assert!(
        fixture.is_file(),
        "{} is missing: run `cargo build --workspace` first",
        fixture.display()
    );
    assert_refused_in_one_line(
        &max_rps_with(&fixture),
        &[
            "was built against an incompatible plugin interface",
            "plugin-api 0.6.0",
            "PluginMod",
            "host: loadgen-plugin-api, plugin: loadgen-fixture-incompatible",
        ],
    );
}

#[test]
fn a_truncated_plugin_is_refused_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let cut = truncated_copy_of_echo(dir.path());
    assert_refused_in_one_line(
        &max_rps_with(&cut),
        &["cannot be loaded: truncated or corrupt"],
    );
}

#[test]
fn plugins_list_skips_junk_with_one_warning_and_lists_the_real_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("libloadgen_plugin_junk.so"), "junk").unwrap();
    let path = std::env::join_paths([dir.path().to_path_buf(), plugin_dir()]).unwrap();
    let mut cmd = loadgen(&["plugins", "list"]);
    cmd.env("LOADGEN_PLUGIN_PATH", path);
    let out = run_bounded(cmd, Duration::from_secs(30));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    for name in ["echo", "synthetic", "messages", "history"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{name} listed: {stdout}"
        );
    }
    assert_eq!(stderr.lines().count(), 1, "one warning: {stderr}");
    assert!(
        stderr.starts_with("warning: skipped ") && stderr.contains("libloadgen_plugin_junk.so"),
        "{stderr}"
    );
}
