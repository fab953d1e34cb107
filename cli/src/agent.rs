//! `loadgen agent`: load the plugins, join the control plane, run the steps
//! a coordinator gives, until SIGINT/SIGTERM.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::anyhow;
use loadgen_distributed::agent::{serve, AgentOptions};
use loadgen_distributed::signing::{self, ControlKey, Side};
use loadgen_plugin_host::{loader, PluginSearch};

use crate::args::distributed::AgentArgs;
use crate::failure::{usage, Failure};

pub fn run(args: AgentArgs) -> Result<ExitCode, Failure> {
    let search = PluginSearch::with_plugin_path(&args.search.plugin_path);
    let mut plugins = Vec::new();
    for path in search.loadable_libraries() {
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
            .map(|d| d.path.display().to_string())
            .collect();
        return Err(usage(anyhow!("no plugins found in {}", dirs.join(", "))));
    }
    let key = match &args.control_key {
        Some(path) => Some(Arc::new(
            ControlKey::load(path, Side::Agent).map_err(|e| usage(anyhow!(e)))?,
        )),
        None => None,
    };
    let name = args
        .name
        .unwrap_or_else(|| format!("{}-{}", host_token(), std::process::id()));
    let options = AgentOptions {
        nats_url: args.nats.unwrap_or_else(crate::max_rps::default_nats_url),
        name,
        prefix: args.control_prefix,
        plugins,
        dump_dir: args.dump_windows,
        key,
        allow: args.allow_target,
    };
    crate::max_rps::runtime()?
        .block_on(serve(options, crate::max_rps::signal_received()))
        .map_err(|e| usage(anyhow!(e)))?;
    Ok(ExitCode::SUCCESS)
}

/// `loadgen keygen DIR`.
pub fn keygen(dir: &Path) -> Result<ExitCode, Failure> {
    let (key, public) = signing::keygen(dir).map_err(|e| usage(anyhow!(e)))?;
    println!(
        "wrote {} (coordinator: max-rps --agents … --control-key, keep it secret)",
        key.display()
    );
    println!(
        "wrote {} (every agent: loadgen agent --control-key)",
        public.display()
    );
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
