//! The plugin through the same FFI glue the host uses
//! (`loadgen_plugin_api::testing`): it describes itself consistently and
//! refuses bad input before connecting.

use loadgen_plugin_api::testing;
use loadgen_plugin_nats::Nats;

#[test]
fn describes_itself() {
    let info = testing::describe_plugin::<Nats>().unwrap();
    assert_eq!(info.name.as_str(), "nats");
    let reasons: Vec<&str> = info.error_reasons.iter().map(|r| r.as_str()).collect();
    assert!(reasons.contains(&"service_error") && reasons.contains(&"no_responders"));
    let (options, all_have_help) = testing::declared_options::<Nats>();
    assert!(all_have_help);
    assert!(options.contains(&("mode".into(), "request".into())));
    assert!(options.contains(&("payload_bytes".into(), "128".into())));
}

#[test]
fn bad_input_is_one_line_before_connecting() {
    let table: &[(&[(&str, &str)], &str)] = &[
        (&[], "option 'subject' is required"),
        (&[("subject", "a.>"), ("mode", "publish")], "has a wildcard"),
        (
            &[("subject", "a"), ("mode", "fire")],
            "option 'mode': 'fire' is not one of request|publish|jetstream",
        ),
        (
            &[("subject", "a"), ("durable", "S/c")],
            "option 'durable' needs mode=jetstream",
        ),
    ];
    for (options, want) in table {
        let err = testing::start_error::<Nats>(options);
        assert!(
            err.contains(want),
            "{options:?}: {err:?} should contain {want:?}"
        );
    }
}
