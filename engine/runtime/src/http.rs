//! Plain-HTTP GET for the monitoring and Prometheus endpoints (no TLS: they
//! are scraped on the operator's network, like Prometheus itself does by default).

use std::time::Duration;

/// Fetch `url` as text, within `timeout`. Blocking: call from a blocking thread.
pub fn get_text(url: &str, timeout: Duration) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .build()
        .into();
    agent
        .get(url)
        .call()
        .map_err(|e| format!("GET {url}: {e}"))?
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("GET {url}: {e}"))
}

/// [`get_text`] from async code.
pub async fn get_text_async(url: &str, timeout: Duration) -> Result<String, String> {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || get_text(&url, timeout))
        .await
        .map_err(|e| format!("GET: {e}"))?
}
