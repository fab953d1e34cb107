//! The `grpc` plugin against a tonic test server of known capacity on
//! loopback (tests/src/grpc_server.rs): the ladder and the adaptive search
//! find the capacity with the schema from reflection, the .proto or a
//! protoset; UNAVAILABLE is named; streaming and TLS work; bad input is
//! refused before any call.
//!
//! Rates are small (a few hundred/s) and holds short so the answers are
//! stable on a busy 2-core box, as in http_plugin.rs.

use std::time::Duration;

use loadgen_e2e::loadgen::{Loadgen, RunOutput};
use loadgen_e2e::{
    bounded, exclusive, grpc_proto_file, grpc_protoset_file, GrpcServer, GrpcServerOptions,
    GrpcStats, Reflection,
};

/// The FIFO capacity of the ramp tests (calls/s).
const CAPACITY: u32 = 500;

const PING: &str = "call=loadtest.v1.Items/Ping";

/// `loadgen max-rps --plugin grpc -o url=URL -o OPTION…` with short phases.
fn grpc_run(server: &GrpcServer, options: &[&str], hold: &str, drain: &str) -> Loadgen {
    with_url(&server.url(), options, hold, drain)
}

fn with_url(url: &str, options: &[&str], hold: &str, drain: &str) -> Loadgen {
    let mut run = Loadgen::standalone()
        .args(["max-rps", "--plugin", "grpc", "-o"])
        .arg(format!("url={url}"))
        .short_phases(hold, drain);
    for option in options {
        run = run.args(["-o", option]);
    }
    run
}

fn ladder(server: &GrpcServer, options: &[&str]) -> Loadgen {
    grpc_run(server, options, "2s", "1s").args(["--steps", "200,350,1200", "--cooldown", "1s"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ladder_via_reflection_answers_the_step_below_capacity() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(90), async {
        let server = GrpcServer::start(GrpcServerOptions::fifo(CAPACITY)).await?;
        let out = ladder(&server, &[PING, r#"data={"text": "hi"}"#])
            .run()
            .await?;
        out.assert_ladder(&[(200, "PASS"), (350, "PASS"), (1200, "TRIP")], 350)?;
        // v1alpha alone is enough.
        let server = GrpcServer::start(GrpcServerOptions {
            reflection: Reflection::V1alphaOnly,
            ..GrpcServerOptions::fifo(CAPACITY)
        })
        .await?;
        // A templated request: each op its own text.
        let out = grpc_run(&server, &[PING, r#"data={"text": "{{uuid}}"}"#], "2s", "1s")
            .args(["--steps", "200"])
            .run()
            .await?;
        assert_eq!(out.final_verdicts(), vec![(200, "PASS")], "{out}");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ladder_via_a_protoset_answers_the_step_below_capacity() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(90), async {
        let server = GrpcServer::start(GrpcServerOptions {
            reflection: Reflection::Off,
            ..GrpcServerOptions::fifo(CAPACITY)
        })
        .await?;
        let protoset = format!("protoset={}", grpc_protoset_file().display());
        let out = ladder(&server, &[PING, &protoset]).run().await?;
        out.assert_ladder(&[(200, "PASS"), (350, "PASS"), (1200, "TRIP")], 350)?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adaptive_search_via_the_proto_lands_near_capacity() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(240), async {
        let server = GrpcServer::start(GrpcServerOptions {
            reflection: Reflection::Off,
            ..GrpcServerOptions::fifo(CAPACITY)
        })
        .await?;
        let proto = format!("proto={}", grpc_proto_file().display());
        let out = grpc_run(&server, &[PING, &proto], "2s", "1s")
            .tight_slo()
            .adaptive_search(300)
            .run()
            .await?;
        out.assert_answer_near(CAPACITY)?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_percent_unavailable_trips_on_error_rate_naming_unavailable() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(60), async {
        let server = GrpcServer::start(GrpcServerOptions {
            unavailable_fraction: 0.03,
            ..GrpcServerOptions::fifo(2000)
        })
        .await?;
        let out = grpc_run(&server, &[PING], "3s", "1s")
            .args(["--steps", "200", "--cooldown", "0s"])
            .run()
            .await?;
        let step = out.tripped_step("error rate");
        let count = |name: &str| step.counters.get(name).copied().unwrap_or(0);
        // The failures are named by their status: 3 % of ~600 hold calls.
        assert!(
            (10..=30).contains(&count("unavailable")),
            "{:?}; {out}",
            step.counters
        );
        assert_eq!(
            count("retry_after"),
            count("unavailable"),
            "{:?}",
            step.counters
        );
        assert_eq!(count("transport") + count("timeouts") + count("unknown"), 0);
        assert!((0.015..=0.05).contains(&step.error_rate), "{out}");
        assert!(GrpcStats::get(&server.stats().unavailable) > 0);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_past_their_deadline_are_timeouts() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(60), async {
        // 4x over capacity: the queue grows past the 100 ms deadline at once.
        let server = GrpcServer::start(GrpcServerOptions::fifo(50)).await?;
        let out = grpc_run(&server, &[PING, "timeout=100ms"], "3s", "1s")
            .args(["--steps", "200", "--cooldown", "0s"])
            .run()
            .await?;
        let step = out.tripped_step("error rate");
        let count = |name: &str| step.counters.get(name).copied().unwrap_or(0);
        assert!(count("timeouts") >= 300, "{:?}; {out}", step.counters);
        assert_eq!(
            count("transport") + count("cancelled"),
            0,
            "{:?}",
            step.counters
        );
        // The server's DEADLINE_EXCEEDED for our own deadline is a Timeout too.
        assert_eq!(count("deadline_exceeded"), 0, "{:?}", step.counters);
        assert_eq!(
            step.lost, 0,
            "the deadline comes before the loss deadline: {out}"
        );
        Ok(())
    })
    .await
}

/// Runs one 3 s step at 100/s and asserts it PASSed. These steps prove a
/// protocol works, not a latency: the SLO and the drain are wide.
async fn passes_one_step(server: &GrpcServer, options: &[&str]) -> anyhow::Result<RunOutput> {
    let out = grpc_run(server, options, "3s", "3s")
        .args(["--steps", "100", "--cooldown", "0s"])
        .args(["--slo-p95", "1s", "--slo-p99", "2s"])
        .run()
        .await?;
    out.assert_no_panic();
    assert_eq!(out.final_verdicts(), vec![(100, "PASS")], "{out}");
    Ok(out)
}

/// The latency series of the run's only step with their sample counts.
fn series_counts(out: &RunOutput) -> Vec<(String, u64)> {
    out.final_steps()[0]
        .series
        .iter()
        .map(|s| (s.name.clone(), s.count))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_calls_pass_with_their_series() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(90), async {
        let server = GrpcServer::start(GrpcServerOptions::fifo(2000)).await?;
        let out = passes_one_step(
            &server,
            &[
                "call=loadtest.v1.Items/ListItems",
                r#"data={"count": 5, "gap_ms": 2}"#,
            ],
        )
        .await?;
        let series = series_counts(&out);
        let names: Vec<&str> = series.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["first_message", "last_message"], "{out}");
        assert!(series.iter().all(|(_, count)| *count >= 250), "{series:?}");
        let step = &out.final_steps()[0];
        let messages = step.counters.get("messages").copied().unwrap_or(0);
        assert!(
            messages >= 5 * 250,
            "5 messages a call: {:?}",
            step.counters
        );

        // Client streaming: 3 messages a call; bidi: 3 out, 3 back.
        let before = GrpcStats::get(&server.stats().streamed_in);
        passes_one_step(
            &server,
            &[
                "call=loadtest.v1.Items/PutItems",
                r#"data={"id": 1}"#,
                "stream_count=3",
            ],
        )
        .await?;
        let put = GrpcStats::get(&server.stats().streamed_in) - before;
        assert!(put >= 3 * 250, "{put} messages streamed in");
        let out = passes_one_step(
            &server,
            &[
                "call=loadtest.v1.Items/Chat",
                "stream_count=3",
                "stream_interval=1ms",
            ],
        )
        .await?;
        let step = &out.final_steps()[0];
        let messages = step.counters.get("messages").copied().unwrap_or(0);
        assert!(messages >= 3 * 250, "{:?}", step.counters);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_ca_file() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(90), async {
        let server = GrpcServer::start(GrpcServerOptions {
            tls: true,
            ..GrpcServerOptions::fifo(2000)
        })
        .await?;
        assert!(server.url().starts_with("https://"));
        let ca = format!("ca_file={}", server.ca_file().expect("a CA").display());
        passes_one_step(&server, &[PING, &ca, "connections=2"]).await?;
        assert!(GrpcStats::get(&server.stats().calls) >= 300);
        passes_one_step(&server, &[PING, "insecure=true"]).await?;

        // Without the CA, the certificate is refused before any call.
        let calls = GrpcStats::get(&server.stats().calls);
        let out = grpc_run(&server, &[PING], "1s", "1s")
            .args(["--steps", "100"])
            .run()
            .await?;
        assert!(out.refused_line().contains("certificate"), "{out}");
        assert_eq!(GrpcStats::get(&server.stats().calls), calls);
        Ok(())
    })
    .await
}

/// Login per session, the token captured into GetItem's metadata; a
/// cheap Ping beside it: one series per request.
const SCENARIO: &str = r#"
sessions = 4
reauth_status = ["UNAUTHENTICATED"]

[[setup]]
call = "loadtest.v1.Items/Login"
data = { user = "u{{session}}", password = "pw" }
capture = { token = "json:/token" }

[[request]]
name = "item"
weight = 3
call = "loadtest.v1.Items/GetItem"
data = '{"id": {{rand_int 1 1000}}}'
metadata = { authorization = "Bearer {{token}}" }
slo_p99 = "1s"

[[request]]
name = "ping"
call = "loadtest.v1.Items/Ping"
data = '{"text": "{{seq}}"}'
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_then_get_item_scenario_passes_without_unauthenticated() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(60), async {
        let server = GrpcServer::start(GrpcServerOptions::fifo(2000)).await?;
        let scratch = tempfile::tempdir()?;
        let file = scratch.path().join("items.toml");
        std::fs::write(&file, SCENARIO)?;
        let scenario = format!("scenario={}", file.display());
        let out = passes_one_step(&server, &[&scenario]).await?;
        let series = series_counts(&out);
        let names: Vec<&str> = series.iter().map(|(n, _)| n.as_str()).collect();
        // The series are the scenario's requests in order (ids 0 and 1). An
        // engine that reads `series_specs` names them; one that does not yet
        // (before the series-slo engine part) shows the plugin's static names.
        assert!(
            names == ["item", "ping"] || names == ["grpc", "first_message"],
            "{out}"
        );
        let (item, ping) = (series[0].1, series[1].1);
        assert!(item > 2 * ping && ping > 30, "a 3:1 mix: {series:?}");
        let step = &out.final_steps()[0];
        assert_eq!(
            step.counters.get("unauthenticated").copied(),
            Some(0),
            "{:?}",
            step.counters
        );
        assert_eq!(GrpcStats::get(&server.stats().unauthenticated), 0);
        assert_eq!(
            GrpcStats::get(&server.stats().logins),
            4,
            "one login per session"
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_2_before_any_call() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(120), async {
        let server = GrpcServer::start(GrpcServerOptions::fifo(2000)).await?;
        let no_reflection = GrpcServer::start(GrpcServerOptions {
            reflection: Reflection::Off,
            ..GrpcServerOptions::fifo(2000)
        })
        .await?;
        let scratch = tempfile::tempdir()?;
        let broken = scratch.path().join("broken.proto");
        std::fs::write(&broken, "syntax = \"proto3\";\npackage x;\nmessage A {\n  int64 id = ;\n}\n")?;
        let closed = loadgen_e2e::free_port()?;
        let bad_scenario = |name: &str, text: &str| -> anyhow::Result<String> {
            let path = scratch.path().join(name);
            std::fs::write(&path, text)?;
            Ok(format!("scenario={}", path.display()))
        };
        let misspelt = bad_scenario(
            "misspelt.toml",
            "[[request]]\ncall = \"loadtest.v1.Items/GetItem\"\ndata = '{\"idd\": {{seq}}}'\n",
        )?;
        let unknown_var = bad_scenario(
            "var.toml",
            "[[request]]\ncall = \"loadtest.v1.Items/Ping\"\nmetadata = { authorization = \"Bearer {{token}}\" }\n",
        )?;
        let get_item = "call=loadtest.v1.Items/GetItem";
        let url = server.url();
        let table: Vec<(&GrpcServer, Vec<String>, String)> = vec![
            // (the server whose calls are counted, options, what the line names)
            (
                &server,
                vec!["call=loadtest.v1.Itemz/Ping".into()],
                "no service 'loadtest.v1.Itemz'; services: loadtest.v1.Items".into(),
            ),
            (
                &server,
                vec!["call=loadtest.v1.Items/Pong".into()],
                "has no method 'Pong'; its methods: Chat, GetItem, ListItems, Login, Ping, PutItems".into(),
            ),
            (
                &server,
                vec![get_item.into(), r#"data={"idd": 1}"#.into()],
                "unknown field \"idd\" in GetItemRequest; fields: id".into(),
            ),
            (
                &server,
                vec![get_item.into(), r#"data={"id": "one"}"#.into()],
                "option 'data'".into(),
            ),
            (
                &server,
                vec![PING.into(), format!("proto={}", broken.display())],
                "broken.proto:4:".into(),
            ),
            (
                &no_reflection,
                vec![PING.into()],
                "no reflection service".into(),
            ),
            (
                &server,
                vec![misspelt],
                "request 'GetItem' option 'data': unknown field \"idd\" in GetItemRequest".into(),
            ),
            (&server, vec![unknown_var], "token".into()),
            (
                &server,
                vec![PING.into(), "metadata=no colon here".into()],
                "option 'metadata'".into(),
            ),
            (
                &server,
                vec![PING.into(), format!("url=http://127.0.0.1:{closed}")],
                format!("cannot reach http://127.0.0.1:{closed}"),
            ),
            (
                &server,
                vec![PING.into(), format!("url={}", url.replace("http://", "https://")), "insecure=true".into()],
                "cannot reach https://".into(),
            ),
        ];
        for (target, options, want) in table {
            let calls = GrpcStats::get(&target.stats().calls);
            let target_url = options
                .iter()
                .find_map(|o| o.strip_prefix("url="))
                .map_or_else(|| target.url(), str::to_string);
            let options: Vec<&str> = options
                .iter()
                .map(String::as_str)
                .filter(|o| !o.starts_with("url="))
                .collect();
            let out = with_url(&target_url, &options, "1s", "1s")
                .args(["--steps", "100"])
                .timeout(Duration::from_secs(30))
                .run()
                .await?;
            let line = out.refused_line();
            assert!(line.contains(&want), "{options:?}: {line:?} should name {want:?}");
            assert!(out.elapsed < Duration::from_secs(10), "{out}");
            assert_eq!(
                GrpcStats::get(&target.stats().calls),
                calls,
                "{options:?}: nothing is sent"
            );
        }
        Ok(())
    })
    .await
}
