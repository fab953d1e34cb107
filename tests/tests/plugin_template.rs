//! A third party's plugin: `examples/plugin-template` is copied out of the
//! tree with `scripts/new-plugin` (into a temp dir, renamed `copied`, its
//! `loadgen-plugin-api = "0.6"` patched to this checkout's `plugin-api` by
//! the `.cargo/config.toml` the script writes — what the template's README
//! tells an author to do), built there with cargo as the author would, then
//! loaded by path into the already-built `loadgen` — no rebuild of loadgen —
//! and a 2-step ramp finds its answer.
//!
//! The build is a debug one so the test stays bounded on a busy machine
//! (`LOADGEN_TEMPLATE_RELEASE=1` builds `--release`, as an author ships it);
//! its target dir lives under the workspace's target and is reused across
//! runs (only the copied crate itself is rebuilt), and the tests of this file
//! share one build.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use loadgen_e2e::loadgen::{bin_dir, Loadgen};
use loadgen_e2e::{bounded, NatsServer};

/// The name the copy is given: it reports it, and `--plugin copied` finds
/// `libloadgen_plugin_copied.so` once installed.
const NAME: &str = "copied";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The copy's library, built once for all the tests of this file.
fn template_copy_built() -> anyhow::Result<PathBuf> {
    static BUILT: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(lib) = &*built {
        return Ok(lib.clone());
    }
    let lib = build_template_copy()?;
    *built = Some(lib.clone());
    Ok(lib)
}

/// `scripts/new-plugin <tmp>/loadgen-plugin-copied copied`, then
/// `cargo build` in the copy with `--target-dir <target>/out-of-tree/plugin-template`;
/// the library it made.
fn build_template_copy() -> anyhow::Result<PathBuf> {
    let tmp = tempfile::tempdir()?;
    let copy = tmp.path().join("loadgen-plugin-copied");
    let status = Command::new("bash")
        .arg(workspace().join("scripts/new-plugin"))
        .arg(&copy)
        .arg(NAME)
        .status()?;
    anyhow::ensure!(status.success(), "scripts/new-plugin failed: {status}");
    assert_is_out_of_tree(&copy)?;

    let target_dir = bin_dir()?.join("../out-of-tree/plugin-template");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let release = std::env::var_os("LOADGEN_TEMPLATE_RELEASE").is_some();
    let started = Instant::now();
    let status = Command::new(cargo)
        .arg("build")
        .args(release.then_some("--release"))
        .arg("--target-dir")
        .arg(&target_dir)
        // In the copy, as its author: its `.cargo/config.toml` applies.
        .current_dir(&copy)
        // Not this workspace's settings: the copy builds on its own.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .status()?;
    anyhow::ensure!(status.success(), "building the copy failed: {status}");
    eprintln!("template copy built out of tree in {:?}", started.elapsed());
    let profile = if release { "release" } else { "debug" };
    let lib = target_dir
        .join(profile)
        .join(format!("libloadgen_plugin_{NAME}.so"));
    anyhow::ensure!(lib.is_file(), "{} was not built", lib.display());
    Ok(lib)
}

/// The copy names the SDK by version and finds this checkout only through
/// the patch in its `.cargo/config.toml`; nothing points back into the tree.
fn assert_is_out_of_tree(copy: &Path) -> anyhow::Result<()> {
    let manifest = std::fs::read_to_string(copy.join("Cargo.toml"))?;
    // `0.MINOR` of this checkout's plugin-api: a bump must bump the template.
    let api_manifest = std::fs::read_to_string(workspace().join("plugin-api/Cargo.toml"))?;
    let version = api_manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.rsplit_once('.'))
        .map(|(major_minor, _)| major_minor.to_string())
        .expect("plugin-api's version");
    let wanted = format!("loadgen-plugin-api = \"{version}\"");
    assert!(
        manifest.contains(&wanted) && !manifest.contains("path ="),
        "the SDK by version ({wanted}), no path: {manifest}"
    );
    assert!(
        manifest.contains("name = \"loadgen_plugin_copied\""),
        "{manifest}"
    );
    let config = std::fs::read_to_string(copy.join(".cargo/config.toml"))?;
    let api = workspace().canonicalize()?.join("plugin-api");
    assert!(
        config.contains("[patch.crates-io]")
            && config.contains(&format!("path = \"{}\"", api.display())),
        "patched to {}: {config}",
        api.display()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_of_the_template_builds_out_of_tree_and_loads_into_the_prebuilt_loadgen(
) -> anyhow::Result<()> {
    let lib = tokio::task::spawn_blocking(template_copy_built).await??;
    bounded(Duration::from_secs(120), async {
        let nats = NatsServer::start().await?;
        let out = Loadgen::max_rps(&nats, lib.to_str().unwrap())
            .args(["--steps", "100,200", "--warmup", "1s", "--hold", "2s"])
            .args(["--drain", "1s", "--cooldown", "0s", "--quiet"])
            .json()
            .timeout(Duration::from_secs(90))
            .run()
            .await?;
        out.assert_no_panic();
        assert_eq!(out.code(), Some(0), "{out:?}");
        assert_eq!(
            out.final_verdicts(),
            [(100, "PASS"), (200, "PASS")],
            "{}",
            out.stdout
        );
        let answer = out.answer_line().unwrap_or_default();
        assert!(
            answer.starts_with("ANSWER: max RPS = 200 (plugin=copied"),
            "{answer}\n{}",
            out.stdout
        );
        Ok(())
    })
    .await
}

/// `loadgen ARGS` as a user on a fresh box runs it: only `PATH` and `HOME`.
fn bare_loadgen(home: &std::path::Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
    let out = Command::new(bin_dir()?.join("loadgen"))
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .current_dir("/")
        .output()?;
    Ok(out)
}

/// A third party ships the template: `plugins install` puts it in the user's
/// plugin directory, where `--plugin copied` finds it by name; `plugins
/// remove` takes it away again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_copy_installs_runs_by_name_and_is_removed() -> anyhow::Result<()> {
    let lib = tokio::task::spawn_blocking(template_copy_built).await??;
    let home = tempfile::tempdir()?;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let installed = home
        .path()
        .join(".local/share/loadgen/plugins/libloadgen_plugin_copied.so");

    let out = bare_loadgen(home.path(), &["plugins", "install", lib.to_str().unwrap()])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(installed.is_file(), "{}", text(&out.stdout));
    let list = text(&bare_loadgen(home.path(), &["plugins", "list"])?.stdout);
    let row = list
        .lines()
        .find(|l| l.starts_with("copied "))
        .unwrap_or_else(|| panic!("copied listed: {list}"));
    assert!(
        row.ends_with(&format!("{} (user)", installed.display())),
        "{row}"
    );

    bounded(Duration::from_secs(120), async {
        let out = Loadgen::standalone()
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .args(["max-rps", "--plugin", "copied", "--steps", "100,200"])
            .args(["--warmup", "1s", "--hold", "2s", "--drain", "1s"])
            .args(["--cooldown", "0s", "--quiet"])
            .timeout(Duration::from_secs(90))
            .run()
            .await?;
        out.assert_no_panic();
        assert_eq!(out.code(), Some(0), "{out:?}");
        let answer = out.answer_line().unwrap_or_default();
        assert!(
            answer.starts_with("ANSWER: max RPS = 200 (plugin=copied"),
            "{answer}\n{}",
            out.stdout
        );
        Ok(())
    })
    .await?;

    let out = bare_loadgen(home.path(), &["plugins", "remove", "copied"])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!installed.exists());
    let list = text(&bare_loadgen(home.path(), &["plugins", "list"])?.stdout);
    assert!(!list.contains("copied"), "{list}");
    let gone = bare_loadgen(home.path(), &["plugins", "info", "copied"])?;
    assert_eq!(gone.status.code(), Some(2));
    assert!(
        text(&gone.stderr).starts_with("error: unknown plugin 'copied'"),
        "{}",
        text(&gone.stderr)
    );
    Ok(())
}
