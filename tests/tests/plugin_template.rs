//! A third party's plugin: `examples/plugin-template` is built out of tree
//! (its own manifest and target dir, as an author outside this repository
//! would), then loaded by path into the already-built `loadgen` — no rebuild
//! of loadgen — and a 2-step ramp finds its answer.
//!
//! The build is a debug one so the test stays bounded on a busy machine; the
//! target dir lives under the workspace's target and is reused across runs.

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
    let started = Instant::now();
    let status = Command::new(cargo)
        .arg("build")
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
    let lib = target_dir.join("debug/libloadgen_plugin_template.so");
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
