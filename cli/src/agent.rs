//! `loadgen agent`: load the plugins, join the control plane, run the steps
//! a coordinator gives, until SIGINT/SIGTERM.

use std::process::ExitCode;

use anyhow::anyhow;
use loadgen_distributed::agent::{serve, AgentOptions};
use loadgen_plugin_host::{loader, PluginSearch};

use crate::args::distributed::AgentArgs;
use crate::failure::{usage, Failure};

pub fn run(args: AgentArgs) -> Result<ExitCode, Failure> {
    let mut search = PluginSearch::from_env();
    search.dirs.splice(0..0, args.plugin_path.iter().cloned());
    let mut plugins = Vec::new();
    for path in search.all_libraries() {
        match loader::load(&path) {
            Ok(p)
                if !plugins
                    .iter()
                    .any(|q: &loader::LoadedPlugin| q.description.name == p.description.name) =>
            {
                plugins.push(p)
            }
            Ok(_) => {}
            Err(e) => eprintln!("warning: skipped {e}"),
        }
    }
    if plugins.is_empty() {
        let dirs: Vec<String> = search
            .dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        return Err(usage(anyhow!("no plugins found in {}", dirs.join(", "))));
    }
    let name = args
        .name
        .unwrap_or_else(|| format!("{}-{}", host_token(), std::process::id()));
    let options = AgentOptions {
        nats_url: args.nats.unwrap_or_else(crate::max_rps::default_nats_url),
        name,
        prefix: args.control_prefix,
        plugins,
        dump_dir: args.dump_windows,
    };
    crate::max_rps::runtime()?
        .block_on(serve(options, crate::max_rps::signal_received()))
        .map_err(|e| usage(anyhow!(e)))?;
    Ok(ExitCode::SUCCESS)
}

/// The host name as a subject token.
fn host_token() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let token: String = host
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if token.is_empty() {
        "agent".into()
    } else {
        token
    }
}
