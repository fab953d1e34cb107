//! The `nats` plugin's options, checked once at start: every mistake is one
//! line naming the option, before any load.

use async_nats::header::{HeaderName, HeaderValue};
use async_nats::HeaderMap;
use bytes::Bytes;
use loadgen_plugin_api::sdk::Positive;

loadgen_plugin_api::option_choice! {
    /// What an op is.
    pub enum Mode {
        /// Core request/reply; latency = the reply.
        Request = "request",
        /// Publish, see each message come back on `reply_subject`.
        Publish = "publish",
        /// JetStream publish; latency = the ack.
        JetStream = "jetstream",
    }
}

loadgen_plugin_api::options! {
    /// The `-o` options, as declared (`loadgen plugins info nats`).
    pub struct NatsOptions {
        /// request (core request/reply) | publish (see each message come back on reply_subject) | jetstream (publish, latency = ack)
        mode: Mode = "request",
        /// the subject to send to (no wildcards); required
        subject: String = "",
        /// publish mode: the subject the messages come back on (default: subject)
        reply_subject: String = "",
        /// publish mode: subscribe to reply_subject in this queue group
        queue: String = "",
        /// payload size in bytes (ignored with payload_file)
        payload_bytes: usize = "128",
        /// send this file's bytes as the payload
        payload_file: String = "",
        /// a header 'Name: value'; repeatable (one per line)
        header: String = "",
        /// ops in flight at most; more are refused (saturation)
        max_in_flight: Positive<usize> = "10000",
        /// jetstream mode: publish acks awaited at once; more wait their turn
        ack_in_flight: Positive<usize> = "512",
        /// jetstream mode: STREAM/CONSUMER whose num_pending is gated as backlog; repeatable (one per line)
        durable: String = "",
    }
}

#[derive(Clone, Debug)]
pub struct NatsConfig {
    pub mode: Mode,
    pub subject: String,
    /// Publish mode: where the messages come back.
    pub reply_subject: String,
    /// Publish mode: the queue group of the reply subscription.
    pub queue: Option<String>,
    pub payload: Bytes,
    pub headers: HeaderMap,
    pub max_in_flight: usize,
    pub ack_in_flight: usize,
    /// JetStream `(stream, consumer)` pairs whose backlog is gated.
    pub durables: Vec<(String, String)>,
}

pub fn parse(o: &NatsOptions) -> Result<NatsConfig, String> {
    let subject = o.subject.clone();
    if subject.is_empty() {
        return Err("option 'subject' is required, e.g. -o subject=svc.echo".into());
    }
    check_subject("subject", &subject, false)?;
    let reply_subject = match o.reply_subject.as_str() {
        "" => subject.clone(),
        given => given.to_string(),
    };
    check_subject("reply_subject", &reply_subject, true)?;
    let durables = lines(&o.durable)
        .map(durable)
        .collect::<Result<Vec<_>, _>>()?;
    if !durables.is_empty() && o.mode != Mode::JetStream {
        return Err("option 'durable' needs mode=jetstream".into());
    }
    Ok(NatsConfig {
        mode: o.mode,
        subject,
        reply_subject,
        queue: Some(o.queue.clone()).filter(|q| !q.is_empty()),
        payload: payload(o)?,
        headers: headers(&o.header)?,
        max_in_flight: o.max_in_flight.get(),
        ack_in_flight: o.ack_in_flight.get(),
        durables,
    })
}

fn lines(raw: &str) -> impl Iterator<Item = &str> {
    raw.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// A subject one can publish to (no wildcards) or, when `may_wildcard`, subscribe to.
fn check_subject(option: &str, subject: &str, may_wildcard: bool) -> Result<(), String> {
    let tokens: Vec<&str> = subject.split('.').collect();
    if subject.contains(char::is_whitespace) || tokens.iter().any(|t| t.is_empty()) {
        return Err(format!(
            "option '{option}': '{subject}' is not a valid subject"
        ));
    }
    let wildcard = tokens.iter().any(|t| *t == "*" || *t == ">");
    if wildcard && !may_wildcard {
        return Err(format!(
            "option '{option}': '{subject}' has a wildcard; one cannot publish to it"
        ));
    }
    Ok(())
}

fn durable(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('/') {
        Some((stream, name))
            if !stream.trim().is_empty() && !name.trim().is_empty() && !name.contains('/') =>
        {
            Ok((stream.trim().to_string(), name.trim().to_string()))
        }
        _ => Err(format!("option 'durable': '{raw}' is not STREAM/CONSUMER")),
    }
}

fn payload(o: &NatsOptions) -> Result<Bytes, String> {
    let file = o.payload_file.as_str();
    if !file.is_empty() {
        return std::fs::read(file)
            .map(Bytes::from)
            .map_err(|e| format!("option 'payload_file': cannot read '{file}': {e}"));
    }
    Ok(Bytes::from(vec![b'x'; o.payload_bytes]))
}

/// `Name: value` lines (a repeated `-o header=` arrives one per line).
fn headers(raw: &str) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for line in lines(raw) {
        let bad = |why: &str| format!("option 'header': '{line}' {why} (expected 'Name: value')");
        let (name, value) = line.split_once(':').ok_or_else(|| bad("has no ':'"))?;
        let name: HeaderName = name
            .trim()
            .parse()
            .map_err(|_| bad("has an invalid name"))?;
        let value: HeaderValue = value
            .trim()
            .parse()
            .map_err(|_| bad("has an invalid value"))?;
        map.append(name, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    use loadgen_plugin_api::sdk::PluginOptions;

    fn config(pairs: &[(&str, &str)]) -> Result<NatsConfig, String> {
        parse(&NatsOptions::from_pairs(pairs)?)
    }

    #[test]
    fn defaults_and_given_values() {
        let c = config(&[("subject", "svc.echo")]).unwrap();
        assert_eq!(c.mode, Mode::Request);
        assert_eq!(c.reply_subject, "svc.echo");
        assert_eq!(c.payload.len(), 128);
        assert!(c.queue.is_none() && c.durables.is_empty() && c.headers.is_empty());
        let c = config(&[
            ("mode", "jetstream"),
            ("subject", "orders.new"),
            ("payload_bytes", "0"),
            ("header", "X-A: 1\nX-B: two words"),
            ("durable", "ORDERS/worker\nORDERS/audit"),
        ])
        .unwrap();
        assert_eq!(c.mode, Mode::JetStream);
        assert_eq!(c.payload.len(), 0);
        assert_eq!(c.headers.get("X-B").map(|v| v.as_str()), Some("two words"));
        assert_eq!(
            c.durables,
            vec![
                ("ORDERS".into(), "worker".into()),
                ("ORDERS".into(), "audit".into())
            ]
        );
        let c = config(&[
            ("mode", "publish"),
            ("subject", "a.b"),
            ("reply_subject", "out.>"),
            ("queue", "q"),
        ])
        .unwrap();
        assert_eq!(
            (c.reply_subject.as_str(), c.queue.as_deref()),
            ("out.>", Some("q"))
        );
    }

    #[test]
    fn bad_input_is_one_line_naming_the_option() {
        let table: &[(&[(&str, &str)], &str)] = &[
            (&[], "option 'subject' is required"),
            (
                &[("subject", "a.*")],
                "option 'subject': 'a.*' has a wildcard",
            ),
            (
                &[("subject", "a.>")],
                "option 'subject': 'a.>' has a wildcard",
            ),
            (
                &[("subject", "a..b")],
                "option 'subject': 'a..b' is not a valid subject",
            ),
            (
                &[("subject", "a b")],
                "option 'subject': 'a b' is not a valid subject",
            ),
            (
                &[("subject", "a"), ("mode", "stream")],
                "option 'mode': 'stream' is not one of",
            ),
            (
                &[("subject", "a"), ("payload_bytes", "-1")],
                "option 'payload_bytes'",
            ),
            (
                &[("subject", "a"), ("payload_file", "/nonexistent/p")],
                "option 'payload_file': cannot read",
            ),
            (
                &[("subject", "a"), ("header", "nocolon")],
                "option 'header': 'nocolon' has no ':'",
            ),
            (
                &[("subject", "a"), ("mode", "jetstream"), ("durable", "S")],
                "option 'durable': 'S' is not STREAM/CONSUMER",
            ),
            (
                &[("subject", "a"), ("durable", "S/c")],
                "option 'durable' needs mode=jetstream",
            ),
            (
                &[("subject", "a"), ("max_in_flight", "0")],
                "option 'max_in_flight' must be > 0",
            ),
        ];
        for (pairs, want) in table {
            let err = config(pairs).unwrap_err();
            assert!(
                err.starts_with(want),
                "{pairs:?}: {err:?} should start with {want:?}"
            );
            assert!(!err.contains('\n'));
        }
    }
}
