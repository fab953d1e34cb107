//! Secrets out of everything loadgen writes: the one set of rules, as pure
//! functions, that every writer (settings, journal, reports, metrics, logs,
//! error lines) and every plugin's messages go through.
//!
//! What is a secret:
//! - a URL's user-info: `http://user:pass@host` shows as `http://user:***@host`,
//!   a lone token (`nats://tok@host`) as `nats://***@host`;
//! - the value of a credential header (`Authorization`, `Proxy-Authorization`,
//!   `Cookie`, `X-Api-Key`, names ending in `-key` or `-token`, or holding
//!   `secret`, `password`, `token`, `auth`…), in a `Name: value` line;
//! - the whole value of an option whose name says so (`password`, `token`,
//!   `*_key`, `*secret*`…) or that its plugin declared secret.
//!
//! [`Redactor`] also remembers the raw values it hid, so free text (a
//! plugin's error line, a log record) can be cleaned of them wherever they
//! appear.

use std::borrow::Cow;

/// What a hidden value shows as.
pub const MASK: &str = "***";

/// `url` with its user-info hidden (see the crate doc). Text without a
/// scheme but with an `@` (`token@host:4222`) is taken as a URL too.
pub fn redact_url(url: &str) -> String {
    if !url.contains("://") {
        if let Some(at) = url.rfind('@') {
            return format!("{MASK}@{}", &url[at + 1..]);
        }
    }
    redact_text(url).into_owned()
}

/// Is a header (or option) of this name a credential? Case does not matter;
/// `_` and `-` are the same.
pub fn is_sensitive_name(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase().replace('_', "-");
    const EXACT: &[&str] = &[
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ];
    const ENDS: &[&str] = &["-key", "-token", "-auth", "apikey"];
    const HOLDS: &[&str] = &[
        "secret",
        "password",
        "passwd",
        "token",
        "api-key",
        "credential",
    ];
    EXACT.contains(&name.as_str())
        || name == "key"
        || name == "auth"
        || ENDS.iter().any(|e| name.ends_with(e))
        || HOLDS.iter().any(|h| name.contains(h))
}

/// Free text with every URL's user-info and every credential header line's
/// value hidden. Borrows when there is nothing to hide.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let urls = redact_userinfo(text);
    if !urls.lines().any(|l| header_value(l).is_some()) {
        return urls;
    }
    let mut out = String::with_capacity(urls.len());
    for (i, line) in urls.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match header_value(line) {
            Some(start) => {
                out.push_str(&line[..start]);
                out.push_str(MASK);
            }
            None => out.push_str(line),
        }
    }
    Cow::Owned(out)
}

/// The value of one option as it may be shown: `***` when `declared_secret`
/// or its name says it is a credential, else [`redact_text`] of it.
pub fn redact_option(name: &str, value: &str, declared_secret: bool) -> String {
    if (declared_secret || is_sensitive_name(name)) && !value.is_empty() {
        MASK.to_string()
    } else {
        redact_text(value).into_owned()
    }
}

/// Is `value` one [`redact_option`] wrote, `***` standing where a credential
/// was (read back from a journal or a printed config)? A `***` elsewhere (a
/// body that happens to hold one) is not.
pub fn is_redacted(name: &str, value: &str, declared_secret: bool) -> bool {
    // Put any other text where the mask is: redaction must then change it.
    let probe = value.replace(MASK, "\u{1}");
    value.contains(MASK) && redact_option(name, &probe, declared_secret) != probe
}

/// The raw pieces [`redact_option`] hides in an option's value (the whole
/// value, header values, URL passwords), for [`Redactor`].
pub fn secrets_in_option(name: &str, value: &str, declared_secret: bool) -> Vec<String> {
    if declared_secret || is_sensitive_name(name) {
        return vec![value.trim().to_string()]
            .into_iter()
            .filter(|v| !v.is_empty())
            .collect();
    }
    let mut found = Vec::new();
    for line in value.lines() {
        if let Some(start) = header_value(line) {
            let value = line[start..].trim();
            found.push(value.to_string());
            // `Bearer T`, `Basic dTpw`: the credential may appear alone too.
            if let Some((_, credential)) = value.split_once(' ') {
                found.push(credential.trim().to_string());
            }
        }
    }
    for (start, end) in userinfo_spans(value) {
        let info = &value[start..end];
        found.push(match info.split_once(':') {
            Some((_, password)) => password.to_string(),
            None => info.to_string(),
        });
    }
    found.retain(|s| !s.is_empty());
    found
}

/// Hides known secret values wherever they appear in free text, then applies
/// [`redact_text`]: for lines loadgen did not compose itself (a plugin's
/// error, a log record).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Redactor {
    /// Longest first, so a value containing another is hidden whole.
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor for these options: `(name, value, declared secret)`.
    pub fn for_options<'a>(
        options: impl IntoIterator<Item = (&'a str, &'a str, bool)>,
    ) -> Redactor {
        let mut r = Redactor::default();
        for (name, value, secret) in options {
            r.add(secrets_in_option(name, value, secret));
        }
        r
    }

    /// Also hide these values.
    pub fn add(&mut self, values: impl IntoIterator<Item = String>) {
        // Very short values ("a", "1") would blank unrelated text; the
        // structural rules still hide them where they stand in a URL or header.
        self.secrets
            .extend(values.into_iter().filter(|v| v.chars().count() >= 3));
        self.secrets
            .sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        self.secrets.dedup();
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every known secret and every credential-shaped part hidden.
    pub fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), MASK));
            }
        }
        match out {
            Cow::Borrowed(t) => redact_text(t),
            Cow::Owned(t) => Cow::Owned(redact_text(&t).into_owned()),
        }
    }
}

/// Where the value of a `Name: value` line starts when `Name` is a credential
/// header (leading spaces kept out). `None` for any other line.
fn header_value(line: &str) -> Option<usize> {
    let (name, value) = line.split_once(':')?;
    let bare = name.trim_start_matches(|c: char| c == '\'' || c == '"' || c.is_whitespace());
    let is_header_name = !bare.is_empty()
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !is_header_name || !is_sensitive_name(bare) || value.starts_with("//") {
        return None;
    }
    let value_trimmed = value.trim_start();
    if value_trimmed.is_empty() || value_trimmed.starts_with(MASK) {
        return None;
    }
    Some(name.len() + 1 + (value.len() - value_trimmed.len()))
}

/// The byte spans of every URL user-info (between `://` and the `@` that
/// ends it) in `text`.
fn userinfo_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let start = from + found + 3;
        let rest = &text[start..];
        let authority_len = rest
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '\'' | '"' | '<' | '>') || c.is_whitespace()
            })
            .unwrap_or(rest.len());
        if let Some(at) = rest[..authority_len].rfind('@') {
            spans.push((start, start + at));
        }
        from = start + authority_len;
    }
    spans
}

/// Every URL's user-info hidden: the password after `user:`, or all of a lone token.
fn redact_userinfo(text: &str) -> Cow<'_, str> {
    let spans = userinfo_spans(text);
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in spans {
        let info = &text[start..end];
        out.push_str(&text[last..start]);
        if let Some((user, _)) = info.split_once(':') {
            out.push_str(user);
            out.push(':');
        }
        out.push_str(MASK);
        last = end;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_user_and_lose_the_password() {
        let table = [
            ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
            (
                "nats://alice:s3cret@host:4222",
                "nats://alice:***@host:4222",
            ),
            ("tls://tok@host:4222", "tls://***@host:4222"),
            ("token@host:4222", "***@host:4222"),
            ("http://h:8222/jsz", "http://h:8222/jsz"),
            ("http://u:p@h/a@b", "http://u:***@h/a@b"),
            (
                "redis://:pw@127.0.0.1:6379/0",
                "redis://:***@127.0.0.1:6379/0",
            ),
            ("http://user:p%40ss@h/", "http://user:***@h/"),
        ];
        for (url, want) in table {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }

    #[test]
    fn text_hides_urls_and_credential_headers_wherever_they_stand() {
        let table = [
            ("plain words", "plain words"),
            (
                "cannot reach http://u:pw@127.0.0.1:1/x and redis://:pw@h/",
                "cannot reach http://u:***@127.0.0.1:1/x and redis://:***@h/",
            ),
            ("Authorization: Bearer T0KEN", "Authorization: ***"),
            ("authorization:Basic dTpw", "authorization:***"),
            ("Proxy-Authorization: Basic x", "Proxy-Authorization: ***"),
            ("Cookie: a=1; b=2", "Cookie: ***"),
            ("X-Api-Key: abc", "X-Api-Key: ***"),
            ("X-Auth-Token: abc", "X-Auth-Token: ***"),
            ("X-Client-Secret: abc", "X-Client-Secret: ***"),
            (
                "Accept: text/html\nAuthorization: Bearer T",
                "Accept: text/html\nAuthorization: ***",
            ),
            (
                "Content-Type: application/json",
                "Content-Type: application/json",
            ),
            (
                "'Authorization: Bearer T' has an invalid value",
                "'Authorization: ***",
            ),
            ("step 3: PASS", "step 3: PASS"),
            ("Authorization: ***", "Authorization: ***"),
        ];
        for (text, want) in table {
            assert_eq!(redact_text(text), want, "{text}");
        }
    }

    #[test]
    fn names_that_say_credential() {
        for name in [
            "password",
            "bearer_token",
            "api_key",
            "X-API-KEY",
            "client-secret",
            "auth",
            "token",
            "nkey_seed_secret",
        ] {
            assert!(is_sensitive_name(name), "{name}");
        }
        for name in [
            "url", "header", "method", "keyspace", "monkey", "capacity", "Accept",
        ] {
            assert!(!is_sensitive_name(name), "{name}");
        }
    }

    #[test]
    fn options_are_hidden_whole_or_in_part() {
        let table = [
            ("url", "http://u:pw@h:1/", false, "http://u:***@h:1/"),
            (
                "header",
                "Authorization: Bearer T",
                false,
                "Authorization: ***",
            ),
            ("header", "Accept: */*", false, "Accept: */*"),
            ("bearer_token", "T0KEN", false, "***"),
            ("tenant", "acme", true, "***"),
            ("tenant", "", true, ""),
            ("capacity", "1000", false, "1000"),
        ];
        for (name, value, secret, want) in table {
            assert_eq!(redact_option(name, value, secret), want, "{name}={value}");
        }
    }

    #[test]
    fn a_redacted_value_is_recognised_as_one() {
        let table = [
            ("url", "http://u:***@h:1/", false, true),
            ("url", "nats://***@h:1", false, true),
            ("header", "Accept: x\nAuthorization: ***", false, true),
            ("bearer_token", "***", false, true),
            ("tenant", "***", true, true),
            ("tenant", "acme", true, false),
            ("body", "a***b", false, false),
            ("header", "X-Stars: ***", false, false),
            ("url", "http://u:pw@h:1/", false, false),
        ];
        for (name, value, secret, want) in table {
            assert_eq!(is_redacted(name, value, secret), want, "{name}={value}");
        }
    }

    #[test]
    fn the_raw_values_hidden_are_known() {
        let table: [(&str, &str, bool, &[&str]); 5] = [
            ("url", "http://u:pw@h:1/", false, &["pw"]),
            ("url", "nats://tok@h:1", false, &["tok"]),
            (
                "header",
                "Accept: x\nAuthorization: Bearer T0KEN",
                false,
                &["Bearer T0KEN", "T0KEN"],
            ),
            ("tenant", " acme ", true, &["acme"]),
            ("capacity", "1000", false, &[]),
        ];
        for (name, value, secret, want) in table {
            assert_eq!(
                secrets_in_option(name, value, secret),
                want,
                "{name}={value}"
            );
        }
    }

    #[test]
    fn a_redactor_scrubs_known_values_from_free_text() {
        let r = Redactor::for_options([
            ("header", "Authorization: Bearer T0KEN", false),
            ("url", "http://user:pw-123@127.0.0.1:9/", false),
            ("bearer_token", "s3cr3t-value", true),
            ("capacity", "1000", false),
        ]);
        let table = [
            (
                "request failed: 401 for token Bearer T0KEN",
                "request failed: 401 for token ***",
            ),
            ("pw-123 leaked", "*** leaked"),
            (
                "value s3cr3t-value, url http://user:zz@h/",
                "value ***, url http://user:***@h/",
            ),
            ("capacity 1000", "capacity 1000"),
        ];
        for (text, want) in table {
            assert_eq!(r.scrub(text), want, "{text}");
        }
        let short = Redactor::for_options([("token", "ab", true)]);
        assert_eq!(
            short.scrub("tab"),
            "tab",
            "values too short to scrub safely"
        );
    }
}
