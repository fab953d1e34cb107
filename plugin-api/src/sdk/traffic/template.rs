//! [`Template`]: a string with `{{…}}` placeholders, compiled once at start
//! into literal text and typed parts; rendering an op appends each part and
//! never parses.
//!
//! | placeholder | renders |
//! |---|---|
//! | `{{data.NAME.COLUMN}}` | column COLUMN of the op's row of data source NAME |
//! | `{{seq}}` | the op's number (0, 1, 2 … over the run) |
//! | `{{session}}` | the op's session number (0 … sessions−1) |
//! | `{{uuid}}` | a random (seeded) version-4 UUID |
//! | `{{rand_int A B}}` | a seeded integer in A..=B |
//! | `{{rand_string N}}` | N seeded characters from `[A-Za-z0-9]` |
//! | `{{now_ms}}` | wall-clock milliseconds since the Unix epoch |
//! | `{{VAR}}` | session variable VAR, captured by a setup step |
//!
//! A hand-written tokenizer rather than a template engine: the grammar is
//! eight forms, rendering must not allocate per part, and a mistake must name
//! its exact position (template engines report their own line/column of a
//! generic parse error, not "variable used before any step captures it").

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::data::DataSource;
use super::hash::hash3;

/// The names a template may use where it stands.
pub struct Scope<'a> {
    pub data: &'a [Arc<DataSource>],
    /// Variables captured by the steps before this one: slot = position.
    pub vars: &'a [String],
    /// Variables any step captures (to tell "used too early" from "unknown").
    pub captured_anywhere: &'a [String],
}

/// Session variables by slot (the order of [`Scope::vars`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vars(pub Vec<String>);

impl Vars {
    pub fn get(&self, slot: usize) -> &str {
        self.0.get(slot).map(String::as_str).unwrap_or_default()
    }
}

/// What a template renders from: the op and its session.
#[derive(Clone, Copy)]
pub struct OpContext<'a> {
    pub seq: u64,
    pub session: u64,
    pub vars: &'a Vars,
    pub data: &'a [Arc<DataSource>],
    pub seed: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(Box<str>),
    Data { source: usize, column: usize },
    Seq,
    Session,
    Uuid { salt: u64 },
    RandInt { low: i64, span: u64, salt: u64 },
    RandString { len: usize, salt: u64 },
    NowMs,
    Var(usize),
}

/// A compiled template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    /// Bytes of literal text: the least a rendering needs.
    literal_len: usize,
}

/// Where a template went wrong: 1-based line and column (in characters) of
/// the placeholder, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl TemplateError {
    /// `column 7` (one-line templates) or `line 2 column 7`.
    pub fn position(&self) -> String {
        if self.line == 1 {
            format!("column {}", self.column)
        } else {
            format!("line {} column {}", self.line, self.column)
        }
    }
}

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl Template {
    /// A template that is only `text` (no placeholders are looked for).
    pub fn literal(text: &str) -> Template {
        Template {
            literal_len: text.len(),
            parts: vec![Part::Text(text.into())],
        }
    }

    /// Compiles `text`. `salt` keeps this template's random parts apart from
    /// another's (each field of each step gets its own).
    pub fn compile(text: &str, scope: &Scope<'_>, salt: u64) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = 0;
        while let Some(open) = text[rest..].find("{{").map(|i| rest + i) {
            if open > rest {
                parts.push(Part::Text(text[rest..open].into()));
            }
            let err = |message: String| {
                let before = &text[..open];
                let line = before.matches('\n').count() + 1;
                let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                TemplateError {
                    line,
                    column: before[line_start..].chars().count() + 1,
                    message,
                }
            };
            let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
                return Err(err("unclosed '{{' (no '}}' after it)".into()));
            };
            let inner = text[open + 2..close].trim();
            let salt = salt.wrapping_add(parts.len() as u64);
            parts.push(Self::placeholder(inner, scope, salt).map_err(err)?);
            rest = close + 2;
        }
        if rest < text.len() {
            parts.push(Part::Text(text[rest..].into()));
        }
        let literal_len = parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.len(),
                _ => 0,
            })
            .sum();
        Ok(Template { parts, literal_len })
    }

    fn placeholder(inner: &str, scope: &Scope<'_>, salt: u64) -> Result<Part, String> {
        let words: Vec<&str> = inner.split_whitespace().collect();
        let number = |word: &str, what: &str| -> Result<i64, String> {
            word.parse()
                .map_err(|_| format!("'{{{{{inner}}}}}': {what} '{word}' is not a whole number"))
        };
        match words.as_slice() {
            [] => Err("empty '{{}}'".into()),
            ["seq"] => Ok(Part::Seq),
            ["session"] => Ok(Part::Session),
            ["uuid"] => Ok(Part::Uuid { salt }),
            ["now_ms"] => Ok(Part::NowMs),
            ["rand_int", a, b] => {
                let (low, high) = (number(a, "A")?, number(b, "B")?);
                if low > high {
                    return Err(format!("'{{{{{inner}}}}}': A {low} is above B {high}"));
                }
                let span = high.abs_diff(low);
                Ok(Part::RandInt { low, span, salt })
            }
            ["rand_string", n] => {
                let len = number(n, "N")?;
                if !(0..=1_000_000).contains(&len) {
                    return Err(format!("'{{{{{inner}}}}}': N must be 0 to 1000000"));
                }
                Ok(Part::RandString { len: len as usize, salt })
            }
            [word @ ("rand_int" | "rand_string" | "seq" | "session" | "uuid" | "now_ms"), ..] => {
                Err(format!(
                    "'{{{{{inner}}}}}': wrong arguments for {word} ({})",
                    match *word {
                        "rand_int" => "rand_int A B",
                        "rand_string" => "rand_string N",
                        other => other,
                    }
                ))
            }
            [name] if name.starts_with("data.") => Self::data_part(name, scope),
            [name] => match scope.vars.iter().position(|v| v == name) {
                Some(slot) => Ok(Part::Var(slot)),
                None if scope.captured_anywhere.iter().any(|v| v == name) => Err(format!(
                    "variable '{name}' is used before any step captures it"
                )),
                None => Err(format!(
                    "unknown name '{name}' (seq, session, uuid, now_ms, rand_int A B, rand_string N, data.SOURCE.COLUMN, or a captured variable{})",
                    listed(", captured: ", scope.vars)
                )),
            },
            _ => Err(format!("'{{{{{inner}}}}}' is not a placeholder")),
        }
    }

    fn data_part(name: &str, scope: &Scope<'_>) -> Result<Part, String> {
        let path = &name["data.".len()..];
        let Some((source_name, column_name)) = path.split_once('.') else {
            return Err(format!("'{name}' names no column (data.SOURCE.COLUMN)"));
        };
        let Some(source) = scope.data.iter().position(|d| d.name() == source_name) else {
            let names: Vec<&str> = scope.data.iter().map(|d| d.name()).collect();
            let defined = if names.is_empty() {
                " (no [data.NAME] is defined)".to_string()
            } else {
                format!(" (defined: {})", names.join(", "))
            };
            return Err(format!("unknown data source '{source_name}'{defined}"));
        };
        let Some(column) = scope.data[source].column(column_name) else {
            return Err(format!(
                "data source '{source_name}' has no column '{column_name}' (columns: {})",
                scope.data[source].columns().join(", ")
            ));
        };
        Ok(Part::Data { source, column })
    }

    /// The text, when the template has no placeholders.
    pub fn as_literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Text(t)] => Some(t),
            _ => None,
        }
    }

    /// Whether any part reads a session variable.
    pub fn uses_vars(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Var(_)))
    }

    /// Appends this template rendered for `op` to `out`.
    pub fn render_into(&self, op: &OpContext<'_>, out: &mut String) {
        out.reserve(self.literal_len);
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Data { source, column } => {
                    let data = &op.data[*source];
                    out.push_str(data.cell(data.row_for(op.seq), *column));
                }
                Part::Seq => push_u64(out, op.seq),
                Part::Session => push_u64(out, op.session),
                Part::Uuid { salt } => {
                    let high = hash3(op.seed, *salt, op.seq);
                    let low = hash3(op.seed, salt ^ 0x5555, op.seq);
                    // Version 4, variant 10xx.
                    let high = (high & !0xf000) | 0x4000;
                    let low = (low & !(0b11 << 62)) | (0b10 << 62);
                    let _ = write!(
                        out,
                        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                        high >> 32,
                        (high >> 16) & 0xffff,
                        high & 0xffff,
                        low >> 48,
                        low & 0xffff_ffff_ffff
                    );
                }
                Part::RandInt { low, span, salt } => {
                    let h = hash3(op.seed, *salt, op.seq);
                    let offset = if *span == u64::MAX { h } else { h % (span + 1) };
                    let _ = write!(out, "{}", low.wrapping_add(offset as i64));
                }
                Part::RandString { len, salt } => {
                    let mut h = 0;
                    for i in 0..*len {
                        // 10 characters from each 64-bit hash (6 bits each).
                        if i % 10 == 0 {
                            h = hash3(op.seed, *salt ^ ((i as u64 / 10) << 32), op.seq);
                        }
                        out.push(ALPHANUMERIC[(h & 63) as usize % 62] as char);
                        h >>= 6;
                    }
                }
                Part::NowMs => {
                    let ms = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_millis() as u64);
                    push_u64(out, ms);
                }
                Part::Var(slot) => out.push_str(op.vars.get(*slot)),
            }
        }
    }

    /// This template rendered for `op`.
    pub fn render(&self, op: &OpContext<'_>) -> String {
        let mut out = String::with_capacity(self.literal_len + 16);
        self.render_into(op, &mut out);
        out
    }
}

fn push_u64(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Digits only: always UTF-8.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

fn listed(prefix: &str, names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!("{prefix}{}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::super::data::Pick;
    use super::*;

    fn items() -> Vec<Arc<DataSource>> {
        let rows: &[&[&str]] = &[&["1", "apple"], &["2", "pear"]];
        vec![Arc::new(
            DataSource::from_rows("items", &["id", "name"], rows, Pick::Sequential, 0).unwrap(),
        )]
    }

    fn compile(text: &str) -> Result<Template, TemplateError> {
        let data = items();
        let vars = ["token".to_string()];
        let all = ["token".to_string(), "later".to_string()];
        let scope = Scope {
            data: &data,
            vars: &vars,
            captured_anywhere: &all,
        };
        Template::compile(text, &scope, 1)
    }

    fn render(text: &str, seq: u64) -> String {
        let data = items();
        let vars = Vars(vec!["T0K".into()]);
        let op = OpContext {
            seq,
            session: 3,
            vars: &vars,
            data: &data,
            seed: 9,
        };
        compile(text).unwrap().render(&op)
    }

    #[test]
    fn each_placeholder_renders() {
        assert_eq!(
            render("/items/{{data.items.id}}/{{ data.items.name }}", 1),
            "/items/2/pear"
        );
        assert_eq!(render("{{seq}}-{{session}}-{{token}}", 12), "12-3-T0K");
        assert_eq!(render("plain", 0), "plain");
        for seq in 0..200 {
            let n: i64 = render("{{rand_int -2 3}}", seq).parse().unwrap();
            assert!((-2..=3).contains(&n), "{n}");
            let s = render("{{rand_string 25}}", seq);
            assert!(
                s.len() == 25 && s.bytes().all(|b| b.is_ascii_alphanumeric()),
                "{s}"
            );
        }
        let ints: std::collections::HashSet<String> =
            (0..200).map(|s| render("{{rand_int 1 5}}", s)).collect();
        assert_eq!(ints.len(), 5, "every value of 1..=5 turns up: {ints:?}");
        let uuid = render("{{uuid}}", 4);
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert!("89ab".contains(&uuid[19..20]), "{uuid}");
        assert_ne!(render("{{uuid}}", 4), render("{{uuid}}", 5));
        assert_eq!(
            render("{{uuid}}", 4),
            uuid,
            "seeded: the same op renders the same"
        );
        let ms: u64 = render("{{now_ms}}", 0).parse().unwrap();
        assert!(ms > 1_600_000_000_000);
        assert_eq!(compile("a {{seq}}").unwrap().as_literal(), None);
        assert_eq!(compile("a b").unwrap().as_literal(), Some("a b"));
    }

    #[test]
    fn mistakes_say_where_and_what() {
        let table: &[(&str, &str, &str)] = &[
            ("/x/{{nope}}", "column 4", "unknown name 'nope'"),
            ("/x/{{seq", "column 4", "unclosed '{{'"),
            (
                "a\nbc{{later}}",
                "line 2 column 3",
                "variable 'later' is used before any step captures it",
            ),
            (
                "{{data.users.id}}",
                "column 1",
                "unknown data source 'users' (defined: items)",
            ),
            (
                "{{data.items.sku}}",
                "column 1",
                "data source 'items' has no column 'sku' (columns: id, name)",
            ),
            ("{{data.items}}", "column 1", "'data.items' names no column"),
            (
                "{{rand_int 5 1}}",
                "column 1",
                "'{{rand_int 5 1}}': A 5 is above B 1",
            ),
            (
                "{{rand_int x 1}}",
                "column 1",
                "'{{rand_int x 1}}': A 'x' is not a whole number",
            ),
            (
                "{{rand_int 1}}",
                "column 1",
                "'{{rand_int 1}}': wrong arguments for rand_int (rand_int A B)",
            ),
            ("{{}}", "column 1", "empty '{{}}'"),
            ("ü{{a b}}", "column 2", "'{{a b}}' is not a placeholder"),
        ];
        for (text, position, message) in table {
            let err = compile(text).unwrap_err();
            assert_eq!(&err.position(), position, "{text}");
            assert!(
                err.message.starts_with(message),
                "{text}: {:?} should start with {message:?}",
                err.message
            );
        }
    }
}
