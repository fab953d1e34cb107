//! A backlog that cannot be read is never a PASS: when the `/jsz` read at a
//! hold boundary fails mid-run, the step is INCONCLUSIVE ("backlog signal
//! unavailable") and the ramp goes on; an endpoint that is not there at all
//! stops the run before it starts (exit 2).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, free_port, http_get, NatsServer, Testbed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

const UNAVAILABLE: &str = "backlog signal unavailable";

/// Broken before the first step, the signal would only make every step
/// INCONCLUSIVE: the run refuses to start instead, as a configuration error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_monitoring_at_start_is_a_configuration_error() -> anyhow::Result<()> {
    bounded(Duration::from_secs(90), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &[]).await?;
        let nobody = format!("http://127.0.0.1:{}", free_port()?);
        let out = Loadgen::max_rps(&nats, "messages")
            .args(["--steps", "300", "--warmup", "1s", "--hold", "2s"])
            .args(["--cooldown", "0s"])
            .env("NATS_MONITORING_URL", &nobody)
            .timeout(Duration::from_secs(60))
            .run()
            .await?;
        out.assert_no_panic();
        assert_eq!(out.code(), Some(2), "{out}");
        let errors = out.error_lines();
        assert_eq!(errors.len(), 1, "{out}");
        assert!(
            errors[0].contains("backlog signal: GET ") && errors[0].contains(&nobody),
            "{out}"
        );
        assert!(out.answer_line().is_none(), "no step ran: {out}");
        Ok(())
    })
    .await
}

/// `/jsz` answers through step 1 and the hold start of step 2, then goes
/// silent: step 1 passes, step 2 (whose hold-end read fails) is INCONCLUSIVE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_lost_mid_run_makes_that_step_inconclusive() -> anyhow::Result<()> {
    bounded(Duration::from_secs(90), async {
        let nats = NatsServer::start().await?;
        let _testbed = Testbed::start(&nats, &[]).await?;
        let stub = JszStub::start(nats.monitoring_url()).await?;
        let mut run = Loadgen::max_rps(&nats, "messages")
            .args(["--steps", "200,400", "--warmup", "2s", "--hold", "3s"])
            .args(["--cooldown", "0s", "--retry-inconclusive", "0"])
            .env("NATS_MONITORING_URL", stub.url())
            .json()
            .timeout(Duration::from_secs(60))
            .spawn()?;
        run.wait_for_stderr("step 200's result", Duration::from_secs(30), |l| {
            l.starts_with("step 200 rps:")
        })
        .await?;
        // Step 2 starts at once (cooldown 0s, nothing to settle); its
        // hold-start read comes a warmup (2 s) later, the settle read before it.
        stub.go_silent_after_first_read_from(Instant::now() + Duration::from_secs(1));
        let out = run.finish().await?;
        out.assert_no_panic();
        assert_eq!(out.code(), Some(0), "step 200 passed; {out}");

        let verdicts: Vec<(u64, &str)> = out
            .steps()
            .iter()
            .map(|s| (s.target_rps, s.verdict.label()))
            .collect();
        assert_eq!(verdicts, [(200, "PASS"), (400, "INCONCLUSIVE")], "{out}");
        let step2 = &out.steps()[1];
        assert!(
            step2.reasons()[0].starts_with(UNAVAILABLE),
            "{:?}",
            step2.reasons()
        );
        assert_eq!(out.report()?.answer.max_rps, Some(200));
        let (last_read, unanswered) = stub.tally();
        assert!(
            last_read.is_some() && unanswered > 0,
            "the stub should have answered step 2's hold-start read and then \
             left reads unanswered (answered last at {last_read:?}, unanswered {unanswered})"
        );
        Ok(())
    })
    .await
}

/// A monitoring endpoint that forwards `GET /jsz…` to the real one until
/// told to go silent; then it accepts connections and never answers (a hung
/// endpoint, so the engine's read timeout is what ends each read).
struct JszStub {
    addr: SocketAddr,
    state: Arc<Mutex<StubState>>,
}

#[derive(Default)]
struct StubState {
    /// Forward the first request arriving at or after this, then go silent.
    silent_after_first_from: Option<Instant>,
    silent: bool,
    /// When the last request forwarded after arming was answered.
    last_armed_answer: Option<Instant>,
    unanswered: u32,
}

impl JszStub {
    async fn start(upstream: String) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(StubState::default()));
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, upstream.clone(), Arc::clone(&shared)));
            }
        });
        Ok(JszStub { addr, state })
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn go_silent_after_first_read_from(&self, from: Instant) {
        self.state.lock().unwrap().silent_after_first_from = Some(from);
    }

    /// (when the read after arming was answered, reads left unanswered)
    fn tally(&self) -> (Option<Instant>, u32) {
        let s = self.state.lock().unwrap();
        (s.last_armed_answer, s.unanswered)
    }
}

async fn serve(mut stream: TcpStream, upstream: String, state: Arc<Mutex<StubState>>) {
    let Some(path) = request_path(&mut stream).await else {
        return;
    };
    let forward = {
        let mut s = state.lock().unwrap();
        match s.silent_after_first_from {
            _ if s.silent => false,
            Some(from) if Instant::now() >= from => {
                s.silent = true;
                s.last_armed_answer = Some(Instant::now());
                true
            }
            _ => true,
        }
    };
    if !forward {
        state.lock().unwrap().unanswered += 1;
        // Hold the connection open, unanswered, until the client gives up.
        let mut sink = [0u8; 256];
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
        return;
    }
    let (status, body) = match http_get(&format!("{upstream}{path}")).await {
        Ok(answer) => answer,
        Err(e) => (502, e.to_string()),
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Reads a request head; returns its path (with the query).
async fn request_path(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = stream.read(&mut buf).await.ok().filter(|&n| n > 0)?;
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    text.split_whitespace().nth(1).map(str::to_string)
}
