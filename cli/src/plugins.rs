//! `loadgen plugins list [--paths]` and `loadgen plugins info NAME`.

use std::path::PathBuf;
use std::process::ExitCode;

use loadgen_plugin_host::loader::FoundLibrary;
use loadgen_plugin_host::{loader, PluginSearch};

use crate::failure::{usage, Failure};

pub fn list(plugin_path: &[PathBuf], paths: bool) -> Result<ExitCode, Failure> {
    let search = PluginSearch::with_plugin_path(plugin_path);
    if paths {
        print_search_path(&search);
        return Ok(ExitCode::SUCCESS);
    }
    let libraries = search.all_libraries();
    if libraries.is_empty() {
        let dirs: Vec<String> = search
            .dirs
            .iter()
            .map(|d| d.path.display().to_string())
            .collect();
        println!("no plugins found in {}", dirs.join(", "));
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<[String; 4]> = libraries
        .iter()
        .filter_map(|found| match loader::load(&found.path) {
            Ok(p) => Some(row(found, &p)),
            // A stray or broken library never stops the listing.
            Err(e) => {
                eprintln!("warning: skipped {e}");
                None
            }
        })
        .collect();
    print_table(&["NAME", "VERSION", "ABI", "LIBRARY"], &rows);
    Ok(ExitCode::SUCCESS)
}

/// NAME, VERSION, ABI, then the library with where it comes from (and what
/// shadows it: `--plugin NAME` loads the first one of a name only).
fn row(found: &FoundLibrary, plugin: &loader::LoadedPlugin) -> [String; 4] {
    let d = &plugin.description;
    let whence = match &found.shadowed_by {
        None => format!("({})", found.origin.label()),
        Some(by) => format!("({}; shadowed by {})", found.origin.label(), by.display()),
    };
    [
        d.name.clone(),
        d.version.clone(),
        plugin.abi_version.clone(),
        format!("{} {whence}", found.path.display()),
    ]
}

fn print_table(header: &[&str; 4], rows: &[[String; 4]]) {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].len()])
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    println!(
        "{:<w0$}  {:<w1$}  {:<w2$}  {}",
        header[0], header[1], header[2], header[3]
    );
    for r in rows {
        println!("{:<w0$}  {:<w1$}  {:<w2$}  {}", r[0], r[1], r[2], r[3]);
    }
}

/// One line per directory, in search order.
fn print_search_path(search: &PluginSearch) {
    let width = search
        .dirs
        .iter()
        .map(|d| d.origin.label().len())
        .max()
        .unwrap_or(0);
    for dir in &search.dirs {
        let missing = if dir.path.is_dir() { "" } else { "  (missing)" };
        println!(
            "{:<width$}  {}{missing}",
            dir.origin.label(),
            dir.path.display()
        );
    }
}

pub fn info(name: &str, plugin_path: &[PathBuf]) -> Result<ExitCode, Failure> {
    let path = PluginSearch::with_plugin_path(plugin_path)
        .find(name)
        .map_err(usage)?;
    let p = loader::load(&path).map_err(usage)?;
    let d = &p.description;
    println!("{} {} — {}", d.name, d.version, d.description);
    println!("library:       {}", path.display());
    println!("plugin ABI:    loadgen-plugin-api {}", p.abi_version);
    println!("series:        {}", d.series.join(", "));
    println!("default steps: {}", d.default_steps);
    if !d.durables.is_empty() {
        println!("durables:      {}", d.durables.join(", "));
    }
    if !d.error_reasons.is_empty() {
        println!("error reasons: {}", d.error_reasons.join(", "));
    }
    if !d.counters.is_empty() {
        println!("counters (informational: shown per step, never in the verdict):");
        let width = d.counters.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &d.counters {
            println!("  {:<width$}  {}", c.name, c.help);
        }
    }
    if d.options.is_empty() {
        println!("options:       none");
    } else {
        println!("options (-o KEY=VALUE):");
        let width = d.options.iter().map(|o| o.name.len()).max().unwrap_or(0);
        for o in &d.options {
            println!(
                "  {:<width$}  {:<10} {}",
                o.name,
                format!("[{}]", shown_default(o)),
                o.help
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An option's default as `plugins info` shows it: a secret's as `***`.
fn shown_default(o: &loadgen_core::plugin::OptionDescription) -> String {
    loadgen_core::redact::redact_option(&o.name, &o.default, o.secret)
}
