//! `--slo-counter 'NAME{label="v"} <= N'`: bounds on how much a counter scraped
//! from a Prometheus endpoint may grow over a step's hold.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::verdict::CounterGate;

/// One Prometheus sample, as scraped.
#[derive(Clone, Debug, PartialEq)]
pub struct Scraped {
    pub metric: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Le,
    Lt,
    Ge,
    Gt,
    Eq,
}

impl Cmp {
    fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Cmp::Le => value <= bound,
            Cmp::Lt => value < bound,
            Cmp::Ge => value >= bound,
            Cmp::Gt => value > bound,
            Cmp::Eq => value == bound,
        }
    }
}

/// A parsed `--slo-counter` expression.
#[derive(Clone, Debug, PartialEq)]
pub struct GateSpec {
    pub metric: String,
    pub labels: Vec<(String, String)>,
    pub cmp: Cmp,
    pub bound: f64,
    /// The expression as the user wrote it (trimmed), for reasons.
    pub text: String,
}

impl fmt::Display for GateSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for GateSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<GateSpec, String> {
        let text = s.trim().to_string();
        let bad = |why: &str| {
            format!("bad counter gate '{text}': {why} (expected e.g. 'rejected_total{{svc=\"gatekeeper\"}} <= 10')")
        };
        if text.contains('{') && !text.contains('}') {
            return Err(bad("unclosed '{'"));
        }
        // Labels may hold `=`: the comparison comes after the selector.
        let after_selector = text.find('}').map_or(0, |i| i + 1);
        let op_at = text[after_selector..]
            .find(['<', '>', '='])
            .map(|i| i + after_selector)
            .ok_or_else(|| bad("no comparison (<=, <, >=, >, ==)"))?;
        let bytes = text.as_bytes();
        let (cmp, op_len) = match (bytes[op_at], bytes.get(op_at + 1)) {
            (b'<', Some(b'=')) => (Cmp::Le, 2),
            (b'>', Some(b'=')) => (Cmp::Ge, 2),
            (b'=', Some(b'=')) => (Cmp::Eq, 2),
            (b'<', _) => (Cmp::Lt, 1),
            (b'>', _) => (Cmp::Gt, 1),
            _ => return Err(bad("no comparison (<=, <, >=, >, ==)")),
        };
        let selector = text[..op_at].trim();
        let bound: f64 = text[op_at + op_len..]
            .trim()
            .parse()
            .map_err(|_| bad("the bound is not a number"))?;
        let (metric, labels) = match selector.split_once('{') {
            None => (selector, Vec::new()),
            Some((metric, rest)) => {
                let inner = rest
                    .strip_suffix('}')
                    .ok_or_else(|| bad("text after '}'"))?;
                (metric.trim(), parse_labels(inner).map_err(|why| bad(&why))?)
            }
        };
        let valid_name = !metric.is_empty()
            && metric
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !metric.starts_with(|c: char| c.is_ascii_digit());
        if !valid_name {
            return Err(bad("not a metric name"));
        }
        Ok(GateSpec {
            metric: metric.to_string(),
            labels,
            cmp,
            bound,
            text,
        })
    }
}

fn parse_labels(inner: &str) -> Result<Vec<(String, String)>, String> {
    let mut labels = Vec::new();
    for pair in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').ok_or("a label needs key=\"value\"")?;
        let value = value
            .trim()
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or("label values are quoted")?;
        labels.push((key.trim().to_string(), value.to_string()));
    }
    Ok(labels)
}

impl GateSpec {
    fn matches(&self, s: &Scraped) -> bool {
        s.metric == self.metric
            && self
                .labels
                .iter()
                .all(|(k, v)| s.labels.get(k).is_some_and(|have| have == v))
    }

    fn total(&self, scrape: &[Scraped]) -> f64 {
        scrape
            .iter()
            .filter(|s| self.matches(s))
            .map(|s| s.value)
            .sum()
    }

    /// Judge the counter's growth between two scrapes. A metric the targets do
    /// not expose at all is an error (a typo must not pass silently); a label
    /// set not yet exposed counts as 0.
    pub fn evaluate(&self, start: &[Scraped], end: &[Scraped]) -> Result<CounterGate, String> {
        if !end.iter().any(|s| s.metric == self.metric) {
            return Err(format!(
                "counter {} is not exposed by the --scrape targets",
                self.metric
            ));
        }
        let delta = self.total(end) - self.total(start);
        Ok(CounterGate {
            expr: self.text.clone(),
            delta,
            passed: self.cmp.holds(delta, self.bound),
        })
    }
}

/// Parse Prometheus text format into samples (histogram/summary series are
/// kept under their exposed names).
pub fn parse_exposition(text: &str) -> Result<Vec<Scraped>, String> {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape =
        prometheus_parse::Scrape::parse(lines).map_err(|e| format!("not Prometheus text: {e}"))?;
    Ok(scrape
        .samples
        .into_iter()
        .filter_map(|s| {
            let value = match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => return None,
            };
            Some(Scraped {
                metric: s.metric,
                labels: s
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                value,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_expressions_parse() {
        let table: &[(&str, &str, &[(&str, &str)], Cmp, f64)] = &[
            ("rejected_total <= 0", "rejected_total", &[], Cmp::Le, 0.0),
            (
                r#"rejected_total{service="gatekeeper"} <= 10"#,
                "rejected_total",
                &[("service", "gatekeeper")],
                Cmp::Le,
                10.0,
            ),
            (
                r#" failed_total{a="1", b="x y"}<5 "#,
                "failed_total",
                &[("a", "1"), ("b", "x y")],
                Cmp::Lt,
                5.0,
            ),
            (
                "processed_total >= 100",
                "processed_total",
                &[],
                Cmp::Ge,
                100.0,
            ),
            ("x > 1.5", "x", &[], Cmp::Gt, 1.5),
            ("x == 0", "x", &[], Cmp::Eq, 0.0),
        ];
        for (text, metric, labels, cmp, bound) in table {
            let g: GateSpec = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            let labels: Vec<(String, String)> = labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(
                (g.metric.as_str(), &g.labels, g.cmp, g.bound),
                (*metric, &labels, *cmp, *bound),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_gate_expressions_say_why() {
        let table = [
            ("rejected_total", "no comparison"),
            ("rejected_total <= lots", "the bound is not a number"),
            (r#"rejected_total{svc="g" <= 1"#, "unclosed '{'"),
            ("rejected_total{svc=g} <= 1", "label values are quoted"),
            ("9lives <= 1", "not a metric name"),
        ];
        for (text, want) in table {
            let err = text.parse::<GateSpec>().unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    fn scraped(metric: &str, svc: &str, value: f64) -> Scraped {
        Scraped {
            metric: metric.into(),
            labels: [("service".to_string(), svc.to_string())].into(),
            value,
        }
    }

    #[test]
    fn gates_judge_the_hold_window_delta() {
        let start = vec![
            scraped("rejected_total", "gatekeeper", 5.0),
            scraped("rejected_total", "history", 1.0),
        ];
        let end = vec![
            scraped("rejected_total", "gatekeeper", 12.0),
            scraped("rejected_total", "history", 1.0),
        ];
        let gate: GateSpec = r#"rejected_total{service="gatekeeper"} <= 5"#.parse().unwrap();
        let judged = gate.evaluate(&start, &end).unwrap();
        assert_eq!((judged.delta, judged.passed), (7.0, false));
        let all: GateSpec = "rejected_total <= 7".parse().unwrap();
        assert!(all.evaluate(&start, &end).unwrap().passed);
        let typo: GateSpec = "rejectd_total <= 7".parse().unwrap();
        assert_eq!(
            typo.evaluate(&start, &end).unwrap_err(),
            "counter rejectd_total is not exposed by the --scrape targets"
        );
    }

    #[test]
    fn exposition_text_parses() {
        let text = "# HELP rejected Rejected.\n# TYPE rejected counter\nrejected_total{service=\"gatekeeper\"} 3\nrejected_total{service=\"history\"} 0\n# EOF\n";
        let samples = parse_exposition(text).unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0], scraped("rejected_total", "gatekeeper", 3.0));
    }
}
