//! `--metrics-addr`: loadgen's own Prometheus endpoint follows the run
//! (the target rate changes between steps) and closes when the run ends.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::loadgen;

/// One scrape: the body of GET /metrics, or None if nothing listens.
fn scrape(addr: SocketAddr) -> Option<String> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: loadgen\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    conn.read_to_string(&mut text).ok()?;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    Some(text)
}

fn value(text: &str, metric: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(metric)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn the_endpoint_follows_the_steps_and_closes_with_the_run() {
    let mut child = loadgen(&[
        "max-rps",
        "--plugin",
        "synthetic",
        "-o",
        "capacity=5000",
        "--steps",
        "200,400",
        "--warmup",
        "500ms",
        "--hold",
        "2s",
        "--drain",
        "300ms",
        "--cooldown",
        "0s",
        "--metrics-addr",
        "127.0.0.1:0",
    ])
    .spawn()
    .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let addr: SocketAddr = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no metrics line on stderr"
        );
        if let Some(url) = line.trim().strip_prefix("metrics: http://") {
            break url.trim_end_matches("/metrics").parse().unwrap();
        }
    };
    // Keep stderr drained so the child never blocks on it.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut targets = Vec::new();
    let mut last = None;
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the run did not end");
        if let Some(text) = scrape(addr) {
            let target = value(&text, "loadgen_target_rps");
            if target.is_some_and(|t| t > 0.0) && targets.last() != target.as_ref() {
                targets.push(target.unwrap());
            }
            last = Some(text);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(targets, vec![200.0, 400.0], "target rate by step");

    let last = last.expect("at least one scrape");
    for metric in [
        "loadgen_achieved_rps",
        "loadgen_step",
        "loadgen_phase{phase=\"hold\"}",
        "loadgen_backlog{backlog=\"queue\"}",
        "loadgen_failures_total{series=\"op\"}",
        "loadgen_verdicts_total{verdict=\"PASS\"}",
        "loadgen_latency_seconds_count{series=\"op\",measured_from=\"intended\"}",
    ] {
        assert!(
            value(&last, metric).is_some(),
            "{metric} missing in\n{last}"
        );
    }
    assert!(
        value(
            &last,
            "loadgen_latency_seconds_count{series=\"op\",measured_from=\"intended\"}"
        )
        .unwrap()
            > 0.0
    );

    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err(),
        "the endpoint closes when the run ends"
    );
}

#[test]
fn a_taken_address_is_refused_before_any_load() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = common::run_bounded(
        loadgen(&[
            "max-rps",
            "--plugin",
            "synthetic",
            "--steps",
            "1k",
            "--metrics-addr",
            &addr,
        ]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = common::text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("--metrics-addr {addr}: cannot listen")),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no step ran");
}
