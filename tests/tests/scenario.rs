//! The `http` plugin's realistic traffic against [`ShopServer`] (a login,
//! tokens, endpoints of different cost on one FIFO, a cache of recent ids):
//! sessions log in before the first step and every op carries its session's
//! token (no 401), data rows vary the ids, a revoked token re-authenticates
//! and the run goes on, Vegeta targets files run, and every mistake in a
//! scenario file is one line, exit 2, before any request.

use std::path::{Path, PathBuf};
use std::time::Duration;

use loadgen_e2e::loadgen::Loadgen;
use loadgen_e2e::{bounded, exclusive, ShopOptions, ShopServer, ShopStats};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `ids.csv`: `n` rows of `id,name`.
fn ids_csv(dir: &Path, n: usize) -> PathBuf {
    let mut text = String::from("id,name\n");
    for i in 0..n {
        text.push_str(&format!("{i},item-{i}\n"));
    }
    write(dir, "ids.csv", &text)
}

/// `max-rps --plugin http -o scenario=FILE` with short phases.
fn scenario_run(file: &Path) -> Loadgen {
    Loadgen::standalone()
        .args(["max-rps", "--plugin", "http", "-o"])
        .arg(format!("scenario={}", file.display()))
        .short_phases("3s", "1s")
}

fn login_and_items(base: &str) -> String {
    format!(
        r#"
base_url = "{base}"
sessions = 4
reauth_status = [401]

[data.items]
file = "ids.csv"
pick = "random"

[[setup]]
method = "POST"
url = "/login"
headers = {{ "Content-Type" = "application/json" }}
body = '{{"user": "load-{{{{session}}}}"}}'
capture = {{ token = "json:/token" }}

[[request]]
name = "item"
url = "/items/{{{{data.items.id}}}}"
headers = {{ Authorization = "Bearer {{{{token}}}}" }}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_log_in_first_and_data_rows_vary_the_ids() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(120), async {
        let server = ShopServer::start(ShopOptions::default()).await?;
        let dir = tempfile::tempdir()?;
        ids_csv(dir.path(), 100_000);
        let file = write(dir.path(), "s.toml", &login_and_items(&server.url()));
        // Items cost 2.5 ms: 400/s.
        let out = scenario_run(&file)
            .args(["--steps", "150,300,900", "--cooldown", "1s"])
            .run()
            .await?;
        out.assert_ladder(&[(150, "PASS"), (300, "PASS"), (900, "TRIP")], 300)?;
        let stats = server.stats();
        assert_eq!(ShopStats::get(&stats.logins), 4, "one login per session");
        assert_eq!(
            ShopStats::get(&stats.unauthorized),
            0,
            "every op carried its token"
        );
        assert!(
            stats.distinct_ids() >= 1000,
            "{} distinct ids",
            stats.distinct_ids()
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_fixed_url_measures_the_cache_several_times_higher() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(120), async {
        let server = ShopServer::start(ShopOptions::default()).await?;
        let dir = tempfile::tempdir()?;
        ids_csv(dir.path(), 10);
        let text = login_and_items(&server.url()).replace("{{data.items.id}}", "1");
        let file = write(dir.path(), "s.toml", &text);
        // A cached item costs 0.5 ms: 2000/s, against 400/s for varied ids.
        let out = scenario_run(&file)
            .args(["--steps", "300,1200,5000", "--cooldown", "1s"])
            .run()
            .await?;
        out.assert_ladder(&[(300, "PASS"), (1200, "PASS"), (5000, "TRIP")], 1200)?;
        assert_eq!(server.stats().distinct_ids(), 1);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_logs_in_again_and_the_run_goes_on() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(90), async {
        let server = ShopServer::start(ShopOptions::default()).await?;
        let dir = tempfile::tempdir()?;
        ids_csv(dir.path(), 1000);
        let file = write(dir.path(), "s.toml", &login_and_items(&server.url()));
        let run = Loadgen::standalone()
            .args(["max-rps", "--plugin", "http", "-o"])
            .arg(format!("scenario={}", file.display()))
            .short_phases("5s", "1s")
            // The ops answered 401 before the new logins are failures: allow
            // them (5%), so the step passes and the run's answer shows it went on.
            .args([
                "--steps",
                "100",
                "--cooldown",
                "0s",
                "--slo-error-rate",
                "0.05",
            ])
            .spawn()?;
        // Warm-up and half the hold in, every token stops working.
        tokio::time::sleep(Duration::from_secs(4)).await;
        server.revoke_all();
        let out = run.finish().await?;
        out.assert_no_panic();
        assert_eq!(out.code(), Some(0), "{out}");
        let stats = server.stats();
        let logins = ShopStats::get(&stats.logins);
        assert!(
            (8..=12).contains(&logins),
            "each of 4 sessions logged in again: {logins}"
        );
        let refused = ShopStats::get(&stats.unauthorized);
        assert!(
            (1..=40).contains(&refused),
            "a few ops failed before the new login: {refused}"
        );
        let after = ShopStats::get(&stats.ok_after_revoke);
        assert!(after >= 100, "ops went on with new tokens: {after}");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vegeta_targets_files_run_unchanged_in_both_formats() -> anyhow::Result<()> {
    let _alone = exclusive().await;
    bounded(Duration::from_secs(90), async {
        let server = ShopServer::start(ShopOptions {
            require_token: false,
            ..ShopOptions::default()
        })
        .await?;
        let dir = tempfile::tempdir()?;
        let base = server.url();
        let http = format!(
            "GET {base}/items/7?v=1\nX-Trace: a\n\nGET {base}/items/7?v=2\n\nGET {base}/items/7?v=3\n"
        );
        let json = format!(
            "{{\"method\":\"GET\",\"url\":\"{base}/items/7?v=1\",\"header\":{{\"X-Trace\":[\"a\"]}}}}\n{{\"method\":\"GET\",\"url\":\"{base}/items/7\",\"body\":\"aGk=\"}}\n"
        );
        for (name, text, format) in [("t.txt", http, "http"), ("t.json", json, "json")] {
            let file = write(dir.path(), name, &text);
            let before = ShopStats::get(&server.stats().items);
            let out = Loadgen::standalone()
                .args(["max-rps", "--plugin", "http", "-o"])
                .arg(format!("targets={}", file.display()))
                .args(["-o", &format!("targets_format={format}")])
                .short_phases("2s", "1s")
                .args(["--steps", "100", "--cooldown", "0s"])
                .run()
                .await?;
            out.assert_no_panic();
            assert_eq!(out.final_verdicts(), [(100, "PASS")], "{format}: {out}");
            let sent = ShopStats::get(&server.stats().items) - before;
            assert!(sent >= 200, "{format}: {sent} requests");
        }
        Ok(())
    })
    .await
}

/// Each mistake: one line naming the file (and the request and position
/// where there is one), exit 2, and the server saw nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_scenario_is_one_line_exit_2_and_nothing_sent() -> anyhow::Result<()> {
    bounded(Duration::from_secs(180), async {
        let server = ShopServer::start(ShopOptions::default()).await?;
        let dir = tempfile::tempdir()?;
        ids_csv(dir.path(), 10);
        write(dir.path(), "bad.csv", "id,name\n1,a\n2\n");
        write(dir.path(), "bad.ndjson", "{\"id\": 1}\n{\"id\": \n");
        let good = login_and_items(&server.url());
        let table: Vec<(&str, String, &str)> = vec![
            ("unknown name", good.replace("{{data.items.id}}", "{{nope}}"), "request 'item' url: unknown name 'nope'"),
            ("unclosed", good.replace("{{data.items.id}}", "{{seq"), "request 'item' url: unclosed '{{' (no '}}' after it) at column 8"),
            (
                "used before captured",
                good.replace("url = \"/login\"", "url = \"/login?t={{token}}\""),
                "setup #1 'POST /login?t={{token}}' url: variable 'token' is used before any step captures it at column 10",
            ),
            ("unknown source", good.replace("data.items.id", "data.users.id"), "unknown data source 'users' (defined: items)"),
            ("missing file", good.replace("ids.csv", "missing.csv"), "data 'items': cannot read missing.csv"),
            ("csv fields", good.replace("ids.csv", "bad.csv"), "data 'items': bad.csv line 3: 1 fields, the header has 2"),
            ("ndjson line", good.replace("ids.csv", "bad.ndjson"), "data 'items': bad.ndjson line 2: not a JSON object"),
            ("unknown key", good.replace("sessions = 4", "sesions = 4"), "unknown key 'sesions'"),
            ("bad weight", good.replace("name = \"item\"", "name = \"item\"\nweight = 0"), "request 'item': weight must be a whole number"),
            ("bad pick", good.replace("\"random\"", "\"often\""), "pick 'often' is not one of sequential|random|shuffle"),
            ("bad capture", good.replace("json:/token", "jsn:/token"), "capture 'token' = 'jsn:/token'"),
            ("bad slo", good.replace("name = \"item\"", "name = \"item\"\nslo_p99 = \"fast\""), "slo_p99 'fast' is not a duration"),
            ("relative, no base", good.replace(&format!("base_url = \"{}\"", server.url()), ""), "url '/login' is relative and there is no base_url"),
        ];
        for (what, text, want) in &table {
            let file = write(dir.path(), "bad.toml", text);
            let out = scenario_run(&file).args(["--steps", "100"]).run().await?;
            let line = out.refused_line();
            assert!(line.contains("bad.toml"), "{what}: names the file: {line}");
            assert!(line.contains(want), "{what}: {line:?} should say {want:?}");
        }
        assert_eq!(ShopStats::get(&server.stats().requests), 0, "nothing was sent");
        Ok(())
    })
    .await
}
