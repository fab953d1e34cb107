//! `loadgen`: parse, run, map the outcome to an exit code (0 a step passed,
//! 1 none passed or the run failed, 2 usage or configuration error).

mod args;
mod failure;
mod max_rps;
mod plugins;
mod report_cmd;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command, PluginsCommand};
use failure::Failure;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // clap prints usage errors (exit 2) and --help/--version (exit 0) itself.
        Err(e) => e.exit(),
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::MaxRps(args) => max_rps::run(*args),
        Command::Report(args) => report_cmd::run(args),
        Command::Plugins {
            command: PluginsCommand::List,
        } => plugins::list(),
        Command::Plugins {
            command: PluginsCommand::Info { name },
        } => plugins::info(&name),
    }
}
