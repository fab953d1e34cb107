//! Joining a distributed run: the coordinator waits (bounded) for its agents,
//! refuses an incompatible one, measures each agent's clock offset and
//! starts its workload. Everything here happens before any load.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;

use super::control::{ask, Member};
use super::protocol::{self, Announce, Subjects};
use super::signing::ControlKey;
use crate::plugin::PluginDescription;
use crate::report::AgentReport;

/// Round trips per agent for its clock offset (the one with the least RTT wins).
const TIME_SAMPLES: usize = 8;
/// How often the coordinator repeats its call for announcements while waiting.
const DISCOVER_EVERY: Duration = Duration::from_secs(1);

/// `max-rps --agents N` and its companions.
#[derive(Clone, Debug)]
pub struct FleetOptions {
    pub control_url: String,
    pub prefix: String,
    pub agents: usize,
    pub min_agents: usize,
    pub timeout: Duration,
    /// `--control-key control.key`: sign requests, verify agents' answers.
    pub key: Option<Arc<ControlKey>>,
}

/// Agents that joined, their clock offsets measured.
pub struct Joined {
    pub client: async_nats::Client,
    pub subjects: Subjects,
    pub key: Option<Arc<ControlKey>>,
    pub members: Vec<Member>,
    /// Each member's host and clock as measured at join (for the report).
    pub agents: Vec<AgentReport>,
}

/// Refuse an agent that would not run the same workload as this coordinator.
pub fn check_agent(a: &Announce, plugin: &PluginDescription) -> Result<(), String> {
    let ours = loadgen_plugin_api::abi::INTERFACE_VERSION;
    if a.plugin_api_version != ours {
        return Err(format!(
            "agent {} refused: it uses plugin-api {}, this coordinator plugin-api {ours}",
            a.name, a.plugin_api_version
        ));
    }
    match a.plugins.iter().find(|p| p.name == plugin.name) {
        None => Err(format!(
            "agent {} refused: it cannot load plugin {} (it has: {})",
            a.name,
            plugin.name,
            a.plugins
                .iter()
                .map(|p| format!("{} {}", p.name, p.version))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Some(p) if p.version != plugin.version => Err(format!(
            "agent {} refused: it has plugin {} {}, this coordinator {} {}",
            a.name, p.name, p.version, plugin.name, plugin.version
        )),
        Some(_) => Ok(()),
    }
}

/// Connect, wait for `options.agents` compatible agents, measure their clocks.
pub async fn join(options: &FleetOptions, plugin: &PluginDescription) -> Result<Joined, String> {
    let client = loadgen_plugin_api::sdk::nats::connect_to(
        &options.control_url,
        "loadgen-coordinator",
        |o| o,
    )
    .await
    .map_err(|e| format!("--control-url: {e}"))?;
    let subjects = Subjects::new(&options.prefix);
    let mut announces = client
        .subscribe(subjects.announce())
        .await
        .map_err(|e| format!("--control-url: cannot subscribe: {e}"))?;
    let deadline = Instant::now() + options.timeout;
    let mut joined: Vec<Announce> = Vec::new();
    let mut next_discover = Instant::now();
    while joined.len() < options.agents {
        if Instant::now() >= next_discover {
            let _ = client.publish(subjects.discover(), "".into()).await;
            next_discover = Instant::now() + DISCOVER_EVERY;
        }
        let until = deadline.min(next_discover);
        let msg = match tokio::time::timeout_at(until, announces.next()).await {
            Ok(Some(msg)) => msg,
            Ok(None) => return Err("--control-url: the connection closed".into()),
            Err(_) if Instant::now() >= deadline => {
                let names: Vec<&str> = joined.iter().map(|a| a.name.as_str()).collect();
                return Err(format!(
                    "{} of {} agents joined within {} (--agents-timeout){}",
                    joined.len(),
                    options.agents,
                    humantime::format_duration(options.timeout),
                    if names.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", names.join(", "))
                    }
                ));
            }
            Err(_) => continue,
        };
        let Ok(announce) = serde_json::from_slice::<Announce>(&msg.payload) else {
            continue;
        };

        if joined.iter().any(|a| a.name == announce.name) {
            continue;
        }
        check_agent(&announce, plugin)?;
        joined.push(announce);
    }
    // Every agent's clock at once: join time stays one agent's, not N.
    let key = options.key.as_deref();
    let offsets = futures::future::join_all(
        joined
            .iter()
            .map(|a| clock_offset(&client, &subjects, key, &a.name)),
    )
    .await;
    let mut members = Vec::new();
    let mut agents = Vec::new();
    for (a, offset) in joined.iter().zip(offsets) {
        let (offset_ns, rtt) = offset?;
        eprintln!(
            "agent {} joined ({}, {} cores{}): clock offset {:+}µs, rtt {}µs",
            a.name,
            a.host,
            a.cores,
            if a.busy {
                "; its previous run's workload is replaced"
            } else {
                ""
            },
            offset_ns / 1_000,
            rtt / 1_000
        );
        members.push(Member {
            name: a.name.clone(),
            offset_ns,
        });
        agents.push(AgentReport {
            name: a.name.clone(),
            host: a.host.clone(),
            clock_offset_us: offset_ns / 1_000,
            rtt_us: rtt / 1_000,
            late_seconds: 0,
        });
    }
    Ok(Joined {
        client,
        subjects,
        key: options.key.clone(),
        members,
        agents,
    })
}

/// The agent's clock minus ours, from the round trip with the least RTT
/// (NTP-style: the agent read its clock halfway through), and that RTT.
async fn clock_offset(
    client: &async_nats::Client,
    subjects: &Subjects,
    key: Option<&ControlKey>,
    agent: &str,
) -> Result<(i64, u64), String> {
    let mut samples = Vec::new();
    for _ in 0..TIME_SAMPLES {
        let sent = loadgen_plugin_api::clock::now().0;
        let theirs = ask(
            client,
            subjects,
            key,
            agent,
            &protocol::Time,
            Duration::from_secs(2),
        )
        .await
        .map_err(|e| format!("agent {agent}: {e}"))?;
        let back = loadgen_plugin_api::clock::now().0;
        samples.push((sent, theirs, back));
    }
    Ok(best_offset(&samples))
}

/// `(sent, agent's time, received)` round trips → (offset, rtt) of the
/// quickest one.
pub fn best_offset(samples: &[(u64, u64, u64)]) -> (i64, u64) {
    samples
        .iter()
        .map(|&(sent, theirs, back)| {
            let rtt = back.saturating_sub(sent);
            let midpoint = sent + rtt / 2;
            (theirs as i64 - midpoint as i64, rtt)
        })
        .min_by_key(|&(_, rtt)| rtt)
        .unwrap_or((0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::PluginVersion;

    #[test]
    fn the_quickest_round_trip_sets_the_offset() {
        // Agent clock 1000 ahead; the slow trip's asymmetry would mislead.
        let samples = [
            (0, 1_900, 2_000),
            (5_000, 6_050, 5_100),
            (9_000, 12_000, 9_300),
        ];
        assert_eq!(best_offset(&samples), (1_000, 100));
    }

    #[test]
    fn an_agent_with_another_plugin_or_api_version_is_refused_naming_both() {
        let plugin = PluginDescription {
            name: "http".into(),
            version: "0.2.0".into(),
            description: String::new(),
            series: vec![],
            error_reasons: vec![],
            options: vec![],
            default_steps: String::new(),
            durables: vec![],
            counters: vec![],
        };
        let agent = |api: &str, version: &str| Announce {
            name: "a1".into(),
            host: "h".into(),
            loadgen_version: "0.1.0".into(),
            plugin_api_version: api.into(),
            plugins: vec![PluginVersion {
                name: "http".into(),
                version: version.into(),
            }],
            cores: 2,
            busy: false,
        };
        let api = loadgen_plugin_api::abi::INTERFACE_VERSION;
        assert_eq!(check_agent(&agent(api, "0.2.0"), &plugin), Ok(()));
        assert_eq!(
            check_agent(&agent(api, "0.1.9"), &plugin).unwrap_err(),
            "agent a1 refused: it has plugin http 0.1.9, this coordinator http 0.2.0"
        );
        assert_eq!(
            check_agent(&agent("9.9.9", "0.2.0"), &plugin).unwrap_err(),
            format!(
                "agent a1 refused: it uses plugin-api 9.9.9, this coordinator plugin-api {api}"
            )
        );
    }
}
