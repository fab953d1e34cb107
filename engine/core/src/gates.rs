//! `--slo-counter 'NAME{label="v"} <= N'`: bounds on how much a counter scraped
//! from a Prometheus endpoint may grow over a step's hold.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::verdict::CounterGate;

mod selector;

use selector::Selector;

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

/// As the user wrote it: `'rejected_total{svc="a"} <= 0'`.
impl serde::Serialize for GateSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for GateSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<GateSpec, D::Error> {
        <String as serde::Deserialize>::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for GateSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for GateSpec {
    type Err = String;

    /// `SELECTOR OP NUMBER`, where SELECTOR is a Prometheus instant-vector
    /// selector with equality matchers: `name{label="value", …}`. Label
    /// values are Prometheus strings: `"`, `\\` and `\n` are escaped, and
    /// `,` `}` `<` `=` inside quotes are just characters.
    fn from_str(s: &str) -> Result<GateSpec, String> {
        let text = s.trim().to_string();
        let bad = |why: &str| {
            format!("bad counter gate '{text}': {why} (expected e.g. 'rejected_total{{svc=\"gatekeeper\"}} <= 10')")
        };
        let mut p = Selector::new(&text);
        let metric = p.name();
        let valid_name = !metric.is_empty() && !metric.starts_with(|c: char| c.is_ascii_digit());
        if !valid_name {
            return Err(bad("not a metric name"));
        }
        let labels = if p.eat('{') {
            p.labels().map_err(|why| bad(&why))?
        } else {
            Vec::new()
        };
        p.skip_space();
        let cmp = p
            .cmp()
            .ok_or_else(|| bad("no comparison (<=, <, >=, >, ==)"))?;
        let rest: String = p.chars[p.at..].iter().collect();
        let bound: f64 = rest
            .trim()
            .parse()
            .map_err(|_| bad("the bound is not a number"))?;
        if !bound.is_finite() {
            return Err(bad("the bound is not a number"));
        }
        Ok(GateSpec {
            metric,
            labels,
            cmp,
            bound,
            text,
        })
    }
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
            (
                r#"http_total{path="/a,b}", q="x<=1", e="say \"hi\"\\"} <= 3"#,
                "http_total",
                &[("path", "/a,b}"), ("q", "x<=1"), ("e", "say \"hi\"\\")],
                Cmp::Le,
                3.0,
            ),
            (r#"up{a="1",} > 0"#, "up", &[("a", "1")], Cmp::Gt, 0.0),
            ("ns:rate_total{} >= 2", "ns:rate_total", &[], Cmp::Ge, 2.0),
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
            (
                r#"rejected_total{svc="g" <= 1"#,
                "',' or '}' expected after a label, found '<'",
            ),
            (r#"rejected_total{svc="g""#, "unclosed '{'"),
            ("rejected_total{svc=g} <= 1", "label values are quoted"),
            ("9lives <= 1", "not a metric name"),
            (r#"x{a="1} <= 1"#, "unterminated label value"),
            (r#"x{a!="1"} <= 1"#, "only = matchers"),
            (r#"x{a=~"1"} <= 1"#, "only = matchers"),
            (r#"x{a="1" b="2"} <= 1"#, "',' or '}' expected"),
            (r#"x{a="1"} junk <= 1"#, "no comparison"),
            ("x <= inf", "the bound is not a number"),
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
