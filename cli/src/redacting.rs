//! Secrets kept out of stderr: once a run's options are known, every log
//! record and error line passes through its [`Redactor`], so a plugin's
//! error or a debug record quoting a credential shows `***` instead.
//!
//! The redactor is process-wide because the tracing subscriber is installed
//! before the options are parsed, and every thread logs through it.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::OnceLock;

use loadgen_core::redact::Redactor;

static REDACTOR: OnceLock<Redactor> = OnceLock::new();

/// From now on, hide what `redactor` knows in every line written to stderr.
/// The first call wins (a process runs one configuration).
pub fn install(redactor: Redactor) {
    let _ = REDACTOR.set(redactor);
}

/// `text` with the run's secrets hidden, and credential-shaped parts (URL
/// passwords, `Authorization:` values) hidden even before they are known.
pub fn scrub(text: &str) -> Cow<'_, str> {
    match REDACTOR.get() {
        Some(r) => r.scrub(text),
        None => loadgen_core::redact::redact_text(text),
    }
}

/// The tracing subscriber's writer: stderr, scrubbed.
pub fn stderr() -> ScrubbedStderr {
    ScrubbedStderr
}

/// Writes each record (tracing hands over one whole record per write) to
/// stderr once [`scrub`]bed.
pub struct ScrubbedStderr;

impl Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        io::stderr().lock().write_all(scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
