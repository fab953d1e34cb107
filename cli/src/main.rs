//! `loadgen`: parse, run, map the outcome to an exit code (0 a step passed,
//! 1 none passed or the run failed, 2 usage or configuration error, 3 a
//! `--fail-on` criterion of a comparison broke).

mod agent;
mod args;
mod baseline;
mod compare_cmd;
mod completions;
mod failure;
mod install;
mod layers;
mod max_rps;
mod plugins;
mod redacting;
mod report_cmd;
mod tui;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{ArgMatches, FromArgMatches};

use args::{Cli, Command, PluginsCommand};
use failure::Failure;

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let argv: Vec<OsString> = std::env::args_os().collect();
    let parsed = args::command()
        .try_get_matches_from(&argv)
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        // --help and --version (exit 0), or the help when no command is given.
        Err(e)
            if !e.use_stderr()
                || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            e.exit()
        }
        Err(e) => {
            eprintln!("{}", failure::clap_line(&e));
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(redacting::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    match run(cli, &argv, &matches) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {}", redacting::scrub(&failure.to_string()));
            failure.exit_code()
        }
    }
}

/// Output into a pipe whose reader is gone (`loadgen plugins list | head -1`)
/// was not wanted: end quietly with 0, as Unix tools do. Rust ignores
/// SIGPIPE, so such a write fails with EPIPE and `println!` panics on it;
/// this turns that panic (from any command, any thread) into the exit.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if is_closed_pipe(message) {
            std::process::exit(0);
        }
        default(info)
    }));
}

/// A panic message about a write into a closed pipe (`failed printing to
/// stdout: Broken pipe (os error 32)`).
fn is_closed_pipe(message: &str) -> bool {
    message.contains(&std::io::Error::from_raw_os_error(libc::EPIPE).to_string())
}

fn run(cli: Cli, argv: &[OsString], matches: &ArgMatches) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::MaxRps(args) => {
            let sub = matches
                .subcommand_matches("max-rps")
                .expect("max-rps was parsed");
            // The arguments after `max-rps` (loadgen has no global flags).
            max_rps::run(*args, argv.get(2..).unwrap_or_default(), sub)
        }
        Command::Agent(args) => agent::run(args),
        Command::Keygen { dir } => agent::keygen(&dir),
        Command::Report(args) => report_cmd::run(args),
        Command::Compare(args) => compare_cmd::run(args),
        Command::Plugins { command } => match command {
            PluginsCommand::List { paths, search } => plugins::list(&search.plugin_path, paths),
            PluginsCommand::Info { name, search } => plugins::info(&name, &search.plugin_path),
            PluginsCommand::Install { file, force } => install::install(&file, force),
            PluginsCommand::Remove { name } => install::remove(&name),
        },
        Command::Completions { shell } => completions::completions(shell),
        Command::Man { dir } => completions::man(&dir),
    }
}
