//! [`Selector`]: a cursor that reads a Prometheus instant-vector selector
//! (`name{label="value", …}`, equality matchers) and a comparison operator.

use super::Cmp;

/// A cursor over a gate expression.
pub(super) struct Selector {
    pub(super) chars: Vec<char>,
    pub(super) at: usize,
}

impl Selector {
    pub(super) fn new(text: &str) -> Selector {
        Selector {
            chars: text.chars().collect(),
            at: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    pub(super) fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        let hit = self.peek() == Some(c);
        if hit {
            self.at += 1;
        }
        hit
    }

    pub(super) fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    /// A metric or label name: `[a-zA-Z_:][a-zA-Z0-9_:]*` (checked by the caller).
    pub(super) fn name(&mut self) -> String {
        self.skip_space();
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    /// After `{`: `name="value"` pairs separated by commas, up to `}`.
    pub(super) fn labels(&mut self) -> Result<Vec<(String, String)>, String> {
        let mut labels = Vec::new();
        loop {
            if self.eat('}') {
                return Ok(labels);
            }
            let key = self.name();
            if key.is_empty() {
                return Err(match self.peek() {
                    None => "unclosed '{'".into(),
                    Some(c) => format!("a label name expected, found '{c}'"),
                });
            }
            self.skip_space();
            match (self.peek(), self.chars.get(self.at + 1)) {
                (Some('='), Some('~')) | (Some('!'), _) => {
                    return Err(format!("label {key}: only = matchers are supported"))
                }
                (Some('='), _) => self.at += 1,
                _ => return Err("a label needs key=\"value\"".into()),
            }
            self.skip_space();
            if self.peek() != Some('"') {
                return Err("label values are quoted".into());
            }
            self.at += 1;
            labels.push((key, self.quoted()?));
            if !self.eat(',') {
                if self.eat('}') {
                    return Ok(labels);
                }
                return Err(match self.peek() {
                    None => "unclosed '{'".into(),
                    Some(c) => format!("',' or '}}' expected after a label, found '{c}'"),
                });
            }
        }
    }

    /// The rest of a `"…"` string (the opening quote consumed), unescaped.
    fn quoted(&mut self) -> Result<String, String> {
        let mut value = String::new();
        loop {
            let c = self.peek().ok_or("unterminated label value")?;
            self.at += 1;
            match c {
                '"' => return Ok(value),
                '\\' => {
                    let e = self.peek().ok_or("unterminated label value")?;
                    self.at += 1;
                    value.push(match e {
                        'n' => '\n',
                        other => other,
                    });
                }
                other => value.push(other),
            }
        }
    }

    pub(super) fn cmp(&mut self) -> Option<Cmp> {
        let two: String = self.chars[self.at..].iter().take(2).collect();
        let (cmp, len) = match two.as_str() {
            "<=" => (Cmp::Le, 2),
            ">=" => (Cmp::Ge, 2),
            "==" => (Cmp::Eq, 2),
            _ if two.starts_with('<') => (Cmp::Lt, 1),
            _ if two.starts_with('>') => (Cmp::Gt, 1),
            _ => return None,
        };
        self.at += len;
        Some(cmp)
    }
}
