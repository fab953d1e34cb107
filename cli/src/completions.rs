//! `loadgen completions SHELL` and the hidden `loadgen man DIR`: generated
//! from the same clap definitions that parse the command line, so they never
//! drift from it. `scripts/dist` ships both.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Context as _};
use clap_complete::Shell;

use crate::failure::{usage, Failure};

pub fn completions(shell: Shell) -> Result<ExitCode, Failure> {
    let mut command = crate::args::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "loadgen", &mut script);
    match std::io::stdout().write_all(&script) {
        // The reader is gone (`| head`): what it did not read was not wanted.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::Run(anyhow!("cannot print the completions: {e}")))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// `loadgen.1`, then `loadgen-max-rps.1`, `loadgen-plugins-list.1`… (every
/// subcommand that is not hidden).
pub fn man(dir: &Path) -> Result<ExitCode, Failure> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating {}", dir.display()))
        .map_err(usage)?;
    clap_mangen::generate_to(crate::args::command(), dir)
        .map_err(|e| Failure::Run(anyhow!("writing man pages into {}: {e}", dir.display())))?;
    Ok(ExitCode::SUCCESS)
}
