//! A third party's plugin: `examples/plugin-template` is built out of tree
//! (its own manifest and target dir, as an author outside this repository
//! would), then loaded by path into the already-built `loadgen` — no rebuild
//! of loadgen — and a 2-step ramp finds its answer.
//!
//! The build is a debug one so the test stays bounded on a busy machine
//! (`LOADGEN_TEMPLATE_RELEASE=1` builds `--release`, as an author ships it);
//! the target dir lives under the workspace's target and is reused across runs.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use loadgen_e2e::loadgen::{bin_dir, Loadgen};
use loadgen_e2e::{bounded, NatsServer};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `cargo build --manifest-path examples/plugin-template/Cargo.toml
/// --target-dir <target>/out-of-tree/plugin-template`; the library it made.
fn build_template_out_of_tree() -> anyhow::Result<PathBuf> {
    let manifest = workspace().join("examples/plugin-template/Cargo.toml");
    let target_dir = bin_dir()?.join("../out-of-tree/plugin-template");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let release = std::env::var_os("LOADGEN_TEMPLATE_RELEASE").is_some();
    let started = Instant::now();
    let status = Command::new(cargo)
        .arg("build")
        .args(release.then_some("--release"))
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        // Not this workspace's settings: the template builds on its own.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .status()?;
    anyhow::ensure!(status.success(), "building the template failed: {status}");
    eprintln!("template built out of tree in {:?}", started.elapsed());
    let profile = if release { "release" } else { "debug" };
    let lib = target_dir
        .join(profile)
        .join("libloadgen_plugin_template.so");
    anyhow::ensure!(lib.is_file(), "{} was not built", lib.display());
    Ok(lib)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_builds_out_of_tree_and_loads_into_the_prebuilt_loadgen() -> anyhow::Result<()>
{
    let lib = tokio::task::spawn_blocking(build_template_out_of_tree).await??;
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
            answer.starts_with("ANSWER: max RPS = 200 (plugin=template"),
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
/// plugin directory, where `--plugin template` finds it by name; `plugins
/// remove` takes it away again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_installs_runs_by_name_and_is_removed() -> anyhow::Result<()> {
    let lib = tokio::task::spawn_blocking(build_template_out_of_tree).await??;
    let home = tempfile::tempdir()?;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let installed = home
        .path()
        .join(".local/share/loadgen/plugins/libloadgen_plugin_template.so");

    let out = bare_loadgen(home.path(), &["plugins", "install", lib.to_str().unwrap()])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(installed.is_file(), "{}", text(&out.stdout));
    let list = text(&bare_loadgen(home.path(), &["plugins", "list"])?.stdout);
    let row = list
        .lines()
        .find(|l| l.starts_with("template "))
        .unwrap_or_else(|| panic!("template listed: {list}"));
    assert!(
        row.ends_with(&format!("{} (user)", installed.display())),
        "{row}"
    );

    bounded(Duration::from_secs(120), async {
        let out = Loadgen::standalone()
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .args(["max-rps", "--plugin", "template", "--steps", "100,200"])
            .args(["--warmup", "1s", "--hold", "2s", "--drain", "1s"])
            .args(["--cooldown", "0s", "--quiet"])
            .timeout(Duration::from_secs(90))
            .run()
            .await?;
        out.assert_no_panic();
        assert_eq!(out.code(), Some(0), "{out:?}");
        let answer = out.answer_line().unwrap_or_default();
        assert!(
            answer.starts_with("ANSWER: max RPS = 200 (plugin=template"),
            "{answer}\n{}",
            out.stdout
        );
        Ok(())
    })
    .await?;

    let out = bare_loadgen(home.path(), &["plugins", "remove", "template"])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!installed.exists());
    let list = text(&bare_loadgen(home.path(), &["plugins", "list"])?.stdout);
    assert!(!list.contains("template"), "{list}");
    let gone = bare_loadgen(home.path(), &["plugins", "info", "template"])?;
    assert_eq!(gone.status.code(), Some(2));
    assert!(
        text(&gone.stderr).starts_with("error: unknown plugin 'template'"),
        "{}",
        text(&gone.stderr)
    );
    Ok(())
}
