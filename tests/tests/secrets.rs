//! Secrets never written: a run given an `Authorization` header, a URL
//! password and a secret plugin option (`http`'s `bearer_token`) sends them
//! to its server, yet none of the three appears in anything loadgen writes
//! (JSON, CSV, HTML, journal, a metrics scrape, stdout, stderr at
//! `RUST_LOG=debug`, `--print-config`); `--resume` of its journal asks for
//! them again, naming the options, and runs once they are given.

use std::path::Path;
use std::time::Duration;

use loadgen_e2e::loadgen::{Loadgen, RunOutput};
use loadgen_e2e::{bounded, exclusive, http_get, HttpServer, HttpServerOptions};

const URL_PASSWORD: &str = "pw-URL-5ecret";
const HEADER_TOKEN: &str = "T0KEN-in-header";
const SECRET_OPTION: &str = "opt-5ecret-value";

/// The three values, as `-o` options against `server`.
fn secret_options(server: &HttpServer) -> Vec<String> {
    let url = server
        .url()
        .replacen("http://", &format!("http://user:{URL_PASSWORD}@"), 1);
    vec![
        "-o".into(),
        format!("url={url}"),
        "-o".into(),
        format!("header=Authorization: Bearer {HEADER_TOKEN}"),
        "-o".into(),
        format!("bearer_token={SECRET_OPTION}"),
    ]
}

/// `loadgen max-rps --plugin http` with every file output in `dir`, debug
/// logging and short phases.
fn run_in(dir: &Path, steps: &str) -> Loadgen {
    let file = |name: &str| dir.join(name).display().to_string();
    Loadgen::standalone()
        .env("RUST_LOG", "debug")
        .args(["max-rps", "--plugin", "http", "--steps", steps])
        .args(["--warmup", "500ms", "--hold", "2s", "--drain", "500ms"])
        .args(["--cooldown", "0s"])
        .args(["--json", &file("run.json"), "--csv", &file("run.csv")])
        .args([
            "--report",
            &file("run.html"),
            "--journal",
            &file("run.journal"),
        ])
        .args(["--metrics-addr", "127.0.0.1:0"])
}

/// Every secret found in `text`, for the failure message.
fn leaked(text: &str) -> Vec<&'static str> {
    [URL_PASSWORD, HEADER_TOKEN, SECRET_OPTION]
        .into_iter()
        .filter(|s| text.contains(s))
        .collect()
}

/// Fails naming every output (file or stream) that holds a secret.
fn assert_nothing_leaked(dir: &Path, out: &RunOutput, scraped: &str) {
    let mut outputs = vec![
        ("stdout".to_string(), out.stdout.clone()),
        ("stderr".to_string(), out.stderr.clone()),
        ("metrics scrape".to_string(), scraped.to_string()),
    ];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        outputs.push((path.display().to_string(), text));
    }
    let leaks: Vec<String> = outputs
        .iter()
        .filter_map(|(name, text)| {
            let found = leaked(text);
            (!found.is_empty()).then(|| format!("{name}: {found:?}"))
        })
        .collect();
    assert!(leaks.is_empty(), "secrets written: {leaks:?}");
}

/// Runs `loadgen`, scraping its metrics endpoint once while it runs.
async fn run_scraped(loadgen: Loadgen) -> anyhow::Result<(RunOutput, String)> {
    let mut running = loadgen.spawn()?;
    let line = running
        .wait_for_stderr("the metrics address", Duration::from_secs(30), |l| {
            l.starts_with("metrics: http://")
        })
        .await?;
    let url = line.trim_start_matches("metrics: ").trim().to_string();
    let (status, scraped) = http_get(&url).await?;
    anyhow::ensure!(status == 200, "GET {url}: {status}");
    Ok((running.finish().await?, scraped))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_output_yet_the_server_gets_them() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(120), async {
        let server = HttpServer::start(HttpServerOptions::fifo(1000)).await?;
        let dir = tempfile::tempdir()?;
        let (out, scraped) =
            run_scraped(run_in(dir.path(), "20").args(secret_options(&server))).await?;
        assert_eq!(out.code(), Some(0), "{}", out.stderr);
        assert!(scraped.contains("loadgen_"), "a real scrape: {scraped}");

        // The header reached the server (it wins over bearer_token and the
        // URL's user-info, as with curl).
        let (_, headers) = server
            .stats()
            .last_request
            .lock()
            .unwrap()
            .clone()
            .expect("a request");
        assert_eq!(headers["authorization"], format!("Bearer {HEADER_TOKEN}"));

        assert_nothing_leaked(dir.path(), &out, &scraped);
        // What is shown instead.
        let journal = std::fs::read_to_string(dir.path().join("run.journal"))?;
        assert!(journal.contains("\"bearer_token\":\"***\""), "{journal}");
        assert!(journal.contains("Authorization: ***"), "{journal}");
        assert!(journal.contains("http://user:***@127.0.0.1:"), "{journal}");

        let printed = run_in(dir.path(), "20")
            .args(secret_options(&server))
            .arg("--print-config")
            .run()
            .await?;
        assert_eq!(printed.code(), Some(0), "{}", printed.stderr);
        assert!(
            printed.stdout.contains("bearer_token = \"***\""),
            "{}",
            printed.stdout
        );
        assert_eq!(leaked(&printed.stdout), Vec::<&str>::new());
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_asks_for_the_hidden_values_again_then_continues() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(150), async {
        let server = HttpServer::start(HttpServerOptions::fifo(1000)).await?;
        let dir = tempfile::tempdir()?;
        let journal = dir.path().join("run.journal");
        let first = run_in(dir.path(), "20,30")
            .args(secret_options(&server))
            .run()
            .await?;
        assert_eq!(first.code(), Some(0), "{}", first.stderr);
        // As if killed after the first step: the header and one step.
        let text = std::fs::read_to_string(&journal)?;
        let kept: Vec<&str> = text.lines().take(2).collect();
        std::fs::write(&journal, kept.join("\n") + "\n")?;
        let resume = |extra: Vec<String>| {
            Loadgen::standalone()
                .env("RUST_LOG", "debug")
                .args(["max-rps", "--resume", journal.to_str().unwrap()])
                .args(extra)
        };

        // Without the values: refused in one line naming them, before any load.
        let before = server
            .stats()
            .answered
            .load(std::sync::atomic::Ordering::Relaxed);
        let refused = resume(vec![]).run().await?;
        assert_eq!(refused.code(), Some(2), "{}", refused.stderr);
        assert_eq!(
            refused.stderr.trim(),
            "error: options 'bearer_token', 'header', 'url' hidden (***) in the journal or \
             config file (credentials are never written): give them again, e.g. -o bearer_token=…"
        );
        // Only the URL given again: the two others still missing.
        let url = secret_options(&server)[..2].to_vec();
        let refused = resume(url).run().await?;
        assert_eq!(refused.code(), Some(2), "{}", refused.stderr);
        assert!(
            refused
                .stderr
                .contains("options 'bearer_token', 'header' hidden"),
            "{}",
            refused.stderr
        );
        let after = server
            .stats()
            .answered
            .load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(before, after, "no load from a refused resume");

        // With them: the run continues from step 2, still writing no secret.
        let resumed = resume(secret_options(&server)).run().await?;
        assert_eq!(resumed.code(), Some(0), "{}", resumed.stderr);
        assert!(
            resumed.stderr.contains("resuming after 1 finished steps"),
            "{}",
            resumed.stderr
        );
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("run.json"))?)?;
        let rates: Vec<u64> = report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["target_rps"].as_u64().unwrap())
            .collect();
        assert_eq!(rates, [20, 30]);
        assert_nothing_leaked(dir.path(), &resumed, "");
        Ok(())
    })
    .await
}
