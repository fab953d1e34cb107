//! The plugin through the same FFI glue the host uses
//! (`loadgen_plugin_api::testing`): it describes itself consistently and
//! refuses bad input and an absent server before any load.

use loadgen_plugin_api::testing;
use loadgen_plugin_grpc::GrpcPlugin;

#[test]
fn describes_itself() {
    let info = testing::describe_plugin::<GrpcPlugin>().unwrap();
    assert_eq!(info.name.as_str(), "grpc");
    let series: Vec<&str> = info.series.iter().map(|s| s.as_str()).collect();
    assert_eq!(series, ["grpc", "first_message", "last_message"]);
    let reasons: Vec<&str> = info.error_reasons.iter().map(|r| r.as_str()).collect();
    for reason in [
        "unavailable",
        "resource_exhausted",
        "deadline_exceeded",
        "unauthenticated",
        "transport",
        "data",
    ] {
        assert!(reasons.contains(&reason), "{reasons:?}");
    }
    let (options, all_have_help) = testing::declared_options::<GrpcPlugin>();
    assert!(all_have_help);
    let names: Vec<&str> = options.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "url",
        "call",
        "proto",
        "import_path",
        "protoset",
        "data",
        "metadata",
        "scenario",
        "timeout",
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
}

#[test]
fn bad_input_and_a_refusing_server_are_one_line() {
    // A port nothing listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}");
    let table: Vec<(Vec<(&str, &str)>, String)> = vec![
        (vec![("call", "a.B/C")], "option 'url' is required".into()),
        (
            vec![("url", url.as_str())],
            "option 'call' is required".into(),
        ),
        (
            vec![("url", "grpc://h:1"), ("call", "a.B/C")],
            "unknown scheme 'grpc'".into(),
        ),
        (
            vec![("url", url.as_str()), ("call", "a.B/C")],
            format!("cannot reach http://{closed} ({closed})"),
        ),
        (
            vec![
                ("url", url.as_str()),
                ("call", "a.B/C"),
                ("data", "{{nope}}"),
            ],
            "option 'data'".into(),
        ),
    ];
    for (options, want) in table {
        let err = testing::start_error::<GrpcPlugin>(&options);
        assert!(
            err.contains(&want),
            "{options:?}: {err:?} should contain {want:?}"
        );
        assert!(!err.contains('\n'), "{err:?}");
    }
}
