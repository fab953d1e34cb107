//! [`ScenarioFile`]: the scenario TOML read and checked once at start. The
//! SDK owns the shared keys (sessions, data sources, weights, names,
//! per-request SLOs, captures, `expect_status`, `reauth_status`); each
//! step's protocol fields (`method`/`url`/`headers`/`body` for HTTP,
//! `call`/`data`/`metadata` for gRPC) are the plugin's own serde type `R`.
//!
//! ```toml
//! base_url = "http://127.0.0.1:8080"
//! sessions = 16
//! reauth_status = [401]
//!
//! [data.items]
//! file = "items.csv"        # .csv, .ndjson/.jsonl, anything else: lines
//! pick = "random"           # sequential | random | shuffle
//!
//! [[setup]]                 # per session, in order
//! url = "/login"
//! capture = { token = "json:/token" }
//!
//! [[request]]               # the mix: each op picks one by weight
//! name = "item"
//! weight = 9
//! url = "/items/{{data.items.id}}"
//! slo_p99 = "500ms"
//! ```
//!
//! Every mistake is one line: `scenario FILE: WHERE: WHAT`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::capture::Capture;
use super::data::{DataSource, Pick};
use super::plan::{Compiled, Traffic};
use super::template::{Scope, Template};

/// A plugin's protocol fields of one step, deserialized from the step's table
/// minus the SDK's keys (`name`, `weight`, `expect_status`, `slo_p95`,
/// `slo_p99`, `capture`). Use `#[serde(deny_unknown_fields)]` so a typo is an error.
pub trait StepFields: DeserializeOwned {
    /// The series name of a request without `name` (e.g. `GET /items/{{…}}`).
    fn default_name(&self) -> String;
}

/// Keys every scenario may have at the top; a plugin adds its own.
const TOP_KEYS: [&str; 6] = [
    "base_url",
    "sessions",
    "reauth_status",
    "data",
    "setup",
    "request",
];

/// Requests a scenario may have: each is a series, and an op's series id
/// must be < 64 in the in-flight table.
pub const MAX_REQUESTS: usize = 64;

/// Setup steps run per session before the first op; requests are the mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    Setup,
    Request,
}

/// One `[[setup]]` or `[[request]]` as written.
#[derive(Debug)]
pub struct Step<R> {
    pub kind: StepKind,
    /// Position among its kind, from 0.
    pub index: usize,
    /// The series name (requests), or the step's name in messages (setup).
    pub name: String,
    /// Relative share of ops (requests; 1 by default).
    pub weight: u32,
    /// As written (`"201"`, `"2xx,304"`, `"OK"`): the plugin parses it.
    pub expect_status: Option<String>,
    pub slo_p95: Option<Duration>,
    pub slo_p99: Option<Duration>,
    pub captures: Vec<Capture>,
    pub fields: R,
}

impl<R> Step<R> {
    /// `setup #1 'login'` or `request 'item'`: how messages name it.
    pub fn label(&self) -> String {
        match self.kind {
            StepKind::Setup => format!("setup #{} '{}'", self.index + 1, self.name),
            StepKind::Request => format!("request '{}'", self.name),
        }
    }
}

/// A scenario file, parsed and its data loaded, templates not yet compiled.
#[derive(Debug)]
pub struct ScenarioFile<R> {
    /// The file as the user named it, for messages.
    pub shown: String,
    /// Its directory: relative `file`/`body_file` paths resolve against it.
    pub dir: PathBuf,
    pub base_url: Option<String>,
    pub sessions: u64,
    /// As written (`401`, `"UNAUTHENTICATED"`): the plugin parses them.
    pub reauth_status: Vec<String>,
    pub data: Vec<Arc<DataSource>>,
    pub setup: Vec<Step<R>>,
    pub requests: Vec<Step<R>>,
    /// The plugin's own top-level keys (those it passed to `load`).
    pub extra: toml::Table,
    pub seed: u64,
}

impl<R: StepFields> ScenarioFile<R> {
    /// Reads and checks `path`; data sources are loaded (picks seeded by
    /// `seed`). `extra_keys`: top-level keys the plugin reads itself.
    pub fn load(path: &str, seed: u64, extra_keys: &[&str]) -> Result<ScenarioFile<R>, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("scenario {path}: cannot read it: {e}"))?;
        let dir = Path::new(path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Self::parse(&text, path, &dir, seed, extra_keys)
    }

    /// [`ScenarioFile::load`] from text; `shown` names it in messages.
    pub fn parse(
        text: &str,
        shown: &str,
        dir: &Path,
        seed: u64,
        extra_keys: &[&str],
    ) -> Result<ScenarioFile<R>, String> {
        let fail = |what: String| format!("scenario {shown}: {what}");
        let mut top: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let at = e.span().map(|s| line_column(text, s.start));
            let message = e.message().replace('\n', " ");
            match at {
                Some((line, column)) => fail(format!("line {line} column {column}: {message}")),
                None => fail(message),
            }
        })?;
        let mut extra = toml::Table::new();
        for key in top.keys().cloned().collect::<Vec<_>>() {
            if extra_keys.contains(&key.as_str()) {
                extra.insert(
                    key.clone(),
                    top.remove(&key).unwrap_or(toml::Value::Boolean(false)),
                );
            } else if !TOP_KEYS.contains(&key.as_str()) {
                let mut valid: Vec<&str> = TOP_KEYS.to_vec();
                valid.extend(extra_keys);
                return Err(fail(format!(
                    "unknown key '{key}' (valid: {})",
                    valid.join(", ")
                )));
            }
        }
        let base_url = match top.remove("base_url") {
            None => None,
            Some(toml::Value::String(s)) => Some(s),
            Some(_) => return Err(fail("base_url must be a string".into())),
        };
        let sessions = match top.remove("sessions") {
            None => 1,
            Some(toml::Value::Integer(n)) if (1..=100_000).contains(&n) => n as u64,
            Some(other) => {
                return Err(fail(format!(
                    "sessions must be a whole number from 1 to 100000, got {other}"
                )))
            }
        };
        let reauth_status = match top.remove("reauth_status") {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(status_text)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    fail("reauth_status must be a list of statuses, e.g. [401]".into())
                })?,
            Some(_) => {
                return Err(fail(
                    "reauth_status must be a list of statuses, e.g. [401]".into(),
                ))
            }
        };
        let data = match top.remove("data") {
            None => Vec::new(),
            Some(toml::Value::Table(sources)) => sources
                .into_iter()
                .map(|(name, spec)| {
                    load_source(&name, spec, dir, seed)
                        .map(Arc::new)
                        .map_err(&fail)
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(fail(
                    "data must be tables: [data.NAME] with file = \"…\"".into(),
                ))
            }
        };
        let setup = steps(top.remove("setup"), StepKind::Setup).map_err(&fail)?;
        let requests = steps(top.remove("request"), StepKind::Request).map_err(&fail)?;
        if requests.is_empty() {
            return Err(fail("no [[request]]: the mix needs at least one".into()));
        }
        if requests.len() > MAX_REQUESTS {
            return Err(fail(format!(
                "{} requests: at most {MAX_REQUESTS} (each is a series)",
                requests.len()
            )));
        }
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &requests {
            if let Some(first) = names.insert(&r.name, r.index) {
                return Err(fail(format!(
                    "requests #{} and #{} are both named '{}' (each request is a series: give them different names)",
                    first + 1,
                    r.index + 1,
                    r.name
                )));
            }
        }
        Ok(ScenarioFile {
            shown: shown.to_string(),
            dir: dir.to_path_buf(),
            base_url,
            sessions,
            reauth_status,
            data,
            setup,
            requests,
            extra,
            seed,
        })
    }
}

impl<R> ScenarioFile<R> {
    /// Compiles every step with `each` (the plugin's: its fields' templates
    /// through [`StepCompiler::template`]) into the run's [`Traffic`]. Setup
    /// steps compile in order, each seeing only the variables captured
    /// before it; requests see all of them.
    pub fn compile<C>(
        self,
        mut each: impl FnMut(&Step<R>, &mut StepCompiler<'_>) -> Result<C, String>,
    ) -> Result<Traffic<C>, String> {
        let captured_anywhere: Vec<String> = {
            let mut all: Vec<String> = Vec::new();
            for c in self.setup.iter().flat_map(|s| &s.captures) {
                if !all.contains(&c.var) {
                    all.push(c.var.clone());
                }
            }
            all
        };
        // Each step's templates draw from their own stream of the seed.
        let mut salt = self.seed;
        let mut compile_one = |step: &Step<R>, known: &[String]| {
            salt = salt.wrapping_add(0x1_0000);
            let mut compiler = StepCompiler {
                scope: Scope {
                    data: &self.data,
                    vars: known,
                    captured_anywhere: &captured_anywhere,
                },
                shown: &self.shown,
                dir: &self.dir,
                label: step.label(),
                salt,
            };
            each(step, &mut compiler)
        };
        let mut known: Vec<String> = Vec::new();
        let mut setup = Vec::with_capacity(self.setup.len());
        for step in self.setup {
            let call = compile_one(&step, &known)?;
            for c in &step.captures {
                if !known.contains(&c.var) {
                    known.push(c.var.clone());
                }
            }
            let slots = step
                .captures
                .iter()
                .map(|c| known.iter().position(|v| *v == c.var).unwrap_or_default())
                .collect();
            setup.push(Compiled::new(step, call, slots));
        }
        let mut requests = Vec::with_capacity(self.requests.len());
        for step in self.requests {
            let call = compile_one(&step, &known)?;
            requests.push(Compiled::new(step, call, Vec::new()));
        }
        Ok(Traffic::new(
            self.shown,
            self.base_url,
            self.sessions,
            self.reauth_status,
            self.data,
            setup,
            requests,
            known.len(),
            self.seed,
        ))
    }
}

/// Compiles one step's templated fields, naming the file, the step and the
/// field in any error.
pub struct StepCompiler<'a> {
    scope: Scope<'a>,
    shown: &'a str,
    dir: &'a Path,
    label: String,
    salt: u64,
}

impl StepCompiler<'_> {
    /// `text` (field `field` of this step) compiled; a mistake reads
    /// `scenario s.toml: request 'order' body: unknown name 'x' at column 9`.
    pub fn template(&mut self, field: &str, text: &str) -> Result<Template, String> {
        self.salt = self.salt.wrapping_add(0x100);
        Template::compile(text, &self.scope, self.salt)
            .map_err(|e| self.error(&format!("{field}: {} at {}", e.message, e.position())))
    }

    /// A mistake of this step, as one line naming the file and the step.
    pub fn error(&self, what: &str) -> String {
        format!("scenario {}: {} {what}", self.shown, self.label)
    }

    /// `path` as written in the scenario, resolved against its directory.
    pub fn resolve(&self, path: &str) -> PathBuf {
        self.dir.join(path)
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// `401` or `"UNAUTHENTICATED"` as text.
fn status_text(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::Integer(n) => Some(n.to_string()),
        toml::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

fn load_source(name: &str, spec: toml::Value, dir: &Path, seed: u64) -> Result<DataSource, String> {
    let toml::Value::Table(mut spec) = spec else {
        return Err(format!("data '{name}' must be a table with file = \"…\""));
    };
    let file = match spec.remove("file") {
        Some(toml::Value::String(f)) if !f.trim().is_empty() => f,
        _ => return Err(format!("data '{name}' needs file = \"…\"")),
    };
    let pick = match spec.remove("pick") {
        None => Pick::Sequential,
        Some(toml::Value::String(p)) => p.parse().map_err(|e| format!("data '{name}': {e}"))?,
        Some(_) => {
            return Err(format!(
                "data '{name}': pick must be sequential, random or shuffle"
            ))
        }
    };
    if let Some(key) = spec.keys().next() {
        return Err(format!(
            "data '{name}': unknown key '{key}' (valid: file, pick)"
        ));
    }
    DataSource::load(name, &dir.join(&file), &file, pick, seed)
}

fn steps<R: StepFields>(
    value: Option<toml::Value>,
    kind: StepKind,
) -> Result<Vec<Step<R>>, String> {
    let what = match kind {
        StepKind::Setup => "setup",
        StepKind::Request => "request",
    };
    let tables = match value {
        None => return Ok(Vec::new()),
        Some(toml::Value::Array(items)) => items,
        Some(_) => return Err(format!("{what} must be [[{what}]] tables")),
    };
    tables
        .into_iter()
        .enumerate()
        .map(|(index, value)| {
            let toml::Value::Table(table) = value else {
                return Err(format!("{what} #{} must be a table", index + 1));
            };
            step(table, kind, index)
        })
        .collect()
}

fn step<R: StepFields>(
    mut table: toml::Table,
    kind: StepKind,
    index: usize,
) -> Result<Step<R>, String> {
    let given_name = match table.remove("name") {
        None => None,
        Some(toml::Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(_) => {
            return Err(
                format!("{kind:?} #{}: name must be a non-empty string", index + 1).to_lowercase(),
            )
        }
    };
    // Named as soon as possible, so later mistakes say which step.
    let early = match (&given_name, kind) {
        (Some(n), StepKind::Request) => format!("request '{n}'"),
        (Some(n), StepKind::Setup) => format!("setup #{} '{n}'", index + 1),
        (None, StepKind::Request) => format!("request #{}", index + 1),
        (None, StepKind::Setup) => format!("setup #{}", index + 1),
    };
    let fail = |what: String| format!("{early}: {what}");
    let weight = match (table.remove("weight"), kind) {
        (None, _) => 1,
        (Some(toml::Value::Integer(w)), StepKind::Request) if (1..=1_000_000).contains(&w) => {
            w as u32
        }
        (Some(_), StepKind::Request) => {
            return Err(fail(
                "weight must be a whole number from 1 to 1000000".into(),
            ))
        }
        (Some(_), StepKind::Setup) => {
            return Err(fail(
                "weight is for [[request]] (setup steps all run)".into(),
            ))
        }
    };
    let expect_status = match table.remove("expect_status") {
        None => None,
        Some(v) => Some(status_text(&v).ok_or_else(|| {
            fail("expect_status must be a status or a list like \"200,204\" or \"2xx\"".into())
        })?),
    };
    let slo = |table: &mut toml::Table, key: &str| -> Result<Option<Duration>, String> {
        match (table.remove(key), kind) {
            (None, _) => Ok(None),
            (Some(_), StepKind::Setup) => Err(fail(format!(
                "{key} is for [[request]] (setup steps are not measured)"
            ))),
            (Some(toml::Value::String(s)), StepKind::Request) => {
                humantime::parse_duration(s.trim())
                    .map(Some)
                    .map_err(|_| fail(format!("{key} '{s}' is not a duration like 300ms or 1s")))
            }
            (Some(other), StepKind::Request) => Err(fail(format!(
                "{key} must be a duration like \"300ms\", got {other}"
            ))),
        }
    };
    let slo_p95 = slo(&mut table, "slo_p95")?;
    let slo_p99 = slo(&mut table, "slo_p99")?;
    let captures = match (table.remove("capture"), kind) {
        (None, _) => Vec::new(),
        (Some(_), StepKind::Request) => {
            return Err(fail(
                "capture is for [[setup]] steps (a request's answer sets no variables)".into(),
            ))
        }
        (Some(toml::Value::Table(spec)), StepKind::Setup) => spec
            .iter()
            .map(|(var, from)| match from {
                toml::Value::String(from) => Capture::parse(var, from),
                _ => Err(format!(
                    "capture '{var}' must be a string like \"json:/token\""
                )),
            })
            .collect::<Result<_, _>>()
            .map_err(fail)?,
        (Some(_), StepKind::Setup) => {
            return Err(fail(
                "capture must be a table: { token = \"json:/token\" }".into(),
            ))
        }
    };
    let fields = R::deserialize(toml::Value::Table(table)).map_err(|e| {
        let message = e.to_string().replace('\n', " ");
        let message = message.trim();
        fail(message.to_string())
    })?;
    let name = given_name.unwrap_or_else(|| fields.default_name());
    Ok(Step {
        kind,
        index,
        name,
        weight,
        expect_status,
        slo_p95,
        slo_p99,
        captures,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Fields {
        url: String,
        #[serde(default)]
        body: String,
    }

    impl StepFields for Fields {
        fn default_name(&self) -> String {
            format!("GET {}", self.url)
        }
    }

    fn parse(text: &str) -> Result<ScenarioFile<Fields>, String> {
        ScenarioFile::parse(text, "s.toml", Path::new("/nonexistent"), 1, &[])
    }

    fn compile(text: &str) -> Result<Traffic<(Template, Template)>, String> {
        parse(text)?.compile(|step, c| {
            Ok((
                c.template("url", &step.fields.url)?,
                c.template("body", &step.fields.body)?,
            ))
        })
    }

    const GOOD: &str = r#"
        sessions = 4
        reauth_status = [401, "403"]
        [[setup]]
        url = "/login"
        body = '{"user": "u{{session}}"}'
        capture = { token = "json:/token" }
        [[setup]]
        url = "/me?t={{token}}"
        capture = { me = "header:X-Me" }
        [[request]]
        name = "item"
        weight = 9
        url = "/items/{{seq}}"
        slo_p99 = "500ms"
        [[request]]
        url = "/orders/{{me}}"
        expect_status = 201
    "#;

    #[test]
    fn a_scenario_reads_into_steps_with_the_sdk_keys_taken_out() {
        let s = parse(GOOD).unwrap();
        assert_eq!(
            (s.sessions, s.reauth_status.clone()),
            (4, vec!["401".to_string(), "403".to_string()])
        );
        assert_eq!(s.setup.len(), 2);
        assert_eq!(s.setup[0].captures[0].var, "token");
        let names: Vec<&str> = s.requests.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["item", "GET /orders/{{me}}"]);
        assert_eq!((s.requests[0].weight, s.requests[1].weight), (9, 1));
        assert_eq!(s.requests[0].slo_p99, Some(Duration::from_millis(500)));
        assert_eq!(s.requests[1].expect_status.as_deref(), Some("201"));
        let traffic = compile(GOOD).unwrap();
        assert_eq!(traffic.requests().len(), 2);
        let specs = traffic.series_specs();
        let names: Vec<&str> = specs.iter().map(|s| s.name()).collect();
        assert_eq!(names, ["item", "GET /orders/{{me}}"]);
        assert_eq!((specs[0].id(), specs[1].id()), (0, 1));
        let p99 = Some(Duration::from_millis(500));
        assert_eq!((specs[0].p99(), specs[1].p99()), (p99, None));
    }

    #[test]
    fn every_mistake_is_one_line_naming_the_file_and_the_step() {
        let req = "[[request]]\nurl = \"/\"\n";
        let table: &[(String, &str)] = &[
            (
                "sessions = 0\n".to_string() + req,
                "scenario s.toml: sessions must be a whole number from 1 to 100000",
            ),
            (
                "bogus = 1\n".to_string() + req,
                "scenario s.toml: unknown key 'bogus' (valid: base_url, sessions",
            ),
            (
                "[[request]]\nurl = \"/\"\nurll = 1\n".into(),
                "scenario s.toml: request #1: unknown field `urll`",
            ),
            (
                "[[request]]\nname = \"a\"\nweight = 0\nurl = \"/\"\n".into(),
                "scenario s.toml: request 'a': weight must be",
            ),
            (
                "[[request]]\nname = \"a\"\nurl = \"/\"\nslo_p99 = \"fast\"\n".into(),
                "scenario s.toml: request 'a': slo_p99 'fast' is not a duration",
            ),
            (
                "[[request]]\nname = \"a\"\nurl = \"/\"\n[[request]]\nname = \"a\"\nurl = \"/b\"\n"
                    .into(),
                "scenario s.toml: requests #1 and #2 are both named 'a'",
            ),
            ("sessions = 2\n".into(), "scenario s.toml: no [[request]]"),
            (
                "[[request]]\nurl = \"/\"\ncapture = { t = \"json:/t\" }\n".into(),
                "scenario s.toml: request #1: capture is for [[setup]]",
            ),
            (
                "[[setup]]\nurl = \"/\"\ncapture = { t = \"jsn:/t\" }\n".to_string() + req,
                "scenario s.toml: setup #1: capture 't' = 'jsn:/t'",
            ),
            (
                "[data.items]\nfile = \"items.csv\"\n".to_string() + req,
                "scenario s.toml: data 'items': cannot read items.csv",
            ),
            (
                "[data.items]\nfile = \"i.csv\"\npick = \"rand\"\n".to_string() + req,
                "scenario s.toml: data 'items': pick 'rand' is not one of",
            ),
            (
                "[[request]]\nurl = \"/\nbody = 1\n".into(),
                "scenario s.toml: line 2 column",
            ),
        ];
        for (text, want) in table {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
            assert!(!err.contains('\n'), "{err:?}");
        }
        let compiled: &[(&str, &str)] = &[
            ("[[request]]\nname = \"o\"\nurl = \"/x/{{nope}}\"\n", "scenario s.toml: request 'o' url: unknown name 'nope' (seq, session"),
            ("[[request]]\nname = \"o\"\nurl = \"/\"\nbody = \"{{seq\"\n", "scenario s.toml: request 'o' body: unclosed '{{' (no '}}' after it) at column 1"),
            (
                "[[setup]]\nurl = \"/a?{{token}}\"\n[[setup]]\nurl = \"/login\"\ncapture = { token = \"json:/t\" }\n[[request]]\nurl = \"/\"\n",
                "scenario s.toml: setup #1 'GET /a?{{token}}' url: variable 'token' is used before any step captures it at column 4",
            ),
        ];
        for (text, want) in compiled {
            let err = compile(text).err().unwrap();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
    }
}
