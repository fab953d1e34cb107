//! The plugin through the same FFI glue the host uses
//! (`loadgen_plugin_api::testing`). Live runs against a real server are in
//! the workspace's e2e tests (`tests/tests/history_*.rs`).

use std::net::{Ipv4Addr, TcpListener};
use std::time::{Duration, Instant};

use loadgen_plugin_api::testing;
use loadgen_plugin_history::History;

const LOSS: Duration = Duration::from_secs(2);

#[test]
fn describes_itself() {
    let info = testing::describe_plugin::<History>().unwrap();
    assert_eq!(info.name.as_str(), "history");
    assert_eq!(
        info.series.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        ["history", "thread"]
    );
    assert_eq!(
        info.error_reasons
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
        ["error_reply", "bad_reply", "no_responders", "request"]
    );
    assert_eq!(info.default_steps.as_str(), "200,500,1k,2k,5k");
    assert!(info.durables.is_empty(), "no JetStream backlog");
    let (declared, all_have_help) = testing::declared_options::<History>();
    let declared: Vec<(&str, &str)> = declared
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_str()))
        .collect();
    assert_eq!(
        declared,
        [
            ("preset", "history-small"),
            ("mix", "history:80,thread:20"),
            ("before_mode", "open:70,scrollback:30"),
            ("scrollback_pages", "5"),
            ("page_limit", "20"),
            ("request_timeout", "5s"),
            ("max_in_flight", "10000"),
            ("site", ""),
            ("worker_threads", "auto"),
            ("fire_ahead", "true"),
        ]
    );
    assert!(all_have_help);
}

/// Options are checked before anything connects: with every default (or a
/// good value) the plugin gets as far as the NATS server, which here is a
/// closed port, and says so without showing credentials; a bad value is
/// refused naming the option. The only test in this file that touches the
/// environment.
#[test]
fn options_are_checked_before_connecting() {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::env::set_var("NATS_URL", format!("nats://alice:s3cret@127.0.0.1:{port}"));
    std::env::remove_var("NATS_CREDS_FILE");

    let unreachable = format!("cannot reach NATS at nats://alice:***@127.0.0.1:{port}");
    for options in [
        &[][..],
        &[
            ("preset", "history-large"),
            ("mix", "thread:1"),
            ("max_in_flight", "1"),
        ],
    ] {
        let started = Instant::now();
        let err = testing::start::<History>(options, LOSS).err().unwrap();
        assert!(err.starts_with(&unreachable), "{options:?}: {err}");
        assert!(!err.contains("s3cret"), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{:?}",
            started.elapsed()
        );
    }

    let table: &[(&str, &str, &str)] = &[
        (
            "preset",
            "medium",
            "option 'preset': unknown preset `medium`",
        ),
        (
            "mix",
            "history:80,thread:x",
            "option 'mix': the weight of 'thread' must be a whole number > 0",
        ),
        (
            "before_mode",
            "open",
            "option 'before_mode': 'open' is not key:weight",
        ),
        (
            "scrollback_pages",
            "0",
            "option 'scrollback_pages' must be > 0",
        ),
        (
            "page_limit",
            "-3",
            "option 'page_limit': '-3' is not a whole number",
        ),
        (
            "request_timeout",
            "0ms",
            "option 'request_timeout' must be > 0",
        ),
        ("max_in_flight", "0", "option 'max_in_flight' must be > 0"),
        (
            "site",
            "a>b",
            "option 'site': 'a>b' cannot be a NATS subject token",
        ),
        (
            "pages",
            "5",
            "unknown option 'pages' for plugin history (valid: preset, mix, before_mode, ",
        ),
    ];
    for (key, value, want) in table {
        let err = testing::start_error::<History>(&[(key, value)]);
        assert!(
            err.starts_with(want),
            "{key}={value}: {err:?} should start with {want:?}"
        );
    }
}
