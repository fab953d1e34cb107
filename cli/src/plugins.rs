//! `loadgen plugins list` and `loadgen plugins info NAME`.

use std::process::ExitCode;

use loadgen_plugin_host::{loader, PluginSearch};

use crate::failure::{usage, Failure};

pub fn list() -> Result<ExitCode, Failure> {
    let search = PluginSearch::from_env();
    let libraries = search.all_libraries();
    if libraries.is_empty() {
        let dirs: Vec<String> = search
            .dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        println!("no plugins found in {}", dirs.join(", "));
        return Ok(ExitCode::SUCCESS);
    }
    for path in libraries {
        match loader::load(&path) {
            Ok(p) => println!(
                "{:<12} {:<8} {}\n{:<12} {:<8} {}",
                p.description.name,
                p.description.version,
                p.description.description,
                "",
                "",
                path.display()
            ),
            // A stray or broken library never stops the listing.
            Err(e) => eprintln!("warning: skipped {e}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn info(name: &str) -> Result<ExitCode, Failure> {
    let path = PluginSearch::from_env().find(name).map_err(usage)?;
    let p = loader::load(&path).map_err(usage)?;
    let d = &p.description;
    println!("{} {} — {}", d.name, d.version, d.description);
    println!("library:       {}", path.display());
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
                format!("[{}]", o.default),
                o.help
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
