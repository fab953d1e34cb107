//! The workspace's layering, checked: no import cycle between the top-level
//! modules of any crate, and the core and report crates free of the runtime's
//! dependencies.
//!
//! An edge `y -> x` is a `crate::x…` path written anywhere in top-level module
//! `y` (its file or folder; test modules aside). Every crate's graph must be
//! acyclic, so a newcomer can read the modules bottom-up.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Cycles not cut yet, each as its sorted modules (`crate: a, b, c`). The
/// test fails on any other cycle, and on a listed one that is gone (so the
/// list shrinks with the code).
const NOT_CUT_YET: &[&str] = &[];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every workspace crate's `src` folder, by crate folder.
fn crate_sources() -> Vec<(String, PathBuf)> {
    let root = workspace();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let members: toml_members::Members = toml_members::parse(&manifest);
    members
        .into_iter()
        .map(|m| (m.clone(), root.join(&m).join("src")))
        .filter(|(_, src)| src.is_dir())
        .collect()
}

/// `members = [ "a", "b/c", … ]` of the workspace manifest.
mod toml_members {
    pub type Members = Vec<String>;

    pub fn parse(manifest: &str) -> Members {
        let start = manifest.find("members").expect("workspace members");
        let list = &manifest[start..];
        let list = &list[list.find('[').unwrap() + 1..list.find(']').unwrap()];
        list.lines()
            .map(|l| l.split('#').next().unwrap())
            .flat_map(|l| l.split(','))
            .map(|s| s.trim().trim_matches('"').to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `src` belongs to (`None`: the crate root).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// Is this file a test module (`tests.rs`, or under a `tests/` folder)?
fn is_test_file(src: &Path, file: &Path) -> bool {
    let relative = file.strip_prefix(src).unwrap();
    relative
        .components()
        .skip(1)
        .any(|c| c.as_os_str() == "tests" || c.as_os_str() == "tests.rs")
}

/// The code of a file without its comments and its inline test module
/// (written last in a file, after `#[cfg(test)]`).
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment of every `crate::…` path in `code`, grouped imports
/// (`crate::{a, b::c}`) included.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '$')) {
            continue; // `$crate::`, `foo_crate::` or `x::crate::` are not ours
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            found.extend(group.split(',').map(|g| ident(g.trim())));
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|s| !s.is_empty());
    found
}

type Graph = BTreeMap<String, BTreeSet<String>>;

fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| top_module(src, f)).collect();
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for file in &files {
        let (Some(from), false) = (top_module(src, file), is_test_file(src, file)) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for to in crate_paths(&code(&text)) {
            if to != from && modules.contains(&to) {
                graph.get_mut(&from).unwrap().insert(to);
            }
        }
    }
    graph
}

/// The graph's strongly connected components of more than one module.
fn knots(graph: &Graph) -> Vec<BTreeSet<String>> {
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(m) = todo.pop() {
            for next in &graph[&m] {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|m| (m, reach(m))).collect();
    let mut knots: Vec<BTreeSet<String>> = Vec::new();
    for m in graph.keys() {
        if !reaches[m].contains(m) || knots.iter().any(|k| k.contains(m)) {
            continue;
        }
        let knot = graph
            .keys()
            .filter(|o| *o == m || (reaches[m].contains(*o) && reaches[*o].contains(m)))
            .cloned()
            .collect();
        knots.push(knot);
    }
    knots
}

/// One cycle through `knot`, as `a -> b -> … -> a`, to name in a failure.
fn a_cycle(graph: &Graph, knot: &BTreeSet<String>) -> String {
    let start = knot.iter().next().unwrap();
    let mut path = vec![start.clone()];
    let mut seen = BTreeSet::from([start.clone()]);
    loop {
        let last = path.last().unwrap();
        if path.len() > 1 && graph[last].contains(start) {
            path.push(start.clone());
            return path.join(" -> ");
        }
        let next = graph[last]
            .iter()
            .find(|n| knot.contains(*n) && !seen.contains(*n))
            .or_else(|| graph[last].iter().find(|n| knot.contains(*n)))
            .unwrap()
            .clone();
        if !seen.insert(next.clone()) {
            path.push(next);
            return path.join(" -> ");
        }
        path.push(next);
    }
}

#[test]
fn the_checker_finds_a_cycle_and_its_grouped_imports() {
    assert_eq!(
        crate_paths("use crate::{a::X, b};\nlet y = crate::c::f(); $crate::d"),
        BTreeSet::from(["a".into(), "b".into(), "c".into()])
    );
    let graph: Graph = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(m, to)| (m.into(), to.into_iter().map(String::from).collect()))
    .collect();
    let found = knots(&graph);
    assert_eq!(
        found,
        vec![BTreeSet::from(["a".into(), "b".into(), "c".into()])]
    );
    assert_eq!(a_cycle(&graph, &found[0]), "a -> b -> c -> a");
}

#[test]
fn no_crate_has_an_import_cycle_between_its_top_level_modules() {
    let mut found = Vec::new();
    let mut named = Vec::new();
    for (krate, src) in crate_sources() {
        let graph = module_graph(&src);
        for knot in knots(&graph) {
            let key = format!(
                "{krate}: {}",
                knot.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            named.push(format!("{key}  (e.g. {})", a_cycle(&graph, &knot)));
            found.push(key);
        }
    }
    let new: Vec<&String> = named
        .iter()
        .zip(&found)
        .filter(|(_, key)| !NOT_CUT_YET.contains(&key.as_str()))
        .map(|(n, _)| n)
        .collect();
    assert!(
        new.is_empty(),
        "import cycles between top-level modules:\n{new:#?}"
    );
    let gone: Vec<&&str> = NOT_CUT_YET
        .iter()
        .filter(|k| !found.iter().any(|f| f == *k))
        .collect();
    assert!(gone.is_empty(), "cut: drop from NOT_CUT_YET: {gone:?}");
}

/// The crates `cargo tree -p krate -e normal` lists, by name.
fn normal_dependencies(krate: &str) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            krate,
        ])
        .current_dir(workspace())
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree -p {krate}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

#[test]
fn the_core_links_no_runtime_and_the_renderers_no_actors() {
    let core = normal_dependencies("loadgen-core");
    let forbidden = [
        "tokio",
        "ractor",
        "hyper",
        "plotters",
        "prometheus-client",
        "async-nats",
        "loadgen-plugin-api",
    ];
    let linked: Vec<_> = forbidden.iter().filter(|c| core.contains(**c)).collect();
    assert!(linked.is_empty(), "loadgen-core depends on {linked:?}");
    assert!(
        core.contains("serde"),
        "cargo tree listed the core's dependencies"
    );

    let report = normal_dependencies("loadgen-report");
    let linked: Vec<_> = ["tokio", "ractor"]
        .iter()
        .filter(|c| report.contains(**c))
        .collect();
    assert!(linked.is_empty(), "loadgen-report depends on {linked:?}");
    assert!(report.contains("loadgen-core"));
}

/// `loadgen report` and `loadgen compare` read files and render them: their
/// commands use core and the renderers only, never the actor runtime or the
/// distributed layer (the binary links them for `max-rps`, these paths don't).
#[test]
fn report_and_compare_commands_need_no_actor_runtime() {
    let root = workspace();
    let mut files = vec![
        root.join("cli/src/report_cmd.rs"),
        root.join("cli/src/compare_cmd.rs"),
    ];
    rust_files(&root.join("compare/src"), &mut files);
    for file in files {
        let text = code(&std::fs::read_to_string(&file).unwrap());
        for forbidden in ["loadgen_runtime", "loadgen_distributed", "ractor", "tokio"] {
            assert!(
                !text.contains(forbidden),
                "{} uses {forbidden}",
                file.display()
            );
        }
    }
}
