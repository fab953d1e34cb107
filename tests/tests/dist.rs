//! What `bash scripts/dist` ships works where a user puts it: the tarball
//! extracted into a temporary prefix and the .deb extracted with `dpkg -x`
//! each list every bundled plugin and answer a short `--plugin synthetic`
//! ladder, run with an empty environment (`PATH` and a temporary `HOME` only)
//! from `/`; a library under the working directory's `target/release` is not
//! loaded; the .deb's file list has the man pages and completions and neither
//! artifact holds chat-testbed or a test fixture.
//!
//! Opt-in: it needs a release build (minutes). `LOADGEN_DIST_TEST=1` runs it;
//! it uses `dist/` as `scripts/dist` left it, running the script first if an
//! artifact is missing. CI (scripts/test) runs `scripts/dist` once, then sets it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn enabled() -> bool {
    let on = std::env::var_os("LOADGEN_DIST_TEST").is_some_and(|v| v == "1");
    if !on {
        eprintln!("skipped: set LOADGEN_DIST_TEST=1 to test what `bash scripts/dist` builds");
    }
    on
}

/// Every crate under `plugins/`: the plugins both artifacts bundle.
fn bundled_plugins() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(workspace().join("plugins"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `dist/<prefix>…<suffix>` of this version, after running `scripts/dist` if it is missing.
fn artifact(prefix: &str, suffix: &str) -> PathBuf {
    let dist = workspace().join("dist");
    let find = || {
        std::fs::read_dir(&dist).ok().and_then(|entries| {
            entries.map(|e| e.unwrap().path()).find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name.starts_with(prefix) && name.ends_with(suffix)
            })
        })
    };
    if let Some(found) = find() {
        return found;
    }
    let status = Command::new("bash")
        .arg(workspace().join("scripts/dist"))
        .status()
        .expect("bash runs");
    assert!(status.success(), "scripts/dist failed: {status}");
    find().unwrap_or_else(|| panic!("scripts/dist made no {prefix}…{suffix}"))
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `env -i PATH=/usr/bin:/bin HOME=home loadgen ARGS` in `cwd`.
fn bare(loadgen: &Path, home: &Path, cwd: &Path, args: &[&str]) -> Output {
    Command::new(loadgen)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .current_dir(cwd)
        .output()
        .expect("loadgen starts")
}

/// The installed `loadgen` under `prefix` lists every bundled plugin from
/// `prefix/lib/loadgen/plugins`, runs a synthetic ladder to its answer, and
/// ignores a `target/release` library under its working directory.
fn assert_installed_works(prefix: &Path) {
    let loadgen = prefix.join("bin/loadgen");
    let plugins = prefix.join("lib/loadgen/plugins");
    let home = tempfile::tempdir().unwrap();

    let mut shipped: Vec<String> = std::fs::read_dir(&plugins)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    shipped.sort();
    let want: Vec<String> = bundled_plugins()
        .iter()
        .map(|p| format!("libloadgen_plugin_{p}.so"))
        .collect();
    assert_eq!(shipped, want, "exactly the bundled plugins");

    let list = bare(&loadgen, home.path(), Path::new("/"), &["plugins", "list"]);
    let stdout = text(&list.stdout);
    assert_eq!(
        list.status.code(),
        Some(0),
        "{stdout}{}",
        text(&list.stderr)
    );
    assert_eq!(text(&list.stderr), "", "no library skipped");
    for name in bundled_plugins() {
        let lib = plugins.join(format!("libloadgen_plugin_{name}.so"));
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} listed: {stdout}"));
        assert!(
            row.ends_with(&format!("{} (bundled)", lib.display())),
            "{row}"
        );
    }

    let ladder = bare(
        &loadgen,
        home.path(),
        Path::new("/"),
        &[
            "max-rps",
            "--plugin",
            "synthetic",
            "-o",
            "capacity=3000",
            "--steps",
            "1k,2k,4k",
            "--warmup",
            "300ms",
            "--hold",
            "1s",
            "--drain",
            "300ms",
            "--cooldown",
            "0s",
            "--quiet",
        ],
    );
    let stdout = text(&ladder.stdout);
    assert_eq!(
        ladder.status.code(),
        Some(0),
        "{stdout}{}",
        text(&ladder.stderr)
    );
    assert!(
        stdout.contains("ANSWER: max RPS = 2000 (plugin=synthetic"),
        "{stdout}"
    );

    // Another build's `http` (here: the echo library renamed) under the
    // working directory's target/release is not what `--plugin http` loads.
    let cwd = tempfile::tempdir().unwrap();
    let stray = cwd.path().join("target/release");
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::copy(
        plugins.join("libloadgen_plugin_echo.so"),
        stray.join("libloadgen_plugin_http.so"),
    )
    .unwrap();
    let info = bare(
        &loadgen,
        home.path(),
        cwd.path(),
        &["plugins", "info", "http"],
    );
    let stdout = text(&info.stdout);
    assert_eq!(
        info.status.code(),
        Some(0),
        "{stdout}{}",
        text(&info.stderr)
    );
    assert!(stdout.starts_with("http "), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "library:       {}",
            plugins.join("libloadgen_plugin_http.so").display()
        )),
        "{stdout}"
    );
    let list = bare(&loadgen, home.path(), cwd.path(), &["plugins", "list"]);
    assert!(
        !text(&list.stdout).contains(&cwd.path().display().to_string()),
        "{}",
        text(&list.stdout)
    );
}

#[test]
fn the_tarball_runs_from_any_prefix() {
    if !enabled() {
        return;
    }
    let tarball = artifact("loadgen-", ".tar.gz");
    let name = tarball.file_name().unwrap().to_string_lossy().into_owned();
    let top = name.trim_end_matches(".tar.gz");
    assert!(
        top.starts_with(&format!("loadgen-{}-", env!("CARGO_PKG_VERSION"))),
        "{top}"
    );
    let root = tempfile::tempdir().unwrap();
    run(Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(root.path()));
    let mut tops: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    tops.sort();
    assert_eq!(tops, [top], "one top folder");
    let prefix = root.path().join(top);
    for file in [
        "bin/loadgen",
        "share/man/man1/loadgen.1",
        "share/man/man1/loadgen-max-rps.1",
        "share/man/man1/loadgen-plugins-install.1",
        "share/bash-completion/completions/loadgen",
        "share/zsh/site-functions/_loadgen",
        "share/fish/vendor_completions.d/loadgen.fish",
    ] {
        assert!(prefix.join(file).is_file(), "{file} in the tarball");
    }
    let bin: Vec<_> = std::fs::read_dir(prefix.join("bin"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(bin, ["loadgen"], "no chat-testbed, no test binaries");
    assert_installed_works(&prefix);
}

#[test]
fn the_deb_installs_loadgen_plugins_man_pages_and_completions_under_usr() {
    if !enabled() {
        return;
    }
    let deb = artifact(&format!("loadgen_{}_", env!("CARGO_PKG_VERSION")), ".deb");
    let contents = text(&run(Command::new("dpkg").arg("-c").arg(&deb)).stdout);
    let files: Vec<&str> = contents
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .collect();
    for want in [
        "./usr/bin/loadgen",
        "./usr/share/man/man1/loadgen.1",
        "./usr/share/man/man1/loadgen-max-rps.1",
        "./usr/share/man/man1/loadgen-plugins-install.1",
        "./usr/share/bash-completion/completions/loadgen",
        "./usr/share/zsh/vendor-completions/_loadgen",
        "./usr/share/fish/vendor_completions.d/loadgen.fish",
    ] {
        // cargo-deb may compress man pages.
        assert!(
            files
                .iter()
                .any(|f| *f == want || *f == format!("{want}.gz")),
            "{want} in the .deb:\n{contents}"
        );
    }
    for plugin in bundled_plugins() {
        let lib = format!("./usr/lib/loadgen/plugins/libloadgen_plugin_{plugin}.so");
        assert!(files.contains(&lib.as_str()), "{lib}:\n{contents}");
    }
    for absent in ["chat-testbed", "fixture", "template", "incompatible"] {
        assert!(!contents.contains(absent), "{absent} shipped:\n{contents}");
    }
    let root = tempfile::tempdir().unwrap();
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(root.path()));
    assert_installed_works(&root.path().join("usr"));
}
