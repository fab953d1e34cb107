//! Distributed generation: `loadgen agent` processes driven by a
//! `max-rps --agents N` coordinator over a real nats-server, against a hyper
//! test server of known capacity, all on loopback.
//!
//! Rates are small (a few hundred/s, so three agents and a coordinator fit a
//! busy 2-core box) and the ladder's TRIP step is far over capacity.

use std::path::Path;
use std::time::Duration;

use hdrhistogram::Histogram;
use loadgen_core::report::{histograms, ms_value};
use loadgen_distributed::protocol::WireSeries;
use loadgen_e2e::loadgen::{Loadgen, Running};
use loadgen_e2e::{bounded, exclusive, HttpServer, HttpServerOptions, NatsServer};

/// The FIFO capacity of the test server (requests/s).
const CAPACITY: u32 = 400;
const LADDER: &str = "150,250,600";

/// `max-rps --plugin http` at `url` over the ladder, short phases.
fn ladder(url: &str) -> Loadgen {
    Loadgen::standalone()
        .args(["max-rps", "--plugin", "http", "-o"])
        .arg(format!("url={url}"))
        .short_phases("2s", "1s")
        .args(["--steps", LADDER, "--cooldown", "1s"])
}

/// The same run, coordinating `n` agents on `control`.
fn distributed(ladder: Loadgen, control: &NatsServer, n: usize) -> Loadgen {
    ladder
        .args(["--agents", &n.to_string(), "--control-url", &control.url()])
        .args(["--agents-timeout", "20s"])
}

async fn agents(control: &NatsServer, names: &[&str], dump: &Path) -> anyhow::Result<Vec<Running>> {
    let mut started = Vec::new();
    for name in names {
        let dir = dump.to_str().expect("utf-8 temp path");
        started.push(Loadgen::agent(control, name, &["--dump-windows", dir]).await?);
    }
    Ok(started)
}

/// Agent `name`'s window of its `k`-th step (1-based), series by series.
fn dumped(dir: &Path, name: &str, k: usize) -> anyhow::Result<Vec<WireSeries>> {
    let text = std::fs::read(dir.join(format!("{name}-{k}.json")))?;
    Ok(serde_json::from_slice(&text)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_agents_answer_as_one_process_and_merge_percentiles_exactly() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(240), async {
        let server = HttpServer::start(HttpServerOptions::fifo(CAPACITY)).await?;
        let local = ladder(&server.url()).run().await?;
        local.assert_no_panic();

        let control = NatsServer::start().await?;
        let dump = tempfile::tempdir()?;
        let names = ["a1", "a2", "a3"];
        let _agents = agents(&control, &names, dump.path()).await?;
        let out = distributed(ladder(&server.url()), &control, 3)
            .run()
            .await?;
        out.assert_ladder(&[(150, "PASS"), (250, "PASS"), (600, "TRIP")], 250)?;
        assert_eq!(
            out.report()?.answer.max_rps,
            local.report()?.answer.max_rps,
            "distributed {out}\nlocal {local}"
        );
        for name in names {
            assert!(
                out.stderr.contains(&format!("agent {name} joined")),
                "each agent's clock offset is reported: {out}"
            );
        }
        // …and kept in the JSON report, with how late its summaries came.
        let report = out.report()?;
        let mut reported: Vec<&str> = report.agents.iter().map(|a| a.name.as_str()).collect();
        reported.sort_unstable();
        assert_eq!(reported, names, "{:?}", report.agents);
        assert!(
            report
                .agents
                .iter()
                .all(|a| !a.host.is_empty() && a.rtt_us < 1_000_000),
            "{:?}",
            report.agents
        );

        // Each step's merged latency histogram is the sum of the agents'
        // windows, and its p99 the p99 of the union of their samples.
        for (i, step) in out.steps().iter().enumerate() {
            let mut union: Option<Histogram<u64>> = None;
            let mut counts = 0;
            for name in names {
                let series = dumped(dump.path(), name, i + 1)?;
                let latency = histograms::decode(&series[0].latency).map_err(anyhow::Error::msg)?;
                counts += latency.len();
                match union.as_mut() {
                    Some(u) => u.add(&latency)?,
                    None => union = Some(latency),
                }
            }
            let union = union.expect("three agents");
            let kept =
                histograms::decode(&step.histograms[0].latency).map_err(anyhow::Error::msg)?;
            assert_eq!(kept, union, "step {i}: the report keeps the union");
            assert_eq!(step.series[0].count, counts, "step {i}");
            let p99 = Duration::from_nanos(union.value_at_quantile(0.99));
            assert_eq!(step.series[0].p99_ms, ms_value(p99), "step {i}");
            // The slices together are the whole schedule: every hold op was
            // sent, refused (saturation) or skipped (underrun), once.
            let offered = step.attempted + step.saturation + step.emit_underrun;
            let target = step.target_rps * 2;
            assert!(
                offered.abs_diff(target) <= 3,
                "step {i}: {offered} offered of {target}: {step:?}"
            );
        }
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_killed_mid_hold_makes_that_step_inconclusive_and_the_run_goes_on(
) -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(180), async {
        let server = HttpServer::start(HttpServerOptions::fifo(2_000)).await?;
        let control = NatsServer::start().await?;
        let dump = tempfile::tempdir()?;
        let mut agents = agents(&control, &["a1", "a2", "a3"], dump.path()).await?;
        let mut run = distributed(
            Loadgen::standalone()
                .args(["max-rps", "--plugin", "http", "-o"])
                .arg(format!("url={}", server.url()))
                .short_phases("4s", "1s")
                .args(["--steps", "150,300", "--cooldown", "0s"]),
            &control,
            3,
        )
        .args(["--min-agents", "2"])
        .spawn()?;
        run.wait_for_stderr("the agents joining", Duration::from_secs(30), |l| {
            l.contains("agent a3 joined")
        })
        .await?;
        // Warmup 1 s, then 2 s into the first 4 s hold.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let victim = agents.pop().expect("three agents");
        let pid = victim.pid().expect("running") as i32;
        // SAFETY: kill(2) on the PID of a child this test started.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let out = run.finish().await?;
        out.assert_no_panic();
        let first = &out.steps()[0];
        assert_eq!(first.verdict.label(), "INCONCLUSIVE", "{out}");
        assert!(
            first.reasons()[0].contains("agent a3 lost"),
            "the reason names the agent: {:?}",
            first.reasons()
        );
        assert_eq!(
            out.final_verdicts(),
            vec![(150, "PASS"), (300, "PASS")],
            "the run finishes with 2 agents: {out}"
        );
        assert_eq!(out.code(), Some(0), "{out}");
        drop(victim);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fewer_agents_than_min_agents_stops_the_run_with_its_report() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(120), async {
        let server = HttpServer::start(HttpServerOptions::fifo(2_000)).await?;
        let control = NatsServer::start().await?;
        let dump = tempfile::tempdir()?;
        let mut agents = agents(&control, &["b1", "b2"], dump.path()).await?;
        let mut run = distributed(
            Loadgen::standalone()
                .args(["max-rps", "--plugin", "http", "-o"])
                .arg(format!("url={}", server.url()))
                .short_phases("2s", "1s")
                .args(["--steps", "100,150,200,250", "--cooldown", "0s"]),
            &control,
            2,
        )
        .args(["--min-agents", "2"])
        .spawn()?;
        // Kill b2 once the first step has finished (its line is on stderr
        // only without --quiet: wait for the second step's agents instead).
        run.wait_for_stderr("the agents joining", Duration::from_secs(30), |l| {
            l.contains("agent b2 joined")
        })
        .await?;
        tokio::time::sleep(Duration::from_secs(5)).await;
        let victim = agents.pop().expect("two agents");
        // SAFETY: kill(2) on the PID of a child this test started.
        unsafe { libc::kill(victim.pid().expect("running") as i32, libc::SIGKILL) };
        let out = run.finish().await?;
        out.assert_no_panic();
        assert!(
            out.stderr
                .contains("fewer than --min-agents 2 agents remain: stopping"),
            "{out}"
        );
        let report = out.report()?;
        assert!(report.interrupted, "{out}");
        assert!(
            !report.steps.is_empty() && report.steps.len() < 4,
            "the steps measured before are reported: {out}"
        );
        assert!(report.steps.iter().all(|s| s.verdict.is_pass()), "{out}");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_coordinator_resumes_from_its_journal_with_the_same_agents() -> anyhow::Result<()>
{
    let _alone = exclusive().await;
    bounded(Duration::from_secs(180), async {
        let server = HttpServer::start(HttpServerOptions::fifo(2_000)).await?;
        let control = NatsServer::start().await?;
        let dump = tempfile::tempdir()?;
        let _agents = agents(&control, &["c1", "c2"], dump.path()).await?;
        let journal = dump.path().join("run.journal");
        let journal = journal.to_str().expect("utf-8 temp path");
        let coordinator = |extra: &[&str]| {
            Loadgen::standalone()
                .args(["max-rps", "--agents", "2", "--control-url", &control.url()])
                .args(extra)
        };
        let mut first = coordinator(&["--plugin", "http", "-o"])
            .arg(format!("url={}", server.url()))
            .args(["--steps", "100,150,200", "--warmup", "1s", "--hold", "2s"])
            .args(["--drain", "1s", "--cooldown", "0s", "--journal", journal])
            .spawn()?;
        first
            .wait_for_stderr("the first step", Duration::from_secs(60), |l| {
                l.starts_with("step 100 rps: PASS")
            })
            .await?;
        // SAFETY: kill(2) on the PID of a child this test started.
        unsafe { libc::kill(first.pid().expect("running") as i32, libc::SIGKILL) };
        drop(first);

        let out = coordinator(&["--resume", journal, "--quiet"])
            .json()
            .run()
            .await?;
        out.assert_no_panic();
        assert!(
            out.stderr.contains("resuming after 1 finished steps"),
            "{out}"
        );
        out.assert_ladder(&[(100, "PASS"), (150, "PASS"), (200, "PASS")], 200)?;
        Ok(())
    })
    .await
}
