//! The plugin through the same FFI glue the host uses
//! (`loadgen_plugin_api::testing`): it describes itself consistently and
//! refuses bad input and an absent server before any load.

use loadgen_plugin_api::testing;
use loadgen_plugin_http::Http;

#[test]
fn describes_itself() {
    let info = testing::describe_plugin::<Http>().unwrap();
    assert_eq!(info.name.as_str(), "http");
    assert_eq!(info.series.len(), 1);
    let reasons: Vec<&str> = info.error_reasons.iter().map(|r| r.as_str()).collect();
    for reason in [
        "connect",
        "status_4xx",
        "status_5xx",
        "status_other",
        "body",
    ] {
        assert!(reasons.contains(&reason), "{reasons:?}");
    }
    let (options, all_have_help) = testing::declared_options::<Http>();
    assert!(all_have_help);
    let names: Vec<&str> = options.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "url",
        "method",
        "header",
        "body",
        "body_file",
        "expect_status",
        "timeout",
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
    assert!(options.contains(&("connections".into(), "64".into())));
}

#[test]
fn bad_input_and_a_refusing_server_are_one_line() {
    // A port nothing listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}/");
    let table: Vec<(Vec<(&str, &str)>, String)> = vec![
        (vec![], "option 'url' is required".into()),
        (
            vec![("url", "gopher://h/")],
            "unknown scheme 'gopher'".into(),
        ),
        (
            vec![("url", "http://h/"), ("expect_status", "fine")],
            "option 'expect_status'".into(),
        ),
        (
            vec![("url", url.as_str())],
            format!("cannot reach http://{closed}/ ({closed})"),
        ),
    ];
    for (options, want) in table {
        let err = testing::start_error::<Http>(&options);
        assert!(
            err.contains(&want),
            "{options:?}: {err:?} should contain {want:?}"
        );
        assert!(!err.contains('\n'), "{err:?}");
    }
}
