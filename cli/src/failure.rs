//! The one place errors become exit codes.

use std::fmt;
use std::process::ExitCode;

/// Why the command failed, shaped by what the exit code must say.
#[derive(Debug)]
pub enum Failure {
    /// Bad flag, unknown plugin, ABI mismatch, bad option, unreachable service: exit 2.
    Usage(anyhow::Error),
    /// The run itself failed: exit 1.
    Run(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Usage(_) => ExitCode::from(2),
            Failure::Run(_) => ExitCode::from(1),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{:#}` keeps anyhow's context chain on one line.
        match self {
            Failure::Usage(e) | Failure::Run(e) => write!(f, "{e:#}"),
        }
    }
}

pub fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure::Usage(e.into())
}

/// A clap usage error as one line: its first paragraph (the error itself,
/// without the usage and help hints), `error: ` included.
pub fn clap_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let paragraph: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    paragraph.join(" ")
}
