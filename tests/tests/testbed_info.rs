//! `testbed.info` reports the fixtures the testbed serves; bad flags are a
//! one-line error and exit status 2.

use std::process::Command;
use std::time::Duration;

use chat_fixtures::{fixtures_id, history_fixtures_id, HistoryPreset, MessagePreset};
use loadgen_e2e::{bounded, testbed_binary, NatsServer, Testbed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_reports_preset_seed_and_fingerprints() -> anyhow::Result<()> {
    bounded(Duration::from_secs(60), async {
        let nats = NatsServer::start().await?;
        let args = [
            "--preset",
            "realistic",
            "--seed",
            "9",
            "--site-id",
            "site-b",
            "--history-preset",
            "history-medium",
        ];
        let testbed = Testbed::start(&nats, &args).await?;
        let info = testbed.info();
        assert_eq!(info.preset, "realistic");
        assert_eq!(info.seed, 9);
        assert_eq!(info.site, "site-b");
        assert_eq!(info.history_preset, "history-medium");
        assert_eq!(
            info.fixtures_id,
            fixtures_id(MessagePreset::Realistic, 9, "site-b")
        );
        assert_eq!(
            info.history_fixtures_id,
            history_fixtures_id(HistoryPreset::Medium, 9, "site-b")
        );
        assert!(info.metrics_addr.is_some_and(|a| a.ip().is_loopback()));
        let log = testbed.log();
        assert!(
            log.contains("preset=realistic") && log.contains("seed=9"),
            "{log}"
        );
        Ok(())
    })
    .await
}

#[test]
fn bad_flags_exit_2_with_one_line() -> anyhow::Result<()> {
    for args in [
        &["--preset", "huge"][..],
        &["--stall", "nonsense"],
        &["--error-rate", "3"],
        &["--no-such-flag"],
    ] {
        let out = Command::new(testbed_binary()?).args(args).output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error:"), "{args:?}: {stderr}");
    }
    Ok(())
}
