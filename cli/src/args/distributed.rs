//! Flags of distributed generation: `loadgen agent` and `max-rps --agents`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{parse_positive, parse_positive_duration};

#[derive(Debug, Args)]
#[command(next_help_heading = "Distributed generation (see docs/distributed.md)")]
pub struct DistributedArgs {
    /// Drive N `loadgen agent` processes over NATS instead of generating the
    /// load in this process; each sends an interleaved 1/N of every step.
    #[arg(long, value_name = "N", value_parser = parse_positive::<usize>)]
    pub agents: Option<usize>,

    /// The NATS server the agents listen on [default: $NATS_URL, else nats://127.0.0.1:4222].
    #[arg(long, value_name = "URL", requires = "agents")]
    pub control_url: Option<String>,

    /// Subject prefix of this run's control messages (runs on one NATS never mix).
    #[arg(long, value_name = "PREFIX", default_value = "loadgen", value_parser = parse_prefix)]
    pub control_prefix: String,

    /// Stop (and report what was measured) when fewer agents than this remain.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_positive::<usize>)]
    pub min_agents: usize,

    /// How long to wait for --agents agents to join before giving up.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_positive_duration)]
    pub agents_timeout: Duration,

    /// Sign every control message with this key (control.key of `loadgen keygen`)
    /// and accept only answers signed by the agents' key.
    #[arg(long, value_name = "FILE", env = "LOADGEN_CONTROL_KEY_FILE")]
    pub control_key: Option<PathBuf>,
}

/// `loadgen agent`: run load for a coordinator (`max-rps --agents N`).
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The control NATS server [default: $NATS_URL, else nats://127.0.0.1:4222].
    #[arg(long, value_name = "URL")]
    pub nats: Option<String>,

    /// This agent's name, unique among a run's agents [default: HOST-PID].
    #[arg(long, value_parser = parse_token)]
    pub name: Option<String>,

    #[command(flatten)]
    pub search: super::PluginPathArgs,

    /// Subject prefix of the control messages (the coordinator's --control-prefix).
    #[arg(long, value_name = "PREFIX", default_value = "loadgen", value_parser = parse_prefix)]
    pub control_prefix: String,

    /// Obey only orders signed by the coordinator's key (control.pub of
    /// `loadgen keygen`) and sign every answer. Without it the agent obeys anyone.
    #[arg(long, value_name = "FILE", env = "LOADGEN_CONTROL_KEY_FILE")]
    pub control_key: Option<PathBuf>,

    /// Send load only to this HOST, HOST:PORT or CIDR network (repeatable):
    /// a coordinator's start aimed anywhere else is refused before any load.
    #[arg(long, value_name = "HOST[:PORT]|CIDR")]
    pub allow_target: Vec<loadgen_distributed::allow::AllowTarget>,

    /// Test hook: write each step's histograms to DIR.
    #[arg(long, value_name = "DIR", hide = true)]
    pub dump_windows: Option<PathBuf>,
}

/// One NATS subject token: letters, digits, `-` and `_`.
fn parse_token(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' must be letters, digits, '-' or '_' (it is a NATS subject token)"
        ))
    }
}

/// Subject tokens joined by dots (`loadgen`, `team.run7`).
fn parse_prefix(s: &str) -> Result<String, String> {
    s.split('.').try_for_each(|t| parse_token(t).map(drop))?;
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_names_are_subject_tokens() {
        assert!(parse_prefix("loadgen").is_ok());
        assert!(parse_prefix("team.run-7").is_ok());
        assert!(parse_prefix("a..b").is_err());
        assert!(parse_prefix("runs.*").is_err());
        assert!(parse_token("agent 1").is_err());
    }
}
