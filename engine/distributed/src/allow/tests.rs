use super::*;

fn allow(s: &str) -> AllowTarget {
    s.parse().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn entries_parse_and_print_as_given() {
    for s in [
        "127.0.0.1:8080",
        "orders.svc",
        "10.0.0.0/8",
        "[::1]:4222",
        "::1",
        "fd00::/8",
    ] {
        assert_eq!(allow(s).to_string(), s);
    }
    for bad in ["", "10.0.0.0/33", "host:port", "a b", "x/8"] {
        assert!(bad.parse::<AllowTarget>().is_err(), "{bad}");
    }
}

#[test]
fn a_target_is_allowed_by_its_host_its_host_and_port_or_its_network() {
    let table = [
        ("127.0.0.1:8080", "127.0.0.1:8080", true),
        ("127.0.0.1:8080", "127.0.0.1:8081", false),
        ("127.0.0.1", "127.0.0.1:9", true),
        ("Orders.svc", "orders.svc:443", true),
        ("orders.svc:443", "orders.svc:80", false),
        ("127.0.0.0/8", "127.3.2.1:80", true),
        ("127.0.0.0/8", "10.0.0.1:80", false),
        // Names are never resolved: a network allows addresses only.
        ("127.0.0.0/8", "localhost:80", false),
        ("0.0.0.0/0", "8.8.8.8:53", true),
        ("[::1]:4222", "[::1]:4222", true),
        ("fd00::/8", "[fd12::1]:80", true),
        ("fd00::/8", "127.0.0.1:80", false),
    ];
    for (entry, target, allowed) in table {
        assert_eq!(allow(entry).allows(target), allowed, "{entry} vs {target}");
    }
}

#[test]
fn a_start_is_refused_naming_the_first_target_not_allowed() {
    let allowed = [allow("127.0.0.1:1000")];
    let targets = ["127.0.0.1:1000".to_string(), "127.0.0.1:2000".to_string()];
    assert_eq!(
        check_targets(&allowed, "http", Some(&targets)).unwrap_err(),
        "target 127.0.0.1:2000 is not in its --allow-target 127.0.0.1:1000"
    );
    assert_eq!(check_targets(&allowed, "http", Some(&targets[..1])), Ok(()));
    assert_eq!(check_targets(&allowed, "synthetic", Some(&[])), Ok(()));
    assert!(check_targets(&allowed, "old", None)
        .unwrap_err()
        .starts_with("plugin old cannot say where it sends"));
    // No --allow-target: anything goes (and the agent warned at start).
    assert_eq!(check_targets(&[], "old", None), Ok(()));
}
