//! `--config run.toml` and `--print-config`: the same names as the flags,
//! flags override the file, the printed config reads back as itself.

mod common;

use std::time::Duration;

use common::{loadgen, run_bounded, text};

#[test]
fn print_config_shows_the_resolved_run_and_reads_back_as_itself() {
    let out = run_bounded(
        loadgen(&[
            "max-rps",
            "--plugin",
            "synthetic",
            "-o",
            "capacity=3000",
            "--hold",
            "3s",
            "--print-config",
        ]),
        Duration::from_secs(30),
    );
    let printed = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for line in [
        "plugin = \"synthetic\"",
        "steps = \"1000,2000,5000,10000,20000\"",
        "hold = \"3s\"",
        "slo-p95 = \"100ms\"",
        "[options]\ncapacity = \"3000\"",
    ] {
        assert!(printed.contains(line), "{line:?} in\n{printed}");
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.toml");
    std::fs::write(&file, &printed).unwrap();
    let again = run_bounded(
        loadgen(&[
            "max-rps",
            "--config",
            file.to_str().unwrap(),
            "--print-config",
        ]),
        Duration::from_secs(30),
    );
    assert_eq!(text(&again.stdout), printed);
}

#[test]
fn a_run_from_a_config_file_with_a_flag_overriding_it() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let file = dir.path().join("run.toml");
    std::fs::write(
        &file,
        format!(
            r#"
plugin = "synthetic"
steps = "200,400"
warmup = "300ms"
hold = "5s"
drain = "300ms"
cooldown = "0s"
json = "{}"
quiet = true

[options]
capacity = 3000
"#,
            json.display()
        ),
    )
    .unwrap();
    let out = run_bounded(
        loadgen(&[
            "max-rps",
            "--config",
            file.to_str().unwrap(),
            "--hold",
            "1s",
        ]),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("ANSWER: max RPS = "),
        "{}",
        text(&out.stdout)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let settings = &report["settings"];
    assert_eq!(settings["hold"], "1s", "the flag wins over the file");
    assert_eq!(settings["warmup"], "300ms", "the file's value");
    assert_eq!(settings["options"]["capacity"], "3000");
    assert_eq!(report["steps"][0]["target_rps"], 200);
}

#[test]
fn the_readme_run_toml_is_a_valid_config() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme
        .find("```toml\n# run.toml\n")
        .expect("README has a run.toml")
        + 8;
    let end = start + readme[start..].find("```").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.toml");
    std::fs::write(&file, &readme[start..end]).unwrap();
    let out = run_bounded(
        loadgen(&[
            "max-rps",
            "--config",
            file.to_str().unwrap(),
            "--print-config",
        ]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("[options]\ninject = \"canonical\""));
}
