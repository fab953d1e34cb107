//! Connecting to NATS the way every loadgen component does (feature `nats`):
//! `$NATS_URL`, `$NATS_CREDS_FILE`, bounded connect, reconnect forever after a
//! drop, errors that never show credentials.

use std::time::Duration;

use async_nats::{Client, ConnectOptions};

use super::nats_env::{nats_creds_file, nats_url, redact_url};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connect as `name`; `configure` adds the caller's own options (event
/// callback, subscription capacity, request timeout …).
pub async fn connect(
    name: &str,
    configure: impl FnOnce(ConnectOptions) -> ConnectOptions,
) -> Result<Client, String> {
    connect_to(&nats_url(), name, configure).await
}

/// [`connect`] to `url` rather than `$NATS_URL` (credentials still from
/// `$NATS_CREDS_FILE`).
pub async fn connect_to(
    url: &str,
    name: &str,
    configure: impl FnOnce(ConnectOptions) -> ConnectOptions,
) -> Result<Client, String> {
    let mut options = ConnectOptions::new()
        .name(name)
        .connection_timeout(Duration::from_secs(5));
    if let Some(path) = nats_creds_file() {
        // The path may be shown; what is in the file never is.
        options = options.credentials_file(&path).await.map_err(|e| {
            format!(
                "cannot use NATS_CREDS_FILE {}: {}",
                path.display(),
                e.kind()
            )
        })?;
    }
    let options = configure(options);
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect(url)).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(format!("cannot reach NATS at {}: {e}", redact_url(url))),
        Err(_) => Err(format!(
            "cannot reach NATS at {}: no answer in {CONNECT_TIMEOUT:?}",
            redact_url(url)
        )),
    }
}
