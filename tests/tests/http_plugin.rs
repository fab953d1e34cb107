//! The `http` plugin against hyper test servers of known capacity on
//! loopback: the ladder and the adaptive search find the capacity, failures
//! are named, HTTP/2 and TLS work, bad input is refused before any load.
//!
//! Rates are small (a few hundred/s) and holds short so the answers are stable
//! on a busy 2-core box. The ladder's TRIP step is far over capacity and
//! trips on the default SLO; the adaptive search uses a tight one (p95 50 ms)
//! so a rate a few percent over capacity trips within its 2 s hold.

use std::time::Duration;

use loadgen_e2e::loadgen::{Loadgen, RunOutput};
use loadgen_e2e::{bounded, exclusive, Capacity, HttpServer, HttpServerOptions, Stats};

/// The FIFO capacity of the ramp tests (requests/s).
const CAPACITY: u32 = 400;

/// `loadgen max-rps --plugin http -o url=URL` with short phases.
fn http_run(url: &str, hold: &str, drain: &str) -> Loadgen {
    Loadgen::standalone()
        .args(["max-rps", "--plugin", "http", "-o"])
        .arg(format!("url={url}"))
        .short_phases(hold, drain)
}

/// One step at `rate` with a 3 s hold, a 1 s drain and no cooldown.
fn one_step(url: &str, rate: &str) -> Loadgen {
    one_step_draining(url, rate, "1s")
}

fn one_step_draining(url: &str, rate: &str, drain: &str) -> Loadgen {
    http_run(url, "3s", drain).args(["--steps", rate, "--cooldown", "0s"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ladder_answers_the_step_below_capacity() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(120), async {
        let server = HttpServer::start(HttpServerOptions::fifo(CAPACITY)).await?;
        let out = http_run(&server.url(), "2s", "1s")
            .args(["--steps", "150,250,600", "--cooldown", "1s"])
            .run()
            .await?;
        out.assert_ladder(&[(150, "PASS"), (250, "PASS"), (600, "TRIP")], 250)?;
        Ok(())
    })
    .await
}

/// At 1000 req/s the client reads each answer at the worker's next wake-up
/// for a send (quiet sockets, docs/http-client.md) and dates it by its
/// arrival. Against a server that holds every answer ≥ 1 ms, the median
/// latency is the server's time: an arrival misdated to the send would be
/// ~0, one dated by the read up to a send interval more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_read_at_a_later_wake_up_are_dated_by_their_arrival() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(60), async {
        let server = HttpServer::start(HttpServerOptions {
            capacity: Capacity::Permits {
                permits: 1000,
                service: Duration::from_millis(1),
            },
            ..HttpServerOptions::fifo(1)
        })
        .await?;
        let out = one_step(&server.url(), "1000").run().await?;
        out.assert_no_panic();
        assert_eq!(out.final_verdicts(), vec![(1000, "PASS")], "{out}");
        let series = &out.final_steps()[0].series[0];
        // tokio's timer sleeps 1–2 ms; wide above for a busy machine.
        assert!(
            (0.95..6.0).contains(&series.p50_ms),
            "p50 {} ms: {out}",
            series.p50_ms
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adaptive_search_lands_near_capacity() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(240), async {
        let server = HttpServer::start(HttpServerOptions::fifo(CAPACITY)).await?;
        let out = http_run(&server.url(), "2s", "1s")
            .tight_slo()
            .adaptive_search(250)
            .run()
            .await?;
        out.assert_answer_near(CAPACITY)?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_percent_503_trips_on_error_rate_naming_status_5xx() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(60), async {
        let server = HttpServer::start(HttpServerOptions {
            status_503_fraction: 0.05,
            ..HttpServerOptions::fifo(2000)
        })
        .await?;
        let out = one_step(&server.url(), "200").run().await?;
        let step = out.tripped_step("error rate");
        let count = |name: &str| step.counters.get(name).copied().unwrap_or(0);
        // 5 % of ~600 hold requests.
        assert!(
            (15..=60).contains(&count("status_5xx")),
            "{:?}; {out}",
            step.counters
        );
        assert_eq!(
            count("retry_after"),
            count("status_5xx"),
            "{:?}",
            step.counters
        );
        assert_eq!(
            count("status_4xx") + count("connect") + count("timeouts"),
            0
        );
        assert!((0.03..=0.08).contains(&step.error_rate), "{out}");
        assert!(Stats::get(&server.stats().status_503) > 0);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_answering_is_never_a_pass() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(60), async {
        // loadgen starts at once: warmup ends ≈1 s in, the hold lasts to ≈4 s.
        let server = HttpServer::start(HttpServerOptions {
            stop_answering_after: Some(Duration::from_millis(2500)),
            ..HttpServerOptions::fifo(2000)
        })
        .await?;
        let out = one_step(&server.url(), "100").run().await?;
        let step = out.tripped_step("loss rate");
        assert!(step.lost >= 50, "the ops after the stop are lost: {out}");
        assert!(Stats::get(&server.stats().unanswered) > 0);

        // With a `timeout` shorter than the drain, the same ops are Timeouts (failures).
        let server = HttpServer::start(HttpServerOptions {
            stop_answering_after: Some(Duration::from_millis(2500)),
            ..HttpServerOptions::fifo(2000)
        })
        .await?;
        let out = one_step(&server.url(), "100")
            .args(["-o", "timeout=300ms"])
            .run()
            .await?;
        let step = out.tripped_step("error rate");
        assert!(
            step.counters.get("timeouts").copied().unwrap_or(0) >= 50,
            "{out}"
        );
        assert_eq!(
            step.lost, 0,
            "the timeout comes before the loss deadline: {out}"
        );
        Ok(())
    })
    .await
}

/// Runs one 3 s step at 100/s against `server` and asserts it PASSed. These
/// steps prove a protocol works, not a latency: the SLO and the drain are
/// wide, so a stall of the busy box is not read as a failure (errors, losses
/// and a series without samples still are).
async fn passes_one_step(server: &HttpServer, extra: &[&str]) -> anyhow::Result<RunOutput> {
    let out = one_step_draining(&server.url(), "100", "3s")
        .args(["--slo-p95", "1s", "--slo-p99", "2s"])
        .args(extra)
        .run()
        .await?;
    out.assert_no_panic();
    assert_eq!(out.final_verdicts(), vec![(100, "PASS")], "{out}");
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_runs_a_passing_step_over_http2_with_the_given_request() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(60), async {
        let server = HttpServer::start(HttpServerOptions::fifo(2000)).await?;
        let options = [
            "-o",
            "http2=true",
            "-o",
            "connections=4",
            "-o",
            "method=post",
            "-o",
            "header=X-One: 1",
            "-o",
            "header=X-Two: two words",
        ];
        passes_one_step(&server, &options).await?;
        let stats = server.stats();
        let (method, headers) = stats.last_request.lock().unwrap().clone().unwrap();
        assert_eq!(method, "POST");
        assert_eq!(
            headers["x-one"], "1",
            "a repeated -o header adds: {headers:?}"
        );
        assert_eq!(headers["x-two"], "two words", "{headers:?}");
        assert!(Stats::get(&stats.http2) >= 300, "{stats:?}");
        assert_eq!(Stats::get(&stats.http1), 0, "{stats:?}");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_self_signed_certificate() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(90), async {
        let tls = |capacity| HttpServerOptions {
            tls: true,
            ..HttpServerOptions::fifo(capacity)
        };
        let server = HttpServer::start(tls(2000)).await?;
        assert!(server.url().starts_with("https://"));
        passes_one_step(&server, &["-o", "insecure=true", "-o", "connections=8"]).await?;
        assert!(Stats::get(&server.stats().http1) >= 300);

        // HTTP/2 negotiated by ALPN.
        let server = HttpServer::start(tls(2000)).await?;
        let h2 = [
            "-o",
            "insecure=true",
            "-o",
            "http2=true",
            "-o",
            "connections=2",
        ];
        passes_one_step(&server, &h2).await?;
        assert!(Stats::get(&server.stats().http2) >= 300);

        // Trusted through `ca_file` (its own certificate as the CA).
        let ca_file = format!("ca_file={}", server.ca_file().expect("tls").display());
        passes_one_step(&server, &["-o", &ca_file]).await?;

        // Without `insecure` or `ca_file`, the untrusted certificate is
        // refused before any load.
        let out = one_step(&server.url(), "200").run().await?;
        let line = out.refused_line();
        assert!(line.contains("certificate"), "{out}");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_a_refusing_server_exit_2_before_any_load() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(60), async {
        // A port nothing listens on (bound, then closed).
        let closed = loadgen_e2e::free_port()?;
        let body_missing = "/nonexistent/loadgen-body";
        let table: Vec<(Vec<String>, String)> = vec![
            (
                vec!["url=ftp://127.0.0.1/".into()],
                "unknown scheme 'ftp'".into(),
            ),
            (vec!["url=http://exa mple/".into()], "is not a URL".into()),
            (
                vec![
                    "url=http://127.0.0.1:1/".into(),
                    format!("body_file={body_missing}"),
                ],
                format!("cannot read '{body_missing}'"),
            ),
            (
                vec![format!("url=http://127.0.0.1:{closed}/")],
                format!("127.0.0.1:{closed}"),
            ),
        ];
        for (options, want) in table {
            let mut run = Loadgen::standalone()
                .args(["max-rps", "--plugin", "http", "--steps", "100"])
                .timeout(Duration::from_secs(30));
            for o in &options {
                run = run.args(["-o", o]);
            }
            let out = run.run().await?;
            let line = out.refused_line();
            assert!(
                line.contains(&want),
                "{options:?}: {line:?} should name {want:?}"
            );
            assert!(out.elapsed < Duration::from_secs(10), "{out}");
        }
        Ok(())
    })
    .await
}
