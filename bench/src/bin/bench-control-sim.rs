//! The control plane at 1,000 agents, simulated in one process
//! (`loadgen_distributed::sim`): N agents publish their per-second summaries
//! of one step over the NATS at `--url`; the coordinator's feed merges them.
//! Prints each round (due time to every summary merged), the late
//! agent-seconds, whether the merged tallies are exact, and this process's
//! CPU. Exits 1 when a round took over `--round-limit` or the merge is not
//! exact. Used by `bench/control-plane.sh`.

use std::time::Duration;

use clap::Parser;
use loadgen_distributed::sim::{self, SimOptions};

#[derive(Parser, Debug)]
#[command(about = "Simulate N agents' per-second summaries against the coordinator's merge")]
struct Args {
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    url: String,
    #[arg(long, default_value_t = 1000)]
    agents: usize,
    /// The fleet's rate, ops/s.
    #[arg(long, default_value_t = 20_000)]
    rps: u64,
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    hold: Duration,
    #[arg(long, default_value = "200ms", value_parser = humantime::parse_duration)]
    round_limit: Duration,
}

fn cpu_ms() -> f64 {
    // utime + stime of this process, in clock ticks (100 Hz).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) * 10.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let coordinator = async_nats::connect(&args.url).await?;
    let agents = async_nats::connect(&args.url).await?;
    let options = SimOptions {
        agents: args.agents,
        rps: args.rps,
        hold: args.hold,
        prefix: format!("sim{}", std::process::id()),
    };
    let before = cpu_ms();
    let result = sim::run(&coordinator, &agents, &options)
        .await
        .map_err(anyhow::Error::msg)?;
    let cpu = cpu_ms() - before;
    let rounds: Vec<String> = result
        .rounds
        .iter()
        .map(|r| format!("{:.1}", r.as_secs_f64() * 1e3))
        .collect();
    println!(
        "agents={} rounds_ms=[{}] slowest_ms={:.1} late={} summaries={} exact={} \
         sent={} refused={} skipped={} samples={} cpu_ms={:.0}",
        args.agents,
        rounds.join(" "),
        result.slowest().as_secs_f64() * 1e3,
        result.late,
        result.summaries,
        result.exact(),
        result.merged.accepted,
        result.merged.saturated,
        result.merged.emit_underrun,
        result.samples,
        cpu,
    );
    if !result.exact() || result.slowest() > args.round_limit || result.late > 0 {
        std::process::exit(1);
    }
    Ok(())
}
